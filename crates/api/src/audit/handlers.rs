//! The audit log over HTTP: the list with its filters and the CSV export (admins only).

use actix_web::{get, web, HttpResponse};
use cohort_api_types::{AuditPage, AuditQuery, Problem};
use cohort_domain::audit::Source;
use uuid::Uuid;

use super::repo;
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::downloads::{self, CsvPage};
use crate::error::{ApiError, Problems};
use crate::paging::PageRequest;
use crate::AppState;

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
