//! The participant's feed: delivered steps joined with their program.

use chrono::NaiveDateTime;
use cohort_api_types::{MyStep, StepState};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::paging::PageRequest;
use crate::schema::{programs, step_deliveries, steps};

/// A delivered step as the feed reads it.
#[derive(Queryable)]
pub struct FeedRow {
    pub step_id: String,
    pub program_id: String,
    pub program_name: String,
    pub title: String,
    pub description: String,
    pub action_type: String,
    pub link_url: Option<String>,
    pub due_date: Option<chrono::NaiveDate>,
    pub delivered_at: NaiveDateTime,
    pub opened_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub missed_at: Option<NaiveDateTime>,
}

impl FeedRow {
    pub fn into_api(self) -> MyStep {
        MyStep {
            step_id: db::id(&self.step_id),
            program_id: db::id(&self.program_id),
            program_name: self.program_name,
            title: self.title,
            description: self.description,
            action_type: super::repo::wire(&self.action_type),
            link_url: self.link_url,
            due_date: self.due_date,
            state: match (self.opened_at, self.completed_at) {
                (_, Some(_)) => StepState::Completed,
                (Some(_), None) => StepState::Opened,
                (None, None) => StepState::New,
            },
            missed: self.missed_at.is_some(),
            delivered_at: db::utc(self.delivered_at),
            opened_at: self.opened_at.map(db::utc),
            completed_at: self.completed_at.map(db::utc),
        }
    }
}

/// The caller's delivered steps, in program order (one step when `only` names it).
pub fn feed(
    conn: &mut DbConn,
    org: Uuid,
    person: Uuid,
    only: Option<&str>,
    page: Option<&PageRequest>,
) -> Result<Vec<FeedRow>, ApiError> {
    let mut query = step_deliveries::table
        .inner_join(steps::table)
        .inner_join(programs::table.on(programs::id.eq(steps::program_id)))
        .filter(step_deliveries::organization_id.eq(org.to_string()))
        .filter(step_deliveries::person_id.eq(person.to_string()))
        .select((
            steps::id,
            steps::program_id,
            programs::name,
            steps::title,
            steps::description,
            steps::action_type,
            steps::link_url,
            steps::due_date,
            step_deliveries::delivered_at,
            step_deliveries::opened_at,
            step_deliveries::completed_at,
            step_deliveries::missed_at,
        ))
        .order(steps::id)
        .into_boxed();
    if let Some(step) = only {
        query = query.filter(steps::id.eq(step.to_owned()));
    }
    if let Some(page) = page {
        query = query.limit(page.fetch());
        if let Some(after) = &page.after {
            query = query.filter(steps::id.gt(after.clone()));
        }
    }
    Ok(query.load(conn)?)
}
