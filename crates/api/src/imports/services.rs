//! The Courses CSV in and out: the organisation's services, upserted by name and course number.
//! New services get the booking defaults (`ServiceRow::new`), as `POST /services` gives them.

use std::collections::HashMap;

use cohort_api_types::{ImportAction, ImportReport};
use cohort_domain::imports::catalogue::Catalogue;
use cohort_domain::imports::services::{self as rules, ServiceLine};
use cohort_domain::imports::{CsvFile, ImportKind};
use cohort_domain::spreadsheet::safe_cell;
use diesel::prelude::*;
use uuid::Uuid;

use super::{file_error, in_batches, Mode, Report};
use crate::booking::repo::ServiceRow;
use crate::db::{self, DbConn};
use crate::downloads::{self, CsvPage};
use crate::error::ApiError;
use crate::schema::services;

/// The organisation's services, by what a cell may call them; ids with each name and course
/// number. Another organisation's services are not in it, so naming one is a row error.
pub fn catalogue(conn: &mut DbConn, org: Uuid) -> Result<Catalogue<(String, String, String)>, ApiError> {
    let rows: Vec<(String, String, String)> = services::table
        .filter(services::organization_id.eq(org.to_string()))
        .select((services::id, services::name, services::course_number))
        .load(conn)?;
    Ok(Catalogue::new(rows.into_iter().map(|(id, name, number)| {
        ((id, name.clone(), number.clone()), name, number)
    })))
}

pub fn run(
    mut conn: Option<&mut DbConn>,
    org: Uuid,
    text: &str,
    max_rows: usize,
    mode: Mode,
) -> Result<ImportReport, ApiError> {
    let (mut file, header_problems) = CsvFile::open(text, rules::COLUMNS, false, max_rows).map_err(file_error)?;
    let columns = rules::COLUMNS.iter().map(|c| c.name.to_owned()).collect();
    let mut report = Report::new(ImportKind::Services, mode, columns);
    for problem in header_problems {
        report.problem(problem);
    }
    let mut reader = rules::Reader::default();
    let plan = conn
        .as_deref_mut()
        .map(|conn| |batch: &mut Vec<ServiceLine>, report: &mut Report| plan(conn, org, mode, batch, report));
    in_batches(&mut file, &mut report, |row| reader.read(row), plan)?;
    Ok(report.finish(mode == Mode::Apply && conn.is_some()))
}

fn plan(
    conn: &mut DbConn,
    org: Uuid,
    mode: Mode,
    batch: &mut Vec<ServiceLine>,
    report: &mut Report,
) -> Result<(), ApiError> {
    if batch.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = batch.iter().map(|l| l.name.as_str()).collect();
    let mut known: HashMap<(String, String), ServiceRow> = db::planned_for_their_parameters(conn, |conn| {
        Ok(services::table
            .filter(services::organization_id.eq(org.to_string()))
            .filter(services::name.eq_any(&names))
            .select(ServiceRow::as_select())
            .load::<ServiceRow>(conn)?
            .into_iter()
            .map(|s| ((s.name.clone(), s.course_number.clone()), s))
            .collect())
    })?;
    let now = db::now();
    let (mut created, mut changed) = (Vec::new(), Vec::new());
    for line in batch.drain(..) {
        let key = (line.name.clone(), line.course_number.clone());
        let action = match known.remove(&key) {
            Some(mut service) if service.description != line.description => {
                service.description = line.description.clone();
                service.updated_at = now;
                changed.push(service);
                ImportAction::Update
            }
            Some(_) => ImportAction::Unchanged,
            None => {
                let mut service = ServiceRow::new(org, now);
                service.name = line.name.clone();
                service.course_number = line.course_number.clone();
                service.description = line.description.clone();
                created.push(service);
                ImportAction::Create
            }
        };
        report.outcome(line.line, action, || {
            vec![line.name, line.course_number, line.description]
        });
    }
    if mode != Mode::Apply || !report.is_valid() {
        return Ok(());
    }
    crate::insert_all!(conn, services::table, &created)?;
    for service in &changed {
        diesel::update(services::table.find(&service.id))
            .set((
                services::description.eq(&service.description),
                services::updated_at.eq(service.updated_at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The organisation's services in the import's columns.
pub fn export(
    conn: &mut DbConn,
    org: Uuid,
    after: Option<(String, String)>,
) -> Result<CsvPage<(String, String)>, ApiError> {
    let mut query = services::table
        .filter(services::organization_id.eq(org.to_string()))
        .order((services::name, services::course_number))
        .select((services::name, services::course_number, services::description))
        .limit(downloads::PAGE)
        .into_boxed();
    if let Some((name, number)) = &after {
        query = query.filter(
            services::name.gt(name.clone()).or(services::name
                .eq(name.clone())
                .and(services::course_number.gt(number.clone()))),
        );
    }
    let rows: Vec<(String, String, String)> = query.load(conn)?;
    let header: Vec<&str> = rules::COLUMNS.iter().map(|c| c.name).collect();
    CsvPage::of(
        after.is_none().then_some(&header[..]),
        rows,
        |(name, number, _)| (name.clone(), number.clone()),
        |(name, number, description)| [name, number, description].map(|c| safe_cell(c).into_owned()).into(),
    )
}
