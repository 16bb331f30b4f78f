//! Pages of issue 17 (feedback, helper B): handing the tablet to the child, the kiosk, the
//! therapist's rating of a session and the child's feedback page.
//!
//! The kiosk is a page of its own (`kiosk_base.html`): no navigation, no name, nothing of
//! anyone else's data, large targets, radio inputs in fieldsets (keyboard and screen reader),
//! a "Read aloud" button per question from `static/kiosk.js` (the page works without it).
//! Handing over (`POST /sessions/{id}/hand-over`) ends the therapist's session in this
//! browser: its cookie is cleared as the kiosk's is set (`Path=/kiosk`, `HttpOnly`,
//! `SameSite=Strict`), so Back, history or leaving the kiosk asks them to sign in again. A
//! link opened on another device (`/kiosk/fb_…`) moves its token into the cookie and moves on
//! with a page (never a 303, as the consent links do). `/kiosk` without a kiosk in progress
//! sends to the sign-in page; a link that cannot be used (unknown, used, expired, withdrawn)
//! gets the same 404 page.

use std::collections::BTreeMap;

use super::link_cookie::LinkCookie;
use super::{FieldErrors, FormData, Layout, render, unprocessable};
use crate::AppState;
use crate::auth::{Auth, CurrentAuth, RequestOrigin, Signed};
use crate::errors::page_error;
use crate::respond::PageError;
use alliance_core::children::ChildId;
use alliance_core::feedback::{CAUTION, Shown};
use alliance_core::measures::{Definition, Respondent, ResponseScale};
use alliance_core::schedule::{BookingId, clock_text};
use alliance_core::uk;
use alliance_service::feedback::{ResponseContent, ResponseView};
use alliance_service::{Actor, AppError};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

pub fn router() -> Router<AppState> {
    // One method a line, so the route table the headers test reads finds each.
    Router::new()
        .route("/sessions/{id}/hand-over", get(choose).post(hand_over))
        .route("/sessions/{id}/rating", get(rating_page).post(rate))
        .route("/children/{id}/feedback", get(child_feedback))
        .route("/kiosk", get(kiosk_page).post(submit))
        .route("/kiosk/thanks", get(thanks))
        .route("/kiosk/{token}", get(open_link))
        .route("/admin/feedback-settings", get(settings))
        .route("/admin/feedback-settings", post(save_settings))
}

/// The cookie that holds the kiosk link's token.
pub(super) const KIOSK_COOKIE: LinkCookie = LinkCookie::new("alliance_kiosk", "/kiosk");
/// The form fields of the questions: `q-` and the item's id.
const FIELD: &str = "q-";

fn session_id(raw: &str) -> Result<BookingId, PageError> {
    BookingId::parse(raw).map_err(|_| page_error(AppError::NotFound))
}

/// The answers of a form: `q-{item}` fields, by item id.
fn answers_of(form: &FormData) -> BTreeMap<String, String> {
    form.0
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(FIELD).map(|id| (id.to_owned(), v.clone())))
        .collect()
}

/// Field errors named after the form's fields.
fn errors_of(invalid: &alliance_core::Invalid) -> FieldErrors {
    FieldErrors(
        invalid
            .errors
            .iter()
            .map(|e| (format!("{FIELD}{}", e.field), e.message.clone()))
            .collect(),
    )
}

// ---- the questions, for the kiosk and the rating form ----

/// One answer to tap.
struct ChoiceLine {
    value: i32,
    label: String,
    input_id: String,
    checked: bool,
    /// The mouth of the face drawn for it (faces only): an SVG path.
    mouth: String,
}

/// One question.
struct Question {
    field: String,
    number: usize,
    text: String,
    faces: bool,
    choices: Vec<ChoiceLine>,
}

fn mouth(i: usize, n: usize) -> String {
    // From a frown (first choice) to a smile (last): the control point moves down.
    let t = if n > 1 {
        i as f64 / (n - 1) as f64
    } else {
        1.0
    };
    let y = 27.0 + 10.0 * (t - 0.5) * 2.0;
    format!("M14 30 Q24 {y:.0} 34 30")
}

