//! The measure library (issue 17, helper A): shipped and service-added definitions, licensed
//! wording.
//!
//! Shipped definitions live in the binary (`alliance_core::measures::shipped`). A service adds
//! its own definitions (a new measure, or a new version of a shipped or added one): each
//! `(id, version)` is written once and never changed, and one that collides with a shipped or
//! stored definition is refused (409). A malformed file is refused (422) with every problem
//! named by its path, and nothing is saved. A licensed measure's wording (its items' words and
//! its choices' labels) is loaded by the service from its own file, per definition version,
//! and applied whenever the definition is read.
//!
//! Who: everyone clinical, the DSL, the service lead and administrators read the library
//! (`ReadMeasures`); administrators and the service lead add definitions and load wording
//! (`ManageMeasures`). Additions are audited (`MeasureDefinitionAdded`,
//! `MeasureWordingLoaded`); refusals are audited (`Denied`). The library holds no child data.

use std::collections::BTreeMap;

use crate::Actor;
use crate::Alliance;
use crate::error::{AppError, AppResult};
use crate::store::{StoredMeasureDefinition, StoredMeasureWording};
use alliance_core::audit::{self, Event};
use alliance_core::error::{FieldError, Invalid};
use alliance_core::measures::{
    self, Definition, Format, LoadError, Respondent, Wording, parse_definition, parse_wording,
};
use alliance_core::policy::{self, Action, Decision};
use jiff::Timestamp;

/// The record type of a measure definition in the audit trail (record id `srs@2`).
pub const RECORD_TYPE: &str = "measure";

/// Where a definition came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Shipped with Alliance.
    Shipped,
    /// Added by this service.
    Service,
}

impl Origin {
    pub fn label(self) -> &'static str {
        match self {
            Origin::Shipped => "Shipped with Alliance",
            Origin::Service => "Added by this service",
        }
    }
}

/// One definition in the library, with the service's wording applied.
#[derive(Clone, Debug)]
pub struct LibraryEntry {
    pub definition: Definition,
    pub origin: Origin,
    /// When the service loaded its wording (for a licensed measure), if it has.
    pub wording_loaded_at: Option<Timestamp>,
    /// When the service added the definition (for its own).
    pub added_at: Option<Timestamp>,
}

impl LibraryEntry {
    /// Whether the measure can be given (every item has its words, and it is not withheld).
    pub fn can_be_given(&self) -> bool {
        self.definition.has_wording() && self.definition.withheld.is_none()
    }
}

/// The library as a reader sees it, and whether they may add to it.
#[derive(Clone, Debug)]
pub struct Library {
    /// Every definition, by id then version.
    pub entries: Vec<LibraryEntry>,
    pub may_manage: bool,
}

impl Library {
    /// Whether this entry is the newest version of its measure.
    pub fn is_latest(&self, entry: &LibraryEntry) -> bool {
        !self.entries.iter().any(|e| {
            e.definition.id == entry.definition.id
                && e.definition.version > entry.definition.version
        })
    }
}

/// Load errors as the field errors every client shows (the path is the field; a problem
/// with the whole file is on `file`).
pub fn load_errors(errors: Vec<LoadError>) -> Invalid {
    Invalid {
        errors: errors
            .into_iter()
            .map(|e| {
                FieldError::new(
                    if e.path.is_empty() {
                        "file".to_owned()
                    } else {
                        e.path
                    },
                    e.message,
                )
            })
            .collect(),
    }
}

fn event(action: audit::Action, actor: &Actor, record_id: Option<String>) -> Event {
    Event::new(
        action,
        Some(actor.user.id.to_string()),
        RECORD_TYPE,
        record_id,
    )
}

impl Alliance {
    /// Allows a read of the library (read-only API tokens included), or refuses and audits
    /// the refusal.
    async fn require_read_measures(&self, actor: &Actor, asked: &str) -> AppResult<()> {
        match policy::decide(&actor.user, Action::ReadMeasures) {
            Decision::Allow => Ok(()),
            Decision::Deny(why) => {
                self.record(
                    &actor.origin,
                    vec![event(audit::Action::Denied, actor, None).detail(asked)],
                )
                .await?;
                Err(AppError::Denied(why))
            }
        }
    }

