//! Private process notes: written and read by their author alone (policy section 1), sealed
//! under the child's process-notes key. Nobody else reaches them here: not the case team, not
//! the supervisor, the DSL, the service lead or an administrator; storage is asked only for
//! the caller's own notes. A subject access request reaches them through the governance
//! path's named reviewer (a later issue), and no other.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::StoredProcessNote;
use alliance_core::Invalid;
use alliance_core::access::{Access, ChildData, Limit, case_access};
use alliance_core::audit::{self, Event};
use alliance_core::cases::CaseId;
use alliance_core::children::ChildId;
use alliance_core::crypto::{KeyOwner, RecordClass, SealedAt};
use alliance_core::process_notes::parse_note;
use uuid::Uuid;

/// A note, opened for its author.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessNoteView {
    pub id: Uuid,
    pub case_id: CaseId,
    pub created_at: jiff::Timestamp,
    pub text: String,
}

/// The author's notes about a case's child.
#[derive(Debug, Clone)]
pub struct MyProcessNotes {
    pub case_id: CaseId,
    pub case_number: String,
    pub child_label: String,
    pub notes: Vec<ProcessNoteView>,
    pub may_write: bool,
}

fn owner(child: ChildId) -> KeyOwner {
    KeyOwner::Child {
        child: child.to_string(),
        class: RecordClass::ProcessNotes,
    }
}

impl Alliance {
    /// The gate: only a therapist on the case team (who may keep their own notes) passes;
    /// anyone else is answered "not found", audited.
    async fn notes_gate(
        &self,
        actor: &Actor,
        case: CaseId,
        asked: &str,
    ) -> AppResult<(ChildId, String, bool, bool)> {
        let stored = self.store.case(case).await?.ok_or(AppError::NotFound)?;
        let child = stored.case.child_id;
        let (standing, newest) = self.get_child_gate(actor, child, asked).await?;
        let is_newest = newest == Some(case);
        let access = case_access(&actor.user, &standing, ChildData::ProcessNotes, is_newest);
        if access != Access::Limited(Limit::AuthorOnly) {
            self.audit_refusal(actor, asked, "process-notes", case.to_string(), child)
                .await?;
            return Err(AppError::NotFound);
        }
        let names = alliance_core::access::sees_names(&actor.user, &standing);
        let open = stored.case.is_open() && is_newest;
        Ok((child, stored.case.number_label(), open, names))
    }

    /// The caller's own notes about the case's child, newest first.
    pub async fn my_process_notes(&self, actor: &Actor, case: CaseId) -> AppResult<MyProcessNotes> {
        let (child, case_number, open, names) =
            self.notes_gate(actor, case, "read process notes").await?;
        let mut notes = Vec::new();
        for n in self.store.process_notes_by(actor.user.id, child).await? {
            // Storage selected by author; this is the second check, not the first.
            if n.author != actor.user.id {
                continue;
            }
            let row = n.id.to_string();
            let plain = self
                .keys
                .open(
                    &owner(child),
                    &n.text,
                    SealedAt {
                        table: "process_notes",
                        column: "text",
                        row: &row,
                    },
                    self.clock.now(),
                )
                .await
                .map_err(AppError::from)?;
            notes.push(ProcessNoteView {
                id: n.id,
                case_id: n.case_id,
                created_at: n.created_at,
                text: String::from_utf8_lossy(&plain).into_owned(),
            });
        }
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ChildRead,
                    Some(actor.user.id.to_string()),
                    "process-notes",
                    Some(case.to_string()),
                )
                .for_child(child),
            ],
        )
        .await?;
        let details = self.details_of(child).await?;
        Ok(MyProcessNotes {
            case_id: case,
            child_label: if names {
                details.known_as().to_owned()
            } else {
                format!("{} ({case_number})", details.initials())
            },
            case_number,
            notes,
            may_write: open && actor.may_write(),
        })
    }

    /// Writes a note of the caller's own.
    pub async fn write_process_note(
        &self,
        actor: &Actor,
        case: CaseId,
        text: &str,
    ) -> AppResult<Uuid> {
        let (child, _, open, _) = self.notes_gate(actor, case, "write process note").await?;
        if !(open && actor.may_write()) {
            return Err(AppError::Denied(if actor.may_write() {
                "notes are written on the child's open case"
            } else {
                "this API token is read-only"
            }));
        }
        let text = parse_note(text).map_err(|m| Invalid::field("text", m))?;
        let id = self.new_id();
        let row = id.to_string();
        let sealed = self
            .keys
            .seal(
                &owner(child),
                text.as_bytes(),
                SealedAt {
                    table: "process_notes",
                    column: "text",
                    row: &row,
                },
                self.clock.now(),
            )
            .await?;
        let note = StoredProcessNote {
            id,
            case_id: case,
            child_id: child,
            author: actor.user.id,
            text: sealed,
            created_at: self.clock.now(),
        };
        let batch = self.audit_batch(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::ProcessNoteWritten,
                    Some(actor.user.id.to_string()),
                    "process-note",
                    Some(id.to_string()),
                )
                .for_child(child),
            ],
        );
        self.store.create_process_note(&note, &batch).await?;
        Ok(id)
    }
}
