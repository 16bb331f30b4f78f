//! The JSON API under `/api/v1`, and the OpenAPI document generated from it.
//!
//! Every route here is registered with `routes!`, which takes its path, method, parameters and
//! answers from the handler's `#[utoipa::path]`: a route cannot be added without being
//! documented. A test reads this folder's source and fails on any other way of adding one.

mod agreements;
mod audit;
mod break_glass;
mod calendars;
mod children;
pub(crate) mod chronology;
mod contacts;
mod directory;
mod disruptions;
mod emergency;
mod feedback;
mod feeds;
mod goals;
mod health;
mod incidents;
mod letters;
mod library;
mod me;
mod measures;
mod process_notes;
mod retention;
mod room_care;
mod safeguarding;
mod service;
mod session_records;
mod sessions;
mod site_emergency;
pub(crate) mod subject_access;
mod supervision;
mod tasks;
mod timetables;
mod users;

use crate::AppState;
use crate::problem::{Problem, ProblemField};
use axum::Json;
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as OpenApiDocument;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use service::ServiceView;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alliance API",
        version = "1",
        description = "Everything Alliance's pages do, as JSON. Errors are \
            application/problem+json naming the field at fault; lists take `limit` and `after` \
            and answer with `items` and `next`; editable records carry a `version`, and an \
            update made against an older version is refused with 409."
    ),
    components(schemas(Problem, ProblemField)),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Health and the API's own description"),
        (name = "service", description = "The service that runs this Alliance"),
        (name = "account", description = "Your own account, sessions, API tokens and calendar feed"),
        (name = "calendars", description = "Term calendars, and the series a weekly slot makes in them"),
        (name = "sessions", description = "Each case's regular weekly slot, its sessions and attendance"),
        (name = "timetables", description = "A therapist's week, a room's week and a site's day. \
            Readable by everyone signed in; a booking names its child only for a caller the \
            access policy lets know that child, and is otherwise just a booked time"),
        (name = "library", description = "The explanation library: what therapy is, \
            confidentiality and its limits and the rest, for each age band and for parents and \
            carers, with each text's readability and review state. Every version is kept"),
        (name = "tasks", description = "Your tasks and notices, and the bank holidays deadlines count around"),
        (name = "users", description = "Staff accounts: the directory, and changes by administrators"),
        (name = "sites", description = "The service's places: sites (schools, clinics, community \
            bases) and their rooms. Read by everyone signed in, changed by administrators"),
        (name = "agreements", description = "A case's therapy agreement and its versions, \
            consent and assent under the consent rules of the service's nation, single-use \
            consent links for carers, and the first-session checklist. The agreement is the \
            child's clinical record: the case team reads and writes it, the parent-worker and \
            the service lead read it, the lead's supervisor reads it pseudonymised"),
        (name = "session-records", description = "Session records: a draft kept on the \
            server as it is typed and seen by its author alone, signing (which locks it), \
            amendments with their reasons (the original kept), and the case's lead sharing a \
            signed record with the parent-worker. The case team reads signed records, the \
            lead's supervisor reads them pseudonymised; nobody else sees them"),
        (name = "process-notes", description = "Private process notes: a therapist's own \
            reflections about a child on their case, apart from the clinical record. Only their \
            author reads them (everyone else is answered 404); they are still personal data, \
            which a subject access request may include, read by a named reviewer"),
        (name = "contacts", description = "A case's contact log: contact with each carer and \
            with the professional network, what was shared and agreed (and on what basis, with \
            a professional), and when the next carers' review meeting is due. A carer the rules \
            would not contact is logged only with an explicit override and its reason"),
        (name = "supervision", description = "Supervision records: the date, the supervisor, \
            the time, the cases discussed (by number, never a name) and the actions agreed. A \
            supervisor records them for their own supervisees; each person reads their own"),
        (name = "safeguarding", description = "Safeguarding concerns in the child's words \
            and allegations against staff: a draft seen by its author alone, sealed on \
            submitting (no edit, no delete; corrections are addenda with reasons), the urgent \
            path along the on-duty rota, legal duties by category, linked children each named \
            only to their own child's readers, the DSL's queue, the rota, the out-of-hours \
            contacts and the timing. A concern the caller may not reach is not found, exactly \
            as one that does not exist; an allegation is never shown to its subject"),
        (name = "break-glass", description = "Break-glass access: time-limited read of one \
            child's record with a written reason (therapists, the DSL and deputies, the service \
            lead), opening the case team's read rights, never process notes, concerns, \
            allegations or the audit trail; the DSL and the service lead told at once; ended by \
            the clock or early by its holder; the review of what was done under it"),
        (name = "audit", description = "The audit trail's pages: a child's trail (the service \
            lead every row, the DSL and deputies general and safeguarding rows), the \
            administrators' view (ids and actions, never safeguarding or allegation rows), and \
            the caller's own activity. Every read is audited"),
        (name = "subject-access", description = "Subject access requests: logged by an \
            administrator with the requester's identity and authority checked; the due date (one \
            calendar month, paused, extended, moved off weekends and bank holidays); a named \
            reviewer's time-limited, audited read of the child's whole record for the request; \
            a decision per item; the DSL's review of safeguarding material; and the bundle, \
            released only to the requester. Administrators see the request, never the content"),
        (name = "children", description = "Children, their carers, their cases and case teams, \
            and what may be sent to a carer. Each caller sees only what the access policy \
            allows: a child they may not know about is not found, and a supervisor may see a \
            child by initials and case number only"),
        (name = "measures", description = "The measure library: definitions shipped with \
            Alliance and added by the service (each id and version once), scoring, cut-offs \
            and reliable change with their sources, and licensed wording loaded by the service"),
    )
)]
struct ApiDoc;

