//! Dead jobs over the API: an admin lists the organisation's jobs that ran out of attempts (an
//! email the relay kept refusing for a day, a webhook nobody answered) and queues them again.

use actix_web::{get, post, web, HttpResponse};
use cohort_api_types::{DeadJob, DeadJobPage, PageQuery, Problem};
use uuid::Uuid;

use super::DeadRow;
use crate::audit;
use crate::auth::Caller;
use crate::db;
use crate::error::ApiError;
use crate::paging::PageRequest;
use crate::AppState;

impl DeadRow {
    fn into_api(self) -> DeadJob {
        DeadJob {
            id: db::id(&self.id),
            kind: self.kind,
            status: self.status,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            last_error: self.last_error,
            created_at: db::utc(self.created_at),
            finished_at: self.finished_at.map(db::utc),
        }
    }
}

/// The organisation's dead jobs, newest first.
#[utoipa::path(
    tag = "jobs",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of dead jobs", body = DeadJobPage),
        (status = 403, description = "Not an admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/jobs/dead")]
pub async fn list_dead_jobs(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageRequest,
) -> Result<web::Json<DeadJobPage>, ApiError> {
    caller.require_admin()?;
    let org = caller.org;
    let (rows, next_cursor) = state
        .db
        .read(move |conn| {
            let rows = super::list_dead(conn, org, page.after.as_deref(), page.fetch())?;
            Ok(page.finish(rows, |r: &DeadRow| db::id(&r.id)))
        })
        .await?;
    Ok(web::Json(DeadJobPage {
        items: rows.into_iter().map(DeadRow::into_api).collect(),
        next_cursor,
    }))
}

/// Queues a dead job again, due now and with all its attempts.
#[utoipa::path(
    tag = "jobs",
    params(("id" = Uuid, Path, description = "The job's id")),
    responses(
        (status = 202, description = "Queued again", body = DeadJob),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such dead job in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/jobs/{id}/retry")]
pub async fn retry_dead_job(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    let job = state
        .db
        .write(move |conn| {
            let row = super::retry_dead(conn, org, id)?;
            let before = serde_json::json!({"status": super::DEAD, "kind": &row.kind});
            let after = serde_json::json!({"status": &row.status, "kind": &row.kind});
            audit::record(conn, &actor, "job.retried", ("job", id), before, after)?;
            Ok(row.into_api())
        })
        .await?;
    Ok(HttpResponse::Accepted().json(job))
}
