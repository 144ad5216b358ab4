//! The matcher: claims a batch of queued events, loads what they need, evaluates each automation's
//! conditions, applies the frequency limits and records one run per (automation, event).

use super::*;

pub(super) fn payload_facts(facts: &mut BTreeMap<String, Fact>, prefix: &str, value: &Value, depth: u32) {
    let Value::Object(map) = value else { return };
    for (k, v) in map {
        let key = format!("{prefix}.{k}");
        let fact = match v {
            Value::String(s) => Fact::Text(s.clone()),
            Value::Number(n) => Fact::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::Bool(b) => Fact::Flag(*b),
            Value::Array(items) => Fact::List(
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect(),
            ),
            Value::Object(_) if depth > 0 => {
                payload_facts(facts, &key, v, depth - 1);
                continue;
            }
            _ => continue,
        };
        facts.insert(key, fact);
    }
}

pub(super) fn zone(
    conn: &mut DbConn,
    event: &EventRow,
    program: Option<&crate::programs::repo::ProgramRow>,
) -> Result<Tz, ApiError> {
    let name = match program {
        Some(p) => p.time_zone.clone(),
        None => crate::organization::repo::get(conn, db::id(&event.organization_id))?.time_zone,
    };
    Ok(cohort_domain::tenancy::zone(&name))
}

/// The most events one matcher transaction takes.
pub const BATCH: i64 = 200;

/// Matchers per process: while one waits on the database, the other works (they take different
/// events, and lock shared rows in one order).
pub const MATCHERS: usize = 2;

#[derive(QueryableByName)]
pub(super) struct Claimed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(super) event_id: String,
}

// Taken and removed in the transaction that matches them: a crash leaves them queued, and two
// matchers (two processes) take different events.
// Events that failed MAX_ATTEMPTS times alone stay in the queue, left out.

pub(super) const CLAIM_POSTGRES: &str = "DELETE FROM automation_queue WHERE event_id IN \
     (SELECT event_id FROM automation_queue WHERE attempts < $2 ORDER BY event_id LIMIT $1 \
      FOR UPDATE SKIP LOCKED) \
     RETURNING event_id";

/// SQLite has one writer at a time (the caller holds the writer's turn).
pub(super) const CLAIM_SQLITE: &str = "DELETE FROM automation_queue WHERE event_id IN \
     (SELECT event_id FROM automation_queue WHERE attempts < ?2 ORDER BY event_id LIMIT ?1) \
     RETURNING event_id";

/// How many times an event that fails alone is matched before the matchers leave it out.
pub const MAX_ATTEMPTS: i32 = 5;