    /// Every definition, shipped and added, with the service's wording applied.
    async fn library_entries(&self) -> AppResult<Vec<LibraryEntry>> {
        let wordings = self.store.measure_wordings().await?;
        let wording_of: BTreeMap<(String, u32), &StoredMeasureWording> = wordings
            .iter()
            .map(|w| ((w.measure_id.clone(), w.version), w))
            .collect();
        let mut entries: Vec<LibraryEntry> = measures::shipped()
            .iter()
            .map(|d| LibraryEntry {
                definition: d.clone(),
                origin: Origin::Shipped,
                wording_loaded_at: None,
                added_at: None,
            })
            .collect();
        for stored in self.store.measure_definitions().await? {
            // A stored definition was validated when added; one that no longer parses (a
            // later, stricter Alliance) is left out rather than failing the whole library.
            let Ok(definition) = serde_json::from_str::<Definition>(&stored.definition) else {
                continue;
            };
            if !measures::validate(&definition).is_empty() {
                continue;
            }
            entries.push(LibraryEntry {
                definition,
                origin: Origin::Service,
                wording_loaded_at: None,
                added_at: Some(stored.added_at),
            });
        }
        for entry in &mut entries {
            let key = (entry.definition.id.clone(), entry.definition.version);
            if let Some(stored) = wording_of.get(&key)
                && let Ok(wording) = serde_json::from_str::<Wording>(&stored.wording)
            {
                entry.definition = entry.definition.with_wording(&wording);
                entry.wording_loaded_at = Some(stored.loaded_at);
            }
        }
        entries.sort_by(|a, b| {
            (a.definition.id.as_str(), a.definition.version)
                .cmp(&(b.definition.id.as_str(), b.definition.version))
        });
        Ok(entries)
    }

    async fn library_entry(&self, id: &str, version: u32) -> AppResult<Option<LibraryEntry>> {
        let stored_wording = self.store.measure_wording(id, version).await?;
        let (definition, origin, added_at) =
            if let Some(d) = measures::shipped_definition(id, version) {
                (d.clone(), Origin::Shipped, None)
            } else if let Some(stored) = self.store.measure_definition(id, version).await? {
                match serde_json::from_str::<Definition>(&stored.definition) {
                    Ok(d) if measures::validate(&d).is_empty() => {
                        (d, Origin::Service, Some(stored.added_at))
                    }
                    _ => return Ok(None),
                }
            } else {
                return Ok(None);
            };
        let mut entry = LibraryEntry {
            definition,
            origin,
            wording_loaded_at: None,
            added_at,
        };
        if let Some(stored) = stored_wording
            && let Ok(wording) = serde_json::from_str::<Wording>(&stored.wording)
        {
            entry.definition = entry.definition.with_wording(&wording);
            entry.wording_loaded_at = Some(stored.loaded_at);
        }
        Ok(Some(entry))
    }

    /// One definition, shipped or added by the service, with the service's wording applied.
    /// For the other areas (feedback, goals): no access check, as the library holds no child
    /// data; callers check access to the child.
    pub async fn measure_definition(
        &self,
        id: &str,
        version: u32,
    ) -> AppResult<Option<Definition>> {
        Ok(self.library_entry(id, version).await?.map(|e| e.definition))
    }

