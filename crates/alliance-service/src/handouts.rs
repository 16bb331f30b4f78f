//! Handouts from the explanation library: one text as the library holds it (naming no one),
//! or a chosen set for one child, as a copy for the child or for one of their carers. A
//! child's set passes the child's gate, and a carer's copy the outbound rule
//! (`outbound::may_receive`, policy section 2): it names the child by their preferred name
//! only where the carer may know it. Every set produced for a child is audited.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::explanations::LibraryText;
use alliance_core::access::sees_names;
use alliance_core::audit::{self, Event};
use alliance_core::children::{CarerId, ChildId};
use alliance_core::explanations::Audience;
use alliance_core::outbound::{self, Item, ItemKind, Recipient, Reveals};
use alliance_core::{Invalid, uk};

/// One handout page.
#[derive(Debug, Clone, PartialEq)]
pub struct HandoutPage {
    pub service_name: String,
    pub title: String,
    /// `For Millie`, or empty.
    pub for_name: String,
    pub audience: Audience,
    pub paragraphs: Vec<String>,
    pub pictures: Vec<String>,
    /// Which text this is: the version and its review, for the record and the footer.
    pub provenance: String,
}

impl HandoutPage {
    /// The large, friendly layout is for the younger bands.
    pub fn large(&self) -> bool {
        matches!(
            self.audience,
            Audience::Children3To7 | Audience::Children8To11
        )
    }
}

/// A set of handouts to print or render.
#[derive(Debug, Clone, PartialEq)]
pub struct HandoutSet {
    pub title: String,
    pub pages: Vec<HandoutPage>,
    /// Printed on every page.
    pub footer: String,
}

/// Who a child's copy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFor {
    Child,
    Carer(CarerId),
}

fn paragraphs(body: &str) -> Vec<String> {
    body.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

fn provenance(text: &LibraryText) -> String {
    let which = match &text.version {
        Some(v) => format!("Version {}", v.number),
        None => "Alliance's default text".to_owned(),
    };
    format!("{which}. {}", text.review.label())
}

impl Alliance {
    async fn service_name(&self) -> AppResult<(String, bool)> {
        Ok(self
            .store
            .service_profile()
            .await?
            .map(|p| (p.name.as_str().to_owned(), p.is_demo))
            .unwrap_or_default())
    }

    fn handout_footer(&self, demo: bool) -> String {
        if demo {
            "DEMO SERVICE: made-up text for trying Alliance".to_owned()
        } else {
            format!("Printed {}", uk::date(self.today()))
        }
    }

    /// One text from the library, as a handout naming no one.
    pub async fn library_handout(
        &self,
        actor: &Actor,
        topic: &str,
        audience: &str,
    ) -> AppResult<HandoutSet> {
        let detail = self.explanation_detail(actor, topic, audience).await?;
        let (service_name, demo) = self.service_name().await?;
        let text = &detail.text;
        Ok(HandoutSet {
            title: text.title.clone(),
            pages: vec![HandoutPage {
                service_name,
                title: text.title.clone(),
                for_name: String::new(),
                audience: text.audience,
                paragraphs: paragraphs(&text.body),
                pictures: text.pictures.clone(),
                provenance: provenance(text),
            }],
            footer: self.handout_footer(demo),
        })
    }

    /// A chosen set of topics for one child, as the child's copy or a carer's. Refused (with
    /// the reason, for staff) when the carer may not receive handouts about this child.
    pub async fn child_handouts(
        &self,
        actor: &Actor,
        child: ChildId,
        topics: &[String],
        audience: Audience,
        copy_for: CopyFor,
    ) -> AppResult<HandoutSet> {
        let (standing, _) = self
            .get_child_gate(actor, child, "produce handouts")
            .await?;
        if !sees_names(&actor.user, &standing) {
            return Err(AppError::Denied(
                "only those who may see the child's name produce their handouts",
            ));
        }
        if topics.is_empty() {
            return Err(Invalid::field("topics", "Choose at least one topic").into());
        }
        let details = self.details_of(child).await?;
        let named_item = Item {
            kind: ItemKind::Handout,
            reveals: Reveals {
                preferred_name_and_pronouns: true,
                ..Reveals::default()
            },
        };
        let (for_name, record_type, record_id) = match copy_for {
            CopyFor::Child => (details.known_as().to_owned(), "child", child.to_string()),
            CopyFor::Carer(id) => {
                let Some(carer) = self
                    .carers_of(child)
                    .await?
                    .into_iter()
                    .find(|c| c.id == id && c.active)
                else {
                    return Err(AppError::NotFound);
                };
                if let Err(refusal) = outbound::may_receive(
                    Recipient::Carer(&carer.details),
                    Item::typical(ItemKind::Handout),
                    &details,
                ) {
                    self.record(
                        &actor.origin,
                        vec![
                            Event::new(
                                audit::Action::Denied,
                                Some(actor.user.id.to_string()),
                                "carer",
                                Some(carer.id.to_string()),
                            )
                            .for_child(child)
                            .detail(&format!("handout refused: {}", refusal.code())),
                        ],
                    )
                    .await?;
                    return Err(Invalid::field("copy_for", refusal.message()).into());
                }
                // Carer-facing outputs wait for an active agreement (policy section 3).
                if let Err(why) = self.carer_outputs_allowed(child).await? {
                    return Err(Invalid::field("copy_for", why).into());
                }
                let name = if outbound::may_receive(
                    Recipient::Carer(&carer.details),
                    named_item,
                    &details,
                )
                .is_ok()
                {
                    details.known_as().to_owned()
                } else {
                    details.legal_name.clone()
                };
                (name, "carer", carer.id.to_string())
            }
        };
        if let Err(refusal) =
            outbound::may_receive(Recipient::Child, Item::typical(ItemKind::Handout), &details)
            && copy_for == CopyFor::Child
        {
            return Err(Invalid::field("copy_for", refusal.message()).into());
        }
        let (service_name, demo) = self.service_name().await?;
        let mut pages = Vec::new();
        let mut versions = Vec::new();
        for topic in topics {
            let detail = self
                .explanation_detail(actor, topic, audience.code())
                .await?;
            let text = &detail.text;
            versions.push(
                text.version
                    .as_ref()
                    .map_or("default".to_owned(), |v| format!("version {}", v.number)),
            );
            pages.push(HandoutPage {
                service_name: service_name.clone(),
                title: text.title.clone(),
                for_name: format!("For {for_name}"),
                audience: text.audience,
                paragraphs: paragraphs(&text.body),
                pictures: text.pictures.clone(),
                provenance: provenance(text),
            });
        }
        // Which version of each text was given (ids and numbers only).
        let which: Vec<String> = versions
            .iter()
            .zip(topics)
            .map(|(v, t)| format!("{t} {v}"))
            .collect();
        self.record(
            &actor.origin,
            vec![
                Event::new(
                    audit::Action::HandoutProduced,
                    Some(actor.user.id.to_string()),
                    record_type,
                    Some(record_id),
                )
                .for_child(child)
                .detail(&format!("{}: {}", audience.code(), which.join("; "))),
            ],
        )
        .await?;
        Ok(HandoutSet {
            title: format!("Handouts for {for_name}"),
            pages,
            footer: self.handout_footer(demo),
        })
    }
}
