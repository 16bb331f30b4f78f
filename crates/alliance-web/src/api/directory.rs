//! Sites and rooms: the service's places. Readable by everyone signed in; changed by
//! administrators.

use crate::AppState;
use crate::auth::Signed;
use crate::extract::{ApiJson, ApiQuery, PageParams};
use crate::problem::{ApiError, Problem};
use alliance_core::directory::{Room, RoomId, RoomInput, Site, SiteId, SiteInput};
use alliance_core::{Cursor, PageRequest, Version};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A site: a school, a clinic or a community base.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteView {
    pub id: String,
    pub name: String,
    /// `school`, `clinic` or `community`.
    pub kind: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// Who to call out of hours (the local authority's emergency duty team, and so on).
    pub out_of_hours: Option<String>,
    /// A school's own Designated Safeguarding Lead (schools only).
    pub school_dsl_name: Option<String>,
    pub school_dsl_contact: Option<String>,
    pub active: bool,
    /// The record's version, for updates (a stale one is refused with 409).
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Site> for SiteView {
    fn from(s: Site) -> Self {
        let d = s.details;
        Self {
            id: s.id.to_string(),
            name: d.name,
            kind: d.kind.code().to_owned(),
            address: d.address,
            phone: d.phone,
            out_of_hours: d.out_of_hours,
            school_dsl_name: d.school_dsl_name,
            school_dsl_contact: d.school_dsl_contact,
            active: s.active,
            version: s.version.get(),
            created_at: s.created_at.to_string(),
            updated_at: s.updated_at.to_string(),
        }
    }
}

/// A site with its rooms.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteWithRooms {
    #[serde(flatten)]
    pub site: SiteView,
    /// Every room of the site, active or not, by name.
    pub rooms: Vec<RoomView>,
}

