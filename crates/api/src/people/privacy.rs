//! Personal data over HTTP: one person's export (everything Cohort holds about them, as stored)
//! and their erasure (anonymise what other records need, delete the rest, and rewrite every text
//! that still names them, in one transaction). The work is in [`super::personal_data`].

use actix_web::{get, post, web, HttpResponse};
use cohort_api_types::{EraseRequest, Erasure, PersonalDataExport, Problem};
use uuid::Uuid;

use super::personal_data::{erase, export};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::Body;
use crate::AppState;

/// Everything Cohort holds about one person, as a JSON archive (admins only). Secrets (password
/// and token hashes) are left out.
#[utoipa::path(
    tag = "people",
    params(("id" = Uuid, Path, description = "The person's id")),
    responses(
        (status = 200, description = "The person's data", body = PersonalDataExport),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such person in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/people/{id}/export")]
pub async fn export_person(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let archive = state.db.read(move |conn| export(conn, org, id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"person-{id}.json\""),
        ))
        .json(archive))
}

/// Erases a person: deletes their sessions, API keys, notifications, badges, answers, attributes
/// and unsent mail, keeps what other records need (memberships, pairings, requests) under the name
/// "Erased person", and rewrites every stored text that named them (mail and webhook logs,
/// events, other people's notifications, audit summaries). The body repeats the person's email.
/// Recorded in the audit log as `person.erased`, without the erased data. Cannot be undone.
#[utoipa::path(
    tag = "people",
    params(("id" = Uuid, Path, description = "The person's id")),
    request_body = EraseRequest,
    responses(
        (status = 200, description = "The person was erased", body = Erasure),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such person in this organisation", body = Problem),
        (status = 409, description = "This is the organisation's last admin", body = Problem),
        (status = 422, description = "`confirm` is not the person's email", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/people/{id}/erase")]
pub async fn erase_person(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<EraseRequest>,
) -> Result<web::Json<Erasure>, ApiError> {
    caller.require_admin()?;
    let (actor, id) = (caller.actor(), id.into_inner());
    let erasure = state
        .db
        .write(move |conn| {
            crate::auth::repo::confirm_admin(conn, &caller)?;
            erase(conn, &actor, id, &input.confirm)
        })
        .await?;
    Ok(web::Json(erasure))
}
