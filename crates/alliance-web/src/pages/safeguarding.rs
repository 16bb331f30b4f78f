//! Safeguarding (issue 13): the hub (the emergency steps, who is on duty, raising, the DSL's
//! queue), raising a concern (from a child's page, a session's record, or by look-up for a
//! child the raiser may not know), the concern's form with its body map, the sealed record as
//! each reader may see it with its steps and addenda, the lists, allegations against staff,
//! the on-duty rota and the out-of-hours contacts. Who may see or do what is decided by the
//! use-cases (`alliance_service::safeguarding`); this module shows what they answer, and
//! offers a control only where the answer's flag allows it.

use super::{FieldErrors, FormData, Layout, STALE_MESSAGE, render};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, NotSigned, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::children::ChildId;
use alliance_core::concern_workflow::{
    Agency, ConsentSought, Decision, Progress, SharingBasis, Stage, check_step,
};
use alliance_core::directory::SiteKind;
use alliance_core::identity::UserId;
use alliance_core::safeguarding::{
    self as sg, BodyMark, BodyRegion, BodySide, ChildLookup, ConcernContent, ConcernId,
    ConcernKind, ConcernStatus, Contact, Contacts, HarmCategory, Rota, RotaAbsence, RotaPosition,
    RotaSlot, SchoolDslTold, SiteContacts, StepDetail, StepKind, Timing,
};
use alliance_core::schedule::BookingId;
use alliance_core::{Invalid, PageRequest, Version, uk};
use alliance_service::children::ChildFilter;
use alliance_service::safeguarding::{ConcernSummary, ConcernView, RaiseFrom, StepView};
use alliance_service::{Actor, AppError, StoredConcern, UserFilter};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/safeguarding", get(hub))
        .route("/safeguarding/rota", get(rota_page).post(save_rota))
        .route("/safeguarding/contacts", get(contacts).post(set_contacts))
        .route("/safeguarding/timing", post(save_timing))
        .route("/concerns/new", get(lookup_page).post(raise_by_lookup))
        .route("/concerns/mine", get(my_concerns))
        .route("/concerns/{id}", get(concern_page))
        .route("/concerns/{id}/edit", get(edit_page).post(edit_post))
        .route("/concerns/{id}/autosave", post(autosave))
        .route("/concerns/{id}/acknowledge", post(acknowledge))
        .route("/concerns/{id}/steps", post(record_step))
        .route("/concerns/{id}/addenda", post(add_addendum))
        .route("/concerns/{id}/match", post(match_child))
        .route("/concerns/{id}/link", post(link_child))
        .route("/concerns/{id}/find", post(find_child))
        .route("/children/{id}/concerns", get(of_child).post(from_child))
        .route("/children/{id}/safeguarding", get(child_panel))
        .route("/sessions/{id}/concerns", post(raise_from_session))
        .route("/allegations/new", get(allegation_form).post(allegation))
        .merge(super::chronology::router())
}

fn concern_id(raw: &str) -> Result<ConcernId, PageError> {
    ConcernId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

fn child_id(raw: &str) -> Result<ChildId, PageError> {
    ChildId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// A choice in a select, a group of radios or of checkboxes.
pub struct Choice {
    pub code: String,
    pub label: String,
}

fn choice(code: impl Into<String>, label: impl Into<String>) -> Choice {
    Choice {
        code: code.into(),
        label: label.into(),
    }
}

/// A phone contact as shown: its `tel:` address when it has a number.
pub struct ContactLine {
    pub name: String,
    pub phone: String,
    pub tel: String,
    pub email: String,
    pub empty: bool,
}

fn contact_line(c: &Contact) -> ContactLine {
    ContactLine {
        name: c.name.clone(),
        phone: c.phone.clone(),
        tel: c
            .phone
            .chars()
            .filter(|ch| ch.is_ascii_digit() || *ch == '+')
            .collect(),
        email: c.email.clone(),
        empty: c.is_empty(),
    }
}

fn reference_of(kind: ConcernKind, id: ConcernId) -> String {
    alliance_service::safeguarding::concern_reference(kind, id)
}

fn kind_title(kind: ConcernKind) -> &'static str {
    match kind {
        ConcernKind::Concern => "Safeguarding concern",
        ConcernKind::Allegation => "Allegation about a member of staff",
    }
}

// ----- lists of concerns -----

/// One concern in a list.
pub struct ConcernLine {
    pub href: String,
    pub reference: String,
    pub kind: &'static str,
    pub urgent: bool,
    pub about: String,
    pub author: String,
    /// When it was submitted (or started, for a draft).
    pub when: String,
    pub state: String,
    pub overdue: bool,
}

fn concern_line(s: &ConcernSummary, context: Option<ChildId>) -> ConcernLine {
    let draft = s.status == ConcernStatus::Draft;
    let href = if draft {
        format!("/concerns/{}/edit", s.id)
    } else {
        match context {
            Some(child) => format!("/concerns/{}?child={child}", s.id),
            None => format!("/concerns/{}", s.id),
        }
    };
    let state = if draft {
        "Draft: only you can see it".to_owned()
    } else if s.acknowledged {
        "Acknowledged".to_owned()
    } else {
        match s.due {
            Some(due) => format!("Awaiting acknowledgement, due by {}", uk::date_time(due)),
            None => "Awaiting acknowledgement".to_owned(),
        }
    };
    ConcernLine {
        href,
        reference: s.reference.clone(),
        kind: match s.kind {
            ConcernKind::Concern => "Concern",
            ConcernKind::Allegation => "Allegation",
        },
        urgent: s.urgent,
        about: s.about.clone(),
        author: s.author.clone(),
        when: uk::date_time(s.submitted_at.unwrap_or(s.created_at)),
        state,
        overdue: s.overdue && !s.acknowledged,
    }
}

/// A concern on the DSL's queue: where the DSL's work stands, and by when (the queue's readers
/// see all of every concern on it).
fn queue_line(s: &ConcernSummary) -> ConcernLine {
    let mut line = concern_line(s, None);
    if s.status == ConcernStatus::Submitted && s.acknowledged {
        line.state = match (s.stage, s.due) {
            (Stage::AwaitingDecision, Some(due)) => {
                format!("Awaiting a decision, due by {}", uk::date_time(due))
            }
            (stage, _) => stage.label().to_owned(),
        };
        line.overdue = s.overdue;
    }
    line
}

/// A concern raised by look-up that the DSL has not matched to a record yet.
fn unmatched(s: &ConcernSummary) -> bool {
    s.kind == ConcernKind::Concern && s.unmatched
}

// ----- the hub -----

struct OnDutyLine {
    name: String,
    position: &'static str,
}

struct QueueView {
    awaiting: Vec<ConcernLine>,
    /// Acknowledged and not closed: decisions awaited, then the open ones.
    open: Vec<ConcernLine>,
    unmatched: Vec<ConcernLine>,
    recent: Vec<ConcernLine>,
    allegations: Vec<ConcernLine>,
}

#[derive(Template)]
#[template(path = "safeguarding.html")]
struct HubPage {
    layout: Layout,
    may_raise: bool,
    emergency: ContactLine,
    out_of_hours_note: String,
    on_duty: Vec<OnDutyLine>,
    queue: Option<QueueView>,
    may_edit_rota: bool,
    may_edit_settings: bool,
}

async fn hub(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    let rota = state
        .alliance
        .safeguarding_rota(&actor)
        .await
        .map_err(page_error)?;
    let (contacts, _) = state
        .alliance
        .safeguarding_contacts()
        .await
        .map_err(page_error)?;
    // Only those who work the queue or handle allegations are asked for it (anyone else would
    // be refused, and the refusal audited, on every visit).
    let queue = if sg::sees_queue(&actor.user) {
        match state.alliance.safeguarding_queue(&actor).await {
            Ok(q) => Some(QueueView {
                awaiting: q.awaiting.iter().map(queue_line).collect(),
                open: q.open.iter().map(queue_line).collect(),
                unmatched: q
                    .recent
                    .iter()
                    .filter(|s| unmatched(s))
                    .map(queue_line)
                    .collect(),
                recent: q.recent.iter().map(queue_line).collect(),
                allegations: q.allegations.iter().map(queue_line).collect(),
            }),
            Err(AppError::NotFound) => None,
            Err(other) => return Err(page_error(other)),
        }
    } else {
        None
    };
    render(&HubPage {
        layout: Layout::load(&state, "safeguarding", &auth).await?,
        may_raise: sg::may_raise(&actor.user),
        emergency: contact_line(&contacts.emergency_duty_team),
        out_of_hours_note: contacts.out_of_hours_note.clone(),
        on_duty: rota
            .on_duty_now
            .iter()
            .map(|(_, position, name)| OnDutyLine {
                name: name.clone(),
                position: position.label(),
            })
            .collect(),
        queue,
        may_edit_rota: rota.may_edit,
        may_edit_settings: sg::may_edit_settings(&actor.user) && actor.may_write(),
    })
    .map(IntoResponse::into_response)
}

// ----- raising -----

#[derive(Template)]
#[template(path = "concern_new.html")]
struct LookupPage {
    layout: Layout,
    form: FormData,
    errors: FieldErrors,
}

async fn lookup_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    if !sg::may_raise(&actor.user) {
        return Err(page_error(AppError::Denied(
            "concerns are raised by people who work with children",
        )));
    }
    render(&LookupPage {
        layout: Layout::load(&state, "safeguarding", &auth).await?,
        form: FormData::default(),
        errors: FieldErrors::default(),
    })
    .map(IntoResponse::into_response)
}

fn lookup_of(form: &FormData) -> ChildLookup {
    ChildLookup {
        name: form.get("name").to_owned(),
        date_of_birth: form.get("date_of_birth").to_owned(),
        school: form.get("school").to_owned(),
    }
}

fn to_edit(concern: &StoredConcern) -> Response {
    Redirect::to(&format!("/concerns/{}/edit", concern.id)).into_response()
}

/// The look-up raise: the answer is the same whether or not the child is known here (the
/// use-case does not look).
async fn raise_by_lookup(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    match state
        .alliance
        .start_concern(&actor, RaiseFrom::Lookup(lookup_of(&form)))
        .await
    {
        Ok(concern) => Ok(to_edit(&concern)),
        Err(AppError::Invalid(invalid)) => super::unprocessable(&LookupPage {
            layout: Layout::load(&state, "safeguarding", &auth).await?,
            form,
            errors: FieldErrors::from_invalid(&invalid),
        }),
        Err(other) => Err(page_error(other)),
    }
}

async fn from_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let concern = state
        .alliance
        .start_concern(&actor, RaiseFrom::Child(child))
        .await
        .map_err(page_error)?;
    Ok(to_edit(&concern))
}

async fn raise_from_session(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let session = BookingId::parse(&id).map_err(|_| page_error(AppError::NotFound))?;
    let concern = state
        .alliance
        .start_concern(&actor, RaiseFrom::Session(session))
        .await
        .map_err(page_error)?;
    Ok(to_edit(&concern))
}

#[derive(Template)]
#[template(path = "concern_allegation_new.html")]
struct AllegationPage {
    layout: Layout,
    staff: Vec<Choice>,
    form: FormData,
    errors: FieldErrors,
}

