//! Events' rows and their queries.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use cohort_api_types::Event;
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::paging::PageRequest;
use crate::schema::events;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = events, treat_none_as_default_value = false)]
pub struct EventRow {
    pub id: String,
    pub organization_id: String,
    pub event_type: String,
    pub program_id: Option<String>,
    pub person_id: Option<String>,
    pub payload: String,
    pub dedupe_key: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

impl EventRow {
    /// An event of `event_type` (one of `cohort_domain::events`) about a person in a program.
    pub fn new(
        org: &str,
        event_type: &str,
        program: &str,
        person: &str,
        payload: Value,
        dedupe_key: String,
        occurred_at: NaiveDateTime,
    ) -> Self {
        Self {
            id: db::new_id(),
            organization_id: org.to_owned(),
            event_type: event_type.to_owned(),
            program_id: Some(program.to_owned()),
            person_id: Some(person.to_owned()),
            payload: payload.to_string(),
            dedupe_key: Some(dedupe_key),
            occurred_at,
            created_at: db::now(),
        }
    }

    pub fn into_api(self) -> Event {
        Event {
            id: db::id(&self.id),
            event_type: self.event_type,
            program_id: self.program_id.as_deref().map(db::id),
            person_id: self.person_id.as_deref().map(db::id),
            payload: serde_json::from_str(&self.payload).unwrap_or(Value::Null),
            occurred_at: db::utc(self.occurred_at),
            created_at: db::utc(self.created_at),
        }
    }
}

/// Inserts the rows whose cause (dedupe key) is not stored yet; returns how many were inserted.
pub fn insert_new(conn: &mut DbConn, rows: &[EventRow]) -> Result<usize, ApiError> {
    Ok(crate::insert_new!(conn, events::table, rows)?)
}

/// Which of these event ids are stored.
pub fn stored_ids(conn: &mut DbConn, ids: Vec<&str>) -> Result<HashSet<String>, ApiError> {
    Ok(events::table
        .filter(events::id.eq_any(ids))
        .select(events::id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// A page of the organisation's events, oldest first, optionally of one type.
pub fn list(
    conn: &mut DbConn,
    org: Uuid,
    event_type: Option<String>,
    page: &PageRequest,
) -> Result<Vec<EventRow>, ApiError> {
    let mut q = events::table
        .filter(events::organization_id.eq(org.to_string()))
        .select(EventRow::as_select())
        .order(events::id)
        .limit(page.fetch())
        .into_boxed();
    if let Some(t) = event_type {
        q = q.filter(events::event_type.eq(t));
    }
    if let Some(after) = &page.after {
        q = q.filter(events::id.gt(after.clone()));
    }
    Ok(q.load(conn)?)
}

/// The event stored under this dedupe key (which names its organisation).
pub fn by_dedupe_key(conn: &mut DbConn, dedupe_key: Option<&str>) -> Result<EventRow, ApiError> {
    Ok(events::table
        .filter(events::dedupe_key.eq(dedupe_key))
        .select(EventRow::as_select())
        .first(conn)?)
}
