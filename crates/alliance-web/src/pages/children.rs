//! Children: the list (only those the reader may know), a child's record, and the forms for
//! the child's details, carers and cases. Every route goes through the service's child gate;
//! a child the reader may not know is "not found", whatever the route.

use super::{
    FieldErrors, FormData, Layout, STALE_MESSAGE, checked, conflicted, render, unprocessable,
    version_of,
};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::access::Access;
use alliance_core::cases::{
    CaseId, CaseInput, CaseStatus, ClosureInput, ClosureReason, MembershipId, ReferralSource,
    TeamRole,
};
use alliance_core::children::{
    CarerId, CarerInput, CarerTopic, ChildId, ChildInput, ParentalResponsibility, RestrictionInput,
    RestrictionKind, RestrictionSource, Sex, YearGroup,
};
use alliance_core::directory::SiteKind;
use alliance_core::error::parse_date;
use alliance_core::identity::{Role, UserId};
use alliance_core::outbound::{self, Item, ItemKind, Recipient};
use alliance_core::{Invalid, PageRequest, uk};
use alliance_service::children::{ChildFilter, ChildRecord, TeamRequest};
use alliance_service::{Actor, AppError, UserFilter};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/children", get(children_page).post(create_child))
        .route("/children/new", get(new_child_page))
        .route("/children/{id}", get(child_page).post(update_child))
        .route("/children/{id}/edit", get(edit_child_page))
        .route("/children/{id}/carers", post(add_carer))
        .route("/children/{id}/carers/new", get(new_carer_page))
        .route("/carers/{id}", get(carer_page).post(update_carer))
        .route("/children/{id}/cases", post(open_case))
        .route("/children/{id}/cases/new", get(new_case_page))
        .route("/cases/{id}", get(case_page).post(update_case))
        .route("/cases/{id}/close", post(close_case))
        .route("/cases/{id}/team", post(change_team))
}

fn child_id(raw: &str) -> Result<ChildId, PageError> {
    ChildId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    mine: Option<String>,
    after: Option<String>,
}

struct ChildLine {
    id: String,
    name: String,
    /// Legal name when it differs from the name they are known by.
    legal_name: Option<String>,
    born: String,
    case: String,
    status: String,
    roles: String,
}

#[derive(Template)]
#[template(path = "children.html")]
struct ChildrenPage {
    layout: Layout,
    children: Vec<ChildLine>,
    q: String,
    status: String,
    mine: bool,
    may_add: bool,
    next: Option<String>,
}

async fn children_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let filter = ChildFilter {
        search: query.q.clone().filter(|q| !q.trim().is_empty()),
        status: query
            .status
            .as_deref()
            .filter(|s| !s.is_empty())
            .and_then(|s| CaseStatus::parse(s).ok()),
        school_site: None,
        mine: query.mine.as_deref() == Some("yes"),
    };
    let page = PageRequest::parse(Some(50), query.after.as_deref().filter(|a| !a.is_empty()))
        .map_err(|e| page_error(AppError::Invalid(e)))?;
    let children = state
        .alliance
        .list_children(&actor, &filter, &page)
        .await
        .map_err(page_error)?;
    let next = children.next.as_ref().map(|after| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("q", query.q.as_deref().unwrap_or(""));
        q.append_pair("status", query.status.as_deref().unwrap_or(""));
        q.append_pair("mine", query.mine.as_deref().unwrap_or(""));
        q.append_pair("after", after);
        format!("/children?{}", q.finish())
    });
    Ok(render(&ChildrenPage {
        layout: Layout::load(&state, "children", &auth).await?,
        children: children
            .items
            .into_iter()
            .map(|c| {
                let (case, status) = c
                    .case
                    .as_ref()
                    .map(|(n, s)| (n.clone(), s.label().to_owned()))
                    .unwrap_or_else(|| ("–".to_owned(), "No case".to_owned()));
                ChildLine {
                    id: c.id.to_string(),
                    name: c
                        .named
                        .as_ref()
                        .map(|n| n.known_as.clone())
                        .unwrap_or_else(|| c.initials.clone()),
                    legal_name: c
                        .named
                        .as_ref()
                        .filter(|n| n.legal_name != n.known_as)
                        .map(|n| n.legal_name.clone()),
                    born: c
                        .named
                        .as_ref()
                        .map(|n| format!("{} (age {})", uk::date(n.date_of_birth), n.age))
                        .unwrap_or_default(),
                    case,
                    status,
                    roles: c
                        .team_roles
                        .iter()
                        .map(|r| r.label())
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })
            .collect(),
        q: query.q.unwrap_or_default(),
        status: query.status.unwrap_or_default(),
        mine: filter.mine,
        may_add: actor.user.has_role(Role::Administrator),
        next,
    })?
    .into_response())
}

// ----- the child's record -----

struct Fact {
    label: &'static str,
    value: String,
}

struct OutboundLine {
    item: &'static str,
    allowed: bool,
    reason: String,
}

struct CarerCard {
    id: String,
    name: String,
    relationship: String,
    responsibility: String,
    day_to_day: bool,
    contact: String,
    address: String,
    may_contact: bool,
    active: bool,
    restrictions: Vec<String>,
    outbound: Vec<OutboundLine>,
}

struct MemberLine {
    id: String,
    name: String,
    role: &'static str,
    from: String,
    until: String,
    current: bool,
    may_end: bool,
}