/// Every active member of staff but the reader, by name.
async fn staff_but_me(state: &AppState, actor: &Actor) -> Result<Vec<Choice>, PageError> {
    let filter = UserFilter {
        role: None,
        active: Some(true),
        search: None,
    };
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    // A bounded walk of the directory: 25 pages of 200.
    for _ in 0..25 {
        let page = PageRequest::parse(Some(200), after.as_deref())
            .map_err(|e| page_error(AppError::Invalid(e)))?;
        let found = state
            .alliance
            .list_users(actor, &filter, &page)
            .await
            .map_err(page_error)?;
        out.extend(
            found
                .items
                .into_iter()
                .filter(|u| u.id != actor.user.id)
                .map(|u| choice(u.id.to_string(), u.display_name)),
        );
        match found.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    out.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(out)
}

async fn allegation_form(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    if !sg::may_raise(&actor.user) {
        return Err(page_error(AppError::Denied(
            "allegations are raised by people who work with children",
        )));
    }
    render(&AllegationPage {
        layout: Layout::load(&state, "safeguarding", &auth).await?,
        staff: staff_but_me(&state, &actor).await?,
        form: FormData::default(),
        errors: FieldErrors::default(),
    })
    .map(IntoResponse::into_response)
}

async fn allegation(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let result = match UserId::parse(form.get("subject")) {
        Ok(subject) => state.alliance.start_allegation(&actor, subject).await,
        Err(_) => Err(AppError::Invalid(Invalid::field(
            "subject",
            "Choose the member of staff the allegation is about",
        ))),
    };
    match result {
        Ok(concern) => Ok(to_edit(&concern)),
        Err(AppError::Invalid(invalid)) => super::unprocessable(&AllegationPage {
            layout: Layout::load(&state, "safeguarding", &auth).await?,
            staff: staff_but_me(&state, &actor).await?,
            form,
            errors: FieldErrors::from_invalid(&invalid),
        }),
        Err(other) => Err(page_error(other)),
    }
}

// ----- the lists -----

#[derive(Template)]
#[template(path = "concern_list.html")]
struct ListPage {
    layout: Layout,
    heading: &'static str,
    intro: &'static str,
    back: Option<(String, &'static str)>,
    lines: Vec<ConcernLine>,
    /// The child whose concerns these are (for the raise button).
    child: Option<String>,
    may_raise: bool,
    notice: Option<String>,
    /// What the DSL shared with the reader (about this child, on the child's list).
    shared: Vec<ShareLine>,
    /// The child's safeguarding chronology, for those who may read it.
    chronology: Option<String>,
}

/// Something the DSL shared with the reader, in a list.
pub struct ShareLine {
    pub href: String,
    pub reference: String,
    pub about: String,
    pub by: String,
    pub at: String,
    pub text: String,
}

async fn share_lines(
    state: &AppState,
    actor: &Actor,
    child: Option<ChildId>,
) -> Result<Vec<ShareLine>, PageError> {
    Ok(state
        .alliance
        .concern_shares(actor, child)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|s| ShareLine {
            href: match s.child {
                Some(c) => format!("/concerns/{}?child={c}", s.concern),
                None => format!("/concerns/{}", s.concern),
            },
            reference: s.reference,
            about: s.child_label,
            by: s.by,
            at: uk::date_time(s.at),
            text: s.text,
        })
        .collect())
}

/// The child's chronology, for the DSL, deputies and the service lead.
fn chronology_href(actor: &Actor, child: ChildId) -> Option<String> {
    sg::sees_queue(&actor.user).then(|| format!("/children/{child}/chronology"))
}

/// On the child's page (loaded by htmx): the link to the chronology for those who may read
/// it, and what the DSL shared with the reader about the child. Empty when there is neither.
#[derive(Template)]
#[template(path = "child_safeguarding.html")]
struct ChildPanel {
    shared: Vec<ShareLine>,
    chronology: Option<String>,
}

async fn child_panel(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let shared = share_lines(&state, &actor, Some(child)).await?;
    render(&ChildPanel {
        shared,
        chronology: chronology_href(&actor, child),
    })
    .map(IntoResponse::into_response)
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    discarded: Option<String>,
}

async fn my_concerns(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let mine = state
        .alliance
        .my_concerns(&actor)
        .await
        .map_err(page_error)?;
    render(&ListPage {
        layout: Layout::load(&state, "safeguarding", &auth).await?,
        heading: "Concerns I raised",
        intro: "Your drafts (only you can see them) and what you submitted, newest first. A \
            submitted concern is sealed: you may read it and add an addendum, nothing more.",
        back: Some(("/safeguarding".to_owned(), "Safeguarding")),
        lines: mine.iter().map(|s| concern_line(s, None)).collect(),
        child: None,
        may_raise: false,
        notice: query
            .discarded
            .map(|_| "The draft was discarded.".to_owned()),
        shared: share_lines(&state, &actor, None).await?,
        chronology: None,
    })
    .map(IntoResponse::into_response)
}

async fn of_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let child = child_id(&id)?;
    let concerns = state
        .alliance
        .child_concerns(&actor, child)
        .await
        .map_err(page_error)?;
    render(&ListPage {
        layout: Layout::load(&state, "children", &auth).await?,
        heading: "Safeguarding concerns about this child",
        intro: "The concerns you may read: the DSL, deputies and the service lead see every \
            submitted concern about this child or linked to them; anyone else sees their own.",
        back: Some((format!("/children/{child}"), "Back to the child's record")),
        lines: concerns
            .iter()
            .map(|s| concern_line(s, Some(child)))
            .collect(),
        child: Some(child.to_string()),
        may_raise: sg::may_raise(&actor.user) && actor.may_write(),
        notice: None,
        shared: share_lines(&state, &actor, Some(child)).await?,
        chronology: chronology_href(&actor, child),
    })
    .map(IntoResponse::into_response)
}

// ----- the body map -----

/// A region of the body map, drawn on one outline.
pub struct Shape {
    pub ellipse: bool,
    /// A rectangle's corner and size, or an ellipse's centre and radii.
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
    /// Where the mark numbers go.
    pub lx: i32,
    pub ly: i32,
    pub label: &'static str,
    pub marked: bool,
    /// The numbers of the marks on this region ("1, 3").
    pub numbers: String,
}

/// One outline (front or back).
pub struct Figure {
    pub title: &'static str,
    pub x: i32,
    pub shapes: Vec<Shape>,
    /// Which of the child's sides is on the viewer's left and right.
    pub left_label: &'static str,
    pub right_label: &'static str,
}

/// A mark in the body map's table (its text alternative).
pub struct MarkLine {
    pub number: usize,
    pub side: &'static str,
    pub region: &'static str,
    pub description: String,
}

pub struct BodyMap {
    pub figures: Vec<Figure>,
    pub marks: Vec<MarkLine>,
}

/// Where each region is drawn, on a 160 by 280 outline: (region, ellipse, x, y, w, h, label x,
/// label y). On the front the child's right is on the viewer's left; on the back, their left.
type Placement = (BodyRegion, bool, i32, i32, i32, i32, i32, i32);

fn placements(side: BodySide) -> Vec<Placement> {
    use BodyRegion::*;
    let (near_arm, far_arm, near_hand, far_hand, near_leg, far_leg, near_foot, far_foot) =
        match side {
            BodySide::Front => (
                RightArm, LeftArm, RightHand, LeftHand, RightLeg, LeftLeg, RightFoot, LeftFoot,
            ),
            BodySide::Back => (
                LeftArm, RightArm, LeftHand, RightHand, LeftLeg, RightLeg, LeftFoot, RightFoot,
            ),
        };
    let mut out: Vec<Placement> = vec![
        (Head, true, 80, 34, 22, 24, 80, 20),
        (Neck, false, 72, 58, 16, 10, 80, 67),
        (near_arm, false, 30, 70, 18, 78, 39, 112),
        (far_arm, false, 112, 70, 18, 78, 121, 112),
        (near_hand, true, 39, 160, 10, 12, 39, 164),
        (far_hand, true, 121, 160, 10, 12, 121, 164),
        (near_leg, false, 52, 166, 26, 94, 65, 216),
        (far_leg, false, 82, 166, 26, 94, 95, 216),
        (near_foot, true, 62, 268, 14, 7, 62, 272),
        (far_foot, true, 98, 268, 14, 7, 98, 272),
    ];
    match side {
        BodySide::Front => out.extend([
            (Face, true, 80, 40, 13, 14, 80, 44),
            (Chest, false, 50, 68, 60, 42, 80, 93),
            (Abdomen, false, 50, 110, 60, 38, 80, 133),
            (Genitals, false, 66, 148, 28, 18, 80, 161),
        ]),
        BodySide::Back => out.extend([
            (UpperBack, false, 50, 68, 60, 42, 80, 93),
            (LowerBack, false, 50, 110, 60, 34, 80, 131),
            (Buttocks, false, 50, 144, 60, 22, 80, 159),
        ]),
    }
    out
}

/// The body map of these marks: the regions marked are filled and numbered as in the table.
fn body_map(marks: &[BodyMark]) -> BodyMap {
    let parsed: Vec<(usize, BodySide, BodyRegion, String)> = marks
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let side = BodySide::parse(&m.side).ok()?;
            let region = BodyRegion::parse(&m.region).ok()?;
            Some((i + 1, side, region, m.description.clone()))
        })
        .collect();
    let figures = [BodySide::Front, BodySide::Back]
        .into_iter()
        .enumerate()
        .map(|(n, side)| Figure {
            title: side.label(),
            x: if n == 0 { 10 } else { 190 },
            shapes: placements(side)
                .into_iter()
                .map(|(region, ellipse, x, y, w, h, lx, ly)| {
                    let numbers: Vec<String> = parsed
                        .iter()
                        .filter(|(_, s, r, _)| *s == side && *r == region)
                        .map(|(number, _, _, _)| number.to_string())
                        .collect();
                    Shape {
                        ellipse,
                        x,
                        y,
                        w,
                        h,
                        lx,
                        ly,
                        label: region.label(),
                        marked: !numbers.is_empty(),
                        numbers: numbers.join(","),
                    }
                })
                .collect(),
            left_label: match side {
                BodySide::Front => "Their right",
                BodySide::Back => "Their left",
            },
            right_label: match side {
                BodySide::Front => "Their left",
                BodySide::Back => "Their right",
            },
        })
        .collect();
    BodyMap {
        figures,
        marks: parsed
            .into_iter()
            .map(|(number, side, region, description)| MarkLine {
                number,
                side: side.label(),
                region: region.label(),
                description,
            })
            .collect(),
    }
}

// ----- the form -----

/// A concern's content and look-up as the form's fields.
fn content_form(c: &ConcernContent, lookup: Option<&ChildLookup>) -> FormData {
    let mut f: Vec<(String, String)> = [
        ("immediate_danger", &c.immediate_danger),
        ("child_words", &c.child_words),
        ("questions_asked", &c.questions_asked),
        ("observations", &c.observations),
        ("opinion", &c.opinion),
        ("happened_on", &c.happened_on),
        ("happened_time", &c.happened_time),
        ("written_on", &c.written_on),
        ("written_time", &c.written_time),
        ("location", &c.location),
        ("present", &c.present),
        ("practitioner_said", &c.practitioner_said),
        ("category_other", &c.category_other),
        ("school_dsl_told", &c.school_dsl_told),
        ("school_dsl_told_at", &c.school_dsl_told_at),
        ("school_dsl_told_by", &c.school_dsl_told_by),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.clone()))
    .collect();
    for code in &c.categories {
        f.push(("categories".to_owned(), code.clone()));
    }
    for (i, m) in c.marks.iter().enumerate() {
        f.push((format!("marks.{i}.side"), m.side.clone()));
        f.push((format!("marks.{i}.region"), m.region.clone()));
        f.push((format!("marks.{i}.description"), m.description.clone()));
    }
    for id in &c.linked_children {
        f.push(("linked_children".to_owned(), id.clone()));
    }
    if let Some(l) = lookup {
        f.push(("name".to_owned(), l.name.clone()));
        // Stored as an ISO date once checked; shown as typed in the UK way.
        f.push((
            "date_of_birth".to_owned(),
            l.date_of_birth()
                .map(uk::date)
                .unwrap_or_else(|| l.date_of_birth.clone()),
        ));
        f.push(("school".to_owned(), l.school.clone()));
    }
    FormData(f)
}

/// The most mark rows a form is read for (more than a body map may hold, so the use-case
/// names the excess).
const MAX_MARK_ROWS: usize = sg::MAX_MARKS + 10;

/// The form's fields as a concern's content (rows of the body map left blank are dropped, so
/// the marks are numbered as the use-case numbers its errors) and the look-up as typed.
fn content_of(form: &FormData) -> (ConcernContent, ChildLookup) {
    let mut rows: BTreeMap<usize, BodyMark> = BTreeMap::new();
    for (key, value) in &form.0 {
        let Some((index, part)) = key
            .strip_prefix("marks.")
            .and_then(|rest| rest.split_once('.'))
        else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        if index >= MAX_MARK_ROWS {
            continue;
        }
        let row = rows.entry(index).or_default();
        match part {
            "side" => row.side = value.clone(),
            "region" => row.region = value.clone(),
            "description" => row.description = value.clone(),
            _ => {}
        }
    }
    let marks = rows
        .into_values()
        .filter(|m| {
            !(m.side.trim().is_empty()
                && m.region.trim().is_empty()
                && m.description.trim().is_empty())
        })
        .collect();
    let content = ConcernContent {
        immediate_danger: form.get("immediate_danger").to_owned(),
        child_words: form.get("child_words").to_owned(),
        questions_asked: form.get("questions_asked").to_owned(),
        observations: form.get("observations").to_owned(),
        opinion: form.get("opinion").to_owned(),
        happened_on: form.get("happened_on").to_owned(),
        happened_time: form.get("happened_time").to_owned(),
        written_on: form.get("written_on").to_owned(),
        written_time: form.get("written_time").to_owned(),
        location: form.get("location").to_owned(),
        present: form.get("present").to_owned(),
        practitioner_said: form.get("practitioner_said").to_owned(),
        categories: form
            .all("categories")
            .into_iter()
            .filter(|c| !c.trim().is_empty())
            .collect(),
        category_other: form.get("category_other").to_owned(),
        marks,
        school_dsl_told: form.get("school_dsl_told").to_owned(),
        school_dsl_told_at: form.get("school_dsl_told_at").to_owned(),
        school_dsl_told_by: form.get("school_dsl_told_by").to_owned(),
        linked_children: form
            .all("linked_children")
            .into_iter()
            .filter(|c| !c.trim().is_empty())
            .collect(),
    };
    (content, lookup_of(form))
}

