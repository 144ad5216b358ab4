//! The Course Enrollment CSV in and out: students enrolled in services, added through the same
//! table as `POST /services/{id}/enrollments`. Rows are only added (an enrollment the file lists
//! again is `unchanged`, one it leaves out stays); a student or service the organisation does not
//! have is a row error.

use std::collections::{HashMap, HashSet};

use cohort_api_types::{ImportAction, ImportReport};
use cohort_domain::imports::catalogue::{reference, Catalogue};
use cohort_domain::imports::enrollments::{self as rules, EnrollmentLine, Repeats};
use cohort_domain::imports::{CsvFile, ImportKind, RowError};
use cohort_domain::spreadsheet::safe_cell;
use diesel::prelude::*;
use uuid::Uuid;

use super::services::catalogue;
use super::{file_error, in_batches, Mode, Report};
use crate::db::{self, DbConn};
use crate::downloads::{self, CsvPage};
use crate::error::ApiError;
use crate::schema::{enrollments, people, services};

pub fn run(
    mut conn: Option<&mut DbConn>,
    org: Uuid,
    text: &str,
    max_rows: usize,
    mode: Mode,
) -> Result<ImportReport, ApiError> {
    let (mut file, header_problems) = CsvFile::open(text, rules::COLUMNS, false, max_rows).map_err(file_error)?;
    let columns = rules::COLUMNS.iter().map(|c| c.name.to_owned()).collect();
    let mut report = Report::new(ImportKind::Enrollments, mode, columns);
    for problem in header_problems {
        report.problem(problem);
    }
    let mut planner = match conn.as_deref_mut() {
        Some(conn) => Some(Planner {
            org,
            mode,
            catalogue: catalogue(conn, org)?,
            planned: Repeats::default(),
        }),
        None => None,
    };
    let mut reader = rules::Reader::default();
    let plan = match (conn.as_deref_mut(), planner.as_mut()) {
        (Some(conn), Some(planner)) => {
            Some(|batch: &mut Vec<_>, report: &mut Report| planner.plan(conn, batch, report))
        }
        _ => None,
    };
    in_batches(&mut file, &mut report, |row| Ok((row.row, reader.read(row)?)), plan)?;
    Ok(report.finish(mode == Mode::Apply && conn.is_some()))
}

struct Planner {
    org: Uuid,
    mode: Mode,
    catalogue: Catalogue<(String, String, String)>,
    /// The (service, person) pairs of earlier rows: two spellings of one service are one enrollment.
    planned: Repeats<(String, String)>,
}

impl Planner {
    fn plan(
        &mut self,
        conn: &mut DbConn,
        batch: &mut Vec<(u64, EnrollmentLine)>,
        report: &mut Report,
    ) -> Result<(), ApiError> {
        if batch.is_empty() {
            return Ok(());
        }
        let emails: Vec<&str> = batch.iter().map(|(_, l)| l.email.as_str()).collect();
        let (known, existing) = db::planned_for_their_parameters(conn, |conn| {
            let known: HashMap<String, String> = people::table
                .filter(people::organization_id.eq(self.org.to_string()))
                .filter(people::email.eq_any(&emails))
                .select((people::email, people::id))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect();
            let ids: Vec<&str> = known.values().map(String::as_str).collect();
            let existing: HashSet<(String, String)> = enrollments::table
                .filter(enrollments::person_id.eq_any(&ids))
                .select((enrollments::service_id, enrollments::person_id))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect();
            Ok((known, existing))
        })?;
        let now = db::now();
        let mut created = Vec::new();
        for (row, line) in batch.drain(..) {
            let person = known.get(line.email.as_str());
            if person.is_none() {
                report.problem(RowError::new(
                    line.line,
                    row,
                    Some("email"),
                    Some(line.email.as_str()),
                    "is not a person of this organisation; add them first (People, or a participants file)",
                ));
            }
            let service = self
                .catalogue
                .resolve(&line.service)
                .map_err(|message| {
                    report.problem(RowError::new(
                        line.line,
                        row,
                        Some("service"),
                        Some(&line.service),
                        message,
                    ))
                })
                .ok();
            let (Some(person), Some((service, name, number))) = (person, service) else {
                continue;
            };
            let key = (service.clone(), person.clone());
            if let Err(first) = self.planned.check(key.clone(), line.line) {
                report.problem(rules::repeated(line.line, row, &line.service, first));
                continue;
            }
            let action = if existing.contains(&key) {
                ImportAction::Unchanged
            } else {
                created.push((
                    enrollments::service_id.eq(service),
                    enrollments::person_id.eq(person.clone()),
                    enrollments::created_at.eq(now),
                ));
                ImportAction::Create
            };
            report.outcome(line.line, action, || {
                vec![line.email.as_str().to_owned(), reference(&name, &number)]
            });
        }
        if self.mode != Mode::Apply || !report.is_valid() {
            return Ok(());
        }
        for chunk in created.chunks(500) {
            crate::insert_new!(conn, enrollments::table, chunk)?;
        }
        Ok(())
    }
}

/// Every enrollment of the organisation in the import's columns, by student and service.
pub fn export(conn: &mut DbConn, org: Uuid, after: Option<Enrolled>) -> Result<CsvPage<Enrolled>, ApiError> {
    let mut query = enrollments::table
        .inner_join(services::table)
        .inner_join(people::table)
        .filter(services::organization_id.eq(org.to_string()))
        .filter(people::organization_id.eq(org.to_string()))
        .order((people::email, services::name, services::course_number))
        .select((people::email, services::name, services::course_number))
        .limit(downloads::PAGE)
        .into_boxed();
    if let Some((email, name, number)) = &after {
        let same_service_after = services::name.gt(name.clone()).or(services::name
            .eq(name.clone())
            .and(services::course_number.gt(number.clone())));
        query = query.filter(
            people::email
                .gt(email.clone())
                .or(people::email.eq(email.clone()).and(same_service_after)),
        );
    }
    let rows: Vec<Enrolled> = query.load(conn)?;
    let header: Vec<&str> = rules::COLUMNS.iter().map(|c| c.name).collect();
    CsvPage::of(
        after.is_none().then_some(&header[..]),
        rows,
        Clone::clone,
        |(email, name, number)| {
            vec![
                safe_cell(email).into_owned(),
                safe_cell(&reference(name, number)).into_owned(),
            ]
        },
    )
}

/// An enrollment as exports order it: the student's email, the service's name and number.
pub type Enrolled = (String, String, String);
