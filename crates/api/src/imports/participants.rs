//! The participants file of a program, in and out. Rows are upserted by (email, role): the person
//! is found by email or created (without a password, as `POST /people` does), their name and the
//! file's profile attributes are updated, and the membership goes through the same code path as
//! the bulk-add endpoint (`programs::add`: steps delivered on join, `participant.joined` events).

use std::collections::{HashMap, HashSet};

use cohort_api_types::{AddParticipant, AttributeValue, Attributes, ImportAction, ParticipantRole};
use cohort_domain::imports::participants::{self as rules, ParticipantLine};
use cohort_domain::imports::{join_list, split_list, CsvFile, ImportKind};
use cohort_domain::people::Email;
use cohort_domain::programs::ParticipantRole as Role;
use cohort_domain::spreadsheet::safe_cell;
use diesel::prelude::*;
use uuid::Uuid;

use super::{file_error, in_batches, Mode, Report};
use crate::db::{self, DbConn};
use crate::downloads::{self, CsvPage};
use crate::error::ApiError;
use crate::people::repo::PersonRow;
use crate::programs::repo::{ParticipantRow, ProgramRow};
use crate::schema::{participants, people};

pub fn run(
    mut conn: Option<&mut DbConn>,
    org: Uuid,
    program: &ProgramRow,
    invite: bool,
    text: &str,
    max_rows: usize,
    mode: Mode,
) -> Result<cohort_api_types::ImportReport, ApiError> {
    let (mut file, header_problems) = CsvFile::open(text, rules::COLUMNS, true, max_rows).map_err(file_error)?;
    let columns = rules::COLUMNS
        .iter()
        .map(|c| c.name.to_owned())
        .chain(file.layout().extra_names().map(str::to_owned))
        .collect();
    let mut report = Report::new(ImportKind::Participants, mode, columns);
    for problem in header_problems {
        report.problem(problem);
    }
    let mut reader = rules::Reader::default();
    let mut planner = Planner {
        org,
        program,
        invite,
        mode,
        planned: HashMap::new(),
    };
    let plan = conn
        .as_deref_mut()
        .map(|conn| |batch: &mut Vec<_>, report: &mut Report| planner.plan(conn, batch, report));
    in_batches(&mut file, &mut report, |row| Ok((row.row, reader.read(row)?)), plan)?;
    let applied = mode == Mode::Apply && conn.is_some();
    Ok(report.finish(applied))
}

struct Planner<'a> {
    org: Uuid,
    program: &'a ProgramRow,
    /// Invite the people the file creates to set a password.
    invite: bool,
    mode: Mode,
    /// People this file creates and has not written yet, by email, with their new ids: later rows
    /// (the same person in another role) join them instead of creating them again.
    planned: HashMap<Email, String>,
}

