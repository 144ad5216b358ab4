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

use super::required_program;
use crate::booking::bookings_repo::BookingRow;
use crate::db::{self, Db, DbConn};
use crate::downloads::{self, csv_stream, CsvPage};
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
    let db = &state.db;
    match kind {
        ExportKind::Services => {
            csv_stream(db, "services.csv".into(), move |conn, after| {
                super::services::export(conn, org, after)
            })
            .await
        }
        ExportKind::Providers => {
            csv_stream(db, "providers.csv".into(), move |conn, after| {
                super::providers::export(conn, org, after)
            })
            .await
        }
        ExportKind::Enrollments => {
            csv_stream(db, "enrollments.csv".into(), move |conn, after| {
                super::enrollments::export(conn, org, after)
            })
            .await
        }
        ExportKind::Bookings => bookings(db, org, &query, zone).await,
        ExportKind::Participants | ExportKind::Pairings | ExportKind::StepCompletions => {
            let program_id = required_program(query.program_id, kind.as_str())?;
            let program = db.read(move |conn| programs::repo::get(conn, org, program_id)).await?;
            let name = slugify(&program.name);
            match kind {
                ExportKind::Participants => {
                    csv_stream(db, format!("participants-{name}.csv"), move |conn, after| {
                        super::participants::export(conn, &program, after)
                    })
                    .await
                }
                ExportKind::Pairings => crate::pairing::export_pairings_of(db, org, program).await,
                _ => {
                    csv_stream(db, format!("step-completions-{name}.csv"), move |conn, after| {
                        step_completions(conn, &program, after)
                    })
                    .await
                }
            }
        }
    }
}

type DeliveryRow = (
    String,
    String,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

/// One row per step delivered to a person, by step and email: the step, the person, the
/// status and its times in the program's zone (blank when it has not happened).
fn step_completions(
    conn: &mut DbConn,
    program: &ProgramRow,
    after: Option<(String, String)>,
) -> Result<CsvPage<(String, String)>, ApiError> {
    let zone = cohort_domain::tenancy::zone(&program.time_zone);
    let mut query = step_deliveries::table
        .inner_join(steps::table.on(steps::id.eq(step_deliveries::step_id)))
        .inner_join(people::table.on(people::id.eq(step_deliveries::person_id)))
        .filter(steps::program_id.eq(&program.id))
        .order((steps::id, people::email))
        .select((
            steps::id,
            steps::title,
            people::name,
            people::email,
            step_deliveries::delivered_at,
            step_deliveries::opened_at,
            step_deliveries::completed_at,
            step_deliveries::missed_at,
        ))
        .limit(downloads::PAGE)
        .into_boxed();
    if let Some((step, email)) = &after {
        query = query.filter(
            steps::id
                .gt(step.clone())
                .or(steps::id.eq(step.clone()).and(people::email.gt(email.clone()))),
        );
    }
    let rows: Vec<DeliveryRow> = query.load(conn)?;
    let time = |t: Option<NaiveDateTime>| {
        t.map(|t| {
            db::utc(t)
                .with_timezone(&zone)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .unwrap_or_default()
    };
    let header = [
        "step",
        "person",
        "email",
        "status",
        "delivered_at",
        "opened_at",
        "completed_at",
        "missed_at",
    ];
    CsvPage::of(
        after.is_none().then_some(&header[..]),
        rows,
        |(step, _, _, email, ..)| (step.clone(), email.clone()),
        |(_, step, name, email, delivered, opened, completed, missed)| {
            let status = if completed.is_some() {
                "completed"
            } else if missed.is_some() {
                "missed"
            } else if opened.is_some() {
                "opened"
            } else {
                "delivered"
            };
            vec![
                safe_cell(step).into_owned(),
                safe_cell(name).into_owned(),
                safe_cell(email).into_owned(),
                status.to_owned(),
                time(Some(*delivered)),
                time(*opened),
                time(*completed),
                time(*missed),
            ]
        },
    )
}

/// The bookings starting on the dates `from` to `to` (both included) of `zone` (the
/// organisation's by default), any status, by start; times in that zone with their offset.
async fn bookings(
    db: &Db,
    org: Uuid,
    query: &ExportQuery,
    zone: Option<chrono_tz::Tz>,
) -> Result<HttpResponse, ApiError> {
    let (Some(from), Some(to)) = (query.from, query.to) else {
        return Err(ApiError::BadRequest(
            "invalid query parameter: from and to (dates such as 2027-03-01) are required for bookings".into(),
        ));
    };
    let zone = match zone {
        Some(zone) => zone,
        None => {
            let org = db.read(move |conn| crate::organization::repo::get(conn, org)).await?;
            cohort_domain::tenancy::zone(&org.time_zone)
        }
    };
    let (start, end) =
        cohort_domain::imports::date_range(from, to, zone).map_err(|(field, e)| ApiError::field(field, e.0))?;
    let (start, end) = (start.naive_utc(), end.naive_utc());
    csv_stream(db, format!("bookings-{from}-to-{to}.csv"), move |conn, after| {
        bookings_page(conn, org, (start, end), zone, after)
    })
    .await
}

/// A page of the bookings export, by start and id.
fn bookings_page(
    conn: &mut DbConn,
    org: Uuid,
    (start, end): (NaiveDateTime, NaiveDateTime),
    zone: chrono_tz::Tz,
    after: Option<(NaiveDateTime, String)>,
) -> Result<CsvPage<(NaiveDateTime, String)>, ApiError> {
    let mut query = bookings_table::table
        .filter(bookings_table::organization_id.eq(org.to_string()))
        .filter(bookings_table::starts_at.ge(start))
        .filter(bookings_table::starts_at.lt(end))
        .order((bookings_table::starts_at, bookings_table::id))
        .select(BookingRow::as_select())
        .limit(downloads::PAGE)
        .into_boxed();
    if let Some((at, id)) = &after {
        query = query.filter(
            bookings_table::starts_at
                .gt(*at)
                .or(bookings_table::starts_at.eq(*at).and(bookings_table::id.gt(id.clone()))),
        );
    }
    let rows: Vec<BookingRow> = query.load(conn)?;
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
    let header = [
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
    ];
    CsvPage::of(
        after.is_none().then_some(&header[..]),
        rows,
        |row| (row.starts_at, row.id.clone()),
        |row| {
            let provider = people.get(&row.provider_id).unwrap_or(&nobody);
            let student = people.get(&row.student_id).unwrap_or(&nobody);
            let service = services.get(&row.service_id).map_or("", String::as_str);
            vec![
                time(row.starts_at),
                time(row.ends_at),
                safe_cell(service).into_owned(),
                safe_cell(&provider.0).into_owned(),
                safe_cell(&provider.1).into_owned(),
                safe_cell(&student.0).into_owned(),
                safe_cell(&student.1).into_owned(),
                row.status.clone(),
                row.format.clone(),
                safe_cell(&row.location).into_owned(),
                row.id.clone(),
            ]
        },
    )
}