    /// The measures that can be given to this respondent at this age: the newest version of
    /// each measure for that respondent whose age range suits (an unknown age suits all) and
    /// whose wording is present (shipped or loaded). By name.
    pub async fn measures_for(
        &self,
        respondent: Respondent,
        age: Option<u8>,
    ) -> AppResult<Vec<Definition>> {
        let mut latest: BTreeMap<String, Definition> = BTreeMap::new();
        for entry in self.library_entries().await? {
            let d = entry.definition;
            // Only a version that can be given competes: an older version with its wording
            // is not hidden by a newer one still waiting for it, or withheld.
            if d.respondent != respondent
                || !d.suits_age(age)
                || !d.has_wording()
                || d.withheld.is_some()
            {
                continue;
            }
            if latest.get(&d.id).is_none_or(|l| l.version < d.version) {
                latest.insert(d.id.clone(), d);
            }
        }
        let mut out: Vec<Definition> = latest.into_values().collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The library, for its page and the API.
    pub async fn measure_library(&self, actor: &Actor) -> AppResult<Library> {
        self.require_read_measures(actor, "read the measure library")
            .await?;
        Ok(Library {
            entries: self.library_entries().await?,
            may_manage: self.may_manage_measures(actor),
        })
    }

    /// One definition, for its page and the API (404 when there is none).
    pub async fn measure_entry(
        &self,
        actor: &Actor,
        id: &str,
        version: u32,
    ) -> AppResult<LibraryEntry> {
        self.require_read_measures(actor, "read a measure definition")
            .await?;
        self.library_entry(id, version)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Whether the actor may add definitions and load wording (for showing the links).
    pub fn may_manage_measures(&self, actor: &Actor) -> bool {
        policy::decide(&actor.user, Action::ManageMeasures).is_allowed() && actor.may_write()
    }

    /// For the pages that add: refuses (and audits) anyone who may not.
    pub async fn ensure_may_manage_measures(&self, actor: &Actor, asked: &str) -> AppResult<()> {
        self.require(actor, Action::ManageMeasures, asked, RECORD_TYPE, None)
            .await
    }

    /// Adds a definition from a file's text. Refused (422) with every problem named by its
    /// path when malformed; refused (409) when its id and version are shipped or already
    /// stored. Nothing is saved unless all passes; the addition is audited in the same
    /// transaction.
    pub async fn add_measure_definition(
        &self,
        actor: &Actor,
        text: &str,
        format: Format,
    ) -> AppResult<Definition> {
        self.ensure_may_manage_measures(actor, "add a measure definition")
            .await?;
        let definition = parse_definition(text, format).map_err(load_errors)?;
        let key = definition.key();
        if measures::shipped_definition(&definition.id, definition.version).is_some() {
            return Err(AppError::Conflict(format!(
                "{key} is shipped with Alliance: give the definition a new version"
            )));
        }
        if self
            .store
            .measure_definition(&definition.id, definition.version)
            .await?
            .is_some()
        {
            return Err(AppError::Conflict(format!(
                "{key} is already in the library: a measure changes only by a new version"
            )));
        }
        let audit = self.audit_batch(
            &actor.origin,
            vec![event(
                audit::Action::MeasureDefinitionAdded,
                actor,
                Some(key.clone()),
            )],
        );
        self.store
            .add_measure_definition(
                &StoredMeasureDefinition {
                    measure_id: definition.id.clone(),
                    version: definition.version,
                    respondent: definition.respondent,
                    definition: definition.to_json(),
                    source_text: text.to_owned(),
                    added_by: actor.user.id,
                    added_at: self.clock.now(),
                },
                &audit,
            )
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict(_) => AppError::Conflict(format!(
                    "{key} is already in the library: a measure changes only by a new version"
                )),
                other => other,
            })?;
        Ok(definition)
    }

    /// Loads (or replaces) the service's wording for a licensed measure's definition version,
    /// from its own file. 404 for an unknown definition; 422 with every problem by its path.
    pub async fn load_measure_wording(
        &self,
        actor: &Actor,
        id: &str,
        version: u32,
        text: &str,
        format: Format,
    ) -> AppResult<Definition> {
        self.ensure_may_manage_measures(actor, "load a measure's wording")
            .await?;
        let base = if let Some(d) = measures::shipped_definition(id, version) {
            d.clone()
        } else {
            let stored = self
                .store
                .measure_definition(id, version)
                .await?
                .ok_or(AppError::NotFound)?;
            serde_json::from_str::<Definition>(&stored.definition)
                .map_err(|_| AppError::NotFound)?
        };
        let wording = parse_wording(text, format, &base).map_err(load_errors)?;
        let key = base.key();
        let audit = self.audit_batch(
            &actor.origin,
            vec![event(
                audit::Action::MeasureWordingLoaded,
                actor,
                Some(key.clone()),
            )],
        );
        self.store
            .put_measure_wording(
                &StoredMeasureWording {
                    measure_id: base.id.clone(),
                    version: base.version,
                    wording: wording.to_json(),
                    loaded_by: actor.user.id,
                    loaded_at: self.clock.now(),
                },
                &audit,
            )
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict(_) => AppError::Conflict(format!(
                    "{key} has been given with its wording: the words it was answered against \
                     stay; a change of wording is a new version of the measure"
                )),
                other => other,
            })?;
        Ok(base.with_wording(&wording))
    }
}
