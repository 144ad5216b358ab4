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

pub mod repo;

use actix_web::{get, web, HttpResponse};
use cohort_api_types::{AuditPage, AuditQuery, Problem};
use cohort_domain::audit::{self as rules, Source};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::{Caller, Via};
use crate::db::{self, DbConn};
use crate::downloads::{self, CsvPage};
use crate::error::{ApiError, Problems};
use crate::paging::PageRequest;
use crate::AppState;

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

impl Actor {
    pub fn from_caller(caller: &Caller) -> Self {
        let (api_key, source) = match caller.via {
            Via::ApiKey(key) => (Some(key), Source::ApiKey),
            Via::Password if caller.dashboard => (None, Source::Dashboard),
            Via::Password => (None, Source::ApiKey),
        };
        Self {
            org: caller.org,
            person: Some(caller.person),
            api_key,
            source,
            // Read while the request is handled: the request id lives in the request's task.
            request_id: crate::request_id::current(),
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

fn parse_filter(query: &AuditQuery) -> Result<repo::AuditFilter, ApiError> {
    let mut problems = Problems::default();
    if let Some(source) = &query.source {
        problems.check("source", Source::parse(source));
    }
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from >= to {
            problems.push("to", "must be after `from`");
        }
    }
    problems.finish()?;
    Ok(repo::AuditFilter {
        actor: query.actor,
        source: query.source.clone(),
        object_type: query.object_type.clone().filter(|s| !s.is_empty()),
        object_id: query.object_id.clone().filter(|s| !s.is_empty()),
        action: query.action.clone().filter(|s| !s.is_empty()),
        from: query.from.map(|t| t.naive_utc()),
        to: query.to.map(|t| t.naive_utc()),
    })
}

/// The audit log, newest first, filtered (admins only). Entries are never changed through the API.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of audit entries, newest first", body = AuditPage),
        (status = 400, description = "Bad query parameter", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Invalid filter values", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/audit-log")]
pub async fn list_audit_log(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<AuditPage>, ApiError> {
    caller.require_admin()?;
    let query = query.into_inner();
    let filter = parse_filter(&query)?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let org = caller.org;
    let (rows, next_cursor) = state
        .db
        .read(move |conn| {
            repo::list(conn, org, &filter, page.after.as_deref(), page.fetch())
                .map(|rows| page.finish(rows, |r| db::id(&r.id)))
        })
        .await?;
    Ok(web::Json(AuditPage {
        items: rows.into_iter().map(repo::AuditRow::into_api).collect(),
        next_cursor,
    }))
}

const EXPORT_EXAMPLE: &str = "occurred_at,source,actor_person_id,actor_api_key_id,action,object_type,object_id,before,after,request_id\r\n\
2027-01-11T09:00:00Z,dashboard,0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e01,,program.updated,program,0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30,\"{\"\"status\"\":\"\"draft\"\"}\",\"{\"\"status\"\":\"\"published\"\"}\",0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0eff\r\n";

/// The audit entries matching the filters as CSV, newest first, times in UTC (admins only), at
/// most 100,000, written as they are read. `limit` and `cursor` are checked as on the list, then
/// ignored: the export holds every matching entry.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "The matching entries", content_type = "text/csv", body = String, example = json!(EXPORT_EXAMPLE)),
        (status = 400, description = "Bad query parameter", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Invalid filter values", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/audit-log/export")]
pub async fn export_audit_log(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let query = query.into_inner();
    PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filter = parse_filter(&query)?;
    let org = caller.org;
    crate::downloads::csv_stream(&state.db, "audit-log.csv".into(), move |conn, after| {
        export_page(conn, org, &filter, after)
    })
    .await
}

/// A page of the audit export, newest first: the entries before an id, with how many were
/// sent before them (the export stops at [`repo::EXPORT_MAX`]).
fn export_page(
    conn: &mut DbConn,
    org: Uuid,
    filter: &repo::AuditFilter,
    after: Option<(String, i64)>,
) -> Result<CsvPage<(String, i64)>, ApiError> {
    use cohort_domain::spreadsheet::safe_cell;
    let (before, sent) = after.clone().unzip();
    let sent = sent.unwrap_or(0);
    let rows = if sent < repo::EXPORT_MAX {
        repo::list(conn, org, filter, before.as_deref(), downloads::PAGE)?
    } else {
        Vec::new()
    };
    let header = [
        "occurred_at",
        "source",
        "actor_person_id",
        "actor_api_key_id",
        "action",
        "object_type",
        "object_id",
        "before",
        "after",
        "request_id",
    ];
    CsvPage::of(
        after.is_none().then_some(&header[..]),
        rows,
        |row| (row.id.clone(), sent + downloads::PAGE),
        |row| {
            let at = db::utc(row.occurred_at).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            [
                at.as_str(),
                &row.source,
                row.actor_person_id.as_deref().unwrap_or_default(),
                row.actor_api_key_id.as_deref().unwrap_or_default(),
                &row.action,
                &row.object_type,
                &row.object_id,
                row.before_summary.as_deref().unwrap_or_default(),
                row.after_summary.as_deref().unwrap_or_default(),
                row.request_id.as_deref().unwrap_or_default(),
            ]
            .map(|c| safe_cell(c).into_owned())
            .into()
        },
    )
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
