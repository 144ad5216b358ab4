//! Exports: each kind's query and its CSV. Cells go through `safe_cell`, so nothing a person
//! typed runs as a spreadsheet formula.

use actix_web::HttpResponse;
use chrono::NaiveDateTime;
use cohort_api_types::ExportQuery;
use cohort_domain::imports::ExportKind;
use cohort_domain::spreadsheet::safe_cell;
use cohort_domain::tenancy::slugify;
use diesel::prelude::*;
use uuid::Uuid;

use super::{csv_response, required_program};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::programs::repo::ProgramRow;
use crate::schema::{people, step_deliveries, steps};
use crate::{programs, AppState};

pub async fn export(state: &AppState, org: Uuid, kind: &str, query: ExportQuery) -> Result<HttpResponse, ApiError> {
    let kind = ExportKind::parse(kind).ok_or_else(|| {
        let kinds: Vec<&str> = ExportKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::BadRequest(format!(
            "invalid path parameter: no export kind \"{kind}\"; the kinds are {}",
            kinds.join(", ")
        ))
    })?;
    if kind == ExportKind::Services {
        let body = state.db.read(move |conn| super::services::export(conn, org)).await?;
        return Ok(csv_response("services.csv", body));
    }
    let program_id = required_program(query.program_id, kind.as_str())?;
    let (filename, body) = state
        .db
        .read(move |conn| match kind {
            ExportKind::Services => unreachable!("answered above"),
            ExportKind::Participants => {
                let program = programs::repo::get(conn, org, program_id)?;
                let body = super::participants::export(conn, &program)?;
                Ok((format!("participants-{}.csv", slugify(&program.name)), body))
            }
            ExportKind::Pairings => crate::pairing::pairings_csv(conn, org, program_id),
            ExportKind::StepCompletions => {
                let program = programs::repo::get(conn, org, program_id)?;
                let body = step_completions(conn, &program)?;
                Ok((format!("step-completions-{}.csv", slugify(&program.name)), body))
            }
        })
        .await?;
    Ok(csv_response(&filename, body))
}

type DeliveryRow = (
    String,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

/// One row per step delivered to a person: the step, the person, the status and its times in
/// the program's zone (blank when it has not happened).
fn step_completions(conn: &mut DbConn, program: &ProgramRow) -> Result<Vec<u8>, ApiError> {
    let zone = crate::steps::delivery::zone(&program.time_zone);
    let rows: Vec<DeliveryRow> = step_deliveries::table
        .inner_join(steps::table.on(steps::id.eq(step_deliveries::step_id)))
        .inner_join(people::table.on(people::id.eq(step_deliveries::person_id)))
        .filter(steps::program_id.eq(&program.id))
        .order((steps::id, people::email))
        .select((
            steps::title,
            people::name,
            people::email,
            step_deliveries::delivered_at,
            step_deliveries::opened_at,
            step_deliveries::completed_at,
            step_deliveries::missed_at,
        ))
        .load(conn)?;
    let time = |t: Option<NaiveDateTime>| {
        t.map(|t| {
            db::utc(t)
                .with_timezone(&zone)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .unwrap_or_default()
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| ApiError::Internal(e.to_string());
    out.write_record([
        "step",
        "person",
        "email",
        "status",
        "delivered_at",
        "opened_at",
        "completed_at",
        "missed_at",
    ])
    .map_err(failed)?;
    for (step, name, email, delivered, opened, completed, missed) in rows {
        let status = if completed.is_some() {
            "completed"
        } else if missed.is_some() {
            "missed"
        } else if opened.is_some() {
            "opened"
        } else {
            "delivered"
        };
        out.write_record([
            safe_cell(&step).as_ref(),
            safe_cell(&name).as_ref(),
            safe_cell(&email).as_ref(),
            status,
            time(Some(delivered)).as_str(),
            time(opened).as_str(),
            time(completed).as_str(),
            time(missed).as_str(),
        ])
        .map_err(failed)?;
    }
    out.into_inner().map_err(|e| ApiError::Internal(e.to_string()))
}