struct CaseCard {
    id: String,
    number: String,
    status: &'static str,
    source: &'static str,
    received: String,
    first_seen: String,
    reason: Option<String>,
    closure: Option<String>,
    summary: Option<String>,
    team: Vec<MemberLine>,
    may_edit: bool,
    is_newest: bool,
    /// The next break and the planned ending, described.
    next_break: Option<String>,
    ending: Option<String>,
}

#[derive(Template)]
#[template(path = "child.html")]
struct ChildPage {
    layout: Layout,
    id: String,
    title: String,
    subtitle: String,
    named: bool,
    facts: Vec<Fact>,
    statuses: Vec<&'static str>,
    wishes: Option<String>,
    carers: Vec<CarerCard>,
    cases: Vec<CaseCard>,
    /// When and how the limits of confidentiality were last explained, for a reader of the
    /// child's clinical record.
    confidentiality: Option<String>,
    may_edit: bool,
    may_open_case: bool,
    notice: Option<String>,
    /// "14:05" while the reader reads under break-glass access, for the banner.
    break_glass_until: Option<String>,
    /// The service lead and the DSL read the child's audit trail.
    may_read_audit: bool,
    /// Issue 16: (may open the emergency panel, may read the safety plan).
    emergency_links: (bool, bool),
    /// Readers of the clinical record, and the DSL (who reads the incidents linked to a
    /// concern), reach the child's incidents.
    may_read_incidents: bool,
}

const ITEM_LABELS: [(ItemKind, &str); 7] = [
    (ItemKind::Handout, "Handouts"),
    (ItemKind::Agreement, "The therapy agreement"),
    (ItemKind::ConsentLink, "A consent link"),
    (ItemKind::FeedbackLink, "A link to their own measure"),
    (ItemKind::ScheduleLetter, "Letters about times and place"),
    (ItemKind::ProgressReport, "Reports on progress"),
    (ItemKind::SafeguardingShare, "Safeguarding information"),
];

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