pub(super) fn claim(conn: &mut DbConn, limit: i64) -> Result<Vec<String>, ApiError> {
    use diesel::sql_types::{BigInt, Integer};
    let claimed: Vec<Claimed> = match conn {
        DbConn::Postgres(c) => diesel::sql_query(CLAIM_POSTGRES)
            .bind::<BigInt, _>(limit)
            .bind::<Integer, _>(MAX_ATTEMPTS)
            .load(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(CLAIM_SQLITE)
            .bind::<BigInt, _>(limit)
            .bind::<Integer, _>(MAX_ATTEMPTS)
            .load(c)?,
    };
    Ok(claimed.into_iter().map(|c| c.event_id).collect())
}

/// One version of an automation, parsed once per batch.
pub(super) struct Version {
    pub(super) version: i32,
    pub(super) valid_from: NaiveDateTime,
    pub(super) active: bool,
    pub(super) def: AutomationInput,
    pub(super) conditions: Vec<Condition>,
}

/// What a batch of events needs to meet the automations, loaded with one query per table.
pub(super) struct Batch {
    pub(super) events: Vec<EventRow>,
    /// (organisation, trigger) → the active automations watching it.
    pub(super) watching: HashMap<(String, String), Vec<String>>,
    /// Each candidate's versions from before the batch's last event, newest first.
    pub(super) versions: HashMap<String, Vec<Rc<Version>>>,
    /// (event, automation) pairs already matched.
    pub(super) done: HashSet<(String, String)>,
    pub(super) context: Context,
}

/// The people, programs and organisations' time zones that events name, loaded with one query each.
#[derive(Default)]
pub(super) struct Context {
    pub(super) people: HashMap<String, crate::people::repo::PersonRow>,
    pub(super) programs: HashMap<String, crate::programs::repo::ProgramRow>,
    /// (program, person) → the person's active roles in it, when a condition reads them.
    pub(super) roles: Option<HashMap<(String, String), Vec<String>>>,
    /// Organisation → its time zone.
    pub(super) zones: HashMap<String, String>,
}

impl Context {
    pub(super) fn load(conn: &mut DbConn, events: &[&EventRow], reads_roles: bool) -> Result<Self, ApiError> {
        let mut context = Self::default();
        let people: HashSet<&str> = events.iter().filter_map(|e| e.person_id.as_deref()).collect();
        if !people.is_empty() {
            context.people = crate::schema::people::table
                .filter(crate::schema::people::id.eq_any(&people))
                .select(crate::people::repo::PersonRow::as_select())
                .load::<crate::people::repo::PersonRow>(conn)?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect();
        }
        let programs: HashSet<&str> = events.iter().filter_map(|e| e.program_id.as_deref()).collect();
        if !programs.is_empty() {
            context.programs = programs::table
                .filter(programs::id.eq_any(&programs))
                .select(crate::programs::repo::ProgramRow::as_select())
                .load::<crate::programs::repo::ProgramRow>(conn)?
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect();
            if reads_roles && !people.is_empty() {
                let mut roles: HashMap<(String, String), Vec<String>> = HashMap::new();
                for (program, person, role) in participants::table
                    .filter(participants::program_id.eq_any(&programs))
                    .filter(participants::person_id.eq_any(&people))
                    .filter(participants::status.eq("active"))
                    .select((participants::program_id, participants::person_id, participants::role))
                    .load::<(String, String, String)>(conn)?
                {
                    roles.entry((program, person)).or_default().push(role);
                }
                context.roles = Some(roles);
            }
        }
        let orgs: HashSet<&str> = events.iter().map(|e| e.organization_id.as_str()).collect();
        context.zones = crate::schema::organizations::table
            .filter(crate::schema::organizations::id.eq_any(&orgs))
            .select((
                crate::schema::organizations::id,
                crate::schema::organizations::time_zone,
            ))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        Ok(context)
    }

    /// The person, if they still belong to the organisation.
    pub(super) fn person(&self, org: &str, person: Option<&str>) -> Option<&crate::people::repo::PersonRow> {
        let person = self.people.get(person?)?;
        (person.organization_id == org).then_some(person)
    }

    pub(super) fn program(&self, event: &EventRow) -> Option<&crate::programs::repo::ProgramRow> {
        let program = self.programs.get(event.program_id.as_deref()?)?;
        (program.organization_id == event.organization_id).then_some(program)
    }

    pub(super) fn zone(&self, event: &EventRow) -> Tz {
        let name = match self.program(event) {
            Some(p) => p.time_zone.as_str(),
            None => self.zones.get(&event.organization_id).map_or("UTC", String::as_str),
        };
        cohort_domain::tenancy::zone(name)
    }
}

impl Batch {
    pub(super) fn load(conn: &mut DbConn, ids: &[String]) -> Result<Self, ApiError> {
        let events: Vec<EventRow> = events::table
            .filter(events::id.eq_any(ids))
            .order(events::id)
            .select(EventRow::as_select())
            .load(conn)?;
        let orgs: HashSet<&str> = events.iter().map(|e| e.organization_id.as_str()).collect();
        let types: HashSet<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        let mut watching: HashMap<(String, String), Vec<String>> = HashMap::new();
        for (id, org, trigger) in automations::table
            .filter(automations::organization_id.eq_any(&orgs))
            .filter(automations::trigger_type.eq_any(&types))
            .filter(automations::active.eq(true))
            .order(automations::id)
            .select((automations::id, automations::organization_id, automations::trigger_type))
            .load::<(String, String, String)>(conn)?
        {
            watching.entry((org, trigger)).or_default().push(id);
        }
        let mut batch = Self {
            events,
            watching,
            versions: HashMap::new(),
            done: HashSet::new(),
            context: Context::default(),
        };
        if batch.watching.is_empty() {
            return Ok(batch);
        }
        let candidates: Vec<&String> = batch.watching.values().flatten().collect();
        let latest = batch
            .events
            .iter()
            .map(|e| e.created_at)
            .max()
            .expect("a batch has events");
        for (automation, version, json, active, valid_from) in automation_versions::table
            .filter(automation_versions::automation_id.eq_any(&candidates))
            .filter(automation_versions::valid_from.le(latest))
            .order((automation_versions::automation_id, automation_versions::version.desc()))
            .select((
                automation_versions::automation_id,
                automation_versions::version,
                automation_versions::definition,
                automation_versions::active,
                automation_versions::valid_from,
            ))
            .load::<(String, i32, String, bool, NaiveDateTime)>(conn)?
        {
            let def: AutomationInput = definition(&json);
            let conditions = def
                .conditions
                .iter()
                .map(|c| Condition {
                    field: c.field.clone(),
                    operator: crate::automations::operator(c.operator),
                    value: crate::automations::fact(&c.value),
                })
                .collect();
            batch.versions.entry(automation).or_default().push(Rc::new(Version {
                version,
                valid_from,
                active,
                def,
                conditions,
            }));
        }
        batch.done = automation_runs::table
            .filter(automation_runs::event_id.eq_any(ids))
            .select((automation_runs::event_id, automation_runs::automation_id))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let reads_roles = batch
            .versions
            .values()
            .flatten()
            .any(|v| v.conditions.iter().any(|c| c.field == "participant.role"));
        batch.context = Context::load(conn, &batch.events.iter().collect::<Vec<_>>(), reads_roles)?;
        Ok(batch)
    }

    /// The automation's version in force when the event arrived (the newest one from before
    /// it): an automation created or turned on later does not see the event.
    pub(super) fn in_force(&self, automation: &str, event: &EventRow) -> Option<&Rc<Version>> {
        self.versions
            .get(automation)?
            .iter()
            .find(|v| v.valid_from <= event.created_at)
    }

    /// What conditions can read about an event: its payload, its person and its program.
    pub(super) fn facts(&self, event: &EventRow) -> BTreeMap<String, Fact> {
        let mut facts = BTreeMap::new();
        facts.insert("event.type".to_owned(), Fact::Text(event.event_type.clone()));
        payload_facts(
            &mut facts,
            "event",
            &serde_json::from_str(&event.payload).unwrap_or(Value::Null),
            1,
        );
        if let Some(p) = self.context.person(&event.organization_id, event.person_id.as_deref()) {
            let attributes: Attributes = serde_json::from_str(&p.attributes).unwrap_or_default();
            for (k, v) in &attributes {
                facts.insert(format!("participant.{k}"), crate::automations::fact(v));
            }
            facts.insert("participant.email".into(), Fact::Text(p.email.clone()));
            facts.insert("participant.name".into(), Fact::Text(p.name.clone()));
        }
        let program = self.context.program(event);
        if let (Some(person), Some(program), Some(roles)) = (&event.person_id, program, &self.context.roles) {
            let roles = roles
                .get(&(program.id.clone(), person.clone()))
                .cloned()
                .unwrap_or_default();
            facts.insert("participant.role".into(), Fact::List(roles));
        }
        if let Some(p) = program {
            facts.insert("program.id".into(), Fact::Text(p.id.clone()));
            facts.insert("program.name".into(), Fact::Text(p.name.clone()));
            facts.insert("program.status".into(), Fact::Text(p.status.clone()));
        }
        facts
    }
}

/// A run whose conditions held, and the version it ran.
pub(super) struct Matched {
    pub(super) run: usize,
    pub(super) event: usize,
    pub(super) version: Rc<Version>,
}

/// Takes up to `limit` queued events and matches them against the automations in one
/// transaction (the caller's): each event meets the active automations watching its type, as
/// they were when it arrived; runs, their actions and the frequency state are written with a
/// few statements per batch, and actions due now run at once. Returns how many events it took;
/// `taken` gets their ids, which outlive a rollback.
pub fn match_batch(conn: &mut DbConn, limit: i64, taken: &Mutex<Vec<String>>) -> Result<usize, ApiError> {
    let ids = claim(conn, limit)?;
    if ids.is_empty() {
        return Ok(0);
    }
    taken.lock().unwrap_or_else(PoisonError::into_inner).clone_from(&ids);
    let batch = Batch::load(conn, &ids)?;
    let now = db::now();
    let mut runs: Vec<RunRow> = Vec::new();
    let mut matched: Vec<Matched> = Vec::new();
    for (n, event) in batch.events.iter().enumerate() {
        let Some(candidates) = batch
            .watching
            .get(&(event.organization_id.clone(), event.event_type.clone()))
        else {
            continue;
        };
        let mut facts = None;
        for automation in candidates {
            if batch.done.contains(&(event.id.clone(), automation.clone())) {
                continue;
            }
            let Some(version) = batch.in_force(automation, event).filter(|v| v.active) else {
                continue;
            };
            if let Some(ids) = &version.def.program_ids {
                let inside = event
                    .program_id
                    .as_deref()
                    .is_some_and(|p| ids.iter().any(|id| id.to_string() == p));
                if !inside {
                    continue;
                }
            }
            let facts = facts.get_or_insert_with(|| batch.facts(event));
            let held = rules::evaluate(&version.conditions, facts);
            let met = held.iter().all(|h| *h);
            if met {
                matched.push(Matched {
                    run: runs.len(),
                    event: n,
                    version: version.clone(),
                });
            }
            runs.push(RunRow {
                id: db::new_id(),
                organization_id: event.organization_id.clone(),
                automation_id: automation.clone(),
                version: version.version,
                event_id: event.id.clone(),
                person_id: event.person_id.clone(),
                outcome: if met { "ran" } else { "conditions_not_met" }.to_owned(),
                conditions: serde_json::to_string(&condition_outcomes(&version.def.conditions, &held))
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
                created_at: now,
            });
        }
    }
    apply_frequency_limits(conn, &batch, &mut runs, &mut matched)?;
    for chunk in runs.chunks(500) {
        crate::insert_all!(conn, automation_runs::table, chunk)?;
    }
    start_actions(conn, &batch, &runs, &matched)?;
    Ok(ids.len())
}

/// Applies the frequency limits of the batch's matched runs, in the order their events arrived:
/// the (automation, person) rows are locked and read with one statement, and the new last-run
/// times written with another. Limited runs leave `matched` with their outcome changed.
pub(super) fn apply_frequency_limits(
    conn: &mut DbConn,
    batch: &Batch,
    runs: &mut [RunRow],
    matched: &mut Vec<Matched>,
) -> Result<(), ApiError> {
    let limited = |m: &Matched| crate::automations::frequency(m.version.def.frequency) != rules::Frequency::EveryTime;
    let mut keys: Vec<(String, String)> = matched
        .iter()
        .filter(|m| limited(m))
        .filter_map(|m| Some((runs[m.run].automation_id.clone(), runs[m.run].person_id.clone()?)))
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    // Sorted, so that two matchers wanting some of the same rows lock them in the same order.
    keys.sort();
    keys.dedup();
    let mut last = lock_contacts(conn, &keys)?;
    let mut changed = BTreeMap::new();
    matched.retain(|m| {
        let run = &mut runs[m.run];
        let Some(person) = &run.person_id else { return true };
        if !limited(m) {
            return true;
        }
        let key = (run.automation_id.clone(), person.clone());
        let at = batch.events[m.event].occurred_at;
        let previous = last.get(&key).copied().flatten();
        let frequency = crate::automations::frequency(m.version.def.frequency);
        if rules::frequency_allows(frequency, previous.map(db::utc), db::utc(at)) {
            last.insert(key.clone(), Some(at));
            changed.insert(key, at);
            true
        } else {
            "frequency_limited".clone_into(&mut run.outcome);
            false
        }
    });
    let rows: Vec<_> = changed
        .iter()
        .map(|((automation, person), at)| {
            (
                automation_contacts::automation_id.eq(automation),
                automation_contacts::person_id.eq(person),
                automation_contacts::last_run_at.eq(Some(*at)),
            )
        })
        .collect();
    for chunk in rows.chunks(1000) {
        save_contacts(conn, chunk)?;
    }
    Ok(())
}

pub(super) type ContactValues<'a> = (
    diesel::dsl::Eq<automation_contacts::automation_id, &'a String>,
    diesel::dsl::Eq<automation_contacts::person_id, &'a String>,
    diesel::dsl::Eq<automation_contacts::last_run_at, Option<NaiveDateTime>>,
);

