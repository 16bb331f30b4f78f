//! Use-cases: A site's emergency procedures (issue 16): fire, medical emergency, a child leaving the room or site, aggression, a disclosure of immediate danger; the site's DSL and first aider for each day; the printable sheet (no clinical content).
//!
//! The rules and the shipped defaults are `alliance_core::site_emergency`. A site's plan is
//! directory data (policy section 1): everyone who works here reads it (`ReadDirectory`),
//! administrators write it (`ManageDirectory`). It is kept as one settings document per site
//! (`site-emergency:{site id}`), written at the version read (a stale one is refused) in its
//! own transaction with its `SiteEmergencyUpdated` audit entry. Until a site's plan is saved,
//! the shipped procedures stand and nobody is named.
//!
//! The sheet is for the wall and for when the network is down: the site's address and
//! telephone, the procedures, this week's DSL and first aider per day, the out-of-hours
//! contacts (the site's own and the service's safeguarding contacts), and 999. It holds no
//! child and no clinical content. Each printing is audited (`EmergencySheetPrinted`).

use crate::Actor;
use crate::Alliance;
use crate::demo::DemoError;
use crate::error::{AppError, AppResult};
use crate::store::StoreError;
use alliance_core::Version;
use alliance_core::audit::{self, Event};
use alliance_core::directory::{Site, SiteId};
use alliance_core::policy::{self, Action};
use alliance_core::safeguarding::Contacts;
use alliance_core::site_emergency::{DAYS, DayCover, OnDuty, SitePlan};
use jiff::ToSpan;
use jiff::civil::Date;

/// The record type of a site's plan in the audit trail.
pub const RECORD_TYPE: &str = "site-emergency";

fn document_name(site: SiteId) -> String {
    format!("site-emergency:{site}")
}

/// A site's plan, as its page shows it.
#[derive(Debug, Clone)]
pub struct SiteEmergency {
    pub site: Site,
    pub plan: SitePlan,
    /// None while the shipped defaults stand.
    pub version: Option<Version>,
    pub may_edit: bool,
}

/// The printable sheet.
#[derive(Debug, Clone)]
pub struct EmergencySheet {
    pub site: Site,
    pub plan: SitePlan,
    /// Monday to Sunday of this week, with each day's cover.
    pub week: Vec<(Date, DayCover)>,
    /// The service's out-of-hours safeguarding contacts.
    pub contacts: Contacts,
    pub printed_on: Date,
}

impl Alliance {
    /// A site's procedures and daily cover (everyone who works here).
    pub async fn site_emergency(&self, actor: &Actor, id: SiteId) -> AppResult<SiteEmergency> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read site emergency procedures",
            RECORD_TYPE,
            Some(id.to_string()),
        )
        .await?;
        let site = self.store.site(id).await?.ok_or(AppError::NotFound)?;
        let (plan, version) = self.site_plan(id).await?;
        Ok(SiteEmergency {
            site,
            plan,
            version,
            may_edit: policy::decide(&actor.user, Action::ManageDirectory).is_allowed()
                && actor.may_write(),
        })
    }

    async fn site_plan(&self, id: SiteId) -> AppResult<(SitePlan, Option<Version>)> {
        Ok(
            match self
                .settings_document::<SitePlan>(&document_name(id), "site emergency plan")
                .await?
            {
                None => (SitePlan::default(), None),
                Some((plan, v)) => (plan, Some(v)),
            },
        )
    }

    /// Saves a site's plan (administrators), at the version read (`None`: never saved yet).
    pub async fn set_site_emergency(
        &self,
        actor: &Actor,
        id: SiteId,
        plan: &SitePlan,
        expected: Option<Version>,
    ) -> AppResult<SitePlan> {
        self.require(
            actor,
            Action::ManageDirectory,
            "update site emergency procedures",
            RECORD_TYPE,
            Some(id.to_string()),
        )
        .await?;
        self.store.site(id).await?.ok_or(AppError::NotFound)?;
        let document = serde_json::to_string(plan)
            .map_err(|e| AppError::Store(StoreError::Other(e.to_string())))?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![Event::new(
                audit::Action::SiteEmergencyUpdated,
                Some(actor.user.id.to_string()),
                RECORD_TYPE,
                Some(id.to_string()),
            )],
        );
        match self
            .store
            .put_setting(
                &document_name(id),
                &document,
                expected,
                self.clock.now(),
                &audit,
            )
            .await
        {
            Ok(_) => Ok(plan.clone()),
            Err(StoreError::Stale { current }) => Err(AppError::Stale(current)),
            Err(other) => Err(other.into()),
        }
    }

    /// The printable sheet for this week (everyone who works here; audited as printed).
    pub async fn emergency_sheet(&self, actor: &Actor, id: SiteId) -> AppResult<EmergencySheet> {
        let shown = self.site_emergency(actor, id).await?;
        let (contacts, _) = self.safeguarding_contacts().await?;
        let today = self.today();
        let monday = crate::timetables::monday_of(today);
        let week = DAYS
            .iter()
            .enumerate()
            .filter_map(|(i, day)| {
                let date = monday.checked_add(i64::try_from(i).ok()?.days()).ok()?;
                Some((date, shown.plan.day(*day)))
            })
            .collect();
        self.record(
            &actor.origin,
            vec![Event::new(
                audit::Action::EmergencySheetPrinted,
                Some(actor.user.id.to_string()),
                RECORD_TYPE,
                Some(id.to_string()),
            )],
        )
        .await?;
        Ok(EmergencySheet {
            site: shown.site,
            plan: shown.plan,
            week,
            contacts,
            printed_on: today,
        })
    }
}