impl Planner<'_> {
    /// Decides what each row of the batch does and, when applying a valid file, writes it.
    fn plan(
        &mut self,
        conn: &mut DbConn,
        batch: &mut Vec<(u64, ParticipantLine)>,
        report: &mut Report,
    ) -> Result<(), ApiError> {
        if batch.is_empty() {
            return Ok(());
        }
        let emails: Vec<&str> = batch.iter().map(|(_, l)| l.email.as_str()).collect();
        let (mut known, existing) = db::planned_for_their_parameters(conn, |conn| {
            let known = crate::people::repo::by_email(conn, self.org, &emails)?;
            let ids: Vec<&str> = known.values().map(|p| p.id.as_str()).collect();
            let existing: Vec<ParticipantRow> = participants::table
                .filter(participants::program_id.eq(&self.program.id))
                .filter(participants::person_id.eq_any(&ids))
                .select(ParticipantRow::as_select())
                .load(conn)?;
            Ok((known, existing))
        })?;
        let memberships: HashMap<(&str, &str), &str> = existing
            .iter()
            .map(|m| ((m.person_id.as_str(), m.role.as_str()), m.status.as_str()))
            .collect();
        let now = db::now();
        let (mut created, mut changed, mut joins) = (Vec::new(), HashSet::new(), Vec::new());
        for (row, line) in batch.drain(..) {
            let (person_id, name, person_changed) = match known.get_mut(line.email.as_str()) {
                Some(person) => {
                    let changed_now = update(person, &line)?;
                    if changed_now {
                        person.updated_at = now;
                        changed.insert(person.id.clone());
                    }
                    (person.id.clone(), person.name.clone(), changed_now)
                }
                None => match self.planned.get(&line.email) {
                    Some(id) => (id.clone(), line.name.clone().unwrap_or_default(), false),
                    None => {
                        let name = match rules::name_for_new_person(&line, row) {
                            Ok(name) => name.to_owned(),
                            Err(problem) => {
                                report.problem(problem);
                                continue;
                            }
                        };
                        let mut attributes = Attributes::new();
                        apply_attributes(&mut attributes, &line.attributes);
                        let person = PersonRow {
                            id: db::new_id(),
                            organization_id: self.org.to_string(),
                            email: line.email.as_str().to_owned(),
                            name: name.clone(),
                            bio: String::new(),
                            time_zone: None,
                            attributes: serde_json::to_string(&attributes)
                                .map_err(|e| ApiError::Internal(e.to_string()))?,
                            is_admin: false,
                            password_hash: None,
                            created_at: now,
                            updated_at: now,
                            photo_url: None,
                        };
                        self.planned.insert(line.email.clone(), person.id.clone());
                        report.person_created();
                        let id = person.id.clone();
                        created.push(person);
                        (id, name, false)
                    }
                },
            };
            let status = memberships.get(&(person_id.as_str(), line.role.as_str())).copied();
            let action = match status {
                None => ImportAction::Create,
                Some("active") if !person_changed => ImportAction::Unchanged,
                Some(_) => ImportAction::Update,
            };
            if status.is_none_or(|s| s != "active") {
                joins.push(AddParticipant {
                    person_id: db::id(&person_id),
                    role: match line.role {
                        Role::Mentor => ParticipantRole::Mentor,
                        Role::Mentee => ParticipantRole::Mentee,
                    },
                });
            }
            report.outcome(line.line, action, || {
                let mut values = vec![line.email.as_str().to_owned(), name, line.role.as_str().to_owned()];
                values.extend(line.attributes.iter().map(|(_, v)| v.clone().unwrap_or_default()));
                values
            });
        }
        if self.mode != Mode::Apply || !report.is_valid() {
            return Ok(());
        }
        crate::people::repo::insert(conn, &created)?;
        if self.invite && !created.is_empty() {
            let organization = crate::organization::repo::get(conn, self.org)?.name;
            for person in &created {
                crate::auth::invitations::invite(conn, person, &organization, Some(&self.program.name))?;
            }
        }
        for person in known.values().filter(|p| changed.contains(&p.id)) {
            crate::people::repo::save(conn, person)?;
        }
        if !changed.is_empty() {
            crate::booking::repo::slots_changed(conn, self.org, crate::booking::repo::SlotsChange::Other)?;
        }
        if !joins.is_empty() {
            // The people are the organisation's (found or created above) and their memberships
            // are `existing`: no need to look them up again.
            let program = crate::programs::open_to_join(conn, self.org, db::id(&self.program.id))?;
            crate::programs::join(conn, &program, &joins, &existing)?;
        }
        // Written now: later batches find these people in the database.
        self.planned.clear();
        Ok(())
    }
}