/// Writes the (automation, person) rows' last-run times; they exist and are locked.
pub(super) fn save_contacts(conn: &mut DbConn, rows: &[ContactValues<'_>]) -> Result<(), ApiError> {
    use diesel::upsert::excluded;
    let target = (automation_contacts::automation_id, automation_contacts::person_id);
    let set = automation_contacts::last_run_at.eq(excluded(automation_contacts::last_run_at));
    match conn {
        DbConn::Postgres(c) => diesel::insert_into(automation_contacts::table)
            .values(rows)
            .on_conflict(target)
            .do_update()
            .set(set)
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(automation_contacts::table)
            .values(rows)
            .on_conflict(target)
            .do_update()
            .set(set)
            .execute(c)?,
    };
    Ok(())
}

#[derive(QueryableByName)]
pub(super) struct Contact {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(super) automation_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(super) person_id: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    pub(super) last_run_at: Option<NaiveDateTime>,
}

// Creates the missing rows and locks them all (a no-op update locks the row, and reads its
// latest committed value after waiting for a concurrent writer), in the keys' order.

pub(super) const LOCK_CONTACTS_POSTGRES: &str =
    "INSERT INTO automation_contacts (automation_id, person_id, last_run_at) \
     SELECT a, p, NULL FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(a, p, n) ORDER BY n \
     ON CONFLICT (automation_id, person_id) DO UPDATE SET last_run_at = automation_contacts.last_run_at \
     RETURNING automation_id, person_id, last_run_at";

/// The last-run times of these (automation, person) pairs (sorted, distinct), their rows
/// locked until the transaction ends on PostgreSQL (SQLite runs one writer at a time).
pub(super) fn lock_contacts(
    conn: &mut DbConn,
    keys: &[(String, String)],
) -> Result<HashMap<(String, String), Option<NaiveDateTime>>, ApiError> {
    let contacts: Vec<Contact> = match conn {
        DbConn::Postgres(c) => {
            use diesel::sql_types::{Array, Text};
            let (automations, people): (Vec<String>, Vec<String>) = keys.iter().cloned().unzip();
            diesel::sql_query(LOCK_CONTACTS_POSTGRES)
                .bind::<Array<Text>, _>(automations)
                .bind::<Array<Text>, _>(people)
                .load(c)?
        }
        DbConn::Sqlite(_) => {
            let automations: HashSet<&str> = keys.iter().map(|k| k.0.as_str()).collect();
            let people: HashSet<&str> = keys.iter().map(|k| k.1.as_str()).collect();
            automation_contacts::table
                .filter(automation_contacts::automation_id.eq_any(automations))
                .filter(automation_contacts::person_id.eq_any(people))
                .select((
                    automation_contacts::automation_id,
                    automation_contacts::person_id,
                    automation_contacts::last_run_at,
                ))
                .load::<(String, String, Option<NaiveDateTime>)>(conn)?
                .into_iter()
                .map(|(automation_id, person_id, last_run_at)| Contact {
                    automation_id,
                    person_id,
                    last_run_at,
                })
                .collect()
        }
    };
    Ok(contacts
        .into_iter()
        .map(|c| ((c.automation_id, c.person_id), c.last_run_at))
        .collect())
}