/// The version a form was read at.
fn form_version(form: &FormData) -> Option<Version> {
    form.get("version")
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|v| Version::new(v).ok())
}

/// One row of the body map's form.
pub struct MarkRow {
    pub number: usize,
    pub side_name: String,
    pub region_name: String,
    pub description_name: String,
    pub side: String,
    pub region: String,
    pub description: String,
}

/// The rows of the body map's form: the marks typed, then `blank` empty rows (within the
/// most a body map holds).
fn mark_rows(marks: &[BodyMark], blank: usize) -> Vec<MarkRow> {
    let empty = BodyMark::default();
    let total = (marks.len() + blank).min(sg::MAX_MARKS.max(marks.len()));
    (0..total)
        .map(|i| {
            let m = marks.get(i).unwrap_or(&empty);
            MarkRow {
                number: i + 1,
                side_name: format!("marks.{i}.side"),
                region_name: format!("marks.{i}.region"),
                description_name: format!("marks.{i}.description"),
                side: m.side.clone(),
                region: m.region.clone(),
                description: m.description.clone(),
            }
        })
        .collect()
}

/// How many empty rows the body map's form offers, and how many more each "save and add more
/// rows" gives.
const BLANK_ROWS: usize = 3;
const MORE_ROWS: usize = 5;

#[derive(Template)]
#[template(path = "concern_edit.html")]
struct EditPage {
    layout: Layout,
    id: String,
    reference: String,
    title: &'static str,
    is_allegation: bool,
    /// Who it is about, when known to the raiser (the child, or the member of staff).
    about: Option<String>,
    /// A look-up concern: the child's name, date of birth and school are on the form.
    lookup: bool,
    version: String,
    form: FormData,
    errors: FieldErrors,
    notice: Option<String>,
    /// The concern was submitted elsewhere meanwhile: the form is shown, not saved.
    sealed: bool,
    dangers: Vec<Choice>,
    categories: Vec<Choice>,
    sides: Vec<Choice>,
    regions: Vec<Choice>,
    school_answers: Vec<Choice>,
    marks: Vec<MarkRow>,
    more: usize,
    map: BodyMap,
    caseload: Vec<Choice>,
    emergency: ContactLine,
}

fn region_choices() -> Vec<Choice> {
    BodyRegion::ALL
        .iter()
        .map(|r| {
            let label = match (r.on(BodySide::Front), r.on(BodySide::Back)) {
                (true, false) => format!("{} (front)", r.label()),
                (false, true) => format!("{} (back)", r.label()),
                _ => r.label().to_owned(),
            };
            choice(r.code(), label)
        })
        .collect()
}

/// The children on the raiser's own caseload, for linking (any other child is described in
/// words and linked by the DSL).
async fn caseload(state: &AppState, actor: &Actor) -> Result<Vec<Choice>, PageError> {
    let filter = ChildFilter {
        search: None,
        status: None,
        school_site: None,
        mine: true,
    };
    let page = PageRequest::parse(Some(200), None).map_err(|e| page_error(AppError::Invalid(e)))?;
    Ok(state
        .alliance
        .list_children(actor, &filter, &page)
        .await
        .map_err(page_error)?
        .items
        .into_iter()
        .map(|c| {
            let label = match &c.named {
                Some(n) => format!("{} (born {})", n.known_as, uk::date(n.date_of_birth)),
                None => c.initials.clone(),
            };
            choice(c.id.to_string(), label)
        })
        .collect())
}

/// Who the draft is about, for its author: the child they raised it from, or the member of
/// staff an allegation is about. A look-up names nobody (its fields are on the form).
async fn about_of(
    state: &AppState,
    actor: &Actor,
    concern: &StoredConcern,
) -> Result<Option<String>, PageError> {
    if let Some(subject) = concern.subject_user {
        return Ok(Some(
            state
                .alliance
                .get_user(actor, subject)
                .await
                .map(|u| u.display_name)
                .unwrap_or_else(|_| "A member of staff".to_owned()),
        ));
    }
    match concern.child_id {
        Some(child) => Ok(Some(match state.alliance.get_child(actor, child).await {
            Ok(record) => record
                .details
                .as_ref()
                .map(|d| d.known_as().to_owned())
                .unwrap_or_else(|| record.initials.clone()),
            Err(AppError::NotFound | AppError::Denied(_)) => "The child".to_owned(),
            Err(other) => return Err(page_error(other)),
        })),
        None => Ok(None),
    }
}

async fn edit_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    concern: &StoredConcern,
    form: FormData,
    more: usize,
) -> Result<EditPage, PageError> {
    let (content, _) = content_of(&form);
    let (contacts, _) = state
        .alliance
        .safeguarding_contacts()
        .await
        .map_err(page_error)?;
    let is_allegation = concern.kind == ConcernKind::Allegation;
    let blank = BLANK_ROWS + more * MORE_ROWS;
    Ok(EditPage {
        layout: Layout::load(state, "safeguarding", auth).await?,
        id: concern.id.to_string(),
        reference: reference_of(concern.kind, concern.id),
        title: kind_title(concern.kind),
        is_allegation,
        about: about_of(state, actor, concern).await?,
        lookup: concern.lookup.is_some(),
        version: concern.version.get().to_string(),
        marks: mark_rows(&content.marks, blank),
        map: body_map(&content.marks),
        form,
        errors: FieldErrors::default(),
        notice: None,
        sealed: false,
        dangers: vec![
            choice("yes", "Yes: the child is in immediate danger"),
            choice("no", "No"),
        ],
        categories: HarmCategory::ALL
            .iter()
            .map(|c| choice(c.code(), c.label()))
            .collect(),
        sides: BodySide::ALL
            .iter()
            .map(|s| choice(s.code(), s.label()))
            .collect(),
        regions: region_choices(),
        school_answers: SchoolDslTold::ALL
            .iter()
            .map(|s| choice(s.code(), s.label()))
            .collect(),
        more,
        caseload: if is_allegation {
            Vec::new()
        } else {
            caseload(state, actor).await?
        },
        emergency: contact_line(&contacts.emergency_duty_team),
    })
}

#[derive(Debug, Default, Deserialize)]
struct EditQuery {
    saved: Option<String>,
    more: Option<usize>,
}

async fn edit_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<EditQuery>,
) -> Result<Response, PageError> {
    let id = concern_id(&id)?;
    let (concern, content, lookup) = match state.alliance.concern_draft(&actor, id).await {
        Ok(found) => found,
        Err(AppError::NotFound) => {
            // A submitted concern has no form: its address leads to the record.
            return match state.alliance.concern_view(&actor, id, None).await {
                Ok(view) if view.stored.status == ConcernStatus::Submitted => {
                    Ok(Redirect::to(&format!("/concerns/{id}")).into_response())
                }
                Ok(_) | Err(_) => Err(page_error(AppError::NotFound)),
            };
        }
        Err(other) => return Err(page_error(other)),
    };
    let more = query.more.unwrap_or(0).min(10);
    let mut page = edit_view(
        &state,
        &actor,
        &auth,
        &concern,
        content_form(&content, lookup.as_ref()),
        more,
    )
    .await?;
    page.notice = query.saved.map(|_| {
        format!(
            "Draft saved at {}. Only you can see it until you submit it.",
            clock_of(uk::date_time(concern.updated_at))
        )
    });
    Ok(render(&page)?.into_response())
}

/// `15:30` of `31/12/2026 15:30` (an instant as [`uk::date_time`] shows it, in London).
fn clock_of(shown: String) -> String {
    shown
        .split_once(' ')
        .map(|(_, time)| time.to_owned())
        .unwrap_or(shown)
}

/// The draft was saved elsewhere since this form was read.
const DRAFT_CHANGED: &str = "This draft was saved from another tab or window after you opened \
    this page, so what you sent was not saved. What you typed is kept below: check it against \
    the draft as saved (open this page in a new tab), then save again if yours should stand.";

/// The concern was submitted elsewhere since this form was read.
const ALREADY_SUBMITTED: &str = "This concern was submitted from another tab or window, so it \
    is sealed and what you sent was not saved. What you typed is kept below: copy anything new \
    and add it to the record as an addendum.";

/// Field errors from a refusal; the form's version errors shown on the child's words.
fn errors_of(invalid: &Invalid) -> FieldErrors {
    let mut errors = FieldErrors::default();
    for e in &invalid.errors {
        let field = if e.field == "version" {
            "child_words"
        } else {
            e.field.as_str()
        };
        errors
            .0
            .entry(field.to_owned())
            .and_modify(|m| {
                m.push(' ');
                m.push_str(&e.message);
            })
            .or_insert_with(|| e.message.clone());
    }
    errors
}

