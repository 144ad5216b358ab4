//! Read models of automations joined with other capabilities' tables.

use diesel::prelude::*;

use super::repo::RunRow;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::events::EventRow;
use crate::schema::{automation_runs, events};

/// Up to `limit` runs of the automation before the run id `before`, newest first, each with its event.
pub fn runs(
    conn: &mut DbConn,
    automation: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<(RunRow, EventRow)>, ApiError> {
    let mut q = automation_runs::table
        .inner_join(events::table)
        .filter(automation_runs::automation_id.eq(automation))
        .select((RunRow::as_select(), EventRow::as_select()))
        .order(automation_runs::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(automation_runs::id.lt(before.to_owned()));
    }
    Ok(q.load(conn)?)
}
