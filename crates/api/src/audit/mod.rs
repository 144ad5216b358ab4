//! The audit log: every admin write, recorded in the same transaction as the change, read
//! through `GET /audit-log` (filters, newest first) and its CSV export, never written through
//! the API. Old entries are purged after the organisation's retention period.
//!
//! # Recording a change
//!
//! A handler that changes something takes the actor before its transaction and calls
//! [`record`] inside it, one line, with the object before and after (anything `Serialize`:
//! a row, an API type, a `json!`; [`NONE`] on the side where the object does not exist):
//!
//! ```ignore
//! let actor = caller.actor();
//! state.db.write(move |conn| {
//!     let before = repo::get(conn, org, id)?.into_api();
//!     let after = /* … the change … */;
//!     audit::record(conn, &actor, "program.updated", ("program", id), &before, &after)?;
//!     Ok(after)
//! }).await
//! ```
//!
//! Only the fields that differ are stored, and fields whose names say they are secrets
//! (`password`, `secret`, `token`, `hash`) never are (`cohort_domain::audit::summarize`).
//! Work done by Cohort itself (jobs) records with [`Actor::system`].
//!
//! # Where a change came from
//!
//! The dashboard sends `X-Cohort-Client: dashboard` with its bearer token: its changes are
//! `dashboard`. Requests with an API key, and bearer-token requests without that header (mobile
//! apps, scripts), are `api_key`; entries name the key when there is one. The header grants
//! nothing: it only labels entries.

pub mod handlers;
pub mod repo;

use cohort_domain::audit::{self as rules, Source};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;

/// The request header the dashboard sends so its changes are logged as `dashboard`.
pub const CLIENT_HEADER: &str = "x-cohort-client";

/// Nothing: the `before` of a creation, the `after` of a deletion.
pub const NONE: Option<()> = None;

/// Who made a change, from where, in which request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub org: Uuid,
    pub person: Option<Uuid>,
    pub api_key: Option<Uuid>,
    pub source: Source,
    pub request_id: Option<String>,
}

/// Whether a request comes from the dashboard: it sends [`CLIENT_HEADER`]` = dashboard`.
pub fn from_dashboard(req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get(CLIENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("dashboard"))
}

impl Actor {
    /// A person acting through a one-time link from an email, without logging in: from the
    /// dashboard's pages, or from another client. `request_id` is read in the request's task.
    pub fn link_holder(org: Uuid, person: Uuid, dashboard: bool, request_id: Option<String>) -> Self {
        Self {
            org,
            person: Some(person),
            api_key: None,
            source: if dashboard { Source::Dashboard } else { Source::ApiKey },
            request_id,
        }
    }

    /// Cohort itself, e.g. a job.
    pub fn system(org: Uuid) -> Self {
        Self {
            org,
            person: None,
            api_key: None,
            source: Source::System,
            request_id: None,
        }
    }
}

/// Records one change in the caller's transaction. `object` is the object's type and id.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    object: (&str, impl std::fmt::Display),
    before: impl Serialize,
    after: impl Serialize,
) -> Result<(), ApiError> {
    // A value that cannot be serialised logs as null rather than failing the change it describes.
    let json = |v: serde_json::Result<Value>| v.unwrap_or(Value::Null);
    let (before, after) = rules::summarize(&json(serde_json::to_value(before)), &json(serde_json::to_value(after)));
    let row = repo::AuditRow {
        id: db::new_id(),
        organization_id: actor.org.to_string(),
        occurred_at: db::now(),
        source: actor.source.as_str().to_owned(),
        actor_person_id: actor.person.map(|p| p.to_string()),
        actor_api_key_id: actor.api_key.map(|k| k.to_string()),
        action: action.to_owned(),
        object_type: object.0.to_owned(),
        object_id: object.1.to_string(),
        before_summary: before.map(|v| v.to_string()),
        after_summary: after.map(|v| v.to_string()),
        request_id: actor.request_id.clone(),
    };
    repo::insert(conn, &row)
}

/// The job that deletes entries older than each organisation's retention period.
pub const PURGE_JOB: &str = "audit.purge";

/// How often each process queues a purge (and once at start).
pub const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

pub async fn run_purge(db: db::Db, _job: crate::jobs::Job) -> Result<(), String> {
    let purged = db
        .write(|conn| repo::purge(conn, db::now()))
        .await
        .map_err(|e| e.to_string())?;
    if purged > 0 {
        tracing::info!(purged, "audit entries past their retention purged");
    }
    Ok(())
}