/// The form shown again after a refusal, with what was typed kept: 422 for what the form
/// says (`version` is the draft's version now, which a failed submit has moved on), 409 when
/// the draft changed or was submitted meanwhile.
async fn edit_refused(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: ConcernId,
    form: FormData,
    err: AppError,
    version: Option<Version>,
) -> Result<Response, PageError> {
    let concern = match state.alliance.concern_draft(actor, id).await {
        Ok((concern, _, _)) => Some(concern),
        Err(AppError::NotFound) => None,
        Err(other) => return Err(page_error(other)),
    };
    let (content, lookup) = content_of(&form);
    let more = form.get("more").parse::<usize>().unwrap_or(0).min(10);
    let Some(concern) = concern else {
        // Submitted elsewhere (or discarded): the record stands; what was typed is shown.
        let view = state
            .alliance
            .concern_view(actor, id, None)
            .await
            .map_err(page_error)?;
        let typed = content_form(&content, view.stored.lookup.as_ref().map(|_| &lookup));
        let mut page = edit_view(state, actor, auth, &view.stored, typed, more).await?;
        page.sealed = true;
        page.errors = FieldErrors::one("child_words", ALREADY_SUBMITTED);
        return super::conflicted(&page);
    };
    let typed = content_form(&content, concern.lookup.as_ref().map(|_| &lookup));
    let (status, errors, version) = match err {
        // A refused save is checked again against the version the form was read at; a
        // refused submit has saved the draft first, so it carries the draft's new version.
        AppError::Invalid(invalid) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors_of(&invalid),
            version
                .or_else(|| form_version(&form))
                .unwrap_or(concern.version),
        ),
        AppError::Stale(_) => (
            StatusCode::CONFLICT,
            FieldErrors::one("child_words", DRAFT_CHANGED),
            concern.version,
        ),
        other => return Err(page_error(other)),
    };
    let mut page = edit_view(state, actor, auth, &concern, typed, more).await?;
    page.version = version.get().to_string();
    page.errors = errors;
    let mut response = render(&page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

/// Saves the typed form as the draft; the draft's new version.
async fn save_typed(
    state: &AppState,
    actor: &Actor,
    id: ConcernId,
    form: &FormData,
) -> Result<Version, AppError> {
    let (content, lookup) = content_of(form);
    let expected = form_version(form).ok_or_else(|| {
        AppError::Invalid(Invalid::field(
            "version",
            "The form is missing its version; reload the page",
        ))
    })?;
    // The look-up's fields are on the form only for a concern raised by look-up.
    let typed_lookup = (!form.get("lookup").is_empty()).then_some(&lookup);
    state
        .alliance
        .save_concern_draft(actor, id, &content, typed_lookup, expected)
        .await
        .map(|saved| saved.version)
}

async fn edit_post(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = concern_id(&id)?;
    edit_action(&state, &actor, &auth, id, form).await
}

async fn edit_action(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: ConcernId,
    form: FormData,
) -> Result<Response, PageError> {
    let action = form.get("action").to_owned();
    if action == "discard" {
        state
            .alliance
            .discard_concern_draft(actor, id)
            .await
            .map_err(page_error)?;
        return Ok(Redirect::to("/concerns/mine?discarded=1").into_response());
    }
    let version = match save_typed(state, actor, id, &form).await {
        Ok(v) => v,
        Err(AppError::Conflict(_)) => {
            return edit_refused(state, actor, auth, id, form, AppError::NotFound, None).await;
        }
        Err(err) => return edit_refused(state, actor, auth, id, form, err, None).await,
    };
    match action.as_str() {
        "submit" => match state.alliance.submit_concern(actor, id, version).await {
            Ok(receipt) => {
                let officer = if receipt.designated_officer.is_some() {
                    "&officer=1"
                } else {
                    ""
                };
                Ok(
                    Redirect::to(&format!("/concerns/{id}?submitted=1{officer}#receipt"))
                        .into_response(),
                )
            }
            Err(AppError::Conflict(_)) => {
                edit_refused(state, actor, auth, id, form, AppError::NotFound, None).await
            }
            Err(err) => edit_refused(state, actor, auth, id, form, err, Some(version)).await,
        },
        "more" => {
            let more = form.get("more").parse::<usize>().unwrap_or(0).min(9) + 1;
            Ok(Redirect::to(&format!(
                "/concerns/{id}/edit?saved=draft&more={more}#marks"
            ))
            .into_response())
        }
        _ => Ok(Redirect::to(&format!("/concerns/{id}/edit?saved=draft")).into_response()),
    }
}

#[derive(Template)]
#[template(path = "concern_autosave.html")]
struct AutosaveFragment {
    message: String,
    version: Option<i64>,
}

fn fragment(message: &str, version: Option<i64>) -> Result<Response, PageError> {
    Ok(render(&AutosaveFragment {
        message: message.to_owned(),
        version,
    })?
    .into_response())
}

/// Saves the draft in the background as it is typed (htmx): a line for the form's status
/// region and the draft's new version. Sent without htmx (a kept form sent again after
/// signing in), it is the "Save draft" button.
async fn autosave(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = concern_id(&id)?;
    let htmx = headers.contains_key("hx-request");
    let Auth::Signed(actor) = &auth else {
        if !htmx {
            return Ok(NotSigned::Page {
                back_to: "/".to_owned(),
            }
            .into_response());
        }
        return fragment(
            "Not saved: you are signed out. Copy what you typed somewhere safe, then sign in again.",
            None,
        );
    };
    if !htmx {
        let mut form = form;
        form.0.retain(|(k, _)| k != "action");
        return edit_action(&state, actor, &auth, id, form).await;
    }
    match save_typed(&state, actor, id, &form).await {
        Ok(version) => fragment(
            &format!(
                "Draft saved at {}. Only you can see it until you submit it.",
                clock_of(uk::date_time(state.alliance.clock().now()))
            ),
            Some(version.get()),
        ),
        Err(AppError::Invalid(invalid)) => fragment(
            &format!(
                "Not saved yet: {}",
                invalid
                    .errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join(". ")
            ),
            None,
        ),
        Err(AppError::Stale(_) | AppError::Conflict(_)) => fragment(
            "Not saved: this draft was saved or submitted somewhere else meanwhile (another tab \
             or window). Press Save draft to see what to do: what you typed stays on this page.",
            None,
        ),
        Err(AppError::Denied(why)) => fragment(&format!("Not saved: {why}."), None),
        Err(other) => {
            tracing::warn!(err = %other, "a background save of a concern failed");
            fragment(
                "Not saved just now. Press Save draft: what you typed stays on this page.",
                None,
            )
        }
    }
}

// ----- the record -----

struct ShownPart {
    heading: &'static str,
    text: String,
}

fn answer_label(code: &str) -> String {
    match code {
        "yes" => "Yes".to_owned(),
        "no" => "No".to_owned(),
        "" => String::new(),
        other => other.to_owned(),
    }
}

fn when_text(on: &str, time: &str) -> String {
    format!("{} {}", on.trim(), time.trim()).trim().to_owned()
}

fn shown_parts(view: &ConcernView) -> Vec<ShownPart> {
    let c = &view.content;
    let is_concern = view.stored.kind == ConcernKind::Concern;
    let mut categories: Vec<String> = c
        .harm_categories()
        .into_iter()
        .map(|h| match h {
            HarmCategory::Other if !c.category_other.is_empty() => {
                format!("Other: {}", c.category_other)
            }
            other => other.label().to_owned(),
        })
        .collect();
    categories.dedup();
    let written = if c.written_on.trim().is_empty() && c.written_time.trim().is_empty() {
        match view.stored.submitted_at {
            Some(at) => format!("When it was submitted, {}", uk::date_time(at)),
            None => "When it is submitted".to_owned(),
        }
    } else {
        when_text(&c.written_on, &c.written_time)
    };
    let mut parts = vec![
        ShownPart {
            heading: "Was the child in immediate danger?",
            text: answer_label(&c.immediate_danger),
        },
        ShownPart {
            heading: if is_concern {
                "The child's words, exactly as they said them"
            } else {
                "What was said, exactly as it was said"
            },
            text: c.child_words.clone(),
        },
        ShownPart {
            heading: "Questions asked",
            text: c.questions_asked.clone(),
        },
        ShownPart {
            heading: "What was seen and heard (facts)",
            text: c.observations.clone(),
        },
        ShownPart {
            heading: "Opinion (the writer's view, not fact)",
            text: c.opinion.clone(),
        },
        ShownPart {
            heading: "When it happened",
            text: when_text(&c.happened_on, &c.happened_time),
        },
        ShownPart {
            heading: "When this account was written",
            text: written,
        },
        ShownPart {
            heading: "Where",
            text: c.location.clone(),
        },
        ShownPart {
            heading: "Who else was present",
            text: c.present.clone(),
        },
        ShownPart {
            heading: "What the writer said in reply",
            text: c.practitioner_said.clone(),
        },
        ShownPart {
            heading: "Categories",
            text: categories.join("\n"),
        },
    ];
    if is_concern {
        let told = SchoolDslTold::parse(&c.school_dsl_told)
            .map(|s| s.label().to_owned())
            .unwrap_or_default();
        let detail = [
            (!c.school_dsl_told_at.is_empty()).then(|| format!("When: {}", c.school_dsl_told_at)),
            (!c.school_dsl_told_by.is_empty()).then(|| format!("By: {}", c.school_dsl_told_by)),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
        parts.push(ShownPart {
            heading: "Has the school's own DSL been told?",
            text: if detail.is_empty() {
                told
            } else {
                format!("{told}\n{}", detail.join("\n"))
            },
        });
    }
    parts
}

struct StepLine {
    label: &'static str,
    by: String,
    at: String,
    /// The step in words, one labelled part a line.
    lines: Vec<(String, String)>,
}

/// Something the DSL shared with the reader.
struct SharedLine {
    by: String,
    at: String,
    text: String,
}

/// The DSL's workflow forms, each offered only where the order rules allow it now
/// (`concern_workflow::check_step`), with the choices they need.
struct WorkForms {
    gather: bool,
    decide: bool,
    refer: bool,
    chase: bool,
    outcome: bool,
    close: bool,
    reopen: bool,
    share_info: bool,
    share_team: bool,
    /// Whether a decision stands already (the form then records a new one).
    decided: bool,
    decisions: Vec<Choice>,
    agencies: Vec<Choice>,
    bases: Vec<Choice>,
    consents: Vec<Choice>,
    team: Vec<Choice>,
    carers: Vec<Choice>,
}

/// The form of each workflow step on the page: its step kind, the prefix of its fields' ids
/// (and of their errors), and the notice shown once it is recorded.
const WORK_STEPS: [(StepKind, &str, &str); 9] = [
    (StepKind::InformationGathered, "gather", "gathered"),
    (StepKind::Decided, "decide", "decided"),
    (StepKind::Referred, "referral", "referred"),
    (StepKind::Chased, "chase", "chased"),
    (StepKind::Outcome, "outcome", "outcome"),
    (StepKind::Closed, "close", "closed"),
    (StepKind::Reopened, "reopen", "reopened"),
    (StepKind::InformationShared, "sharing", "shared-info"),
    (StepKind::SharedWithTeam, "team", "shared-team"),
];

fn work_forms(view: &ConcernView) -> Option<WorkForms> {
    if !view.may_work {
        return None;
    }
    let submitted = view.stored.submitted_at.unwrap_or(view.stored.created_at);
    // The DSL reads every step, so the progress seen here is the service's own.
    let progress = Progress::of(
        submitted,
        &view
            .steps
            .iter()
            .map(|s| (s.kind, s.at))
            .collect::<Vec<_>>(),
    );
    let allowed = |kind: StepKind| check_step(kind, view.stored.kind, &progress).is_ok();
    Some(WorkForms {
        gather: allowed(StepKind::InformationGathered),
        decide: allowed(StepKind::Decided),
        refer: allowed(StepKind::Referred),
        chase: allowed(StepKind::Chased),
        outcome: allowed(StepKind::Outcome),
        close: allowed(StepKind::Closed),
        reopen: allowed(StepKind::Reopened),
        share_info: allowed(StepKind::InformationShared),
        share_team: allowed(StepKind::SharedWithTeam),
        decided: progress.stage == Stage::Open,
        decisions: Decision::ALL
            .iter()
            .map(|d| choice(d.code(), d.label()))
            .collect(),
        agencies: Agency::ALL
            .iter()
            .map(|a| choice(a.code(), a.label()))
            .collect(),
        bases: SharingBasis::ALL
            .iter()
            .map(|b| choice(b.code(), b.label()))
            .collect(),
        consents: ConsentSought::ALL
            .iter()
            .map(|c| choice(c.code(), c.label()))
            .collect(),
        team: view
            .team
            .iter()
            .map(|(id, name, role)| choice(id.to_string(), format!("{name} ({role})")))
            .collect(),
        carers: view
            .carers
            .iter()
            .map(|(id, label)| choice(id.to_string(), label.clone()))
            .collect(),
    })
}

struct AddendumLine {
    by: String,
    at: String,
    reason: String,
    text: String,
}

struct SourceLine {
    title: String,
    url: String,
}

struct DutyLine {
    code: String,
    /// The reference field's name on the page (errors are shown beside it).
    reference_field: String,
    title: String,
    what_to_do: String,
    report_to: String,
    deadline: String,
    longest: String,
    reported: bool,
    sources: Vec<SourceLine>,
}

struct LinkedLine {
    label: String,
    href: Option<String>,
}

/// A child as the raiser typed them.
struct LookupLines {
    name: String,
    date_of_birth: String,
    school: String,
}

struct ChildResult {
    id: String,
    name: String,
    born: String,
    case: String,
}

#[derive(Template)]
#[template(path = "concern.html")]
struct ConcernPage {
    layout: Layout,
    id: String,
    reference: String,
    title: &'static str,
    is_allegation: bool,
    urgent: bool,
    about: String,
    about_href: Option<String>,
    subject: Option<String>,
    author: String,
    is_author: bool,
    submitted: String,
    notice: Option<String>,
    /// The child's context (`?child=`), carried by every form.
    context: String,
    call_now: bool,
    emergency: ContactLine,
    receipt: Vec<String>,
    /// An allegation nobody here may handle: the designated officer's contact.
    officer_for_raiser: Option<ContactLine>,
    lookup: Option<LookupLines>,
    parts: Vec<ShownPart>,
    map: BodyMap,
    linked: Vec<LinkedLine>,
    duties: Vec<DutyLine>,
    steps: Vec<StepLine>,
    /// What the DSL shared with the reader.
    shared: Vec<SharedLine>,
    /// Where the DSL's work stands, for readers who see all of it.
    stage: Option<&'static str>,
    decide_by: Option<String>,
    work: Option<WorkForms>,
    addenda: Vec<AddendumLine>,
    may_acknowledge: bool,
    may_add_addendum: bool,
    may_record_call: bool,
    may_school_dsl: bool,
    may_match: bool,
    may_link: bool,
    may_refer: bool,
    officer: Option<ContactLine>,
    may_report: bool,
    search: String,
    searched: bool,
    results: Vec<ChildResult>,
    form: FormData,
    errors: FieldErrors,
}

impl ConcernPage {
    /// What was typed in a field of the form for `kind`, when that form was the one sent.
    fn kept(&self, kind: &str, name: &str) -> &str {
        if self.form.get("kind") == kind {
            self.form.get(name)
        } else {
            ""
        }
    }

    /// Whether the form for `kind` was sent with `name` set to `value`.
    fn kept_is(&self, kind: &str, name: &str, value: &str) -> bool {
        self.form.get("kind") == kind && self.form.has(name, value)
    }

    /// Whether the form for `kind` was sent and refused (it is shown open).
    fn refused(&self, kind: &str) -> bool {
        self.form.get("kind") == kind && !self.errors.is_empty()
    }
}

/// Someone the DSL shared with, and who sees only that: the concern's reference, the child and
/// what was shared.
#[derive(Template)]
#[template(path = "concern_shared.html")]
struct SharedOnlyPage {
    layout: Layout,
    reference: String,
    about: String,
    about_href: Option<String>,
    shared: Vec<SharedLine>,
}

#[derive(Debug, Default, Deserialize)]
struct ViewQuery {
    child: Option<String>,
    q: Option<String>,
    submitted: Option<String>,
    officer: Option<String>,
    saved: Option<String>,
}

/// A step's parts in words; a statutory report names its duty by title.
fn step_lines(step: &StepView, duties: &[sg::Duty]) -> Vec<(String, String)> {
    step.lines
        .iter()
        .map(|(label, value)| {
            let value = if step.kind == StepKind::StatutoryReport && *label == "Duty" {
                duties
                    .iter()
                    .find(|d| d.code == *value)
                    .map_or(value.clone(), |d| d.title.clone())
            } else {
                value.clone()
            };
            ((*label).to_owned(), value)
        })
        .collect()
}

/// The steps that share something with the reader.
fn shared_with(view: &ConcernView, reader: UserId) -> Vec<SharedLine> {
    let me = reader.to_string();
    view.steps
        .iter()
        .filter(|s| s.kind == StepKind::SharedWithTeam && s.detail.shared_with == me)
        .map(|s| SharedLine {
            by: s.actor.clone(),
            at: uk::date_time(s.at),
            text: s.detail.note.clone(),
        })
        .collect()
}

async fn receipt_lines(
    state: &AppState,
    view: &ConcernView,
    officer: bool,
) -> Result<Vec<String>, PageError> {
    let mut lines = Vec::new();
    let called = view.steps.iter().any(|s| s.kind == StepKind::EmergencyCall);
    match view.stored.kind {
        ConcernKind::Concern if view.stored.urgent => {
            lines.push(
                "Urgent: passed at once to the DSL on duty (or, with nobody on duty, to the DSL, \
                 the deputies and the service lead)."
                    .to_owned(),
            );
        }
        ConcernKind::Concern => {
            lines.push("Passed to the DSL and the deputies.".to_owned());
        }
        ConcernKind::Allegation => {
            lines.push(
                "Passed to whoever handles allegations here: the service lead, or the DSL when \
                 the allegation is about the service lead. The person it is about never sees it."
                    .to_owned(),
            );
        }
    }
    // A look-up: its raiser is told the same before and after the DSL matches it (they must
    // not learn from this page whether the child is known here).
    if view.stored.kind == ConcernKind::Concern && view.lookup.is_some() {
        if !view.reach.may_read_all() {
            lines.push(
                "The DSL will find the child's record from the name, date of birth and school \
                 you gave."
                    .to_owned(),
            );
        } else if view.stored.child_id.is_none() {
            lines.push(
                "Raised by look-up and not yet matched to a child's record: find the record \
                 below."
                    .to_owned(),
            );
        }
    }
    match &view.acknowledged {
        Some((who, at)) => lines.push(format!("Acknowledged by {who} on {}.", uk::date_time(*at))),
        None => match view.acknowledge_by {
            Some(by) => lines.push(format!(
                "Awaiting acknowledgement, due by {}.",
                uk::date_time(by)
            )),
            None => {
                let (timing, _) = state
                    .alliance
                    .safeguarding_timing()
                    .await
                    .map_err(page_error)?;
                lines.push(match (view.stored.kind, timing.acknowledge_working_days) {
                    (ConcernKind::Allegation, _) => "Awaiting acknowledgement.".to_owned(),
                    (_, 0) => {
                        "Awaiting acknowledgement, due by the end of the working day.".to_owned()
                    }
                    (_, n) => format!(
                        "Awaiting acknowledgement, due within {n} working day{}.",
                        if n == 1 { "" } else { "s" }
                    ),
                });
            }
        },
    }
    if called {
        lines.push("A call to the emergency duty team or 999 is recorded below.".to_owned());
    }
    if officer {
        lines.push(
            "Nobody else here can handle this allegation: call the local authority designated \
             officer yourself (below)."
                .to_owned(),
        );
    }
    Ok(lines)
}

async fn concern_view_page(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: ConcernId,
    query: &ViewQuery,
) -> Result<Result<ConcernPage, Response>, PageError> {
    let context = match query.child.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => Some(child_id(raw)?),
        None => None,
    };
    let view = state
        .alliance
        .concern_view(actor, id, context)
        .await
        .map_err(page_error)?;
    if view.stored.status == ConcernStatus::Draft {
        return Ok(Err(
            Redirect::to(&format!("/concerns/{id}/edit")).into_response()
        ));
    }
    if view.shared_only {
        let page = SharedOnlyPage {
            layout: Layout::load(state, "safeguarding", auth).await?,
            reference: view.reference.clone(),
            about: view.child_label.clone(),
            about_href: view.child_link.map(|c| format!("/children/{c}")),
            shared: shared_with(&view, actor.user.id),
        };
        return Ok(Err(render(&page)?.into_response()));
    }
    let all_duties = sg::duties().unwrap_or_default();
    let officer_flag = query.officer.is_some() && view.is_author;
    let receipt = receipt_lines(state, &view, officer_flag).await?;
    let search = query.q.clone().unwrap_or_default();
    let searched = (view.may_match || view.may_link) && !search.trim().is_empty();
    let results = if searched {
        let filter = ChildFilter {
            search: Some(search.trim().to_owned()),
            status: None,
            school_site: None,
            mine: false,
        };
        let page =
            PageRequest::parse(Some(25), None).map_err(|e| page_error(AppError::Invalid(e)))?;
        state
            .alliance
            .list_children(actor, &filter, &page)
            .await
            .map_err(page_error)?
            .items
            .into_iter()
            .map(|c| ChildResult {
                id: c.id.to_string(),
                name: c
                    .named
                    .as_ref()
                    .map(|n| n.known_as.clone())
                    .unwrap_or_else(|| c.initials.clone()),
                born: c
                    .named
                    .as_ref()
                    .map(|n| uk::date(n.date_of_birth))
                    .unwrap_or_default(),
                case: c.case.as_ref().map(|(n, _)| n.clone()).unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let school_told = view.steps.iter().any(|s| s.kind == StepKind::SchoolDslTold);
    let is_concern = view.stored.kind == ConcernKind::Concern;
    let writer = view.reach == sg::Reach::Write;
    let notice = if query.submitted.is_some() {
        Some(
            "Submitted. It is sealed now: nobody can change or delete it. To correct or add \
             something, add an addendum below."
                .to_owned(),
        )
    } else {
        query.saved.as_deref().map(|what| {
            match what {
                "acknowledged" => "Acknowledged.",
                "already" => "Someone acknowledged this already.",
                "call" => "The call is recorded.",
                "school" => "Recorded: the school's DSL was told.",
                "report" => "The report's reference is recorded.",
                "referral" => "The referral to the designated officer is recorded.",
                "addendum" => "The addendum is added.",
                "matched" => "The concern is matched to the child's record.",
                "linked" => "The child is linked to this concern.",
                "gathered" => "The information gathered is recorded.",
                "decided" => "The decision is recorded.",
                "referred" => "The referral is recorded.",
                "chased" => "The chase is recorded.",
                "outcome" => "The feedback and outcome are recorded.",
                "closed" => "Closed.",
                "reopened" => "Re-opened: a fresh decision is due.",
                "shared-info" => "The information-sharing decision is recorded.",
                "shared-team" => "Shared with the therapist: they are told.",
                _ => "Saved.",
            }
            .to_owned()
        })
    };
    let page = ConcernPage {
        layout: Layout::load(state, "safeguarding", auth).await?,
        id: id.to_string(),
        reference: view.reference.clone(),
        title: kind_title(view.stored.kind),
        is_allegation: !is_concern,
        urgent: view.stored.urgent,
        about: view.child_label.clone(),
        about_href: view.child_link.map(|c| format!("/children/{c}")),
        subject: view.subject_name.clone(),
        author: view.author_name.clone(),
        is_author: view.is_author,
        submitted: view
            .stored
            .submitted_at
            .map(uk::date_time)
            .unwrap_or_default(),
        notice,
        context: context.map(|c| c.to_string()).unwrap_or_default(),
        call_now: view.call_now,
        emergency: contact_line(&view.emergency_duty_team),
        receipt,
        officer_for_raiser: if officer_flag {
            view.designated_officer.as_ref().map(contact_line)
        } else {
            None
        },
        lookup: view.lookup.as_ref().map(|l| LookupLines {
            name: l.name.clone(),
            date_of_birth: l
                .date_of_birth()
                .map(uk::date)
                .unwrap_or_else(|| l.date_of_birth.clone()),
            school: l.school.clone(),
        }),
        parts: shown_parts(&view),
        map: body_map(&view.content.marks),
        linked: view
            .linked
            .iter()
            .map(|l| LinkedLine {
                label: l.label.clone(),
                href: l.child.map(|c| format!("/children/{c}")),
            })
            .collect(),
        duties: view
            .duties
            .iter()
            .map(|d| DutyLine {
                code: d.duty.code.clone(),
                reference_field: format!("report-{}-reference", d.duty.code),
                title: d.duty.title.clone(),
                what_to_do: d.duty.what_to_do.clone(),
                report_to: d.duty.report_to.clone(),
                deadline: uk::date_time(d.deadline),
                longest: uk::date_time(d.longest),
                reported: d.reported,
                sources: d
                    .duty
                    .sources
                    .iter()
                    .map(|s| SourceLine {
                        title: s.title.clone(),
                        url: s.url.clone(),
                    })
                    .collect(),
            })
            .collect(),
        steps: view
            .steps
            .iter()
            .map(|s| StepLine {
                label: s.kind.label(),
                by: s.actor.clone(),
                at: uk::date_time(s.at),
                lines: step_lines(s, &all_duties),
            })
            .collect(),
        shared: shared_with(&view, actor.user.id),
        stage: view.reach.may_read_all().then(|| view.stage.label()),
        decide_by: if view.reach.may_read_all() {
            view.decide_by.map(uk::date_time)
        } else {
            None
        },
        work: work_forms(&view),
        addenda: view
            .addenda
            .iter()
            .map(|a| AddendumLine {
                by: a.author.clone(),
                at: uk::date_time(a.at),
                reason: a.reason.clone(),
                text: a.text.clone(),
            })
            .collect(),
        may_acknowledge: view.may_acknowledge,
        may_add_addendum: view.may_add_addendum,
        may_record_call: view.may_record_call,
        // The school's DSL told: the use-case lets the author and the DSL record it on a
        // concern; offered while the concern says they have not been told yet.
        may_school_dsl: is_concern
            && actor.may_write()
            && (view.is_author || writer)
            && view.content.school_dsl_told == SchoolDslTold::NotYet.code()
            && !school_told,
        may_match: view.may_match,
        may_link: view.may_link,
        may_refer: view.may_refer,
        officer: if view.may_refer {
            view.designated_officer.as_ref().map(contact_line)
        } else {
            None
        },
        may_report: view.is_author && actor.may_write(),
        search,
        searched,
        results,
        form: FormData::default(),
        errors: FieldErrors::default(),
    };
    Ok(Ok(page))
}

async fn concern_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Query(query): Query<ViewQuery>,
) -> Result<Response, PageError> {
    let id = concern_id(&id)?;
    // A search is sent as a form (`find_child`), never in the address.
    let query = ViewQuery { q: None, ..query };
    match concern_view_page(&state, &actor, &auth, id, &query).await? {
        Ok(page) => Ok(render(&page)?.into_response()),
        Err(redirect) => Ok(redirect),
    }
}

/// After an action on the record: back to it, in the reader's context.
fn back_to_record(id: ConcernId, form: &FormData, saved: &str, anchor: &str) -> Response {
    let context = match ChildId::parse(form.get("child")) {
        Ok(child) => format!("child={child}&"),
        Err(_) => String::new(),
    };
    Redirect::to(&format!("/concerns/{id}?{context}saved={saved}#{anchor}")).into_response()
}

/// The record shown again with one form's errors (each field named `{prefix}-{field}`) and
/// what was typed in it.
async fn record_refused(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: ConcernId,
    form: FormData,
    prefix: &str,
    err: AppError,
) -> Result<Response, PageError> {
    let (status, errors) = match err {
        AppError::Invalid(invalid) => {
            let mut errors = FieldErrors::default();
            for e in &invalid.errors {
                errors
                    .0
                    .entry(format!("{prefix}-{}", e.field))
                    .and_modify(|m| {
                        m.push(' ');
                        m.push_str(&e.message);
                    })
                    .or_insert_with(|| e.message.clone());
            }
            (StatusCode::UNPROCESSABLE_ENTITY, errors)
        }
        // The order rules' refusal, in words ("Record a decision before closing"): shown on the
        // form that was sent.
        AppError::Conflict(why) if why.contains(' ') => (
            StatusCode::CONFLICT,
            FieldErrors::one(&format!("{prefix}-step"), &why),
        ),
        other => return Err(page_error(other)),
    };
    let query = ViewQuery {
        child: Some(form.get("child").to_owned()).filter(|c| !c.is_empty()),
        q: Some(form.get("q").to_owned()).filter(|q| !q.is_empty()),
        ..ViewQuery::default()
    };
    match concern_view_page(state, actor, auth, id, &query).await? {
        Ok(mut page) => {
            page.form = form;
            page.errors = errors;
            let mut response = render(&page)?.into_response();
            *response.status_mut() = status;
            Ok(response)
        }
        Err(redirect) => Ok(redirect),
    }
}

/// The DSL's search for a child's record, to match or link: sent as a form (a child's name
/// never goes in an address), answered with the record and what was found.
async fn find_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = concern_id(&id)?;
    let query = ViewQuery {
        child: Some(form.get("child").to_owned()).filter(|c| !c.is_empty()),
        q: Some(form.get("q").to_owned()),
        ..ViewQuery::default()
    };
    match concern_view_page(&state, &actor, &auth, id, &query).await? {
        Ok(page) => Ok(render(&page)?.into_response()),
        Err(redirect) => Ok(redirect),
    }
}

async fn acknowledge(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = concern_id(&id)?;
    match state.alliance.acknowledge_concern(&actor, id).await {
        Ok(()) => Ok(back_to_record(id, &form, "acknowledged", "receipt")),
        Err(AppError::Conflict(_)) => Ok(back_to_record(id, &form, "already", "receipt")),
        Err(other) => Err(page_error(other)),
    }
}

async fn record_step(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = concern_id(&id)?;
    let kind = StepKind::parse(form.get("kind"))
        .map_err(|e| page_error(AppError::Invalid(Invalid::field("kind", e))))?;
    let (prefix, saved, anchor) = match kind {
        StepKind::EmergencyCall => ("call", "call", "steps"),
        StepKind::SchoolDslTold => ("school", "school", "steps"),
        StepKind::StatutoryReport => ("report", "report", "duties"),
        StepKind::DesignatedOfficerReferral => ("refer", "referral", "steps"),
        _ => match WORK_STEPS.iter().find(|(k, _, _)| *k == kind) {
            Some((_, prefix, saved)) => (*prefix, *saved, "steps"),
            None => {
                return Err(page_error(AppError::Invalid(Invalid::field(
                    "kind",
                    "Choose a step from the list",
                ))));
            }
        },
    };
    let text = |name: &str| form.get(name).to_owned();
    let detail = StepDetail {
        note: text("note"),
        reference: text("reference"),
        duty: text("duty"),
        decision: text("decision"),
        review_on: text("review_on"),
        agency: text("agency"),
        agency_name: text("agency_name"),
        spoken_to: text("spoken_to"),
        on: text("on"),
        time: text("time"),
        with_whom: text("with_whom"),
        basis: text("basis"),
        consent: text("consent"),
        consent_reason: text("consent_reason"),
        carer: text("carer"),
        reveals_location: super::checked(&form, "reveals_location"),
        reveals_school: super::checked(&form, "reveals_school"),
        shared_with: text("shared_with"),
    };
    // A report's fields are named after its duty (a concern may carry several duties).
    let prefix = if kind == StepKind::StatutoryReport {
        format!("{prefix}-{}", form.get("duty"))
    } else {
        prefix.to_owned()
    };
    match state
        .alliance
        .record_concern_step(&actor, id, kind, &detail)
        .await
    {
        Ok(()) => Ok(back_to_record(id, &form, saved, anchor)),
        Err(err) => record_refused(&state, &actor, &auth, id, form, &prefix, err).await,
    }
}

async fn add_addendum(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = concern_id(&id)?;
    match state
        .alliance
        .add_concern_addendum(&actor, id, form.get("reason"), form.get("text"))
        .await
    {
        Ok(()) => Ok(back_to_record(id, &form, "addendum", "addenda")),
        Err(err) => record_refused(&state, &actor, &auth, id, form, "addendum", err).await,
    }
}

fn chosen_child(form: &FormData) -> Result<ChildId, AppError> {
    ChildId::parse(form.get("chosen"))
        .map_err(|_| AppError::Invalid(Invalid::field("child", "Choose a child from the list")))
}

async fn match_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = concern_id(&id)?;
    let result = match chosen_child(&form) {
        Ok(child) => state.alliance.match_concern(&actor, id, child).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(back_to_record(id, &form, "matched", "receipt")),
        Err(AppError::Conflict(_)) => Ok(back_to_record(id, &form, "matched", "receipt")),
        Err(err) => record_refused(&state, &actor, &auth, id, form, "find", err).await,
    }
}

async fn link_child(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = concern_id(&id)?;
    let result = match chosen_child(&form) {
        Ok(child) => state.alliance.link_concern_child(&actor, id, child).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(back_to_record(id, &form, "linked", "linked")),
        Err(err) => record_refused(&state, &actor, &auth, id, form, "find", err).await,
    }
}

// ----- the rota -----

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A stretch of the rota as the form holds it (typed, perhaps not yet valid).
#[derive(Debug, Clone, Default, PartialEq)]
struct SlotRow {
    user: String,
    position: String,
    weekday: String,
    starts: String,
    ends: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct AbsenceRow {
    user: String,
    from: String,
    to: String,
}

/// A row of the form as the template shows it: its field names and values.
pub struct RotaRow {
    pub number: usize,
    pub user_name: String,
    pub position_name: String,
    pub weekday_name: String,
    pub starts_name: String,
    pub ends_name: String,
    pub remove_name: String,
    pub user: String,
    pub position: String,
    pub weekday: String,
    pub starts: String,
    pub ends: String,
    pub blank: bool,
}

pub struct AbsenceFormRow {
    pub number: usize,
    pub user_name: String,
    pub from_name: String,
    pub to_name: String,
    pub remove_name: String,
    pub user: String,
    pub from: String,
    pub to: String,
    pub blank: bool,
}

fn slot_rows(rows: &[SlotRow], blank: usize) -> Vec<RotaRow> {
    let empty = SlotRow::default();
    (0..rows.len() + blank)
        .map(|i| {
            let r = rows.get(i).unwrap_or(&empty);
            RotaRow {
                number: i + 1,
                user_name: format!("slots.{i}.user"),
                position_name: format!("slots.{i}.position"),
                weekday_name: format!("slots.{i}.weekday"),
                starts_name: format!("slots.{i}.starts"),
                ends_name: format!("slots.{i}.ends"),
                remove_name: format!("slots.{i}.remove"),
                user: r.user.clone(),
                position: r.position.clone(),
                weekday: r.weekday.clone(),
                starts: r.starts.clone(),
                ends: r.ends.clone(),
                blank: i >= rows.len(),
            }
        })
        .collect()
}

fn absence_rows(rows: &[AbsenceRow], blank: usize) -> Vec<AbsenceFormRow> {
    let empty = AbsenceRow::default();
    (0..rows.len() + blank)
        .map(|i| {
            let r = rows.get(i).unwrap_or(&empty);
            AbsenceFormRow {
                number: i + 1,
                user_name: format!("absences.{i}.user"),
                from_name: format!("absences.{i}.from"),
                to_name: format!("absences.{i}.to"),
                remove_name: format!("absences.{i}.remove"),
                user: r.user.clone(),
                from: r.from.clone(),
                to: r.to.clone(),
                blank: i >= rows.len(),
            }
        })
        .collect()
}

/// Indexed rows of a form (`{prefix}.{i}.{part}`), in order, with their parts.
fn indexed_rows(form: &FormData, prefix: &str) -> BTreeMap<usize, BTreeMap<String, String>> {
    let mut rows: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
    for (key, value) in &form.0 {
        let Some((index, part)) = key
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|rest| rest.split_once('.'))
        else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        if index > sg::MAX_ROTA_ROWS + 50 {
            continue;
        }
        rows.entry(index)
            .or_default()
            .insert(part.to_owned(), value.clone());
    }
    rows
}

/// The rota's rows from the form: removed and empty rows dropped, the rest in order.
fn rota_rows_of(form: &FormData) -> (Vec<SlotRow>, Vec<AbsenceRow>) {
    let part = |row: &BTreeMap<String, String>, name: &str| {
        row.get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let slots = indexed_rows(form, "slots")
        .into_values()
        .filter(|row| part(row, "remove").is_empty())
        .map(|row| SlotRow {
            user: part(&row, "user"),
            position: part(&row, "position"),
            weekday: part(&row, "weekday"),
            starts: part(&row, "starts"),
            ends: part(&row, "ends"),
        })
        .filter(|r| {
            !(r.user.is_empty() && r.weekday.is_empty() && r.starts.is_empty() && r.ends.is_empty())
        })
        .collect();
    let absences = indexed_rows(form, "absences")
        .into_values()
        .filter(|row| part(row, "remove").is_empty())
        .map(|row| AbsenceRow {
            user: part(&row, "user"),
            from: part(&row, "from"),
            to: part(&row, "to"),
        })
        .filter(|r| !(r.user.is_empty() && r.from.is_empty() && r.to.is_empty()))
        .collect();
    (slots, absences)
}

/// The rota the rows say, or the field errors of the rows that cannot say it.
fn rota_of(slots: &[SlotRow], absences: &[AbsenceRow]) -> Result<Rota, Invalid> {
    let mut errors = Vec::new();
    let mut rota = Rota::default();
    for (i, r) in slots.iter().enumerate() {
        let user = UserId::parse(&r.user).ok();
        if user.is_none() {
            errors.push(alliance_core::FieldError::new(
                format!("slots.{i}.user"),
                "Choose who is on duty",
            ));
        }
        let position = RotaPosition::parse(&r.position)
            .map_err(|e| {
                errors.push(alliance_core::FieldError::new(
                    format!("slots.{i}.position"),
                    e,
                ))
            })
            .ok();
        let weekday = r.weekday.parse::<i8>().ok().filter(|d| (1..=7).contains(d));
        if weekday.is_none() {
            errors.push(alliance_core::FieldError::new(
                format!("slots.{i}.weekday"),
                "Choose a day of the week",
            ));
        }
        if let (Some(user), Some(position), Some(weekday)) = (user, position, weekday) {
            rota.slots.push(RotaSlot {
                user,
                position,
                weekday,
                starts: r.starts.clone(),
                ends: r.ends.clone(),
            });
        } else {
            // Keeps the indices of the later rows in step with the form's.
            rota.slots.push(RotaSlot {
                user: UserId(uuid::Uuid::nil()),
                position: RotaPosition::Dsl,
                weekday: 1,
                starts: r.starts.clone(),
                ends: r.ends.clone(),
            });
        }
    }
    for (i, r) in absences.iter().enumerate() {
        let user = UserId::parse(&r.user).ok();
        if user.is_none() {
            errors.push(alliance_core::FieldError::new(
                format!("absences.{i}.user"),
                "Choose who is away",
            ));
        }
        let from = alliance_core::error::parse_date(&r.from)
            .map_err(|e| {
                errors.push(alliance_core::FieldError::new(
                    format!("absences.{i}.from"),
                    e,
                ))
            })
            .ok();
        let to = alliance_core::error::parse_date(&r.to)
            .map_err(|e| {
                errors.push(alliance_core::FieldError::new(
                    format!("absences.{i}.to"),
                    e,
                ))
            })
            .ok();
        if let (Some(user), Some(from), Some(to)) = (user, from, to) {
            rota.absences.push(RotaAbsence { user, from, to });
        }
    }
    // The rows' own checks (times, the order of an absence's days), all at once.
    if let Err(more) = rota.check() {
        for e in more.errors {
            if !errors.iter().any(|x| x.field == e.field) {
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        Ok(rota)
    } else {
        Err(Invalid { errors })
    }
}

fn rows_of_rota(rota: &Rota) -> (Vec<SlotRow>, Vec<AbsenceRow>) {
    (
        rota.slots
            .iter()
            .map(|s| SlotRow {
                user: s.user.to_string(),
                position: s.position.code().to_owned(),
                weekday: s.weekday.to_string(),
                starts: s.starts.clone(),
                ends: s.ends.clone(),
            })
            .collect(),
        rota.absences
            .iter()
            .map(|a| AbsenceRow {
                user: a.user.to_string(),
                from: uk::date(a.from),
                to: uk::date(a.to),
            })
            .collect(),
    )
}

struct RotaLine {
    name: String,
    position: &'static str,
    weekday: &'static str,
    starts: String,
    ends: String,
}

struct AbsenceLine {
    name: String,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "safeguarding_rota.html")]
struct RotaPageView {
    layout: Layout,
    may_edit: bool,
    version: String,
    on_duty: Vec<OnDutyLine>,
    lines: Vec<RotaLine>,
    absence_lines: Vec<AbsenceLine>,
    people: Vec<Choice>,
    positions: Vec<Choice>,
    weekdays: Vec<Choice>,
    slots: Vec<RotaRow>,
    absences: Vec<AbsenceFormRow>,
    errors: FieldErrors,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn rota_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    typed: Option<(Vec<SlotRow>, Vec<AbsenceRow>)>,
) -> Result<RotaPageView, PageError> {
    let page = state
        .alliance
        .safeguarding_rota(actor)
        .await
        .map_err(page_error)?;
    let name_of = |id: &UserId| page.names.get(id).cloned().unwrap_or_default();
    let mut people: Vec<Choice> = page
        .candidates
        .iter()
        .map(|(id, name, positions)| {
            let roles = positions
                .iter()
                .map(|p| match p {
                    RotaPosition::Dsl => "DSL",
                    RotaPosition::Deputy => "deputy",
                })
                .collect::<Vec<_>>()
                .join(", ");
            choice(id.to_string(), format!("{name} ({roles})"))
        })
        .collect();
    // Someone on the rota who no longer holds the role is still shown (and refused on save).
    for (id, name) in &page.names {
        if !people.iter().any(|c| c.code == id.to_string()) {
            people.push(choice(
                id.to_string(),
                format!("{name} (no longer DSL or deputy)"),
            ));
        }
    }
    let (slots, absences) = typed.unwrap_or_else(|| rows_of_rota(&page.rota));
    Ok(RotaPageView {
        layout: Layout::load(state, "safeguarding", auth).await?,
        may_edit: page.may_edit,
        version: page
            .version
            .map(|v| v.get().to_string())
            .unwrap_or_default(),
        on_duty: page
            .on_duty_now
            .iter()
            .map(|(_, position, name)| OnDutyLine {
                name: name.clone(),
                position: position.label(),
            })
            .collect(),
        lines: page
            .rota
            .slots
            .iter()
            .map(|s| RotaLine {
                name: name_of(&s.user),
                position: s.position.label(),
                weekday: usize::try_from(s.weekday - 1)
                    .ok()
                    .and_then(|i| WEEKDAYS.get(i))
                    .copied()
                    .unwrap_or(""),
                starts: s.starts.clone(),
                ends: s.ends.clone(),
            })
            .collect(),
        absence_lines: page
            .rota
            .absences
            .iter()
            .map(|a| AbsenceLine {
                name: name_of(&a.user),
                from: uk::date(a.from),
                to: uk::date(a.to),
            })
            .collect(),
        people,
        positions: [RotaPosition::Dsl, RotaPosition::Deputy]
            .into_iter()
            .map(|p| choice(p.code(), p.label()))
            .collect(),
        weekdays: WEEKDAYS
            .iter()
            .enumerate()
            .map(|(i, d)| choice((i + 1).to_string(), *d))
            .collect(),
        slots: slot_rows(&slots, 3),
        absences: absence_rows(&absences, 2),
        errors: FieldErrors::default(),
        notice: None,
    })
}

async fn rota_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let mut page = rota_view(&state, &actor, &auth, None).await?;
    page.notice = query.saved.map(|_| "The rota is saved.".to_owned());
    Ok(render(&page)?.into_response())
}

async fn save_rota(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let (slots, absences) = rota_rows_of(&form);
    let result = match rota_of(&slots, &absences) {
        Ok(rota) => {
            state
                .alliance
                .set_safeguarding_rota(&actor, rota, form_version(&form))
                .await
        }
        Err(invalid) => Err(AppError::Invalid(invalid)),
    };
    let (status, errors) = match result {
        Ok(_) => return Ok(Redirect::to("/safeguarding/rota?saved=1").into_response()),
        Err(AppError::Invalid(invalid)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from_invalid(&invalid),
        ),
        Err(AppError::Stale(_) | AppError::Conflict(_)) => (
            StatusCode::CONFLICT,
            FieldErrors::one("rota", STALE_MESSAGE),
        ),
        Err(other) => return Err(page_error(other)),
    };
    let mut page = rota_view(&state, &actor, &auth, Some((slots, absences))).await?;
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        page.version = form.get("version").trim().to_owned();
    }
    page.errors = errors;
    let mut response = render(&page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

// ----- the contacts and the timing -----

/// A contact's three fields on the form, by their names.
pub struct ContactFields {
    pub legend: String,
    pub prefix: String,
    pub name_field: String,
    pub phone_field: String,
    pub email_field: String,
}

fn contact_fields(legend: impl Into<String>, prefix: impl Into<String>) -> ContactFields {
    let prefix = prefix.into();
    ContactFields {
        legend: legend.into(),
        name_field: format!("{prefix}.name"),
        phone_field: format!("{prefix}.phone"),
        email_field: format!("{prefix}.email"),
        prefix,
    }
}

fn contact_into(form: &mut Vec<(String, String)>, prefix: &str, c: &Contact) {
    form.push((format!("{prefix}.name"), c.name.clone()));
    form.push((format!("{prefix}.phone"), c.phone.clone()));
    form.push((format!("{prefix}.email"), c.email.clone()));
}

fn contacts_form(contacts: &Contacts, timing: &Timing) -> FormData {
    let mut f = Vec::new();
    contact_into(&mut f, "emergency_duty_team", &contacts.emergency_duty_team);
    contact_into(&mut f, "designated_officer", &contacts.designated_officer);
    f.push((
        "out_of_hours_note".to_owned(),
        contacts.out_of_hours_note.clone(),
    ));
    for (site, c) in &contacts.sites {
        contact_into(&mut f, &format!("sites.{site}.school_dsl"), &c.school_dsl);
        contact_into(
            &mut f,
            &format!("sites.{site}.emergency_duty_team"),
            &c.emergency_duty_team,
        );
    }
    for (name, n) in [
        (
            "urgent_acknowledge_minutes",
            timing.urgent_acknowledge_minutes,
        ),
        ("acknowledge_working_days", timing.acknowledge_working_days),
        ("decide_working_days", timing.decide_working_days),
        (
            "allegation_refer_working_days",
            timing.allegation_refer_working_days,
        ),
        (
            "referral_feedback_working_days",
            timing.referral_feedback_working_days,
        ),
        ("transfer_school_days", timing.transfer_school_days),
    ] {
        f.push((name.to_owned(), n.to_string()));
    }
    FormData(f)
}

fn contact_from(form: &FormData, prefix: &str) -> Contact {
    Contact {
        name: form.get(&format!("{prefix}.name")).to_owned(),
        phone: form.get(&format!("{prefix}.phone")).to_owned(),
        email: form.get(&format!("{prefix}.email")).to_owned(),
    }
}

fn contacts_of(form: &FormData, sites: &[String]) -> Contacts {
    let mut contacts = Contacts {
        emergency_duty_team: contact_from(form, "emergency_duty_team"),
        designated_officer: contact_from(form, "designated_officer"),
        out_of_hours_note: form.get("out_of_hours_note").to_owned(),
        sites: BTreeMap::new(),
    };
    for site in sites {
        let c = SiteContacts {
            school_dsl: contact_from(form, &format!("sites.{site}.school_dsl")),
            emergency_duty_team: contact_from(form, &format!("sites.{site}.emergency_duty_team")),
        };
        let blank = |c: &Contact| {
            c.name.trim().is_empty() && c.phone.trim().is_empty() && c.email.trim().is_empty()
        };
        if !(blank(&c.school_dsl) && blank(&c.emergency_duty_team)) {
            contacts.sites.insert(site.clone(), c);
        }
    }
    contacts
}

fn timing_of(form: &FormData) -> Result<Timing, Invalid> {
    let mut errors = Vec::new();
    let mut number = |name: &str| -> u32 {
        match form.get(name).trim().parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                errors.push(alliance_core::FieldError::new(name, "Enter a whole number"));
                0
            }
        }
    };
    let timing = Timing {
        urgent_acknowledge_minutes: number("urgent_acknowledge_minutes"),
        acknowledge_working_days: number("acknowledge_working_days"),
        decide_working_days: number("decide_working_days"),
        allegation_refer_working_days: number("allegation_refer_working_days"),
        referral_feedback_working_days: number("referral_feedback_working_days"),
        transfer_school_days: number("transfer_school_days"),
    };
    if errors.is_empty() {
        Ok(timing)
    } else {
        Err(Invalid { errors })
    }
}

/// A site's contacts as the page shows them.
pub struct SiteSection {
    pub name: String,
    pub is_school: bool,
    pub school_dsl: ContactFields,
    pub emergency_duty_team: ContactFields,
    pub shown_school_dsl: ContactLine,
    pub shown_edt: ContactLine,
}

/// A timing number on the form.
pub struct TimingField {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: u32,
}

#[derive(Template)]
#[template(path = "safeguarding_contacts.html")]
struct ContactsPageView {
    layout: Layout,
    may_edit: bool,
    contacts_version: String,
    timing_version: String,
    edt: ContactFields,
    officer: ContactFields,
    shown_edt: ContactLine,
    shown_officer: ContactLine,
    out_of_hours_note: String,
    sites: Vec<SiteSection>,
    timing: Vec<TimingField>,
    form: FormData,
    errors: FieldErrors,
    timing_errors: FieldErrors,
    notice: Option<String>,
}

async fn contacts_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
) -> Result<ContactsPageView, PageError> {
    let (contacts, contacts_version) = state
        .alliance
        .safeguarding_contacts()
        .await
        .map_err(page_error)?;
    let (timing, timing_version) = state
        .alliance
        .safeguarding_timing()
        .await
        .map_err(page_error)?;
    let sites = state.alliance.list_sites(actor).await.map_err(page_error)?;
    let empty = SiteContacts::default();
    Ok(ContactsPageView {
        layout: Layout::load(state, "safeguarding", auth).await?,
        may_edit: sg::may_edit_settings(&actor.user) && actor.may_write(),
        contacts_version: contacts_version
            .map(|v| v.get().to_string())
            .unwrap_or_default(),
        timing_version: timing_version
            .map(|v| v.get().to_string())
            .unwrap_or_default(),
        edt: contact_fields("The emergency duty team", "emergency_duty_team"),
        officer: contact_fields(
            "The local authority designated officer (allegations against staff)",
            "designated_officer",
        ),
        shown_edt: contact_line(&contacts.emergency_duty_team),
        shown_officer: contact_line(&contacts.designated_officer),
        out_of_hours_note: contacts.out_of_hours_note.clone(),
        sites: sites
            .iter()
            .filter(|s| s.active)
            .map(|s| {
                let id = s.id.to_string();
                let c = contacts.sites.get(&id).unwrap_or(&empty);
                SiteSection {
                    name: s.details.name.clone(),
                    is_school: s.details.kind == SiteKind::School,
                    school_dsl: contact_fields(
                        format!("The school's own DSL at {}", s.details.name),
                        format!("sites.{id}.school_dsl"),
                    ),
                    emergency_duty_team: contact_fields(
                        format!(
                            "The emergency duty team for {} (if not the service's)",
                            s.details.name
                        ),
                        format!("sites.{id}.emergency_duty_team"),
                    ),
                    shown_school_dsl: contact_line(&c.school_dsl),
                    shown_edt: contact_line(&c.emergency_duty_team),
                }
            })
            .collect(),
        timing: vec![
            TimingField {
                name: "urgent_acknowledge_minutes",
                label: "Urgent: minutes for the DSL on duty to acknowledge",
                hint: "Policy default 30. After this the rota is escalated and the raiser is told to call the emergency duty team or 999. Between 5 and 240.",
                value: timing.urgent_acknowledge_minutes,
            },
            TimingField {
                name: "acknowledge_working_days",
                label: "Not urgent: working days to acknowledge",
                hint: "0 means by the end of the working day (the policy default). At most 10.",
                value: timing.acknowledge_working_days,
            },
            TimingField {
                name: "decide_working_days",
                label: "Not urgent: working days to decide",
                hint: "Policy default 1: by the end of the next working day. At most 10.",
                value: timing.decide_working_days,
            },
            TimingField {
                name: "allegation_refer_working_days",
                label: "Allegations: working days to refer to the designated officer",
                hint: "Policy default 1 (local procedures vary: check yours). At most 10.",
                value: timing.allegation_refer_working_days,
            },
            TimingField {
                name: "referral_feedback_working_days",
                label: "After a referral: working days before the agency is chased for feedback",
                hint: "Policy default 1: the local authority acknowledges and decides within one working day. At most 10.",
                value: timing.referral_feedback_working_days,
            },
            TimingField {
                name: "transfer_school_days",
                label: "Transfer to a new school: school days to send the safeguarding file",
                hint: "Policy default 5: within five school days of the child starting there (or of the new term), counted in the term calendar of the child's school. Between 1 and 20.",
                value: timing.transfer_school_days,
            },
        ],
        form: contacts_form(&contacts, &timing),
        errors: FieldErrors::default(),
        timing_errors: FieldErrors::default(),
        notice: None,
    })
}

