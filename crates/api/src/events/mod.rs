//! Events: what happened, stored in the transaction that made it happen, before anything reacts
//! to it. One row per cause (its dedupe key), however often the cause is reported.

pub mod repo;

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use cohort_api_types::{Event, EventPage, EventsQuery, PostEvent, Problem};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::paging::PageRequest;
use crate::AppState;

pub use repo::EventRow;

/// Reacts to events inside the transaction that stores them, so what it queues exists if and
/// only if the events do (the automations' matcher, the webhook publisher).
pub type Subscriber = fn(&mut DbConn, &[&EventRow]) -> Result<(), ApiError>;

static SUBSCRIBERS: OnceLock<&'static [Subscriber]> = OnceLock::new();

/// Registers, once at start-up, everything that reacts to events (`app::EVENT_SUBSCRIBERS`).
pub fn subscribe(subscribers: &'static [Subscriber]) {
    let _ = SUBSCRIBERS.set(subscribers);
}

/// Stores events in the caller's transaction, skipping causes already recorded, and hands the
/// new ones to the subscribers; returns how many are new.
pub fn record(conn: &mut DbConn, rows: &[EventRow]) -> Result<usize, ApiError> {
    let subscribers = SUBSCRIBERS.get().ok_or_else(|| {
        ApiError::Internal("no event subscribers: events::subscribe was not called at start-up".into())
    })?;
    let mut added = 0;
    for chunk in rows.chunks(1000) {
        let n = repo::insert_new(conn, chunk)?;
        added += n;
        if n == 0 {
            continue;
        }
        // The rows that were new (a repeated cause keeps its first row) meet the automations.
        let stored: Vec<&EventRow> = if n == chunk.len() {
            chunk.iter().collect()
        } else {
            let ids: Vec<&str> = chunk.iter().map(|r| r.id.as_str()).collect();
            let new = repo::stored_ids(conn, ids)?;
            chunk.iter().filter(|r| new.contains(&r.id)).collect()
        };
        for subscriber in subscribers.iter() {
            subscriber(conn, &stored)?;
        }
    }
    Ok(added)
}

/// The organisation's events, oldest first, optionally of one type (admins only).
#[utoipa::path(
    tag = "events",
    params(EventsQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Unknown event type", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<EventsQuery>,
) -> Result<web::Json<EventPage>, ApiError> {
    caller.require_admin()?;
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    if let Some(t) = query
        .event_type
        .as_deref()
        .filter(|t| !cohort_domain::events::is_event_type(t))
    {
        return Err(ApiError::field(
            "event_type",
            format!(
                "\"{t}\" is not one of {}",
                cohort_domain::events::EVENT_TYPES.join(", ")
            ),
        ));
    }
    let org: Uuid = caller.org;
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let rows = repo::list(conn, org, query.event_type, &page)?;
            Ok(page.finish(rows, |r| db::id(&r.id)))
        })
        .await?;
    Ok(web::Json(EventPage {
        items: items.into_iter().map(EventRow::into_api).collect(),
        next_cursor,
    }))
}

/// Records an integration's event (a payment, or its own `custom.<name>`), which automations
/// then meet. The idempotency key makes retries safe: the same key returns the first event.
#[utoipa::path(
    tag = "events",
    request_body = PostEvent,
    responses(
        (status = 201, description = "Recorded", body = Event),
        (status = 200, description = "Already recorded under this idempotency key: the first event", body = Event),
        (status = 403, description = "Not an admin (or an admin's API key)", body = Problem),
        (status = 422, description = "A field is invalid (named): a type integrations may not post, an unknown person or program, a key too long", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/events")]
pub async fn post_event(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<PostEvent>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let mut p = Problems::default();
    if !cohort_domain::events::may_be_posted(&input.event_type) {
        p.push(
            "event_type",
            "integrations post payment.paid or custom.<name> (letters, digits, _ - .)",
        );
    }
    p.check(
        "idempotency_key",
        cohort_domain::bounded_text(&input.idempotency_key, 1, 200),
    );
    if serde_json::to_string(&input.payload).map_or(0, |s| s.len()) > 16 * 1024 {
        p.push("payload", "at most 16 KiB");
    }
    p.finish()?;
    let org = caller.org;
    let (created, event) = state
        .db
        .write(move |conn| {
            if let Some(person) = input.person_id {
                crate::people::repo::get(conn, org, person).map_err(|e| match e {
                    ApiError::NotFound => ApiError::field("person_id", "no such person in this organisation"),
                    other => other,
                })?;
            }
            if let Some(program) = input.program_id {
                crate::programs::repo::get(conn, org, program).map_err(|e| match e {
                    ApiError::NotFound => ApiError::field("program_id", "no such program in this organisation"),
                    other => other,
                })?;
            }
            let now = db::now();
            let row = EventRow {
                id: db::new_id(),
                organization_id: org.to_string(),
                event_type: input.event_type,
                program_id: input.program_id.map(|p| p.to_string()),
                person_id: input.person_id.map(|p| p.to_string()),
                payload: Value::Object(input.payload).to_string(),
                dedupe_key: Some(format!("posted:{org}:{}", input.idempotency_key.trim())),
                occurred_at: input.occurred_at.map_or(now, |t| t.naive_utc()),
                created_at: now,
            };
            if record(conn, std::slice::from_ref(&row))? == 1 {
                return Ok((true, row.into_api()));
            }
            let stored = repo::by_dedupe_key(conn, row.dedupe_key.as_deref())?;
            Ok((false, stored.into_api()))
        })
        .await?;
    Ok(if created {
        HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/events/{}", event.id)))
            .json(event)
    } else {
        HttpResponse::Ok().json(event)
    })
}