/// A room of a site.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomView {
    pub id: String,
    pub site_id: String,
    pub name: String,
    /// How many people the room holds.
    pub capacity: u16,
    /// Step-free access, an accessible toilet nearby.
    pub step_free: bool,
    pub accessibility_notes: Option<String>,
    pub active: bool,
    /// The record's version, for updates (a stale one is refused with 409).
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Room> for RoomView {
    fn from(r: Room) -> Self {
        Self {
            id: r.id.to_string(),
            site_id: r.site_id.to_string(),
            name: r.details.name,
            capacity: r.details.capacity,
            step_free: r.details.step_free,
            accessibility_notes: r.details.accessibility_notes,
            active: r.active,
            version: r.version.get(),
            created_at: r.created_at.to_string(),
            updated_at: r.updated_at.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SitePage {
    pub items: Vec<SiteView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoomPage {
    pub items: Vec<RoomView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Defines a site body: the fields of `SiteInput` (each optional, absent meaning empty) and
/// any more given, with the conversion to the core's input.
macro_rules! site_body {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// 2 to 120 characters, unique among the sites.
            #[serde(default)]
            pub name: Option<String>,
            /// `school`, `clinic` or `community`.
            #[serde(default)]
            pub kind: Option<String>,
            #[serde(default)]
            pub address: Option<String>,
            /// A telephone number, like `0113 496 0000`.
            #[serde(default)]
            pub phone: Option<String>,
            /// Who to call out of hours.
            #[serde(default)]
            pub out_of_hours: Option<String>,
            /// A school's own DSL (only a school has one).
            #[serde(default)]
            pub school_dsl_name: Option<String>,
            #[serde(default)]
            pub school_dsl_contact: Option<String>,
        }

        impl $name {
            /// The core's input: an absent field is empty.
            pub fn input(&self) -> SiteInput {
                SiteInput {
                    name: text(&self.name),
                    kind: text(&self.kind),
                    address: text(&self.address),
                    phone: text(&self.phone),
                    out_of_hours: text(&self.out_of_hours),
                    school_dsl_name: text(&self.school_dsl_name),
                    school_dsl_contact: text(&self.school_dsl_contact),
                }
            }
        }
    };
}

site_body! {
    /// A new site.
    SiteBody {}
}

site_body! {
    /// A site's details, whether it is in use, and the version they were read at.
    UpdateSiteBody {
        version: i64,
        /// False retires the site (it is kept for the record).
        active: bool,
    }
}

/// Defines a room body: the fields of `RoomInput`, with the capacity as a number, and any
/// more given, with the conversion to the core's input.
macro_rules! room_body {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// 1 to 80 characters, unique within the site.
            #[serde(default)]
            pub name: Option<String>,
            /// How many people the room holds, from 1 to 200.
            #[serde(default)]
            pub capacity: Option<i64>,
            #[serde(default)]
            pub step_free: bool,
            #[serde(default)]
            pub accessibility_notes: Option<String>,
        }

        impl $name {
            /// The core's input: an absent field is empty (a missing capacity is refused there).
            pub fn input(&self) -> RoomInput {
                RoomInput {
                    name: text(&self.name),
                    capacity: self.capacity.map(|c| c.to_string()).unwrap_or_default(),
                    step_free: self.step_free,
                    accessibility_notes: text(&self.accessibility_notes),
                }
            }
        }
    };
}

room_body! {
    /// A new room.
    RoomBody {}
}

room_body! {
    /// A room's details, whether it is in use, and the version they were read at.
    UpdateRoomBody {
        version: i64,
        /// False retires the room (it is kept for the record).
        active: bool,
    }
}

pub(super) fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

pub(super) fn version(raw: i64) -> Result<Version, ApiError> {
    Version::new(raw).map_err(|m| {
        Problem::for_status(StatusCode::UNPROCESSABLE_ENTITY)
            .field("version", m)
            .into()
    })
}

pub(super) fn not_found() -> ApiError {
    Problem::for_status(StatusCode::NOT_FOUND).into()
}

fn site_id(raw: &str) -> Result<SiteId, ApiError> {
    SiteId::parse(raw).map_err(|_| not_found())
}

fn room_id(raw: &str) -> Result<RoomId, ApiError> {
    RoomId::parse(raw).map_err(|_| not_found())
}

/// One page of a list held in memory, in its order. The cursor is the position and id of the
/// last item shown; the id is looked for first, so a record added or removed before it
/// between requests neither skips nor repeats the ones after it. When that item has itself
/// gone, the list carries on from where it stood.
pub(super) fn page_in_memory<T>(
    rows: Vec<T>,
    id_of: impl Fn(&T) -> String,
    request: &PageRequest,
) -> (Vec<T>, Option<String>) {
    let start = match &request.after {
        None => 0,
        Some(cursor) => {
            let (position, id) = cursor.as_str().split_once('.').unwrap_or(("0", ""));
            match rows.iter().position(|r| id_of(r) == id) {
                Some(i) => i + 1,
                None => position
                    .parse::<usize>()
                    .unwrap_or(0)
                    .saturating_sub(1)
                    .min(rows.len()),
            }
        }
    };
    let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(rows.len());
    let next = if end < rows.len() && end > start {
        rows.get(end - 1).map(|r| {
            Cursor::from_key(format!("{end}.{}", id_of(r)))
                .as_str()
                .to_owned()
        })
    } else {
        None
    };
    let items = rows.into_iter().skip(start).take(limit).collect();
    (items, next)
}

/// The service's sites, by name, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/sites",
    tag = "sites",
    params(PageParams),
    responses(
        (status = 200, description = "A page of sites", body = SitePage),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A paging parameter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_sites(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<SitePage>, ApiError> {
    let page = params.request()?;
    let sites = state.alliance.list_sites(&actor).await?;
    let (items, next) = page_in_memory(sites, |s| s.id.to_string(), &page);
    Ok(Json(SitePage {
        items: items.into_iter().map(SiteView::from).collect(),
        next,
    }))
}

/// Adds a site (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/sites",
    tag = "sites",
    request_body = SiteBody,
    responses(
        (status = 201, description = "Created", body = SiteView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or the name is taken", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_site(
    State(state): State<AppState>,
    Signed(actor): Signed,
    ApiJson(body): ApiJson<SiteBody>,
) -> Result<(StatusCode, Json<SiteView>), ApiError> {
    let site = state.alliance.create_site(&actor, &body.input()).await?;
    Ok((StatusCode::CREATED, Json(site.into())))
}

/// One site, with its rooms.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{id}",
    tag = "sites",
    params(("id" = String, Path, description = "The site's id")),
    responses(
        (status = 200, description = "The site and its rooms", body = SiteWithRooms),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_site(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<SiteWithRooms>, ApiError> {
    let (site, rooms) = state.alliance.get_site(&actor, site_id(&id)?).await?;
    Ok(Json(SiteWithRooms {
        site: site.into(),
        rooms: rooms.into_iter().map(RoomView::from).collect(),
    }))
}

/// Changes a site, or retires it (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/sites/{id}",
    tag = "sites",
    params(("id" = String, Path, description = "The site's id")),
    request_body = UpdateSiteBody,
    responses(
        (status = 200, description = "Changed", body = SiteView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or the name is taken", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_site(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateSiteBody>,
) -> Result<Json<SiteView>, ApiError> {
    let id = site_id(&id)?;
    let expected = version(body.version)?;
    let site = state
        .alliance
        .update_site(&actor, id, &body.input(), body.active, expected)
        .await?;
    Ok(Json(site.into()))
}

/// A site's rooms, by name, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{id}/rooms",
    tag = "sites",
    params(("id" = String, Path, description = "The site's id"), PageParams),
    responses(
        (status = 200, description = "A page of the site's rooms", body = RoomPage),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A paging parameter is not valid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_site_rooms(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<RoomPage>, ApiError> {
    let id = site_id(&id)?;
    let page = params.request()?;
    // Through the site, so an unknown site answers 404 rather than an empty list.
    let (_, rooms) = state.alliance.get_site(&actor, id).await?;
    let (items, next) = page_in_memory(rooms, |r| r.id.to_string(), &page);
    Ok(Json(RoomPage {
        items: items.into_iter().map(RoomView::from).collect(),
        next,
    }))
}

/// Adds a room to a site (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/sites/{id}/rooms",
    tag = "sites",
    params(("id" = String, Path, description = "The site's id")),
    request_body = RoomBody,
    responses(
        (status = 201, description = "Created", body = RoomView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such site", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or the site has a room of this name", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_room(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RoomBody>,
) -> Result<(StatusCode, Json<RoomView>), ApiError> {
    let site = site_id(&id)?;
    let room = state
        .alliance
        .create_room(&actor, site, &body.input())
        .await?;
    Ok((StatusCode::CREATED, Json(room.into())))
}

/// One room.
#[utoipa::path(
    get,
    path = "/api/v1/rooms/{id}",
    tag = "sites",
    params(("id" = String, Path, description = "The room's id")),
    responses(
        (status = 200, description = "The room", body = RoomView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_room(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
) -> Result<Json<RoomView>, ApiError> {
    let room = state.alliance.get_room(&actor, room_id(&id)?).await?;
    Ok(Json(room.into()))
}

/// Changes a room, or retires it (administrators).
#[utoipa::path(
    put,
    path = "/api/v1/rooms/{id}",
    tag = "sites",
    params(("id" = String, Path, description = "The room's id")),
    request_body = UpdateRoomBody,
    responses(
        (status = 200, description = "Changed", body = RoomView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator, or a read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed by someone else since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is not valid, or the site has a room of this name", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_room(
    State(state): State<AppState>,
    Signed(actor): Signed,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateRoomBody>,
) -> Result<Json<RoomView>, ApiError> {
    let id = room_id(&id)?;
    let expected = version(body.version)?;
    let room = state
        .alliance
        .update_room(&actor, id, &body.input(), body.active, expected)
        .await?;
    Ok(Json(room.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn a_site_body_becomes_the_core_input_with_absent_fields_empty() {
        let site: Result<SiteBody, _> =
            body(r#"{"name":"Oakfield Primary","kind":"school","phone":null}"#);
        let input = site.map(|s| s.input());
        assert_eq!(
            input.as_ref().map(|i| i.name.as_str()),
            Ok("Oakfield Primary")
        );
        assert_eq!(input.as_ref().map(|i| i.kind.as_str()), Ok("school"));
        assert_eq!(input.as_ref().map(|i| i.phone.as_str()), Ok(""));
        assert_eq!(input.as_ref().map(|i| i.school_dsl_name.as_str()), Ok(""));
    }

    #[test]
    fn an_update_needs_its_version_and_refuses_unknown_fields() {
        assert!(body::<UpdateSiteBody>(r#"{"name":"Oak","active":true}"#).is_err());
        assert!(body::<UpdateSiteBody>(r#"{"version":1,"active":true,"name":"Oak"}"#).is_ok());
        let unknown = body::<SiteBody>(r#"{"name":"Oak","colour":"green"}"#);
        assert!(unknown.is_err_and(|e| e.contains("colour")));
        assert!(version(0).is_err());
        assert!(version(1).is_ok());
    }

    #[test]
    fn a_room_capacity_is_a_number_passed_on_as_text() {
        let room: Result<RoomBody, _> = body(r#"{"name":"Willow","capacity":4,"step_free":true}"#);
        let input = room.map(|r| r.input());
        assert_eq!(input.as_ref().map(|i| i.capacity.as_str()), Ok("4"));
        assert_eq!(input.as_ref().map(|i| i.step_free), Ok(true));
        let absent: Result<RoomBody, _> = body(r#"{"name":"Willow"}"#);
        assert_eq!(absent.map(|r| r.input().capacity), Ok(String::new()));
        assert!(body::<RoomBody>(r#"{"name":"Willow","capacity":"4"}"#).is_err());
        let negative: Result<UpdateRoomBody, _> =
            body(r#"{"version":2,"active":false,"name":"Willow","capacity":-1}"#);
        assert_eq!(negative.map(|r| r.input().capacity), Ok("-1".to_owned()));
    }

    fn request(limit: i64, after: Option<&str>) -> PageRequest {
        PageRequest::parse(Some(limit), after).unwrap_or_default()
    }

    #[test]
    fn a_list_in_memory_is_paged_by_the_last_id_shown() {
        let rows: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let (first, next) = page_in_memory(rows.clone(), Clone::clone, &request(2, None));
        assert_eq!(first, ["a", "b"]);
        assert_eq!(next.as_deref(), Some("2.b"));
        let (second, next) =
            page_in_memory(rows.clone(), Clone::clone, &request(2, next.as_deref()));
        assert_eq!(second, ["c", "d"]);
        let (last, next) = page_in_memory(rows.clone(), Clone::clone, &request(2, next.as_deref()));
        assert_eq!(last, ["e"]);
        assert_eq!(next, None);

        // A row added before the cursor does not repeat the ones already shown.
        let mut grown = rows.clone();
        grown.insert(0, "0".to_owned());
        let (after_b, _) = page_in_memory(grown, Clone::clone, &request(2, Some("2.b")));
        assert_eq!(after_b, ["c", "d"]);

        // The last row shown was removed: carry on from where it stood.
        let shrunk: Vec<String> = ["a", "c", "d", "e"].map(String::from).to_vec();
        let (after_gone, _) = page_in_memory(shrunk, Clone::clone, &request(2, Some("2.b")));
        assert_eq!(after_gone, ["c", "d"]);

        // A page that ends exactly at the end has no next.
        let (all, next) = page_in_memory(rows, Clone::clone, &request(5, None));
        assert_eq!(all.len(), 5);
        assert_eq!(next, None);
    }
}