async fn child_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    record: ChildRecord,
) -> Result<ChildPage, PageError> {
    let mut member_ids: Vec<UserId> = record
        .cases
        .iter()
        .flat_map(|c| c.case.team.iter().map(|m| m.user_id))
        .collect();
    member_ids.sort();
    member_ids.dedup();
    let names = state
        .alliance
        .staff_names(&member_ids)
        .await
        .map_err(page_error)?;
    let today = state.alliance.today();
    let sites: HashMap<String, String> = state
        .alliance
        .list_sites(actor)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|s| (s.id.to_string(), s.details.name))
        .collect();
    let newest_number = record
        .cases
        .first()
        .map(|c| c.case.number_label())
        .unwrap_or_default();
    let (title, subtitle, facts, statuses, wishes) = match &record.details {
        Some(d) => {
            let mut facts = vec![Fact {
                label: "Date of birth",
                value: format!(
                    "{} (age {}{})",
                    uk::date(d.date_of_birth),
                    record.age.unwrap_or_default(),
                    record
                        .age_band
                        .as_ref()
                        .map(|b| format!("; age band {}", b.label))
                        .unwrap_or_default()
                ),
            }];
            let mut push = |label: &'static str, value: String| {
                if !value.is_empty() {
                    facts.push(Fact { label, value });
                }
            };
            push(
                "Legal name",
                if d.preferred_name.is_some() {
                    d.legal_name.clone()
                } else {
                    String::new()
                },
            );
            push("Sex", d.sex.label().to_owned());
            push("Gender identity", opt(&d.gender_identity));
            push("Pronouns", opt(&d.pronouns));
            push(
                "NHS number",
                d.nhs_number
                    .as_ref()
                    .map(|n| n.display())
                    .unwrap_or_default(),
            );
            let school = d
                .school_site
                .and_then(|s| sites.get(&s.to_string()).cloned())
                .or_else(|| d.school_name.clone())
                .unwrap_or_default();
            push("School", school);
            push(
                "Year group",
                match (d.year_group, record.expected_year) {
                    (Some(y), Some(e)) if y != e => {
                        format!(
                            "{} (a child of this age is usually in {})",
                            y.label(),
                            e.label()
                        )
                    }
                    (Some(y), _) => y.label(),
                    (None, _) => String::new(),
                },
            );
            push(
                "Unique Pupil Number",
                d.upn
                    .as_ref()
                    .map(|u| u.as_str().to_owned())
                    .unwrap_or_default(),
            );
            push("GP practice", opt(&d.gp_practice));
            push("First language", opt(&d.first_language));
            push("Communication needs", opt(&d.communication_needs));
            push(
                "Social worker",
                [opt(&d.social_worker), opt(&d.social_worker_contact)]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            push("Address", opt(&d.address));
            push(
                "Date of death",
                d.date_of_death.map(uk::date).unwrap_or_default(),
            );
            let mut statuses = Vec::new();
            if d.looked_after {
                statuses.push("Looked after");
            }
            if d.child_in_need {
                statuses.push("Child in need");
            }
            if d.child_protection_plan {
                statuses.push("Child protection plan");
            }
            if d.ehcp {
                statuses.push("Education, health and care plan");
            }
            let wishes = d.wishes.consents_for_self.then(|| {
                let told: Vec<&str> = d
                    .wishes
                    .carers_may_be_told
                    .iter()
                    .map(|t| t.label())
                    .collect();
                if told.is_empty() {
                    "Consents for themselves and has not agreed that their carers be told anything."
                        .to_owned()
                } else {
                    format!(
                        "Consents for themselves. Agrees their carers may be told: {}.",
                        told.join("; ").to_lowercase()
                    )
                }
            });
            (
                d.known_as().to_owned(),
                newest_number.clone(),
                facts,
                statuses,
                wishes,
            )
        }
        None => (
            format!("{} ({newest_number})", record.initials),
            "Shown by initials and case number for supervision".to_owned(),
            Vec::new(),
            Vec::new(),
            None,
        ),
    };
    let carers = record
        .carers
        .iter()
        .map(|c| {
            let d = &c.details;
            CarerCard {
                id: c.id.to_string(),
                name: d.name.clone(),
                relationship: d.relationship.clone(),
                responsibility: d
                    .parental_responsibility
                    .map(|p| p.label().to_owned())
                    .unwrap_or_else(|| "No parental responsibility".to_owned()),
                day_to_day: d.day_to_day_care,
                contact: [opt(&d.phone), opt(&d.email)]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
                address: opt(&d.address),
                may_contact: d.may_contact,
                active: c.active,
                restrictions: d
                    .restrictions
                    .iter()
                    .map(|r| {
                        format!(
                            "{} ({}, {}{})",
                            r.kind.label(),
                            r.source.label(),
                            uk::date(r.dated),
                            r.reference
                                .as_ref()
                                .map(|x| format!(": {x}"))
                                .unwrap_or_default()
                        )
                    })
                    .collect(),
                outbound: match &record.details {
                    Some(child) => ITEM_LABELS
                        .iter()
                        .map(|(kind, label)| {
                            let decision = outbound::may_receive(
                                Recipient::Carer(d),
                                Item::typical(*kind),
                                child,
                            );
                            OutboundLine {
                                item: label,
                                allowed: decision.is_ok(),
                                reason: decision.err().map(|r| r.message()).unwrap_or_default(),
                            }
                        })
                        .collect(),
                    None => Vec::new(),
                },
            }
        })
        .collect();
    let mut outlooks = HashMap::new();
    for c in record
        .cases
        .iter()
        .filter(|c| c.is_newest && c.case.is_open())
    {
        if let Some(outlook) = state
            .alliance
            .case_outlook(actor, c.case.id)
            .await
            .map_err(page_error)?
        {
            outlooks.insert(c.case.id, outlook);
        }
    }
    let cases = record
        .cases
        .iter()
        .map(|c| {
            let case = &c.case;
            let outlook = outlooks.get(&case.id);
            CaseCard {
                next_break: outlook
                    .and_then(|o| o.next_break.as_ref())
                    .map(|b| b.describe()),
                ending: outlook
                    .and_then(|o| o.ending.as_ref())
                    .map(|e| e.describe()),
                id: case.id.to_string(),
                number: case.number_label(),
                status: case.status().label(),
                source: case.details.referral_source.label(),
                received: uk::date(case.details.referral_received),
                first_seen: case.details.first_seen.map(uk::date).unwrap_or_default(),
                reason: c.referral_reason.clone(),
                closure: case
                    .closure
                    .as_ref()
                    .map(|cl| format!("{} on {}", cl.reason.label(), uk::date(cl.closed_on))),
                summary: c.closing_summary.clone(),
                team: case
                    .team
                    .iter()
                    .map(|m| MemberLine {
                        id: m.id.to_string(),
                        name: names.get(&m.user_id).cloned().unwrap_or_default(),
                        role: m.role.label(),
                        from: uk::date(m.starts_on),
                        until: m.ends_on.map(uk::date).unwrap_or_default(),
                        current: m.is_current(today),
                        may_end: c.may_edit
                            && case.is_open()
                            && m.role != TeamRole::Lead
                            && m.ends_on.is_none_or(|e| e > today),
                    })
                    .collect(),
                may_edit: c.may_edit,
                is_newest: c.is_newest,
            }
        })
        .collect();
    // `None` both when it was never explained and when the reader may not know: "not
    // recorded yet" only for a reader of the child's clinical record.
    let last_explained = state
        .alliance
        .confidentiality_last_explained(actor, record.id)
        .await
        .map_err(page_error)?;
    let confidentiality = match last_explained {
        Some(last) => Some(format!(
            "{}, {}, to {}",
            uk::date(last.on),
            and_list(&last.how),
            last.to_whom
        )),
        None if record.access.clinical.may_read() && !record.cases.is_empty() => {
            Some("Not recorded yet".to_owned())
        }
        None => None,
    };
    Ok(ChildPage {
        layout: Layout::load(state, "children", auth).await?,
        id: record.id.to_string(),
        title,
        subtitle,
        named: record.details.is_some(),
        facts,
        statuses,
        wishes,
        carers,
        cases,
        confidentiality,
        may_edit: record.access.identity >= Access::Write,
        may_open_case: record.access.may_open_case,
        notice: None,
        break_glass_until: super::break_glass::banner(&state.alliance, actor, record.id).await?,
        may_read_audit: !alliance_core::audit::readable_categories(
            &actor.user,
            alliance_core::audit::Trail::Child,
        )
        .is_empty(),
        may_read_incidents: record.access.clinical.may_read()
            || record.access.clinical
                == Access::Limited(alliance_core::access::Limit::LinkedToConcern),
        emergency_links: state
            .alliance
            .emergency_links(actor, record.id)
            .await
            .map_err(page_error)?,
    })
}

/// "spoken, handout, story" as "spoken, handout and story".
fn and_list(items: &str) -> String {
    match items.rsplit_once(", ") {
        Some((head, last)) => format!("{head} and {last}"),
        None => items.to_owned(),
    }
}

#[derive(Debug, Default, Deserialize)]
struct Notice {
    saved: Option<String>,
}