fn questions(def: &Definition, form: &FormData) -> Vec<Question> {
    def.items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = format!("{FIELD}{}", item.id);
            let faces = matches!(
                def.scales.get(&item.scale),
                Some(ResponseScale::Faces { .. })
            );
            let choices = def.choices(item);
            let n = choices.len();
            Question {
                number: i + 1,
                text: item.text.clone().unwrap_or_default(),
                faces,
                choices: choices
                    .into_iter()
                    .enumerate()
                    .map(|(j, c)| ChoiceLine {
                        input_id: format!("{field}-{}", c.value),
                        checked: form.get(&field) == c.value.to_string(),
                        value: c.value,
                        label: c.label,
                        mouth: mouth(j, n),
                    })
                    .collect(),
                field,
            }
        })
        .collect()
}

// ---- handing over ----

#[derive(Template)]
#[template(path = "feedback_hand_over.html")]
struct HandOverPage {
    layout: Layout,
    id: String,
    when: String,
    minutes: u32,
    /// (key, name, ages, note, checked)
    measures: Vec<(String, String, String, bool, bool)>,
    errors: FieldErrors,
}

async fn hand_over_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: BookingId,
    chosen: &str,
) -> Result<HandOverPage, PageError> {
    let options = state
        .alliance
        .hand_over_options(actor, id)
        .await
        .map_err(page_error)?;
    let b = &options.session.booking;
    let first = options
        .measures
        .first()
        .map(Definition::key)
        .unwrap_or_default();
    let chosen = if chosen.is_empty() {
        first.as_str()
    } else {
        chosen
    };
    Ok(HandOverPage {
        layout: Layout::load(state, "timetable", auth).await?,
        id: id.to_string(),
        when: format!("{} at {}", uk::date(b.date), clock_text(b.start)),
        minutes: options.minutes,
        measures: options
            .measures
            .iter()
            .map(|d| {
                (
                    d.key(),
                    d.name.clone(),
                    d.ages(),
                    d.validated,
                    d.key() == chosen,
                )
            })
            .collect(),
        errors: FieldErrors::default(),
    })
}

async fn choose(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = hand_over_view(&state, &actor, &auth, session_id(&id)?, "").await?;
    Ok(render(&page)?.into_response())
}

