//! Badges: a small resource that automations award and a person's page shows.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use cohort_api_types::{AwardedBadge, AwardedBadgeList, Badge, BadgeList, CreateBadge, Problem};
use uuid::Uuid;

use super::repo::{self, BadgeRow};
use crate::audit;
use crate::auth::Caller;
use crate::db;
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::AppState;

/// At most this many badges per organisation: the list is not paged.
const MAX_BADGES: i64 = 500;

/// The organisation's badges, by name.
#[utoipa::path(
    tag = "automations",
    responses(
        (status = 200, description = "Every badge", body = BadgeList),
        (status = 403, description = "Not an admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/badges")]
pub async fn list_badges(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<BadgeList>, ApiError> {
    caller.require_admin()?;
    let org = caller.org;
    let items = state.db.read(move |conn| repo::badges(conn, org)).await?;
    Ok(web::Json(BadgeList {
        items: items.into_iter().map(BadgeRow::into_api).collect(),
    }))
}

/// Creates a badge (a name unique in the organisation).
#[utoipa::path(
    tag = "automations",
    request_body = CreateBadge,
    responses(
        (status = 201, description = "Created", body = Badge),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 409, description = "The name is taken, or the organisation has 500 badges", body = Problem),
        (status = 422, description = "A field is invalid (named)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/badges")]
pub async fn create_badge(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<CreateBadge>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let mut p = Problems::default();
    let name = p.check("name", cohort_domain::bounded_text(&input.name, 1, 80));
    let description = p.check("description", cohort_domain::bounded_text(&input.description, 0, 500));
    p.finish()?;
    let (org, actor) = (caller.org, caller.actor());
    let badge = state
        .db
        .write(move |conn| {
            let existing = repo::count_badges(conn, org)?;
            if existing >= MAX_BADGES {
                return Err(ApiError::Conflict(format!(
                    "An organisation has at most {MAX_BADGES} badges."
                )));
            }
            let row = BadgeRow {
                id: db::new_id(),
                organization_id: org.to_string(),
                name: name.unwrap_or_default(),
                description: description.unwrap_or_default(),
                created_at: db::now(),
            };
            repo::insert_badge(conn, &row).map_err(|e| match e {
                ApiError::Conflict(_) => ApiError::Conflict(format!("A badge named \"{}\" exists.", row.name)),
                other => other,
            })?;
            let badge = row.into_api();
            audit::record(conn, &actor, "badge.created", ("badge", badge.id), audit::NONE, &badge)?;
            Ok(badge)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/badges/{}", badge.id)))
        .json(badge))
}

/// Deletes a badge; people who hold it lose it, and automations awarding it skip that action.
#[utoipa::path(
    tag = "automations",
    params(("id" = Uuid, Path, description = "The badge's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such badge in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/badges/{id}")]
pub async fn delete_badge(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            audit::record(conn, &actor, "badge.deleted", ("badge", id), audit::NONE, audit::NONE)?;
            let n = repo::delete_badge(conn, org, id)?;
            if n == 0 {
                return Err(ApiError::NotFound);
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The badges a person holds (admins, and the person themselves).
#[utoipa::path(
    tag = "automations",
    params(("id" = Uuid, Path, description = "The person's id")),
    responses(
        (status = 200, description = "The person's badges, newest first", body = AwardedBadgeList),
        (status = 403, description = "Neither an admin nor that person", body = Problem),
        (status = 404, description = "No such person in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/people/{id}/badges")]
pub async fn person_badges_list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<AwardedBadgeList>, ApiError> {
    let id = id.into_inner();
    if !caller.is_admin && caller.person != id {
        return Err(ApiError::Forbidden("Only admins see other people's badges."));
    }
    let org = caller.org;
    let items = state
        .db
        .read(move |conn| {
            crate::people::repo::get(conn, org, id)?;
            repo::badges_of(conn, id)
        })
        .await?;
    Ok(web::Json(AwardedBadgeList {
        items: items
            .into_iter()
            .map(|(b, at)| AwardedBadge {
                badge: b.into_api(),
                awarded_at: db::utc(at),
            })
            .collect(),
    }))
}
