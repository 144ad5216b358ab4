//! Steps and deliveries in the database.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use cohort_api_types::{ActionType, DelayUnit, PublishType, Step, StepCounts, StepDelay, StepTrigger, ViewerType};
use cohort_domain::programs::ParticipantRole;
use cohort_domain::steps::{self as rules, Delay, Publish, StepRule};
use diesel::dsl::count;
use diesel::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::paging::PageRequest;
use crate::schema::{step_deliveries, steps};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Clone, Default)]
#[diesel(table_name = steps, treat_none_as_null = true)]
pub struct StepRow {
    pub id: String,
    pub organization_id: String,
    pub program_id: String,
    pub title: String,
    pub description: String,
    pub viewer_type: String,
    pub action_type: String,
    pub link_url: Option<String>,
    pub publish_type: String,
    pub scheduled_for: Option<NaiveDateTime>,
    pub publish_at: Option<NaiveDateTime>,
    pub trigger_name: Option<String>,
    pub delay_amount: Option<i32>,
    pub delay_unit: Option<String>,
    pub include_existing: bool,
    pub due_date: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The wire enums and the domain's share their names (snake_case); converting goes through them.
pub fn name_of<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => unreachable!("wire enums serialise as strings"),
    }
}

pub fn wire<T: DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .unwrap_or_else(|_| panic!("the database holds a name the API does not know: {name}"))
}

impl StepRow {
    pub fn viewer(&self) -> rules::ViewerType {
        rules::ViewerType::parse(&self.viewer_type).unwrap_or(rules::ViewerType::All)
    }

    /// What names the current publication: a publish job carries it and does nothing when the
    /// step has been edited to publish otherwise since.
    pub fn publish_version(&self) -> Option<String> {
        match (self.publish_type.as_str(), self.publish_at) {
            ("instant", _) => Some("instant".to_owned()),
            ("scheduled", Some(at)) => Some(at.and_utc().to_rfc3339()),
            _ => None,
        }
    }

    pub fn roles(&self) -> Vec<&'static str> {
        self.viewer().roles().iter().map(|r| r.as_str()).collect()
    }

    fn delay(&self) -> Option<Delay> {
        let unit = rules::DelayUnit::parse(self.delay_unit.as_deref()?)?;
        Some(Delay {
            amount: u32::try_from(self.delay_amount?).ok()?,
            unit,
        })
    }

    /// The step as the delivery rules see it.
    pub fn rule(&self) -> StepRule {
        let publish = match self.publish_type.as_str() {
            "scheduled" => Publish::Scheduled {
                at: db::utc(self.publish_at.unwrap_or(self.created_at)),
            },
            "triggered" => Publish::Triggered {
                trigger: self
                    .trigger_name
                    .as_deref()
                    .and_then(rules::Trigger::parse)
                    .unwrap_or(rules::Trigger::JoinedProgram),
                delay: self.delay().unwrap_or(Delay {
                    amount: 0,
                    unit: rules::DelayUnit::Minutes,
                }),
                include_existing: self.include_existing,
            },
            _ => Publish::Instant,
        };
        StepRule {
            viewer: self.viewer(),
            publish,
            created_at: db::utc(self.created_at),
        }
    }

    pub fn into_api(self, time_zone: &str, counts: StepCounts) -> Step {
        let delay = self.delay().map(|d| StepDelay {
            amount: d.amount,
            unit: wire::<DelayUnit>(d.unit.as_str()),
        });
        Step {
            id: db::id(&self.id),
            program_id: db::id(&self.program_id),
            viewer_type: wire::<ViewerType>(&self.viewer_type),
            action_type: wire::<ActionType>(&self.action_type),
            publish_type: wire::<PublishType>(&self.publish_type),
            trigger: self.trigger_name.as_deref().map(wire::<StepTrigger>),
            delay,
            title: self.title,
            description: self.description,
            link_url: self.link_url,
            scheduled_for: self.scheduled_for,
            publish_at: self.publish_at.map(db::utc),
            time_zone: time_zone.to_owned(),
            include_existing: self.include_existing,
            due_date: self.due_date,
            counts,
            created_at: db::utc(self.created_at),
            updated_at: db::utc(self.updated_at),
        }
    }
}

pub fn role_of(role: &str) -> ParticipantRole {
    ParticipantRole::parse(role).unwrap_or(ParticipantRole::Mentee)
}

pub fn get(conn: &mut DbConn, org: Uuid, program: &str, id: Uuid) -> Result<StepRow, ApiError> {
    Ok(steps::table
        .filter(steps::organization_id.eq(org.to_string()))
        .filter(steps::program_id.eq(program.to_owned()))
        .filter(steps::id.eq(id.to_string()))
        .select(StepRow::as_select())
        .first(conn)?)
}

