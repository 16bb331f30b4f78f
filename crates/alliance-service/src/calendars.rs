//! Term calendars: read by everyone who works here (the directory), written by
//! administrators; entered as rows on a page or imported from CSV or iCalendar, always with a
//! preview that names every problem by its line before anything is saved. And the series a
//! regular weekly slot makes in a calendar's term, with every skipped day and why.

use crate::app::Alliance;
use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::store::{StoreError, StoredCalendar};
use alliance_core::audit::{self, Event};
use alliance_core::calendar::{BankHolidays, Division};
use alliance_core::directory::SiteId;
use alliance_core::policy::Action;
use alliance_core::schedule::{Holidays, Series, Slot, SlotInput};
use alliance_core::schedule_import::{Preview, preview};
use alliance_core::{FieldError, Invalid, Nation, Version};
use jiff::civil::Date;
use uuid::Uuid;

/// The most a calendar's rows may hold, as text.
const MAX_TEXT: usize = 256 * 1024;

fn invalid_rows(preview: &Preview) -> Invalid {
    Invalid {
        errors: preview
            .errors
            .iter()
            .map(|e| {
                FieldError::new(
                    format!("rows[{}].{}", e.line, e.field),
                    format!("Line {}: {}", e.line, e.message),
                )
            })
            .collect(),
    }
}

fn name_or_site_taken(err: StoreError) -> AppError {
    match err {
        StoreError::Conflict(c) if c.contains("site") => {
            Invalid::field("site", "This site has a calendar already; change that one").into()
        }
        StoreError::Conflict(_) => {
            Invalid::field("name", "Another calendar has this name; choose another").into()
        }
        other => other.into(),
    }
}

impl Alliance {
    /// The bank holidays, shipped and imported, with their titles (for the reasons a day is
    /// skipped), in the service's nation's division.
    pub async fn holidays(&self) -> AppResult<(BankHolidays, Division)> {
        let nation = self
            .store
            .service_profile()
            .await?
            .map_or(Nation::England, |p| p.nation);
        let division = Division::for_nation(nation);
        let mut all = BankHolidays::shipped();
        for h in self.store.imported_holidays().await? {
            if let Ok(d) = Division::parse(&h.division) {
                all.insert(d, h.date, h.title);
            }
        }
        Ok((all, division))
    }

    pub async fn list_calendars(&self, actor: &Actor) -> AppResult<Vec<StoredCalendar>> {
        self.require(
            actor,
            Action::ReadDirectory,
            "list calendars",
            "term-calendar",
            None,
        )
        .await?;
        Ok(self.store.calendars().await?)
    }

    pub async fn get_calendar(&self, actor: &Actor, id: Uuid) -> AppResult<StoredCalendar> {
        self.require(
            actor,
            Action::ReadDirectory,
            "read calendar",
            "term-calendar",
            Some(id.to_string()),
        )
        .await?;
        self.store.calendar(id).await?.ok_or(AppError::NotFound)
    }

    /// Reads rows (CSV or iCalendar) into a calendar without saving anything: the preview.
    pub fn preview_calendar(&self, name: &str, text: &str) -> AppResult<Preview> {
        if text.len() > MAX_TEXT {
            return Err(
                Invalid::field("rows", "The text is over 256 KB: is this the right file?").into(),
            );
        }
        let name = alliance_core::error::parse_line(name, 1, 120)
            .map_err(|m| Invalid::field("name", m))?;
        Ok(preview(&name, text))
    }

    async fn check_site(&self, site: Option<SiteId>) -> AppResult<()> {
        if let Some(site) = site
            && self.store.site(site).await?.is_none()
        {
            return Err(Invalid::field("site", "Choose one of the service's sites").into());
        }
        Ok(())
    }

    /// Saves a new calendar from its rows (administrators); refused, with every row's
    /// problem, if the preview finds any.
    pub async fn create_calendar(
        &self,
        actor: &Actor,
        name: &str,
        site: Option<SiteId>,
        text: &str,
    ) -> AppResult<StoredCalendar> {
        self.require(
            actor,
            Action::ManageDirectory,
            "create calendar",
            "term-calendar",
            None,
        )
        .await?;
        let preview = self.preview_calendar(name, text)?;
        let Some(calendar) = preview
            .calendar
            .as_ref()
            .filter(|_| preview.errors.is_empty())
        else {
            return Err(invalid_rows(&preview).into());
        };
        self.check_site(site).await?;
        let id = self.new_id();
        let audit = self.audit_batch(
            &actor.origin,
            vec![Event::new(
                audit::Action::CalendarCreated,
                Some(actor.user.id.to_string()),
                "term-calendar",
                Some(id.to_string()),
            )],
        );
        self.store
            .create_calendar(id, site, calendar, self.clock.now(), &audit)
            .await
            .map_err(name_or_site_taken)
    }

    pub async fn update_calendar(
        &self,
        actor: &Actor,
        id: Uuid,
        name: &str,
        site: Option<SiteId>,
        text: &str,
        expected: Version,
    ) -> AppResult<StoredCalendar> {
        self.require(
            actor,
            Action::ManageDirectory,
            "update calendar",
            "term-calendar",
            Some(id.to_string()),
        )
        .await?;
        let preview = self.preview_calendar(name, text)?;
        let Some(calendar) = preview
            .calendar
            .as_ref()
            .filter(|_| preview.errors.is_empty())
        else {
            return Err(invalid_rows(&preview).into());
        };
        self.check_site(site).await?;
        let audit = self.audit_batch(
            &actor.origin,
            vec![Event::new(
                audit::Action::CalendarUpdated,
                Some(actor.user.id.to_string()),
                "term-calendar",
                Some(id.to_string()),
            )],
        );
        self.store
            .update_calendar(id, site, calendar, expected, self.clock.now(), &audit)
            .await
            .map_err(name_or_site_taken)
    }

    /// The sessions a regular weekly slot makes in the calendar's term (from `slot.from`),
    /// and every day it skips with the reason. Nothing is booked.
    pub async fn preview_series(
        &self,
        actor: &Actor,
        calendar: Uuid,
        input: &SlotInput,
        planned_end: Option<Date>,
    ) -> AppResult<(Slot, Series)> {
        let stored = self.get_calendar(actor, calendar).await?;
        let slot = Slot::parse(input, &stored.calendar)?;
        let (holidays, division) = self.holidays().await?;
        let series = Series::generate(
            &slot,
            &stored.calendar,
            Holidays::new(&holidays, division),
            planned_end,
        );
        Ok((slot, series))
    }
}
