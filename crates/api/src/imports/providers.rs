//! The Tutors CSV in and out: providers upserted by email. The person is found by email or
//! created (without a password, as `POST /people` does); they become a provider with no
//! availability yet (as `POST /providers` makes them), their bio and photo are set, and their
//! certifications become exactly the services the row lists.

use std::collections::{BTreeSet, HashMap, HashSet};

use cohort_api_types::{ImportAction, ImportReport};
use cohort_domain::imports::catalogue::{reference, Catalogue};
use cohort_domain::imports::providers::{self as rules, ProviderLine};
use cohort_domain::imports::{join_list, CsvFile, ImportKind};
use cohort_domain::spreadsheet::safe_cell;
use diesel::prelude::*;
use uuid::Uuid;

use super::services::catalogue;
use super::{file_error, in_batches, Mode, Report};
use crate::booking::providers::{ProviderRow, Stored};
use crate::db::{self, DbConn};
use crate::downloads::{self, CsvPage};
use crate::error::ApiError;
use crate::people::repo::PersonRow;
use crate::schema::{certifications, people, providers, services};

pub fn run(
    mut conn: Option<&mut DbConn>,
    org: Uuid,
    text: &str,
    max_rows: usize,
    mode: Mode,
) -> Result<ImportReport, ApiError> {
    let (mut file, header_problems) = CsvFile::open(text, rules::COLUMNS, false, max_rows).map_err(file_error)?;
    let columns = rules::COLUMNS.iter().map(|c| c.name.to_owned()).collect();
    let mut report = Report::new(ImportKind::Providers, mode, columns);
    for problem in header_problems {
        report.problem(problem);
    }
    let mut planner = match conn.as_deref_mut() {
        Some(conn) => Some(Planner {
            org,
            mode,
            catalogue: catalogue(conn, org)?,
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
    /// The organisation's services: (id, name, course number).
    catalogue: Catalogue<(String, String, String)>,
}

/// A provider as the file and the database see them.
#[derive(Clone, PartialEq, Eq)]
struct State {
    name: String,
    bio: String,
    photo_url: Option<String>,
    services: BTreeSet<String>,
}

impl Planner {
    /// Looks up each row's services, decides what each row does and, when applying a valid file,
    /// writes the batch.
    fn plan(
        &mut self,
        conn: &mut DbConn,
        batch: &mut Vec<(u64, ProviderLine)>,
        report: &mut Report,
    ) -> Result<(), ApiError> {
        if batch.is_empty() {
            return Ok(());
        }
        let emails: Vec<&str> = batch.iter().map(|(_, l)| l.email.as_str()).collect();
        let (mut known, mut provider_rows, certified) = db::planned_for_their_parameters(conn, |conn| {
            let known = crate::people::repo::by_email(conn, self.org, &emails)?;
            let ids: Vec<&str> = known.values().map(|p| p.id.as_str()).collect();
            let provider_rows: HashMap<String, ProviderRow> = providers::table
                .filter(providers::organization_id.eq(self.org.to_string()))
                .filter(providers::person_id.eq_any(&ids))
                .select(ProviderRow::as_select())
                .load::<ProviderRow>(conn)?
                .into_iter()
                .map(|p| (p.person_id.clone(), p))
                .collect();
            let mut certified: HashMap<String, BTreeSet<String>> = HashMap::new();
            for (provider, service) in certifications::table
                .filter(certifications::provider_id.eq_any(&ids))
                .select((certifications::provider_id, certifications::service_id))
                .load::<(String, String)>(conn)?
            {
                certified.entry(provider).or_default().insert(service);
            }
            Ok((known, provider_rows, certified))
        })?;

        let now = db::now();
        let mut new_people = Vec::new();
        let mut changed_people = HashSet::new();
        let mut new_providers = Vec::new();
        let mut changed_photos = Vec::new();
        let mut new_certifications: Vec<(String, BTreeSet<String>)> = Vec::new();
        for (row, line) in batch.drain(..) {
            // Every service of the row, or every problem with them.
            let mut listed = BTreeSet::new();
            let mut names = Vec::new();
            let mut unknown = false;
            for cell in line.services.iter().flatten() {
                match self.catalogue.resolve(cell) {
                    Ok((id, name, number)) => {
                        if listed.insert(id) {
                            names.push((name, number));
                        }
                    }
                    Err(message) => {
                        unknown = true;
                        report.problem(cohort_domain::imports::RowError::new(
                            line.line,
                            row,
                            Some("services"),
                            Some(cell),
                            message,
                        ));
                    }
                }
            }
            let person = known.get_mut(line.email.as_str());
            if person.is_none() {
                if let Err(problem) = rules::name_for_new_person(&line, row) {
                    report.problem(problem);
                    continue;
                }
            }
            if unknown {
                continue;
            }
            let (action, after) = match person {
                Some(person) => {
                    let provider = provider_rows.get_mut(&person.id);
                    let before = State {
                        name: person.name.clone(),
                        bio: person.bio.clone(),
                        photo_url: provider.as_ref().and_then(|p| p.photo_url.clone()),
                        services: certified.get(&person.id).cloned().unwrap_or_default(),
                    };
                    let after = State {
                        name: line.name.clone().unwrap_or_else(|| before.name.clone()),
                        bio: line.bio.clone().unwrap_or_else(|| before.bio.clone()),
                        photo_url: line.photo_url.clone().unwrap_or_else(|| before.photo_url.clone()),
                        services: line
                            .services
                            .as_ref()
                            .map_or_else(|| before.services.clone(), |_| listed),
                    };
                    if (&after.name, &after.bio) != (&person.name, &person.bio) {
                        person.name = after.name.clone();
                        person.bio = after.bio.clone();
                        person.updated_at = now;
                        changed_people.insert(person.id.clone());
                    }
                    let action = match provider {
                        None => {
                            new_providers.push(new_provider(self.org, &person.id, after.photo_url.clone(), now));
                            new_certifications.push((person.id.clone(), after.services.clone()));
                            ImportAction::Create
                        }
                        Some(_) if after == before => ImportAction::Unchanged,
                        Some(provider) => {
                            if provider.photo_url != after.photo_url {
                                provider.photo_url = after.photo_url.clone();
                                changed_photos.push(person.id.clone());
                            }
                            if after.services != before.services {
                                new_certifications.push((person.id.clone(), after.services.clone()));
                            }
                            ImportAction::Update
                        }
                    };
                    (action, after)
                }
                None => {
                    let after = State {
                        // Checked above: a new person has a name.
                        name: line.name.clone().unwrap_or_default(),
                        bio: line.bio.clone().unwrap_or_default(),
                        photo_url: line.photo_url.clone().flatten(),
                        services: listed,
                    };
                    let person = PersonRow {
                        id: db::new_id(),
                        organization_id: self.org.to_string(),
                        email: line.email.as_str().to_owned(),
                        name: after.name.clone(),
                        bio: after.bio.clone(),
                        time_zone: None,
                        attributes: "{}".into(),
                        is_admin: false,
                        password_hash: None,
                        created_at: now,
                        updated_at: now,
                        photo_url: None,
                    };
                    report.person_created();
                    new_providers.push(new_provider(self.org, &person.id, after.photo_url.clone(), now));
                    new_certifications.push((person.id.clone(), after.services.clone()));
                    new_people.push(person);
                    (ImportAction::Create, after)
                }
            };
            report.outcome(line.line, action, || {
                let services: Vec<String> = names.iter().map(|(n, c)| reference(n, c)).collect();
                vec![
                    line.email.as_str().to_owned(),
                    after.name,
                    after.bio,
                    after.photo_url.unwrap_or_default(),
                    if line.services.is_some() {
                        join_list(&services)
                    } else {
                        String::new()
                    },
                ]
            });
        }
        if self.mode != Mode::Apply || !report.is_valid() {
            return Ok(());
        }
        crate::people::repo::insert(conn, &new_people)?;
        for person in known.values().filter(|p| changed_people.contains(&p.id)) {
            crate::people::repo::save(conn, person)?;
        }
        crate::insert_all!(conn, providers::table, &new_providers)?;
        for id in &changed_photos {
            diesel::update(providers::table.find(id))
                .set((
                    providers::photo_url.eq(&provider_rows[id].photo_url),
                    providers::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        let replaced: Vec<&str> = new_certifications.iter().map(|(p, _)| p.as_str()).collect();
        diesel::delete(certifications::table.filter(certifications::provider_id.eq_any(&replaced))).execute(conn)?;
        let rows: Vec<_> = new_certifications
            .iter()
            .flat_map(|(provider, services)| {
                services.iter().map(move |service| {
                    (
                        certifications::service_id.eq(service),
                        certifications::provider_id.eq(provider),
                        certifications::created_at.eq(now),
                    )
                })
            })
            .collect();
        for chunk in rows.chunks(500) {
            crate::insert_all!(conn, certifications::table, chunk)?;
        }
        let touched = !(new_people.is_empty()
            && changed_people.is_empty()
            && new_providers.is_empty()
            && changed_photos.is_empty()
            && new_certifications.is_empty());
        if touched {
            crate::booking::repo::slots_changed(conn, self.org, crate::booking::repo::SlotsChange::Other)?;
        }
        Ok(())
    }
}

fn new_provider(org: Uuid, person: &str, photo_url: Option<String>, now: chrono::NaiveDateTime) -> ProviderRow {
    ProviderRow {
        person_id: person.to_owned(),
        organization_id: org.to_string(),
        photo_url,
        availability: serde_json::to_string(&Stored::default()).expect("availability serialises"),
        locations: "[]".into(),
        created_at: now,
        updated_at: now,
    }
}

/// The organisation's providers in the import's columns, their services by name.
pub fn export(conn: &mut DbConn, org: Uuid, after: Option<String>) -> Result<CsvPage<String>, ApiError> {
    let mut query = providers::table
        .inner_join(people::table)
        .filter(providers::organization_id.eq(org.to_string()))
        .order(people::email)
        .select((
            providers::person_id,
            people::email,
            people::name,
            people::bio,
            providers::photo_url,
        ))
        .limit(downloads::PAGE)
        .into_boxed();
    if let Some(email) = &after {
        query = query.filter(people::email.gt(email.clone()));
    }
    let rows: Vec<(String, String, String, String, Option<String>)> = query.load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let mut services_of: HashMap<String, Vec<String>> = HashMap::new();
    for (provider, name, number) in certifications::table
        .inner_join(services::table)
        .filter(services::organization_id.eq(org.to_string()))
        .filter(certifications::provider_id.eq_any(&ids))
        .order((services::name, services::course_number))
        .select((certifications::provider_id, services::name, services::course_number))
        .load::<(String, String, String)>(conn)?
    {
        services_of.entry(provider).or_default().push(reference(&name, &number));
    }
    let header: Vec<&str> = rules::COLUMNS.iter().map(|c| c.name).collect();
    CsvPage::of(
        after.is_none().then_some(&header[..]),
        rows,
        |(_, email, ..)| email.clone(),
        |(id, email, name, bio, photo)| {
            let services = join_list(services_of.get(id).map_or(&[][..], Vec::as_slice));
            [email, name, bio, photo.as_deref().unwrap_or(""), &services]
                .map(|c| safe_cell(c).into_owned())
                .into()
        },
    )
}
