//! Exports: each kind's query and its CSV. Cells go through `safe_cell`, so nothing a person
//! typed runs as a spreadsheet formula.

use std::collections::HashMap;

use actix_web::HttpResponse;
use chrono::NaiveDateTime;
use cohort_api_types::ExportQuery;
use cohort_domain::imports::catalogue::reference;
use cohort_domain::imports::ExportKind;
use cohort_domain::spreadsheet::safe_cell;
use cohort_domain::tenancy::slugify;
use diesel::prelude::*;
use uuid::Uuid;

use super::{csv_response, required_program};
use crate::booking::bookings::BookingRow;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::programs::repo::ProgramRow;
use crate::schema::{bookings as bookings_table, people, services, step_deliveries, steps};
use crate::{programs, AppState};

pub async fn export(state: &AppState, org: Uuid, kind: &str, query: ExportQuery) -> Result<HttpResponse, ApiError> {
    let kind = ExportKind::parse(kind).ok_or_else(|| {
        let kinds: Vec<&str> = ExportKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::BadRequest(format!(
            "invalid path parameter: no export kind \"{kind}\"; the kinds are {}",
            kinds.join(", ")
        ))
    })?;
    let zone = query
        .time_zone
        .as_deref()
        .map(|z| cohort_domain::tenancy::parse_time_zone(z).map_err(|e| ApiError::field("time_zone", e.0)))
        .transpose()?;
    if !kind.needs_program() {
        let (filename, body) = state
            .db
            .read(move |conn| match kind {
                ExportKind::Services => Ok(("services.csv".to_owned(), super::services::export(conn, org)?)),
                ExportKind::Providers => Ok(("providers.csv".to_owned(), super::providers::export(conn, org)?)),
                ExportKind::Enrollments => Ok(("enrollments.csv".to_owned(), super::enrollments::export(conn, org)?)),
                _ => bookings(conn, org, &query, zone),
            })
            .await?;
        return Ok(csv_response(&filename, body));
    }
    let program_id = required_program(query.program_id, kind.as_str())?;
    let (filename, body) = state
        .db
        .read(move |conn| match kind {
            ExportKind::Services | ExportKind::Providers | ExportKind::Enrollments | ExportKind::Bookings => {
                unreachable!("answered above")
            }
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

/// The bookings starting on the dates `from` to `to` (both included) of `zone` (the
/// organisation's by default), any status, by start; times in that zone with their offset.
fn bookings(
    conn: &mut DbConn,
    org: Uuid,
    query: &ExportQuery,
    zone: Option<chrono_tz::Tz>,
) -> Result<(String, Vec<u8>), ApiError> {
    let (Some(from), Some(to)) = (query.from, query.to) else {
        return Err(ApiError::BadRequest(
            "invalid query parameter: from and to (dates such as 2027-03-01) are required for bookings".into(),
        ));
    };
    let zone = match zone {
        Some(zone) => zone,
        None => crate::steps::delivery::zone(&crate::organization::repo::get(conn, org)?.time_zone),
    };
    let (start, end) =
        cohort_domain::imports::date_range(from, to, zone).map_err(|(field, e)| ApiError::field(field, e.0))?;
    let rows: Vec<BookingRow> = bookings_table::table
        .filter(bookings_table::organization_id.eq(org.to_string()))
        .filter(bookings_table::starts_at.ge(start.naive_utc()))
        .filter(bookings_table::starts_at.lt(end.naive_utc()))
        .order((bookings_table::starts_at, bookings_table::id))
        .select(BookingRow::as_select())
        .load(conn)?;
    let service_ids: Vec<&str> = rows.iter().map(|r| r.service_id.as_str()).collect();
    let services: HashMap<String, String> = services::table
        .filter(services::id.eq_any(&service_ids))
        .select((services::id, services::name, services::course_number))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, number)| (id, reference(&name, &number)))
        .collect();
    let person_ids: Vec<&str> = rows
        .iter()
        .flat_map(|r| [r.provider_id.as_str(), r.student_id.as_str()])
        .collect();
    let people: HashMap<String, (String, String)> = people::table
        .filter(people::id.eq_any(&person_ids))
        .select((people::id, people::email, people::name))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, email, name)| (id, (email, name)))
        .collect();
    let time = |t: NaiveDateTime| {
        db::utc(t)
            .with_timezone(&zone)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    let nobody = (String::new(), String::new());
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| ApiError::Internal(e.to_string());
    out.write_record([
        "starts_at",
        "ends_at",
        "service",
        "provider_email",
        "provider_name",
        "student_email",
        "student_name",
        "status",
        "format",
        "location",
        "booking_id",
    ])
    .map_err(failed)?;
    for row in &rows {
        let provider = people.get(&row.provider_id).unwrap_or(&nobody);
        let student = people.get(&row.student_id).unwrap_or(&nobody);
        let service = services.get(&row.service_id).map_or("", String::as_str);
        out.write_record([
            time(row.starts_at).as_str(),
            time(row.ends_at).as_str(),
            safe_cell(service).as_ref(),
            safe_cell(&provider.0).as_ref(),
            safe_cell(&provider.1).as_ref(),
            safe_cell(&student.0).as_ref(),
            safe_cell(&student.1).as_ref(),
            row.status.as_str(),
            row.format.as_str(),
            safe_cell(&row.location).as_ref(),
            row.id.as_str(),
        ])
        .map_err(failed)?;
    }
    let body = out.into_inner().map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((format!("bookings-{from}-to-{to}.csv"), body))
}