/// Hands over: the kiosk link is made, the therapist's session ends, and this browser moves
/// on to the kiosk with the kiosk's cookie and without the session's.
async fn hand_over(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = session_id(&id)?;
    let measure = form.get("measure").to_owned();
    match state
        .alliance
        .hand_over(&actor, id, Some(measure.as_str()))
        .await
    {
        Ok((link, token)) => {
            let now = state.alliance.clock().now();
            let seconds = link.expires_at.duration_since(now).as_secs().max(1);
            let mut response = Redirect::to("/kiosk").into_response();
            let secure = state.config.secure_cookies;
            response
                .headers_mut()
                .append(header::SET_COOKIE, crate::auth::clear_cookie(secure));
            if let Some(cookie) = KIOSK_COOKIE.set(secure, &token, seconds) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        Err(AppError::Invalid(invalid)) => {
            let mut page = hand_over_view(&state, &actor, &auth, id, &measure).await?;
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

// ---- the kiosk ----

#[derive(Template)]
#[template(path = "kiosk_unusable.html")]
struct UnusablePage {
    demo: bool,
}

#[derive(Template)]
#[template(path = "kiosk_continue.html")]
struct ContinuePage {
    demo: bool,
}

#[derive(Template)]
#[template(path = "kiosk.html")]
struct KioskPage {
    demo: bool,
    csrf: String,
    title: String,
    questions: Vec<Question>,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "kiosk_thanks.html")]
struct ThanksPage {
    demo: bool,
}

async fn is_demo(state: &AppState) -> Result<bool, PageError> {
    Ok(state
        .alliance
        .service_profile()
        .await?
        .is_some_and(|p| p.is_demo))
}

/// The one answer for every link that cannot be used.
async fn unusable(state: &AppState, headers: &HeaderMap) -> Result<Response, PageError> {
    let mut response = render(&UnusablePage {
        demo: is_demo(state).await?,
    })?
    .into_response();
    *response.status_mut() = StatusCode::NOT_FOUND;
    if KIOSK_COOKIE.token(headers).is_some() {
        response.headers_mut().insert(
            header::SET_COOKIE,
            KIOSK_COOKIE.clear(state.config.secure_cookies),
        );
    }
    Ok(response)
}

/// A link opened on another device: the token goes into the cookie and the browser moves on
/// to `/kiosk` at once, with a page (a navigation it starts is same-site, so the strict
/// cookie goes with it even when the link was opened from another site).
///
/// Whoever is signed in on this browser is signed out first, as a hand-over does: the child
/// must not reach their pages by Back or history.
async fn open_link(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match state.alliance.kiosk(&token).await {
        Ok(view) => {
            let session = auth.browser_session();
            let signed_out = session.is_some();
            if let Some((hash, user)) = session {
                state
                    .alliance
                    .sign_out(&hash, user, &origin)
                    .await
                    .map_err(page_error)?;
            }
            let now = state.alliance.clock().now();
            let seconds = view.expires_at.duration_since(now).as_secs().max(1);
            let mut response = render(&ContinuePage {
                demo: is_demo(&state).await?,
            })?
            .into_response();
            let secure = state.config.secure_cookies;
            if signed_out {
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, crate::auth::clear_cookie(secure));
            }
            if let Some(cookie) = KIOSK_COOKIE.set(secure, &token, seconds) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        Err(AppError::NotFound) => unusable(&state, &headers).await,
        Err(other) => Err(page_error(other)),
    }
}

fn csrf_of(auth: &Auth) -> String {
    Layout::new(None, "kiosk", auth).csrf
}

async fn kiosk_page(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    // No kiosk in progress in this browser (handed back, or never handed over): whoever is
    // here signs in.
    let Some(token) = KIOSK_COOKIE.token(&headers) else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    match state.alliance.kiosk(&token).await {
        Ok(view) => Ok(render(&KioskPage {
            demo: is_demo(&state).await?,
            csrf: csrf_of(&auth),
            title: "Your check-in".to_owned(),
            questions: questions(&view.definition, &FormData::default()),
            errors: FieldErrors::default(),
        })?
        .into_response()),
        Err(AppError::NotFound) => unusable(&state, &headers).await,
        Err(other) => Err(page_error(other)),
    }
}

async fn submit(
    State(state): State<AppState>,
    CurrentAuth(auth): CurrentAuth,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let Some(token) = KIOSK_COOKIE.token(&headers) else {
        return unusable(&state, &headers).await;
    };
    match state
        .alliance
        .submit_kiosk(&token, &answers_of(&form), &origin)
        .await
    {
        Ok(()) => {
            let mut response = Redirect::to("/kiosk/thanks").into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                KIOSK_COOKIE.clear(state.config.secure_cookies),
            );
            Ok(response)
        }
        Err(AppError::Invalid(invalid)) => match state.alliance.kiosk(&token).await {
            Ok(view) => unprocessable(&KioskPage {
                demo: is_demo(&state).await?,
                csrf: csrf_of(&auth),
                title: "Your check-in".to_owned(),
                questions: questions(&view.definition, &form),
                errors: errors_of(&invalid),
            }),
            Err(_) => unusable(&state, &headers).await,
        },
        Err(AppError::NotFound) => unusable(&state, &headers).await,
        Err(other) => Err(page_error(other)),
    }
}

async fn thanks(State(state): State<AppState>) -> Result<Response, PageError> {
    Ok(render(&ThanksPage {
        demo: is_demo(&state).await?,
    })?
    .into_response())
}

// ---- the therapist's rating ----

#[derive(Template)]
#[template(path = "feedback_rating.html")]
struct RatingPage {
    layout: Layout,
    id: String,
    when: String,
    measure: String,
    note: String,
    questions: Vec<Question>,
    given: Option<String>,
    saved: bool,
    errors: FieldErrors,
}

fn given_text(content: &ResponseContent, def: &Definition) -> String {
    content.shown(Some(def)).text()
}

async fn rating_view(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
    id: BookingId,
    form: &FormData,
) -> Result<RatingPage, PageError> {
    // The session's gate first: anyone but its own therapist is refused there, audited.
    let options = state
        .alliance
        .hand_over_options(actor, id)
        .await
        .map_err(page_error)?;
    let Some(rating) = state
        .alliance
        .rating_form(actor, id)
        .await
        .map_err(page_error)?
    else {
        return Err(page_error(AppError::NotFound));
    };
    let b = &options.session.booking;
    let mut form = FormData(form.0.clone());
    if form.0.is_empty()
        && let Some(given) = &rating.given
    {
        form.0 = given
            .answers
            .iter()
            .map(|(k, v)| (format!("{FIELD}{k}"), v.to_string()))
            .collect();
    }
    Ok(RatingPage {
        layout: Layout::load(state, "timetable", auth).await?,
        id: id.to_string(),
        when: format!("{} at {}", uk::date(b.date), clock_text(b.start)),
        measure: rating.definition.name.clone(),
        note: rating.definition.note.clone(),
        questions: questions(&rating.definition, &form),
        given: rating
            .given
            .as_ref()
            .map(|g| given_text(g, &rating.definition)),
        saved: false,
        errors: FieldErrors::default(),
    })
}

async fn rating_page(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = rating_view(
        &state,
        &actor,
        &auth,
        session_id(&id)?,
        &FormData::default(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

async fn rate(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let id = session_id(&id)?;
    match state
        .alliance
        .rate_session(&actor, id, &answers_of(&form))
        .await
    {
        Ok(_) => {
            let mut page = rating_view(&state, &actor, &auth, id, &FormData::default()).await?;
            page.saved = true;
            Ok(render(&page)?.into_response())
        }
        Err(AppError::Invalid(invalid)) => {
            let mut page = rating_view(&state, &actor, &auth, id, &form).await?;
            page.errors = errors_of(&invalid);
            unprocessable(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

// ---- the child's feedback page ----

/// One row of the side-by-side table.
struct PairRow {
    date: String,
    session: Option<String>,
    child_measure: String,
    child: String,
    therapist_measure: String,
    therapist: String,
}

/// One response in a list.
struct ResponseLine {
    date: String,
    measure: String,
    score: String,
    flagged: Option<String>,
    attribution: Option<String>,
    session: Option<String>,
}

#[derive(Template)]
#[template(path = "feedback_child.html")]
struct ChildFeedbackPage {
    layout: Layout,
    id: String,
    child: String,
    caution: bool,
    caution_text: &'static str,
    carers_only: bool,
    pairs: Vec<PairRow>,
    /// (anchor, heading, rows): the child's, the therapist's, the carers'.
    sections: Vec<(&'static str, &'static str, Vec<ResponseLine>)>,
}

fn cell(c: &Option<(String, Shown)>) -> (String, String) {
    match c {
        Some((m, shown)) => (m.clone(), shown.text()),
        None => (String::new(), "None given".to_owned()),
    }
}

fn line(r: &ResponseView) -> ResponseLine {
    ResponseLine {
        date: uk::date_time(r.given_at),
        measure: r.measure_name.clone(),
        score: r.shown.text(),
        flagged: r.flagged.clone(),
        attribution: r.attribution.clone(),
        session: r.session.map(|s| s.to_string()),
    }
}

async fn child_feedback(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let child = ChildId::parse(&id).map_err(|_| page_error(AppError::NotFound))?;
    let view = state
        .alliance
        .child_feedback(&actor, child)
        .await
        .map_err(page_error)?;
    let of = |who: Respondent| -> Vec<ResponseLine> {
        view.responses
            .iter()
            .filter(|r| r.respondent == who)
            .rev()
            .map(line)
            .collect()
    };
    let page = ChildFeedbackPage {
        layout: Layout::load(&state, "children", &auth).await?,
        id: child.to_string(),
        child: view.child_shown.clone(),
        caution: view.caution,
        caution_text: CAUTION,
        carers_only: view.reach == alliance_core::feedback::ResponseReach::CarersOnly,
        pairs: view
            .side_by_side
            .iter()
            .rev()
            .map(|row| {
                let (child_measure, child) = cell(&row.child);
                let (therapist_measure, therapist) = cell(&row.therapist);
                PairRow {
                    date: uk::date(row.date),
                    session: row.session.map(|s| s.to_string()),
                    child_measure,
                    child,
                    therapist_measure,
                    therapist,
                }
            })
            .collect(),
        sections: {
            let mut sections = Vec::new();
            if view.reach == alliance_core::feedback::ResponseReach::All {
                sections.push((
                    "child-responses",
                    "The child's responses",
                    of(Respondent::Child),
                ));
                sections.push((
                    "therapist-ratings",
                    "The therapist's ratings",
                    of(Respondent::Therapist),
                ));
            }
            sections.push((
                "carer-responses",
                "Parents' and carers' responses",
                of(Respondent::Carer),
            ));
            sections
        },
    };
    Ok(render(&page)?.into_response())
}

// ---- the service's feedback settings (administrators) ----

#[derive(Template)]
#[template(path = "feedback_settings.html")]
struct SettingsPage {
    layout: Layout,
    form: FormData,
    errors: FieldErrors,
    version: i64,
    notice: Option<String>,
}

async fn settings_form(
    state: &AppState,
    actor: &Actor,
    auth: &Auth,
) -> Result<SettingsPage, PageError> {
    let (settings, version) = state
        .alliance
        .read_feedback_settings(actor)
        .await
        .map_err(page_error)?;
    Ok(SettingsPage {
        layout: Layout::load(state, "service", auth).await?,
        form: FormData(vec![
            (
                "kiosk_minutes".to_owned(),
                settings.kiosk_minutes.to_string(),
            ),
            (
                "carer_link_days".to_owned(),
                settings.carer_link_days.to_string(),
            ),
        ]),
        errors: FieldErrors::default(),
        version: version.map_or(0, |v| v.get()),
        notice: None,
    })
}

async fn settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
) -> Result<Response, PageError> {
    let page = settings_form(&state, &actor, &auth).await?;
    Ok(render(&page)?.into_response())
}

async fn save_settings(
    State(state): State<AppState>,
    Signed(actor): Signed,
    CurrentAuth(auth): CurrentAuth,
    Form(form): Form<FormData>,
) -> Result<Response, PageError> {
    let number = |name: &str| form.get(name).trim().parse::<u32>().unwrap_or(0);
    let expected = form
        .get("version")
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|v| alliance_core::Version::new(v).ok());
    let settings = alliance_core::feedback::FeedbackSettings {
        kiosk_minutes: number("kiosk_minutes"),
        carer_link_days: number("carer_link_days"),
    };
    match state
        .alliance
        .set_feedback_settings(&actor, settings, expected)
        .await
    {
        Ok(_) => {
            let mut page = settings_form(&state, &actor, &auth).await?;
            page.notice = Some("Saved.".to_owned());
            Ok(render(&page)?.into_response())
        }
        Err(AppError::Invalid(invalid)) => {
            let mut page = settings_form(&state, &actor, &auth).await?;
            page.form = FormData(form.0.clone());
            page.errors = FieldErrors::from_invalid(&invalid);
            unprocessable(&page)
        }
        Err(AppError::Stale(_)) => {
            let mut page = settings_form(&state, &actor, &auth).await?;
            page.errors = FieldErrors::one("kiosk_minutes", super::STALE_MESSAGE);
            super::conflicted(&page)
        }
        Err(other) => Err(page_error(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kiosk_cookie_is_strict_http_only_and_only_for_the_kiosk() {
        let cookie = KIOSK_COOKIE
            .set(true, "fb_00", 60)
            .map(|c| c.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        assert!(cookie.contains("Path=/kiosk;"));
        assert!(cookie.contains("HttpOnly"));
        assert!(cookie.contains("SameSite=Strict"));
        assert!(cookie.contains("Secure"));
        let cleared = KIOSK_COOKIE.clear(false);
        assert!(cleared.to_str().unwrap_or_default().contains("Max-Age=0"));
    }

    #[test]
    fn the_faces_go_from_a_frown_to_a_smile() {
        assert_eq!(mouth(0, 3), "M14 30 Q24 17 34 30");
        assert_eq!(mouth(1, 3), "M14 30 Q24 27 34 30");
        assert_eq!(mouth(2, 3), "M14 30 Q24 37 34 30");
    }
}