async fn child_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let record = state
        .alliance
        .get_child(&actor, child_id(&id)?)
        .await
        .map_err(page_error)?;
    let mut page = child_view(&state, &actor, &auth, record).await?;
    page.notice = notice.saved.map(|_| "Saved.".to_owned());
    Ok(render(&page)?.into_response())
}

// ----- the child's details form -----

#[derive(Template)]
#[template(path = "child_form.html")]
struct ChildFormPage {
    layout: Layout,
    /// None for a new child.
    id: Option<String>,
    title: String,
    version: i64,
    form: FormData,
    sexes: Vec<(&'static str, &'static str)>,
    years: Vec<(String, String)>,
    schools: Vec<(String, String)>,
    topics: Vec<(&'static str, &'static str, bool)>,
    errors: FieldErrors,
}

fn child_form_of(input: &ChildInput) -> FormData {
    let yes = |b: bool| if b { "yes" } else { "" }.to_owned();
    let mut fields = vec![
        ("legal_name".to_owned(), input.legal_name.clone()),
        ("preferred_name".to_owned(), input.preferred_name.clone()),
        ("date_of_birth".to_owned(), input.date_of_birth.clone()),
        ("sex".to_owned(), input.sex.clone()),
        ("gender_identity".to_owned(), input.gender_identity.clone()),
        ("pronouns".to_owned(), input.pronouns.clone()),
        ("nhs_number".to_owned(), input.nhs_number.clone()),
        ("school_site".to_owned(), input.school_site.clone()),
        ("school_name".to_owned(), input.school_name.clone()),
        ("year_group".to_owned(), input.year_group.clone()),
        ("upn".to_owned(), input.upn.clone()),
        ("gp_practice".to_owned(), input.gp_practice.clone()),
        ("first_language".to_owned(), input.first_language.clone()),
        (
            "communication_needs".to_owned(),
            input.communication_needs.clone(),
        ),
        ("looked_after".to_owned(), yes(input.looked_after)),
        ("child_in_need".to_owned(), yes(input.child_in_need)),
        (
            "child_protection_plan".to_owned(),
            yes(input.child_protection_plan),
        ),
        ("ehcp".to_owned(), yes(input.ehcp)),
        ("social_worker".to_owned(), input.social_worker.clone()),
        (
            "social_worker_contact".to_owned(),
            input.social_worker_contact.clone(),
        ),
        ("address".to_owned(), input.address.clone()),
        ("date_of_death".to_owned(), input.date_of_death.clone()),
        ("consents_for_self".to_owned(), yes(input.consents_for_self)),
    ];
    fields.extend(
        input
            .carers_may_be_told
            .iter()
            .map(|t| ("carers_may_be_told".to_owned(), t.clone())),
    );
    FormData(fields)
}

fn child_input(form: &FormData) -> ChildInput {
    let s = |name: &str| form.get(name).to_owned();
    ChildInput {
        legal_name: s("legal_name"),
        preferred_name: s("preferred_name"),
        date_of_birth: s("date_of_birth"),
        sex: s("sex"),
        gender_identity: s("gender_identity"),
        pronouns: s("pronouns"),
        nhs_number: s("nhs_number"),
        school_site: s("school_site"),
        school_name: s("school_name"),
        year_group: s("year_group"),
        upn: s("upn"),
        gp_practice: s("gp_practice"),
        first_language: s("first_language"),
        communication_needs: s("communication_needs"),
        looked_after: checked(form, "looked_after"),
        child_in_need: checked(form, "child_in_need"),
        child_protection_plan: checked(form, "child_protection_plan"),
        ehcp: checked(form, "ehcp"),
        social_worker: s("social_worker"),
        social_worker_contact: s("social_worker_contact"),
        address: s("address"),
        date_of_death: s("date_of_death"),
        consents_for_self: checked(form, "consents_for_self"),
        carers_may_be_told: form.all("carers_may_be_told"),
    }
}

/// Which child form: a new child (`id` None) or an existing one at `version`.
struct FormHead {
    id: Option<ChildId>,
    title: String,
    version: i64,
}

async fn child_form_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    head: FormHead,
    form: FormData,
    errors: FieldErrors,
) -> Result<ChildFormPage, PageError> {
    let FormHead { id, title, version } = head;
    let schools = state
        .alliance
        .list_sites(actor)
        .await
        .map_err(page_error)?
        .into_iter()
        .filter(|s| s.details.kind == SiteKind::School && s.active)
        .map(|s| (s.id.to_string(), s.details.name))
        .collect();
    let chosen = form.all("carers_may_be_told");
    Ok(ChildFormPage {
        layout: Layout::load(state, "children", auth).await?,
        id: id.map(|i| i.to_string()),
        title,
        version,
        sexes: Sex::ALL
            .into_iter()
            .map(|s| (s.code(), s.label()))
            .collect(),
        years: YearGroup::all()
            .into_iter()
            .map(|y| (y.code(), y.label()))
            .collect(),
        schools,
        topics: CarerTopic::ALL
            .into_iter()
            .map(|t| (t.code(), t.label(), chosen.iter().any(|c| c == t.code())))
            .collect(),
        form,
        errors,
    })
}