async fn contacts(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Query(query): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let mut page = contacts_view(&state, &actor, &auth).await?;
    page.notice = query.saved.map(|what| match what.as_str() {
        "timing" => "The timing is saved.".to_owned(),
        _ => "The contacts are saved.".to_owned(),
    });
    Ok(render(&page)?.into_response())
}

async fn set_contacts(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let sites: Vec<String> = state
        .alliance
        .list_sites(&actor)
        .await
        .map_err(page_error)?
        .iter()
        .map(|s| s.id.to_string())
        .collect();
    let contacts = contacts_of(&form, &sites);
    let (status, errors) = match state
        .alliance
        .set_safeguarding_contacts(&actor, &contacts, form_version(&form))
        .await
    {
        Ok(_) => return Ok(Redirect::to("/safeguarding/contacts?saved=contacts").into_response()),
        Err(AppError::Invalid(invalid)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from_invalid(&invalid),
        ),
        Err(AppError::Stale(_) | AppError::Conflict(_)) => (
            StatusCode::CONFLICT,
            FieldErrors::one("emergency_duty_team.name", STALE_MESSAGE),
        ),
        Err(other) => return Err(page_error(other)),
    };
    let mut page = contacts_view(&state, &actor, &auth).await?;
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        page.contacts_version = form.get("version").trim().to_owned();
    }
    // What was typed stays; the timing shows as stored.
    let timing_fields: Vec<(String, String)> = page
        .form
        .0
        .iter()
        .filter(|(k, _)| page.timing.iter().any(|t| t.name == k))
        .cloned()
        .collect();
    let mut typed = form;
    typed.0.retain(|(k, _)| k != "version" && k != "_csrf");
    typed.0.extend(timing_fields);
    page.form = typed;
    page.errors = errors;
    let mut response = render(&page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn save_timing(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let result = match timing_of(&form) {
        Ok(timing) => {
            state
                .alliance
                .set_safeguarding_timing(&actor, timing, form_version(&form))
                .await
        }
        Err(invalid) => Err(AppError::Invalid(invalid)),
    };
    let (status, errors) = match result {
        Ok(_) => {
            return Ok(Redirect::to("/safeguarding/contacts?saved=timing#timing").into_response());
        }
        Err(AppError::Invalid(invalid)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from_invalid(&invalid),
        ),
        Err(AppError::Stale(_) | AppError::Conflict(_)) => (
            StatusCode::CONFLICT,
            FieldErrors::one("urgent_acknowledge_minutes", STALE_MESSAGE),
        ),
        Err(other) => return Err(page_error(other)),
    };
    let mut page = contacts_view(&state, &actor, &auth).await?;
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        page.timing_version = form.get("version").trim().to_owned();
    }
    // What was typed in the timing stays.
    for (k, v) in &form.0 {
        if page.timing.iter().any(|t| t.name == k) {
            page.form.0.retain(|(name, _)| name != k);
            page.form.0.push((k.clone(), v.clone()));
        }
    }
    page.timing_errors = errors;
    let mut response = render(&page)?.into_response();
    *response.status_mut() = status;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_form_and_a_concern_say_the_same_thing() {
        let content = ConcernContent {
            immediate_danger: "yes".into(),
            child_words: "\"He hit me\"".into(),
            questions_asked: "Can you tell me more?".into(),
            observations: "A bruise on her arm".into(),
            opinion: "Frightened".into(),
            happened_on: "30/11/2026".into(),
            happened_time: "10:15".into(),
            written_on: String::new(),
            written_time: String::new(),
            location: "Room 2".into(),
            present: "Nobody".into(),
            practitioner_said: "I said I must tell the DSL".into(),
            categories: vec!["physical".into(), "other".into()],
            category_other: "Something else".into(),
            marks: vec![BodyMark {
                side: "front".into(),
                region: "left-arm".into(),
                description: "Bruise".into(),
            }],
            school_dsl_told: "not-yet".into(),
            school_dsl_told_at: String::new(),
            school_dsl_told_by: String::new(),
            linked_children: vec![ChildId(uuid::Uuid::nil()).to_string()],
        };
        let lookup = ChildLookup {
            name: "Sam".into(),
            date_of_birth: "2015-02-01".into(),
            school: "Hillside".into(),
        };
        let f = content_form(&content, Some(&lookup));
        assert_eq!(f.get("date_of_birth"), "01/02/2015");
        let (back, typed) = content_of(&f);
        assert_eq!(back, content);
        assert_eq!(typed.name, "Sam");
    }

    #[test]
    fn blank_mark_rows_are_dropped_and_the_rest_renumbered() {
        let f = form(&[
            ("marks.0.side", ""),
            ("marks.0.region", ""),
            ("marks.0.description", " "),
            ("marks.1.side", "back"),
            ("marks.1.region", "upper-back"),
            ("marks.1.description", "Scratches"),
            ("marks.9999.side", "front"),
        ]);
        let (content, _) = content_of(&f);
        assert_eq!(content.marks.len(), 1);
        assert_eq!(content.marks[0].region, "upper-back");
        let rows = mark_rows(&content.marks, 3);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].side_name, "marks.0.side");
        assert_eq!(rows[3].description_name, "marks.3.description");
    }

    #[test]
    fn the_body_map_marks_each_region_on_its_own_outline() {
        let map = body_map(&[
            BodyMark {
                side: "front".into(),
                region: "left-arm".into(),
                description: "Three bruises".into(),
            },
            BodyMark {
                side: "back".into(),
                region: "left-arm".into(),
                description: "A graze".into(),
            },
            BodyMark {
                side: "front".into(),
                region: "nowhere".into(),
                description: "x".into(),
            },
        ]);
        assert_eq!(map.marks.len(), 2);
        assert_eq!(map.marks[1].number, 2);
        let front = &map.figures[0];
        let arm = front.shapes.iter().find(|s| s.label == "Left arm").unwrap();
        assert!(arm.marked);
        assert_eq!(arm.numbers, "1");
        // On the front the child's left arm is on the viewer's right; on the back, the left.
        assert!(arm.x > 80);
        let back_arm = map.figures[1]
            .shapes
            .iter()
            .find(|s| s.label == "Left arm")
            .unwrap();
        assert!(back_arm.x < 80);
        assert_eq!(back_arm.numbers, "2");
        // Every region is drawn on the outlines it belongs to, once.
        for side in [BodySide::Front, BodySide::Back] {
            let drawn = placements(side);
            for region in BodyRegion::ALL {
                let n = drawn.iter().filter(|p| p.0 == *region).count();
                assert_eq!(n, usize::from(region.on(side)), "{region:?} on {side:?}");
            }
        }
    }

    #[test]
    fn rota_rows_skip_blanks_and_removals_and_name_bad_rows() {
        let dsl = UserId(uuid::Uuid::new_v4());
        let f = form(&[
            ("slots.0.user", &dsl.to_string()),
            ("slots.0.position", "dsl"),
            ("slots.0.weekday", "1"),
            ("slots.0.starts", "00:00"),
            ("slots.0.ends", "00:00"),
            ("slots.1.user", &dsl.to_string()),
            ("slots.1.position", "dsl"),
            ("slots.1.weekday", "2"),
            ("slots.1.starts", "09:00"),
            ("slots.1.ends", "17:00"),
            ("slots.1.remove", "yes"),
            ("slots.2.user", ""),
            ("slots.2.position", "dsl"),
            ("slots.2.weekday", ""),
            ("slots.2.starts", ""),
            ("slots.2.ends", ""),
            ("slots.3.user", ""),
            ("slots.3.position", "deputy"),
            ("slots.3.weekday", "8"),
            ("slots.3.starts", "25:00"),
            ("slots.3.ends", "09:00"),
            ("absences.0.user", &dsl.to_string()),
            ("absences.0.from", "07/12/2026"),
            ("absences.0.to", "01/12/2026"),
        ]);
        let (slots, absences) = rota_rows_of(&f);
        assert_eq!(slots.len(), 2);
        assert_eq!(absences.len(), 1);
        let err = rota_of(&slots, &absences).unwrap_err();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"slots.1.user"), "{fields:?}");
        assert!(fields.contains(&"slots.1.weekday"), "{fields:?}");
        assert!(fields.contains(&"slots.1.starts"), "{fields:?}");
        assert!(fields.contains(&"absences.0.to"), "{fields:?}");
        let ok = rota_of(&slots[..1], &[]).unwrap();
        assert_eq!(ok.slots[0].weekday, 1);
        let (again, _) = rows_of_rota(&ok);
        assert_eq!(again[0], slots[0]);
    }

    #[test]
    fn every_step_of_the_dsl_s_work_has_its_form() {
        for kind in alliance_core::concern_workflow::WORKFLOW_STEPS {
            assert!(
                WORK_STEPS.iter().any(|(k, _, _)| *k == kind),
                "{kind:?} has no form"
            );
        }
    }

    #[test]
    fn the_child_s_safeguarding_panel_is_empty_for_a_reader_with_nothing_to_see() {
        let empty = ChildPanel {
            shared: Vec::new(),
            chronology: None,
        };
        assert!(empty.render().unwrap().trim().is_empty());
        let shown = ChildPanel {
            shared: vec![ShareLine {
                href: "/concerns/x?child=y".into(),
                reference: "SG-1A2B3C4D".into(),
                about: "Sam".into(),
                by: "Dana Lee".into(),
                at: "01/12/2026 10:05".into(),
                text: "Please keep the door open in sessions".into(),
            }],
            chronology: Some("/children/y/chronology".into()),
        }
        .render()
        .unwrap();
        assert!(shown.contains("Safeguarding chronology"));
        assert!(shown.contains("Shared with you by the DSL"));
        assert!(shown.contains("Please keep the door open in sessions"));
    }

    #[test]
    fn contacts_and_timing_round_trip_through_the_form() {
        let site = alliance_core::directory::SiteId(uuid::Uuid::new_v4()).to_string();
        let mut contacts = Contacts {
            emergency_duty_team: Contact {
                name: "County EDT".into(),
                phone: "0300 123 4567".into(),
                email: String::new(),
            },
            ..Default::default()
        };
        contacts.sites.insert(
            site.clone(),
            SiteContacts {
                school_dsl: Contact {
                    name: "Ms Shah".into(),
                    phone: "01234 567890".into(),
                    email: String::new(),
                },
                ..Default::default()
            },
        );
        let timing = Timing::default();
        let f = contacts_form(&contacts, &timing);
        let other = alliance_core::directory::SiteId(uuid::Uuid::new_v4()).to_string();
        assert_eq!(contacts_of(&f, &[site, other]), contacts);
        assert_eq!(timing_of(&f).unwrap(), timing);
        let bad = form(&[("urgent_acknowledge_minutes", "half an hour")]);
        // Every number is asked for: the two of issue 14 (the chase after a referral, the
        // transfer's school days) as much as the rest.
        let missing = timing_of(&bad).unwrap_err();
        assert_eq!(missing.errors.len(), 6);
        assert!(
            missing
                .errors
                .iter()
                .any(|e| e.field == "transfer_school_days")
        );
        assert_eq!(
            contact_line(&contacts.emergency_duty_team).tel,
            "03001234567"
        );
    }
}
