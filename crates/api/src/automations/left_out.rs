//! Events the automations left out: matching each failed every time it was tried alone. An
//! admin lists them with their last error and, once the cause is mended, gives them back.

use actix_web::{get, post, web};
use cohort_api_types::{LeftOutEvent, LeftOutEventPage, PageQuery, Problem, Requeued};

use super::engine;
use crate::auth::Caller;
use crate::db;
use crate::error::ApiError;
use crate::paging::PageRequest;
use crate::AppState;

/// The organisation's events that the automations left out, by event (admins only): matching
/// each failed every time it was tried alone, so the matchers no longer take it. Each comes with
/// the number of attempts and the last error.
#[utoipa::path(
    tag = "events",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of left-out events", body = LeftOutEventPage),
        (status = 403, description = "Not an admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/events/left-out")]
pub async fn list_left_out(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageRequest,
) -> Result<web::Json<LeftOutEventPage>, ApiError> {
    caller.require_admin()?;
    let org = caller.org;
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let rows = engine::left_out(conn, org, page.after.as_deref(), page.fetch())?;
            Ok(page.finish(rows, |(r, _, _)| db::id(&r.id)))
        })
        .await?;
    Ok(web::Json(LeftOutEventPage {
        items: items
            .into_iter()
            .map(|(event, attempts, last_error)| LeftOutEvent {
                event: event.into_api(),
                attempts,
                last_error: last_error.unwrap_or_default(),
            })
            .collect(),
        next_cursor,
    }))
}

/// Gives every left-out event of the organisation back to the matchers, once what made them
/// fail is mended: each is tried again as if it had just arrived, with its attempts counted from
/// zero (admins only).
#[utoipa::path(
    tag = "events",
    responses(
        (status = 200, description = "How many events meet the automations again", body = Requeued),
        (status = 403, description = "Not an admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/events/left-out/match-again")]
pub async fn match_left_out_again(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<Requeued>, ApiError> {
    caller.require_admin()?;
    let (org, actor) = (caller.org, caller.actor());
    let requeued = state
        .db
        .write(move |conn| {
            let requeued = engine::requeue_left_out(conn, org)?;
            if requeued > 0 {
                let after = Requeued { requeued };
                crate::audit::record(
                    conn,
                    &actor,
                    "events.requeued",
                    ("organization", org),
                    crate::audit::NONE,
                    after,
                )?;
            }
            Ok(requeued)
        })
        .await?;
    Ok(web::Json(Requeued { requeued }))
}