/// Applies a row's name and attributes to a known person; whether anything changed.
fn update(person: &mut PersonRow, line: &ParticipantLine) -> Result<bool, ApiError> {
    let mut changed = false;
    if let Some(name) = &line.name {
        if *name != person.name {
            person.name = name.clone();
            changed = true;
        }
    }
    if !line.attributes.is_empty() {
        // Written by the people module from validated `Attributes`.
        let before: Attributes = serde_json::from_str(&person.attributes).unwrap_or_default();
        let mut after = before.clone();
        apply_attributes(&mut after, &line.attributes);
        if after != before {
            person.attributes = serde_json::to_string(&after).map_err(|e| ApiError::Internal(e.to_string()))?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Sets (or, for a blank cell, removes) each attribute. A header matches an existing attribute
/// ignoring case; a cell takes the type the attribute has (a list as `a; b`, a number, a flag),
/// and a new attribute is a list when the cell holds `;`, else text.
fn apply_attributes(attributes: &mut Attributes, cells: &[(String, Option<String>)]) {
    for (header, cell) in cells {
        let key = attributes
            .keys()
            .find(|k| k.eq_ignore_ascii_case(header))
            .cloned()
            .unwrap_or_else(|| header.clone());
        match cell {
            None => {
                attributes.remove(&key);
            }
            Some(cell) => {
                let value = typed(cell, attributes.get(&key));
                attributes.insert(key, value);
            }
        }
    }
}

fn typed(cell: &str, existing: Option<&AttributeValue>) -> AttributeValue {
    let number = || {
        cell.parse::<i64>()
            .ok()
            .map(serde_json::Number::from)
            .or_else(|| cell.parse::<f64>().ok().and_then(serde_json::Number::from_f64))
    };
    match existing {
        Some(AttributeValue::List(_)) => AttributeValue::List(split_list(cell)),
        Some(AttributeValue::Number(_)) if number().is_some() => AttributeValue::Number(number().unwrap_or(0.into())),
        Some(AttributeValue::Flag(_)) if ["true", "false"].contains(&cell.to_lowercase().as_str()) => {
            AttributeValue::Flag(cell.eq_ignore_ascii_case("true"))
        }
        None if cell.contains(cohort_domain::imports::LIST_SEPARATOR) => AttributeValue::List(split_list(cell)),
        _ => AttributeValue::Text(cell.to_owned()),
    }
}

fn attribute_cell(value: &AttributeValue) -> String {
    match value {
        AttributeValue::Text(t) => safe_cell(t).into_owned(),
        AttributeValue::List(items) => safe_cell(&join_list(items)).into_owned(),
        // Numbers are not formulas, even negative ones; written bare they stay numbers.
        AttributeValue::Number(n) => n.to_string(),
        AttributeValue::Flag(f) => f.to_string(),
    }
}

/// The program's active participants in the import's columns, profile attributes after them.
pub fn export(
    conn: &mut DbConn,
    program: &ProgramRow,
    after: Option<ExportedAfter>,
) -> Result<CsvPage<ExportedAfter>, ApiError> {
    let (after, keys) = match after {
        Some(ExportedAfter { email, role, keys }) => (Some((email, role)), keys),
        None => (None, std::sync::Arc::new(attribute_keys(conn, program)?)),
    };
    let rows = active_page(conn, program, after.as_ref())?;
    let header: Vec<String> = rules::COLUMNS
        .iter()
        .map(|c| c.name.to_owned())
        .chain(keys.iter().map(|k| safe_cell(k).into_owned()))
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    CsvPage::of(
        after.is_none().then_some(&header[..]),
        rows,
        |(email, _, role, _)| ExportedAfter {
            email: email.clone(),
            role: role.clone(),
            keys: keys.clone(),
        },
        |(email, name, role, attributes)| {
            let attributes: Attributes = serde_json::from_str(attributes).unwrap_or_default();
            [
                safe_cell(email).into_owned(),
                safe_cell(name).into_owned(),
                role.clone(),
            ]
            .into_iter()
            .chain(
                keys.iter()
                    .map(|k| attributes.get(k).map(attribute_cell).unwrap_or_default()),
            )
            .collect()
        },
    )
}

/// Where the next page of a participants export starts, and the attribute columns every page
/// writes (read once, before the first).
#[derive(Clone)]
pub struct ExportedAfter {
    email: String,
    role: String,
    keys: std::sync::Arc<Vec<String>>,
}

/// A page of the program's active participants by email and role, after `after`: email, name,
/// role and attributes.
fn active_page(
    conn: &mut DbConn,
    program: &ProgramRow,
    after: Option<&(String, String)>,
) -> Result<Vec<(String, String, String, String)>, ApiError> {
    let mut query = participants::table
        .inner_join(people::table)
        .filter(participants::program_id.eq(&program.id))
        .filter(participants::status.eq("active"))
        .order((people::email, participants::role))
        .select((people::email, people::name, participants::role, people::attributes))
        .limit(downloads::PAGE)
        .into_boxed();
    if let Some((email, role)) = after {
        query = query.filter(
            people::email
                .gt(email.clone())
                .or(people::email.eq(email.clone()).and(participants::role.gt(role.clone()))),
        );
    }
    Ok(query.load(conn)?)
}

/// Every profile attribute any active participant has, sorted: the export's extra columns.
fn attribute_keys(conn: &mut DbConn, program: &ProgramRow) -> Result<Vec<String>, ApiError> {
    let mut keys = std::collections::BTreeSet::new();
    let mut after = None;
    loop {
        let rows = active_page(conn, program, after.as_ref())?;
        for (_, _, _, attributes) in &rows {
            let attributes: Attributes = serde_json::from_str(attributes).unwrap_or_default();
            keys.extend(attributes.into_keys());
        }
        match rows.into_iter().last() {
            Some((email, _, role, _)) => after = Some((email, role)),
            None => return Ok(keys.into_iter().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_keep_the_type_of_the_attribute() {
        let mut attributes: Attributes = serde_json::from_value(serde_json::json!({
            "Year": 3, "languages": ["English"], "remote": true, "department": "Biology", "gone": "x"
        }))
        .unwrap();
        let cells = [
            ("year".to_owned(), Some("4".to_owned())),
            ("Languages".to_owned(), Some("English; French".to_owned())),
            ("remote".to_owned(), Some("FALSE".to_owned())),
            ("department".to_owned(), Some("-Chem".to_owned())),
            ("gone".to_owned(), None),
            ("interests".to_owned(), Some("chess; go".to_owned())),
            ("campus".to_owned(), Some("North".to_owned())),
        ];
        apply_attributes(&mut attributes, &cells);
        assert_eq!(
            serde_json::to_value(&attributes).unwrap(),
            serde_json::json!({
                "Year": 4, "languages": ["English", "French"], "remote": false, "department": "-Chem",
                "interests": ["chess", "go"], "campus": "North"
            })
        );
        assert_eq!(attribute_cell(&attributes["department"]), "'-Chem");
        assert_eq!(attribute_cell(&AttributeValue::Number((-3).into())), "-3");
    }
}