/// API tokens (`alliance token create`, or the account page) go in `Authorization: Bearer`.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's routes together with their documentation.
pub fn router() -> OpenApiRouter<AppState> {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(openapi_json))
        .routes(routes!(service::get_service, service::update_service))
        .routes(routes!(
            service::get_consent_rules,
            service::update_consent_rules
        ))
        .routes(routes!(
            library::get_readability,
            library::update_readability
        ))
        .routes(routes!(library::list_library))
        .routes(routes!(library::measure))
        .routes(routes!(library::get_text))
        .routes(routes!(library::create_version))
        .routes(routes!(library::review_text))
        .routes(routes!(library::publish_version))
        .routes(routes!(library::child_handouts_pdf))
        .routes(routes!(
            service::get_frame_policy,
            service::update_frame_policy
        ))
        .routes(routes!(
            service::contact_policy,
            service::set_contact_policy
        ))
        .routes(routes!(me::me))
        .routes(routes!(me::sessions))
        .routes(routes!(me::end_all_sessions))
        .routes(routes!(me::tokens, me::create_token))
        .routes(routes!(me::revoke_token))
        .routes(routes!(
            feeds::feed_status,
            feeds::create_feed,
            feeds::revoke_feed
        ))
        .routes(routes!(
            calendars::list_calendars,
            calendars::create_calendar
        ))
        .routes(routes!(calendars::preview_calendar))
        .routes(routes!(calendars::get_calendar, calendars::update_calendar))
        .routes(routes!(calendars::preview_series))
        .routes(routes!(sessions::case_sessions, sessions::add_session))
        .routes(routes!(sessions::set_slot))
        .routes(routes!(sessions::move_session))
        .routes(routes!(sessions::record_attendance))
        .routes(routes!(letters::letter_options))
        .routes(routes!(letters::letter))
        .routes(routes!(letters::letter_pdf))
        .routes(routes!(agreements::get_agreement))
        .routes(routes!(agreements::draft_version))
        .routes(routes!(agreements::activate_version))
        .routes(routes!(agreements::record_consent))
        .routes(routes!(agreements::create_link))
        .routes(routes!(agreements::revoke_link))
        .routes(routes!(agreements::agreement_document))
        .routes(routes!(
            agreements::get_checklist,
            agreements::record_checklist_item
        ))
        .routes(routes!(session_records::get_record))
        .routes(routes!(session_records::save_draft))
        .routes(routes!(session_records::sign_record))
        .routes(routes!(session_records::amend_record))
        .routes(routes!(session_records::share_record))
        .routes(routes!(session_records::case_records))
        .routes(routes!(
            process_notes::my_process_notes,
            process_notes::write_process_note
        ))
        .routes(routes!(contacts::case_contacts, contacts::log_contact))
        .routes(routes!(safeguarding::raise_concern))
        .routes(routes!(safeguarding::raise_allegation))
        .routes(routes!(
            safeguarding::get_concern,
            safeguarding::save_draft,
            safeguarding::discard_draft
        ))
        .routes(routes!(safeguarding::submit_concern))
        .routes(routes!(safeguarding::acknowledge))
        .routes(routes!(safeguarding::record_step))
        .routes(routes!(safeguarding::add_addendum))
        .routes(routes!(safeguarding::match_child))
        .routes(routes!(safeguarding::link_child))
        .routes(routes!(safeguarding::my_concerns))
        .routes(routes!(safeguarding::child_concerns))
        .routes(routes!(safeguarding::queue))
        .routes(routes!(safeguarding::badge))
        .routes(routes!(safeguarding::get_rota, safeguarding::set_rota))
        .routes(routes!(
            safeguarding::get_contacts,
            safeguarding::set_contacts
        ))
        .routes(routes!(safeguarding::get_timing, safeguarding::set_timing))
        .routes(routes!(safeguarding::my_concern_shares))
        .routes(routes!(safeguarding::child_concern_shares))
        .routes(routes!(chronology::get_chronology))
        .routes(routes!(chronology::chronology_pdf))
        .routes(routes!(chronology::start_transfer))
        .routes(routes!(chronology::get_transfer))
        .routes(routes!(chronology::make_file, chronology::get_file))
        .routes(routes!(chronology::record_receipt))
        .routes(routes!(supervision::my_supervision))
        .routes(routes!(supervision::record_supervision))
        .routes(routes!(timetables::my_week))
        .routes(routes!(timetables::therapist_week))
        .routes(routes!(timetables::room_week))
        .routes(routes!(timetables::site_day))
        .routes(routes!(tasks::list_tasks))
        .routes(routes!(tasks::get_task))
        .routes(routes!(tasks::complete_task))
        .routes(routes!(tasks::reassign_task))
        .routes(routes!(tasks::comment_on_task))
        .routes(routes!(tasks::import_holidays))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(users::set_active))
        .routes(routes!(users::set_supervisees))
        .routes(routes!(directory::list_sites, directory::create_site))
        .routes(routes!(directory::get_site, directory::update_site))
        .routes(routes!(directory::list_site_rooms, directory::create_room))
        .routes(routes!(directory::get_room, directory::update_room))
        .routes(routes!(children::list_children, children::create_child))
        .routes(routes!(children::get_child, children::update_child))
        .routes(routes!(children::add_carer))
        .routes(routes!(children::get_carer, children::update_carer))
        .routes(routes!(children::outbound))
        .routes(routes!(children::open_case))
        .routes(routes!(children::update_case))
        .routes(routes!(children::close_case))
        .routes(routes!(children::change_team));
    let router = break_glass::register(router);
    let router = audit::register(router);
    let router = retention::register(router);
    let router = subject_access::register(router);
    let router = room_care::register(router);
    let router = disruptions::register(router);
    let router = incidents::register(router);
    let router = site_emergency::register(router);
    let router = emergency::register(router);
    let router = measures::register(router);
    let router = feedback::register(router);
    goals::register(router)
}

