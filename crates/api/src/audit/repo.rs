use chrono::NaiveDateTime;
use cohort_api_types::AuditEntry;
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::{audit_log, organizations};

/// The most rows one CSV export holds.
pub const EXPORT_MAX: i64 = 100_000;

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone, Debug)]
#[diesel(table_name = audit_log, treat_none_as_null = true)]
pub struct AuditRow {
    pub id: String,
    pub organization_id: String,
    pub occurred_at: NaiveDateTime,
    pub source: String,
    pub actor_person_id: Option<String>,
    pub actor_api_key_id: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before_summary: Option<String>,
    pub after_summary: Option<String>,
    pub request_id: Option<String>,
}

impl AuditRow {
    pub fn into_api(self) -> AuditEntry {
        // Summaries are written by `audit::record` as JSON.
        let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        AuditEntry {
            id: db::id(&self.id),
            occurred_at: db::utc(self.occurred_at),
            source: self.source,
            actor_person_id: self.actor_person_id.as_deref().map(db::id),
            actor_api_key_id: self.actor_api_key_id.as_deref().map(db::id),
            action: self.action,
            object_type: self.object_type,
            object_id: self.object_id,
            before: json(self.before_summary),
            after: json(self.after_summary),
            request_id: self.request_id,
        }
    }
}

pub fn insert(conn: &mut DbConn, row: &AuditRow) -> Result<(), ApiError> {
    diesel::insert_into(audit_log::table).values(row).execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<Uuid>,
    pub source: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

/// Entries newest first (ids are UUIDv7), older than `before_id` when given.
pub fn list(
    conn: &mut DbConn,
    org: Uuid,
    filter: &AuditFilter,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRow>, ApiError> {
    let mut query = audit_log::table
        .filter(audit_log::organization_id.eq(org.to_string()))
        .select(AuditRow::as_select())
        .order(audit_log::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(id) = before_id {
        query = query.filter(audit_log::id.lt(id.to_owned()));
    }
    if let Some(actor) = filter.actor {
        query = query.filter(audit_log::actor_person_id.eq(actor.to_string()));
    }
    if let Some(source) = &filter.source {
        query = query.filter(audit_log::source.eq(source.clone()));
    }
    if let Some(t) = &filter.object_type {
        query = query.filter(audit_log::object_type.eq(t.clone()));
    }
    if let Some(id) = &filter.object_id {
        query = query.filter(audit_log::object_id.eq(id.clone()));
    }
    if let Some(action) = &filter.action {
        query = if action.ends_with('.') {
            query.filter(
                audit_log::action
                    .like(format!("{}%", db::like_pattern(action).trim_matches('%')))
                    .escape('\\'),
            )
        } else {
            query.filter(audit_log::action.eq(action.clone()))
        };
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::occurred_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::occurred_at.lt(to));
    }
    Ok(query.load(conn)?)
}

/// Deletes every organisation's entries older than its retention period; how many.
pub fn purge(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, ApiError> {
    let orgs: Vec<(String, i32)> = organizations::table
        .select((organizations::id, organizations::audit_retention_days))
        .load(conn)?;
    let mut purged = 0;
    for (org, days) in orgs {
        let cutoff = cohort_domain::audit::retention_cutoff(now, days);
        purged += diesel::delete(
            audit_log::table
                .filter(audit_log::organization_id.eq(org))
                .filter(audit_log::occurred_at.lt(cutoff)),
        )
        .execute(conn)?;
    }
    Ok(purged)
}

pub fn save(conn: &mut DbConn, row: &AuditRow) -> Result<(), ApiError> {
    diesel::update(audit_log::table.find(&row.id)).set(row).execute(conn)?;
    Ok(())
}