/// A step by id alone, for jobs (which carry ids they were given by tenant-scoped code).
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<StepRow>, ApiError> {
    Ok(steps::table
        .find(id.to_owned())
        .select(StepRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConn, program: &str, page: &PageRequest) -> Result<Vec<StepRow>, ApiError> {
    let mut query = steps::table
        .filter(steps::program_id.eq(program.to_owned()))
        .select(StepRow::as_select())
        .order(steps::id)
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(steps::id.gt(after.clone()));
    }
    Ok(query.load(conn)?)
}

/// Stores a new step; returns nothing.
pub fn insert(conn: &mut DbConn, row: &StepRow) -> Result<(), ApiError> {
    diesel::insert_into(steps::table).values(row).execute(conn)?;
    Ok(())
}

/// Saves an edited step; returns nothing.
pub fn update(conn: &mut DbConn, row: &StepRow) -> Result<(), ApiError> {
    diesel::update(steps::table.find(&row.id)).set(row).execute(conn)?;
    Ok(())
}

/// Deletes a step and its deliveries; returns nothing.
pub fn delete(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    diesel::delete(step_deliveries::table.filter(step_deliveries::step_id.eq(id))).execute(conn)?;
    diesel::delete(steps::table.find(id)).execute(conn)?;
    Ok(())
}

/// Marks a person's delivery of a step opened (the first time counts) and, when `complete`,
/// completed; returns whether it was completed now (not before).
pub fn progress(
    conn: &mut DbConn,
    org: Uuid,
    person: Uuid,
    step: &str,
    complete: bool,
    now: NaiveDateTime,
) -> Result<bool, ApiError> {
    let mine = || {
        step_deliveries::table
            .filter(step_deliveries::organization_id.eq(org.to_string()))
            .filter(step_deliveries::person_id.eq(person.to_string()))
            .filter(step_deliveries::step_id.eq(step.to_owned()))
    };
    diesel::update(mine().filter(step_deliveries::opened_at.is_null()))
        .set(step_deliveries::opened_at.eq(now))
        .execute(conn)?;
    Ok(complete
        && diesel::update(mine().filter(step_deliveries::completed_at.is_null()))
            .set(step_deliveries::completed_at.eq(now))
            .execute(conn)?
            == 1)
}

/// The program's steps that react to `trigger` or publish on joining.
pub fn of_program(conn: &mut DbConn, program: &str) -> Result<Vec<StepRow>, ApiError> {
    Ok(steps::table
        .filter(steps::program_id.eq(program.to_owned()))
        .filter(steps::publish_type.ne("scheduled"))
        .select(StepRow::as_select())
        .load(conn)?)
}

/// Delivery, open, completion and miss counts per step.
pub fn counts(conn: &mut DbConn, ids: &[String]) -> Result<HashMap<String, StepCounts>, ApiError> {
    let rows: Vec<(String, i64, i64, i64, i64)> = step_deliveries::table
        .filter(step_deliveries::step_id.eq_any(ids))
        .group_by(step_deliveries::step_id)
        .select((
            step_deliveries::step_id,
            count(step_deliveries::person_id),
            count(step_deliveries::opened_at),
            count(step_deliveries::completed_at),
            count(step_deliveries::missed_at),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, delivered, opened, completed, missed)| {
            (
                id,
                StepCounts {
                    delivered,
                    opened,
                    completed,
                    missed,
                },
            )
        })
        .collect())
}

#[derive(Insertable)]
#[diesel(table_name = step_deliveries)]
struct NewDelivery<'a> {
    step_id: &'a str,
    person_id: &'a str,
    organization_id: &'a str,
    delivered_at: NaiveDateTime,
}

/// PostgreSQL takes the people as one array: one statement and four binds, however many.
const DELIVER_POSTGRES: &str = "INSERT INTO step_deliveries (step_id, person_id, organization_id, delivered_at) \
     SELECT $1, p, $2, $3 FROM unnest($4::text[]) AS p \
     ON CONFLICT DO NOTHING RETURNING person_id";

#[derive(QueryableByName)]
struct Delivered {
    #[diesel(sql_type = diesel::sql_types::Text)]
    person_id: String,
}

/// Records that `step` reached `people` at `at`, skipping people who have it already (also when
/// another worker delivers at the same moment); returns the people who got it now.
pub fn insert_deliveries(
    conn: &mut DbConn,
    step: &StepRow,
    at: NaiveDateTime,
    people: &[String],
) -> Result<Vec<String>, ApiError> {
    use diesel::sql_types::{Array, Text, Timestamp};
    match conn {
        DbConn::Postgres(c) => Ok(diesel::sql_query(DELIVER_POSTGRES)
            .bind::<Text, _>(&step.id)
            .bind::<Text, _>(&step.organization_id)
            .bind::<Timestamp, _>(at)
            .bind::<Array<Text>, _>(people)
            .load::<Delivered>(c)?
            .into_iter()
            .map(|d| d.person_id)
            .collect()),
        DbConn::Sqlite(c) => {
            let rows: Vec<NewDelivery> = people
                .iter()
                .map(|person| NewDelivery {
                    step_id: &step.id,
                    person_id: person,
                    organization_id: &step.organization_id,
                    delivered_at: at,
                })
                .collect();
            let mut added = Vec::with_capacity(rows.len());
            // SQLite binds at most 32,766 values per statement; four per row.
            for chunk in rows.chunks(2000) {
                added.extend(
                    diesel::insert_into(step_deliveries::table)
                        .values(chunk)
                        .on_conflict_do_nothing()
                        .returning(step_deliveries::person_id)
                        .get_results::<String>(c)?,
                );
            }
            Ok(added)
        }
    }
}