/// The OpenAPI document, built once from the routes (a cache: safe to lose).
pub fn openapi() -> &'static OpenApiDocument {
    static DOCUMENT: OnceLock<OpenApiDocument> = OnceLock::new();
    DOCUMENT.get_or_init(|| router().into_openapi())
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document for this API"))
)]
async fn openapi_json() -> Json<&'static OpenApiDocument> {
    Json(openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_route_is_registered_through_routes_macro() {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api");
        let mut offenders = Vec::new();
        for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            let source = std::fs::read_to_string(entry.path()).unwrap_or_default();
            // Only the code before the tests: the tests name the calls they look for.
            let code_part = source.split("#[cfg(test)]").next().unwrap_or("");
            for (n, line) in code_part.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                for forbidden in [
                    ".route(",
                    ".route_service(",
                    ".nest_service(",
                    "Router::new(",
                ] {
                    if code.contains(forbidden) {
                        offenders.push(format!("{}:{}: {}", entry.path().display(), n + 1, code));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "undocumented routes: {offenders:#?}");
    }

    #[test]
    fn the_document_names_every_operation_and_every_operation_answers_problems() {
        let doc = openapi();
        let paths: Vec<&String> = doc.paths.paths.keys().collect();
        for expected in [
            "/healthz",
            "/api/v1/openapi.json",
            "/api/v1/service",
            "/api/v1/sites",
            "/api/v1/sites/{id}",
            "/api/v1/sites/{id}/rooms",
            "/api/v1/rooms/{id}",
            "/api/v1/children",
            "/api/v1/children/{id}",
            "/api/v1/children/{id}/carers",
            "/api/v1/children/{id}/cases",
            "/api/v1/carers/{id}",
            "/api/v1/carers/{id}/outbound",
            "/api/v1/cases/{id}",
            "/api/v1/cases/{id}/close",
            "/api/v1/cases/{id}/team",
            "/api/v1/cases/{id}/agreement",
            "/api/v1/cases/{id}/agreement/versions",
            "/api/v1/cases/{id}/agreement/versions/{agreement}/activate",
            "/api/v1/cases/{id}/agreement/versions/{agreement}/document",
            "/api/v1/cases/{id}/agreement/consent",
            "/api/v1/cases/{id}/agreement/links",
            "/api/v1/cases/{id}/agreement/links/{link}/revoke",
            "/api/v1/cases/{id}/checklist",
            "/api/v1/sessions/{id}/record",
            "/api/v1/sessions/{id}/record/draft",
            "/api/v1/cases/{id}/session-records",
            "/api/v1/cases/{id}/process-notes",
            "/api/v1/cases/{id}/contacts",
            "/api/v1/service/contact-policy",
            "/api/v1/me/supervision",
            "/api/v1/supervisions",
            "/api/v1/concerns",
            "/api/v1/concerns/{id}",
            "/api/v1/allegations",
            "/api/v1/safeguarding/queue",
            "/api/v1/safeguarding/rota",
        ] {
            assert!(
                paths.iter().any(|p| *p == expected),
                "{expected} missing from {paths:?}"
            );
        }
        assert!(
            doc.components
                .as_ref()
                .is_some_and(|c| c.schemas.contains_key("Problem"))
        );
    }
}