async fn new_child_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    state
        .alliance
        .ensure_may_register_children(&actor, "open the new child page")
        .await
        .map_err(page_error)?;
    let page = child_form_page(
        &state,
        &actor,
        &auth,
        FormHead {
            id: None,
            title: "Add a child".to_owned(),
            version: 0,
        },
        FormData::default(),
        FieldErrors::default(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

async fn create_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    match state
        .alliance
        .create_child(&actor, &child_input(&form))
        .await
    {
        Ok(child) => Ok(Redirect::to(&format!("/children/{}?saved=1", child.id)).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let page = child_form_page(
                &state,
                &actor,
                &auth,
                FormHead {
                    id: None,
                    title: "Add a child".to_owned(),
                    version: 0,
                },
                form,
                FieldErrors::from_invalid(&invalid),
            )
            .await?;
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn edit_child_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = child_id(&id)?;
    let record = state
        .alliance
        .get_child(&actor, id)
        .await
        .map_err(page_error)?;
    let Some(details) = record
        .details
        .as_ref()
        .filter(|_| record.access.identity >= Access::Write)
    else {
        return Err(page_error(AppError::Denied(
            "only the case team and administrators change a child's details",
        )));
    };
    let page = child_form_page(
        &state,
        &actor,
        &auth,
        FormHead {
            id: Some(id),
            title: format!("Change {}'s details", details.known_as()),
            version: record.version.get(),
        },
        child_form_of(&details.to_input()),
        FieldErrors::default(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

async fn update_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = child_id(&id)?;
    let expected = version_of(&form)?;
    let title = "Change the child's details".to_owned();
    match state
        .alliance
        .update_child(&actor, id, &child_input(&form), expected)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/children/{id}?saved=1")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let page = child_form_page(
                &state,
                &actor,
                &auth,
                FormHead {
                    id: Some(id),
                    title,
                    version: expected.get(),
                },
                form,
                FieldErrors::from_invalid(&invalid),
            )
            .await?;
            unprocessable(&page)
        }
        Err(AppError::Stale(current)) => {
            let page = child_form_page(
                &state,
                &actor,
                &auth,
                FormHead {
                    id: Some(id),
                    title,
                    version: current.get(),
                },
                form,
                FieldErrors::one("legal_name", STALE_MESSAGE),
            )
            .await?;
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

// ----- carers -----

#[derive(Template)]
#[template(path = "carer_form.html")]
struct CarerFormPage {
    layout: Layout,
    child_id: String,
    /// None for a new carer.
    id: Option<String>,
    title: String,
    version: i64,
    form: FormData,
    responsibilities: Vec<(&'static str, &'static str)>,
    restrictions: Vec<RestrictionRow>,
    kinds: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    /// Whether they may collect the child (issue 16): (code, label).
    collect_choices: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
}

struct RestrictionRow {
    index: usize,
    kind: String,
    source: String,
    dated: String,
    reference: String,
}

fn carer_input(form: &FormData) -> CarerInput {
    let kinds = form.all("restriction_kind");
    let sources = form.all("restriction_source");
    let dates = form.all("restriction_dated");
    let references = form.all("restriction_reference");
    let restrictions = (0..kinds.len())
        .map(|i| RestrictionInput {
            kind: kinds[i].clone(),
            source: sources.get(i).cloned().unwrap_or_default(),
            dated: dates.get(i).cloned().unwrap_or_default(),
            reference: references.get(i).cloned().unwrap_or_default(),
        })
        .collect();
    CarerInput {
        name: form.get("name").to_owned(),
        relationship: form.get("relationship").to_owned(),
        parental_responsibility: form.get("parental_responsibility").to_owned(),
        day_to_day_care: checked(form, "day_to_day_care"),
        phone: form.get("phone").to_owned(),
        email: form.get("email").to_owned(),
        address: form.get("address").to_owned(),
        may_contact: checked(form, "may_contact"),
        restrictions,
        may_collect: form.get("may_collect").to_owned(),
    }
}

/// The carer form, with the rows of restrictions it was given and one empty row to add to.
fn carer_form_page(
    layout: Layout,
    child: ChildId,
    id: Option<CarerId>,
    title: String,
    version: i64,
    form: FormData,
    errors: FieldErrors,
) -> CarerFormPage {
    let input = carer_input(&form);
    let mut restrictions: Vec<RestrictionRow> = input
        .restrictions
        .iter()
        .filter(|r| !(r.kind.is_empty() && r.source.is_empty() && r.dated.is_empty()))
        .enumerate()
        .map(|(index, r)| RestrictionRow {
            index,
            kind: r.kind.clone(),
            source: r.source.clone(),
            dated: r.dated.clone(),
            reference: r.reference.clone(),
        })
        .collect();
    restrictions.push(RestrictionRow {
        index: restrictions.len(),
        kind: String::new(),
        source: String::new(),
        dated: String::new(),
        reference: String::new(),
    });
    CarerFormPage {
        layout,
        child_id: child.to_string(),
        id: id.map(|i| i.to_string()),
        title,
        version,
        form,
        responsibilities: ParentalResponsibility::ALL
            .into_iter()
            .map(|p| (p.code(), p.label()))
            .collect(),
        restrictions,
        kinds: RestrictionKind::ALL
            .into_iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        sources: RestrictionSource::ALL
            .into_iter()
            .map(|k| (k.code(), k.label()))
            .collect(),
        collect_choices: alliance_core::emergency::Collect::ALL
            .into_iter()
            .map(|c| (c.code(), c.label()))
            .collect(),
        errors,
    }
}

async fn new_carer_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = child_id(&id)?;
    let record = state
        .alliance
        .get_child(&actor, id)
        .await
        .map_err(page_error)?;
    if record.access.identity < Access::Write {
        return Err(page_error(AppError::Denied(
            "only the case team and administrators change a child's carers",
        )));
    }
    let form = FormData(vec![("may_contact".to_owned(), "yes".to_owned())]);
    let page = carer_form_page(
        Layout::load(&state, "children", &auth).await?,
        id,
        None,
        "Add a carer".to_owned(),
        0,
        form,
        FieldErrors::default(),
    );
    Ok(render(&page)?.into_response())
}

async fn add_carer(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = child_id(&id)?;
    match state
        .alliance
        .add_carer(&actor, id, &carer_input(&form))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/children/{id}?saved=1#carers")).into_response()),
        Err(AppError::Invalid(invalid)) => unprocessable(&carer_form_page(
            Layout::load(&state, "children", &auth).await?,
            id,
            None,
            "Add a carer".to_owned(),
            0,
            form,
            FieldErrors::from_invalid(&invalid),
        )),
        Err(other) => Err(page_error(other)),
    }
}

fn carer_id(raw: &str) -> Result<CarerId, PageError> {
    CarerId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

async fn carer_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let carer = state
        .alliance
        .get_carer(&actor, carer_id(&id)?)
        .await
        .map_err(page_error)?;
    let d = &carer.details;
    let mut fields = vec![
        ("name".to_owned(), d.name.clone()),
        ("relationship".to_owned(), d.relationship.clone()),
        (
            "parental_responsibility".to_owned(),
            d.parental_responsibility
                .map(|p| p.code().to_owned())
                .unwrap_or_default(),
        ),
        (
            "day_to_day_care".to_owned(),
            if d.day_to_day_care { "yes" } else { "" }.to_owned(),
        ),
        ("phone".to_owned(), opt(&d.phone)),
        ("email".to_owned(), opt(&d.email)),
        ("address".to_owned(), opt(&d.address)),
        (
            "may_contact".to_owned(),
            if d.may_contact { "yes" } else { "" }.to_owned(),
        ),
        ("may_collect".to_owned(), d.may_collect.code().to_owned()),
        (
            "active".to_owned(),
            if carer.active { "yes" } else { "" }.to_owned(),
        ),
    ];
    for r in &d.restrictions {
        fields.push(("restriction_kind".to_owned(), r.kind.code().to_owned()));
        fields.push(("restriction_source".to_owned(), r.source.code().to_owned()));
        fields.push(("restriction_dated".to_owned(), uk::date(r.dated)));
        fields.push(("restriction_reference".to_owned(), opt(&r.reference)));
    }
    let page = carer_form_page(
        Layout::load(&state, "children", &auth).await?,
        carer.child_id,
        Some(carer.id),
        format!("{} ({})", d.name, d.relationship),
        carer.version.get(),
        FormData(fields),
        FieldErrors::default(),
    );
    Ok(render(&page)?.into_response())
}

async fn update_carer(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = carer_id(&id)?;
    let expected = version_of(&form)?;
    let result = state
        .alliance
        .update_carer(
            &actor,
            id,
            &carer_input(&form),
            checked(&form, "active"),
            expected,
        )
        .await;
    match result {
        Ok(carer) => Ok(
            Redirect::to(&format!("/children/{}?saved=1#carers", carer.child_id)).into_response(),
        ),
        Err(err @ (AppError::Invalid(_) | AppError::Stale(_))) => {
            // Re-reading the carer goes through the child's gate again.
            let carer = state
                .alliance
                .get_carer(&actor, id)
                .await
                .map_err(page_error)?;
            let (errors, version, stale) = match err {
                AppError::Invalid(invalid) => {
                    (FieldErrors::from_invalid(&invalid), expected, false)
                }
                AppError::Stale(current) => {
                    (FieldErrors::one("name", STALE_MESSAGE), current, true)
                }
                _ => (FieldErrors::default(), expected, false),
            };
            let page = carer_form_page(
                Layout::load(&state, "children", &auth).await?,
                carer.child_id,
                Some(id),
                format!("{} ({})", carer.details.name, carer.details.relationship),
                version.get(),
                form,
                errors,
            );
            if stale {
                conflicted(&page)
            } else {
                unprocessable(&page)
            }
        }
        Err(other) => Err(page_error(other)),
    }
}

// ----- cases -----

#[derive(Template)]
#[template(path = "case_form.html")]
struct CaseFormPage {
    layout: Layout,
    child_id: String,
    child_name: String,
    /// None for a new case.
    id: Option<String>,
    number: String,
    version: i64,
    form: FormData,
    sources: Vec<(&'static str, &'static str)>,
    therapists: Vec<(String, String)>,
    may_write_reason: bool,
    may_edit: bool,
    /// Team management, for an open case.
    team: Vec<MemberLine>,
    open: bool,
    may_close: bool,
    roles: Vec<(&'static str, &'static str)>,
    reasons: Vec<(&'static str, &'static str)>,
    closure_form: FormData,
    team_form: FormData,
    errors: FieldErrors,
    closure_errors: FieldErrors,
    team_errors: FieldErrors,
}

async fn therapists(state: &AppState, actor: &Actor) -> Result<Vec<(String, String)>, PageError> {
    let filter = UserFilter {
        role: Some(Role::Therapist),
        active: Some(true),
        search: None,
    };
    let page = PageRequest::parse(Some(200), None).map_err(|e| page_error(AppError::Invalid(e)))?;
    Ok(state
        .alliance
        .list_users(actor, &filter, &page)
        .await
        .map_err(page_error)?
        .items
        .into_iter()
        .map(|u| (u.id.to_string(), u.display_name))
        .collect())
}

/// Codes and labels for a select.
type Choices = Vec<(&'static str, &'static str)>;

/// Referral sources, team roles (besides lead) and closure reasons.
fn case_choices() -> (Choices, Choices, Choices) {
    (
        ReferralSource::ALL
            .into_iter()
            .map(|s| (s.code(), s.label()))
            .collect(),
        TeamRole::ALL
            .into_iter()
            .filter(|r| *r != TeamRole::Lead)
            .map(|r| (r.code(), r.label()))
            .collect(),
        ClosureReason::ALL
            .into_iter()
            .map(|r| (r.code(), r.label()))
            .collect(),
    )
}

fn child_name(record: &ChildRecord) -> String {
    record
        .details
        .as_ref()
        .map(|d| d.known_as().to_owned())
        .unwrap_or_else(|| record.initials.clone())
}

async fn new_case_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = child_id(&id)?;
    let record = state
        .alliance
        .get_child(&actor, id)
        .await
        .map_err(page_error)?;
    if !record.access.may_open_case {
        return Err(page_error(AppError::Denied(
            "a case is opened by an administrator, when the child has no open case",
        )));
    }
    let form = FormData(vec![(
        "referral_received".to_owned(),
        uk::date(state.alliance.today()),
    )]);
    let page = new_case_form(&state, &actor, &auth, &record, form, FieldErrors::default()).await?;
    Ok(render(&page)?.into_response())
}

async fn new_case_form(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    record: &ChildRecord,
    form: FormData,
    errors: FieldErrors,
) -> Result<CaseFormPage, PageError> {
    let (sources, roles, reasons) = case_choices();
    Ok(CaseFormPage {
        layout: Layout::load(state, "children", auth).await?,
        child_id: record.id.to_string(),
        child_name: child_name(record),
        id: None,
        number: String::new(),
        version: 0,
        form,
        sources,
        therapists: therapists(state, actor).await?,
        may_write_reason: record.access.referral_reason >= Access::Write,
        may_edit: true,
        team: Vec::new(),
        open: true,
        may_close: false,
        roles,
        reasons,
        closure_form: FormData::default(),
        team_form: FormData::default(),
        errors,
        closure_errors: FieldErrors::default(),
        team_errors: FieldErrors::default(),
    })
}

fn case_input(form: &FormData) -> CaseInput {
    CaseInput {
        referral_source: form.get("referral_source").to_owned(),
        referral_received: form.get("referral_received").to_owned(),
        first_seen: form.get("first_seen").to_owned(),
        // Only a form that shows the reason (to those who may write it) sends it.
        referral_reason: form
            .0
            .iter()
            .find(|(k, _)| k == "referral_reason")
            .map(|(_, v)| v.clone()),
    }
}

fn optional_user(form: &FormData, field: &str) -> Result<Option<UserId>, Invalid> {
    match form.optional(field) {
        None => Ok(None),
        Some(raw) => UserId::parse(raw)
            .map(Some)
            .map_err(|_| Invalid::field(field, "Choose a therapist from the list")),
    }
}

async fn open_case(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = child_id(&id)?;
    let result = match optional_user(&form, "lead") {
        Ok(lead) => {
            state
                .alliance
                .open_case(&actor, id, &case_input(&form), lead)
                .await
        }
        Err(invalid) => Err(AppError::Invalid(invalid)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/children/{id}?saved=1#cases")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let record = state
                .alliance
                .get_child(&actor, id)
                .await
                .map_err(page_error)?;
            let page = new_case_form(
                &state,
                &actor,
                &auth,
                &record,
                form,
                FieldErrors::from_invalid(&invalid),
            )
            .await?;
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

fn case_id(raw: &str) -> Result<CaseId, PageError> {
    CaseId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// The case page: its details (a form for those who may change it), its team with the
/// forms to change it, and closing it.
async fn case_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: CaseId,
) -> Result<(CaseFormPage, ChildRecord), PageError> {
    let child = state
        .alliance
        .child_of_case(actor, id)
        .await
        .map_err(page_error)?;
    let record = state
        .alliance
        .get_child(actor, child)
        .await
        .map_err(page_error)?;
    let Some(case) = record.cases.iter().find(|c| c.case.id == id) else {
        return Err(page_error(AppError::NotFound));
    };
    let names = state
        .alliance
        .staff_names(&case.case.team.iter().map(|m| m.user_id).collect::<Vec<_>>())
        .await
        .map_err(page_error)?;
    let today = state.alliance.today();
    let d = &case.case.details;
    let form = FormData(vec![
        (
            "referral_source".to_owned(),
            d.referral_source.code().to_owned(),
        ),
        (
            "referral_received".to_owned(),
            uk::date(d.referral_received),
        ),
        (
            "first_seen".to_owned(),
            d.first_seen.map(uk::date).unwrap_or_default(),
        ),
        (
            "referral_reason".to_owned(),
            case.referral_reason.clone().unwrap_or_default(),
        ),
    ]);
    let (sources, roles, reasons) = case_choices();
    let page = CaseFormPage {
        layout: Layout::load(state, "children", auth).await?,
        child_id: record.id.to_string(),
        child_name: child_name(&record),
        id: Some(id.to_string()),
        number: case.case.number_label(),
        version: case.case.version.get(),
        form,
        sources,
        therapists: if case.may_edit {
            therapists(state, actor).await?
        } else {
            Vec::new()
        },
        may_write_reason: case.may_read_reason
            && case.may_edit
            && record.access.referral_reason >= Access::Write,
        may_edit: case.may_edit,
        team: case
            .case
            .team
            .iter()
            .map(|m| MemberLine {
                id: m.id.to_string(),
                name: names.get(&m.user_id).cloned().unwrap_or_default(),
                role: m.role.label(),
                from: uk::date(m.starts_on),
                until: m.ends_on.map(uk::date).unwrap_or_default(),
                current: m.is_current(today),
                may_end: case.may_edit
                    && case.case.is_open()
                    && m.role != TeamRole::Lead
                    && m.ends_on.is_none_or(|e| e > today),
            })
            .collect(),
        open: case.case.is_open(),
        may_close: case.may_close,
        roles,
        reasons,
        closure_form: FormData(vec![("closed_on".to_owned(), uk::date(today))]),
        team_form: FormData(vec![("starts_on".to_owned(), uk::date(today))]),
        errors: FieldErrors::default(),
        closure_errors: FieldErrors::default(),
        team_errors: FieldErrors::default(),
    };
    Ok((page, record))
}

async fn case_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (page, _) = case_view(&state, &actor, &auth, case_id(&id)?).await?;
    Ok(render(&page)?.into_response())
}

async fn update_case(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let expected = version_of(&form)?;
    match state
        .alliance
        .update_case(&actor, id, &case_input(&form), expected)
        .await
    {
        Ok(record) => {
            Ok(Redirect::to(&format!("/children/{}?saved=1#cases", record.id)).into_response())
        }
        Err(AppError::Invalid(invalid)) => {
            let (mut page, _) = case_view(&state, &actor, &auth, id).await?;
            page.form = form;
            page.version = expected.get();
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(current)) => {
            let (mut page, _) = case_view(&state, &actor, &auth, id).await?;
            page.form = form;
            page.version = current.get();
            page.errors = FieldErrors::one("referral_source", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

async fn close_case(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let expected = version_of(&form)?;
    let input = ClosureInput {
        closed_on: form.get("closed_on").to_owned(),
        reason: form.get("reason").to_owned(),
        summary: form.get("summary").to_owned(),
    };
    match state
        .alliance
        .close_case(&actor, id, &input, expected)
        .await
    {
        Ok(record) => {
            Ok(Redirect::to(&format!("/children/{}?saved=1#cases", record.id)).into_response())
        }
        Err(AppError::Invalid(invalid)) => {
            let (mut page, _) = case_view(&state, &actor, &auth, id).await?;
            page.closure_form = form;
            page.closure_errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(current)) => {
            let (mut page, _) = case_view(&state, &actor, &auth, id).await?;
            page.closure_form = form;
            page.version = current.get();
            page.closure_errors = FieldErrors::one("closed_on", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

fn team_request(form: &FormData) -> Result<TeamRequest, Invalid> {
    let date = |field: &str| parse_date(form.get(field)).map_err(|m| Invalid::field(field, m));
    match form.get("action") {
        "add" => {
            let user = optional_user(form, "user")?
                .ok_or_else(|| Invalid::field("user", "Choose a therapist"))?;
            let role = TeamRole::parse(form.get("role")).map_err(|m| Invalid::field("role", m))?;
            let ends_on = match form.optional("ends_on") {
                None => None,
                Some(_) => Some(date("ends_on")?),
            };
            Ok(TeamRequest::Add {
                user,
                role,
                starts_on: date("starts_on")?,
                ends_on,
            })
        }
        "end" => Ok(TeamRequest::End {
            membership: MembershipId::parse(form.get("membership"))
                .map_err(|m| Invalid::field("membership", m))?,
            ends_on: date("ends_on")?,
        }),
        "transfer" => Ok(TeamRequest::Transfer {
            to: optional_user(form, "to")?
                .ok_or_else(|| Invalid::field("to", "Choose the new lead therapist"))?,
            on: date("on")?,
        }),
        _ => Err(Invalid::field("action", "Choose what to change")),
    }
}

async fn change_team(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = case_id(&id)?;
    let expected = version_of(&form)?;
    let result = match team_request(&form) {
        Ok(request) => {
            state
                .alliance
                .change_team(&actor, id, &request, expected)
                .await
        }
        Err(invalid) => Err(AppError::Invalid(invalid)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(AppError::Invalid(invalid)) => {
            let (mut page, _) = case_view(&state, &actor, &auth, id).await?;
            page.team_form = form;
            page.team_errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(current)) => {
            let (mut page, _) = case_view(&state, &actor, &auth, id).await?;
            page.team_form = form;
            page.version = current.get();
            page.team_errors = FieldErrors::one("user", STALE_MESSAGE);
            conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restriction_rows_line_up_and_an_empty_row_is_offered() {
        let form = FormData(vec![
            ("name".into(), "Sam".into()),
            ("restriction_kind".into(), "no-school".into()),
            ("restriction_source".into(), "court-order".into()),
            ("restriction_dated".into(), "01/02/2025".into()),
            ("restriction_reference".into(), "".into()),
            ("restriction_kind".into(), "".into()),
            ("restriction_source".into(), "".into()),
            ("restriction_dated".into(), "".into()),
            ("restriction_reference".into(), "".into()),
        ]);
        let input = carer_input(&form);
        assert_eq!(input.restrictions.len(), 2);
        assert_eq!(input.restrictions[0].kind, "no-school");
        assert_eq!(input.restrictions[0].dated, "01/02/2025");
    }

    #[test]
    fn team_requests_name_the_missing_field() {
        let form = FormData(vec![("action".into(), "transfer".into())]);
        let err = team_request(&form).err().map(|e| e.errors[0].field.clone());
        assert_eq!(err.as_deref(), Some("to"));
        let form = FormData(vec![("action".into(), "sideways".into())]);
        assert!(team_request(&form).is_err());
    }
}