/// The out-of-hours contacts the sheet lists: the site's own, then the service's
/// safeguarding contacts, as (what, how to reach them).
pub fn contact_lines(
    contacts: &alliance_core::safeguarding::Contacts,
    site: SiteId,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |label: &str, c: &alliance_core::safeguarding::Contact| {
        if !c.name.is_empty() || !c.phone.is_empty() || !c.email.is_empty() {
            let detail = [c.name.as_str(), c.phone.as_str(), c.email.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            out.push((label.to_owned(), detail));
        }
    };
    if let Some(own) = contacts.sites.get(&site.to_string()) {
        push("The site's emergency duty team", &own.emergency_duty_team);
        push("The school's DSL", &own.school_dsl);
    }
    push("Emergency duty team", &contacts.emergency_duty_team);
    push(
        "Local authority designated officer",
        &contacts.designated_officer,
    );
    if !contacts.out_of_hours_note.is_empty() {
        out.push((
            "Out of hours".to_owned(),
            contacts.out_of_hours_note.clone(),
        ));
    }
    out
}

/// The demo service's step for this area (called from `demo::generate`, after the sites,
/// rooms, children and cases exist): each site's shipped procedures, with a DSL and a first
/// aider named for each weekday.
pub(crate) async fn demo_fill(alliance: &Alliance, admin: &Actor) -> Result<(), DemoError> {
    let sites = alliance.store.sites().await?;
    let dsls = [
        ("Mrs Okafor (DSL)", "School office, ext 201"),
        ("Mr Patel (deputy DSL)", "07700 900123"),
    ];
    let aiders = [
        ("Ms Hughes", "Reception, ext 100"),
        ("Mr Evans", "Staff room, ext 105"),
    ];
    for site in sites {
        let mut plan = SitePlan::default();
        for (i, day) in plan.days.iter_mut().enumerate().take(5) {
            let (dsl, dsl_contact) = dsls[i % 2];
            let (aider, aider_contact) = aiders[(i / 2) % 2];
            *day = DayCover {
                dsl: OnDuty {
                    name: dsl.to_owned(),
                    contact: dsl_contact.to_owned(),
                },
                first_aider: OnDuty {
                    name: aider.to_owned(),
                    contact: aider_contact.to_owned(),
                },
            };
        }
        let (_, version) = alliance.site_plan(site.id).await.map_err(demo_error)?;
        alliance
            .set_site_emergency(admin, site.id, &plan, version)
            .await
            .map_err(demo_error)?;
    }
    crate::disruptions::demo_disruptions(alliance, admin)
        .await
        .map_err(demo_error)?;
    Ok(())
}

fn demo_error(err: AppError) -> DemoError {
    match err {
        AppError::Store(e) => DemoError::Store(e),
        other => DemoError::Generated(format!("site emergency plans: {other}")),
    }
}
