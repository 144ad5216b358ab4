//! Pairing settings, requests and pairings in the database.

use chrono::NaiveDateTime;
use cohort_api_types::{ChecklistItem, MentorRequest, Pairing, PairingProcess, PairingSettings, RequestStatus};
use cohort_domain::pairing::{Process, Settings};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::{auto_pair, mentor_requests, pairing_invitations, pairing_settings, pairings, participants};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = pairing_settings)]
struct SettingsRow {
    program_id: String,
    organization_id: String,
    process: String,
    mentor_capacity: i32,
    request_expiry_days: i32,
    remind_before_expiry: bool,
    unresponsive_days: i32,
    checklist_done: String,
    enabled: bool,
    updated_at: NaiveDateTime,
}

pub fn settings(conn: &mut DbConn, program: &str) -> Result<Settings, ApiError> {
    let row: Option<SettingsRow> = pairing_settings::table
        .find(program.to_owned())
        .select(SettingsRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        None => Settings::default(),
        Some(r) => Settings {
            process: Process::parse(&r.process).unwrap_or(Process::UserLedWithApproval),
            mentor_capacity: r.mentor_capacity as u32,
            request_expiry_days: r.request_expiry_days as u32,
            remind_before_expiry: r.remind_before_expiry,
            unresponsive_days: r.unresponsive_days as u32,
            enabled: r.enabled,
        },
    })
}

/// The launch checklist items marked done.
pub fn checklist_done(conn: &mut DbConn, program: &str) -> Result<Vec<String>, ApiError> {
    let done: Option<String> = pairing_settings::table
        .find(program.to_owned())
        .select(pairing_settings::checklist_done)
        .first(conn)
        .optional()?;
    Ok(done.and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default())
}

pub fn save_settings(
    conn: &mut DbConn,
    org: Uuid,
    program: &str,
    s: &Settings,
    checklist_done: &[String],
) -> Result<(), ApiError> {
    let row = SettingsRow {
        program_id: program.to_owned(),
        organization_id: org.to_string(),
        process: s.process.as_str().to_owned(),
        mentor_capacity: s.mentor_capacity as i32,
        request_expiry_days: s.request_expiry_days as i32,
        remind_before_expiry: s.remind_before_expiry,
        unresponsive_days: s.unresponsive_days as i32,
        checklist_done: serde_json::to_string(checklist_done).unwrap_or_else(|_| "[]".into()),
        enabled: s.enabled,
        updated_at: db::now(),
    };
    let updated = diesel::update(pairing_settings::table.find(program.to_owned()))
        .set(&row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(pairing_settings::table)
            .values(&row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn process_to_api(p: Process) -> PairingProcess {
    match p {
        Process::UserLedWithApproval => PairingProcess::UserLedWithApproval,
        Process::UserLed => PairingProcess::UserLed,
        Process::AdminLed => PairingProcess::AdminLed,
    }
}

pub fn process_from_api(p: PairingProcess) -> Process {
    match p {
        PairingProcess::UserLedWithApproval => Process::UserLedWithApproval,
        PairingProcess::UserLed => Process::UserLed,
        PairingProcess::AdminLed => Process::AdminLed,
    }
}

pub fn settings_to_api(s: &Settings, done: &[String]) -> PairingSettings {
    PairingSettings {
        checklist: cohort_domain::pairing::LAUNCH_CHECKLIST
            .iter()
            .map(|(key, label)| ChecklistItem {
                key: (*key).to_owned(),
                label: (*label).to_owned(),
                done: done.iter().any(|d| d == key),
            })
            .collect(),
        process: process_to_api(s.process),
        mentor_capacity: s.mentor_capacity,
        request_expiry_days: s.request_expiry_days,
        remind_before_expiry: s.remind_before_expiry,
        unresponsive_days: s.unresponsive_days,
        enabled: s.enabled,
    }
}

/// A person's active membership in a role, with the mentor's own capacity.
pub fn membership(
    conn: &mut DbConn,
    program: &str,
    person: &str,
    role: &str,
) -> Result<Option<(String, Option<i32>)>, ApiError> {
    Ok(participants::table
        .filter(participants::program_id.eq(program.to_owned()))
        .filter(participants::person_id.eq(person.to_owned()))
        .filter(participants::role.eq(role.to_owned()))
        .filter(participants::status.eq("active"))
        .select((participants::id, participants::capacity))
        .first(conn)
        .optional()?)
}

/// Holds the mentor's membership row until the transaction ends (PostgreSQL), so concurrent
/// approvals for one mentor count their pairings one after another. SQLite's writes already take
/// turns.
pub fn lock_membership(conn: &mut DbConn, participant_id: &str) -> Result<(), ApiError> {
    if let DbConn::Postgres(c) = conn {
        diesel::sql_query("SELECT id FROM participants WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::Text, _>(participant_id)
            .execute(c)?;
    }
    Ok(())
}

pub fn active_pairings_of_mentor(conn: &mut DbConn, program: &str, mentor: &str) -> Result<i64, ApiError> {
    Ok(pairings::table
        .filter(pairings::program_id.eq(program.to_owned()))
        .filter(pairings::mentor_id.eq(mentor.to_owned()))
        .filter(pairings::ended_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Active pairings per mentor in the program, in one query.
pub fn active_pairings_by_mentor(
    conn: &mut DbConn,
    program: &str,
) -> Result<std::collections::HashMap<String, u32>, ApiError> {
    let rows: Vec<(String, i64)> = pairings::table
        .filter(pairings::program_id.eq(program.to_owned()))
        .filter(pairings::ended_at.is_null())
        .group_by(pairings::mentor_id)
        .select((pairings::mentor_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(mentor, n)| (mentor, n as u32)).collect())
}

/// Pairings (any, `active_only` or not) a person has had in the program in `column`'s role.
pub fn pairings_of(conn: &mut DbConn, program: &str, mentee: &str, active_only: bool) -> Result<i64, ApiError> {
    let mut q = pairings::table
        .filter(pairings::program_id.eq(program.to_owned()))
        .filter(pairings::mentee_id.eq(mentee.to_owned()))
        .into_boxed();
    if active_only {
        q = q.filter(pairings::ended_at.is_null());
    }
    Ok(q.count().get_result(conn)?)
}

pub fn mentor_pairings_ever(conn: &mut DbConn, program: &str, mentor: &str) -> Result<i64, ApiError> {
    Ok(pairings::table
        .filter(pairings::program_id.eq(program.to_owned()))
        .filter(pairings::mentor_id.eq(mentor.to_owned()))
        .count()
        .get_result(conn)?)
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = mentor_requests, treat_none_as_null = true)]
pub struct RequestRow {
    pub id: String,
    pub organization_id: String,
    pub program_id: String,
    pub mentee_id: String,
    pub mentor_id: String,
    pub status: String,
    pub note: String,
    pub decline_message: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
}

fn status_of(s: &str) -> RequestStatus {
    use cohort_domain::pairing::RequestStatus as Status;
    match Status::parse(s) {
        Some(Status::Approved) => RequestStatus::Approved,
        Some(Status::Declined) => RequestStatus::Declined,
        Some(Status::Expired) => RequestStatus::Expired,
        Some(Status::Withdrawn) => RequestStatus::Withdrawn,
        Some(Status::Open) | None => RequestStatus::Open,
    }
}

/// The names of the people in `ids`, in one query (lists show a mentee and a mentor per row).
pub fn names<'a>(conn: &mut DbConn, ids: impl IntoIterator<Item = &'a String>) -> Result<Names, ApiError> {
    let mut ids: Vec<String> = ids.into_iter().cloned().collect();
    ids.sort();
    ids.dedup();
    Ok(crate::programs::repo::names(conn, &ids)?
        .into_iter()
        .map(|(id, (name, _))| (id, name))
        .collect())
}

pub type Names = std::collections::HashMap<String, String>;

fn name(names: &Names, id: &str) -> String {
    names.get(id).cloned().unwrap_or_default()
}

/// Requests as the API shows them, with the people's names looked up once.
pub fn requests_to_api(conn: &mut DbConn, rows: Vec<RequestRow>) -> Result<Vec<MentorRequest>, ApiError> {
    let names = names(conn, rows.iter().flat_map(|r| [&r.mentee_id, &r.mentor_id]))?;
    Ok(rows.into_iter().map(|r| r.into_api(&names)).collect())
}

/// Pairings as the API shows them, with the people's names looked up once.
pub fn pairings_to_api(conn: &mut DbConn, rows: Vec<PairingRow>) -> Result<Vec<Pairing>, ApiError> {
    let names = names(conn, rows.iter().flat_map(|r| [&r.mentee_id, &r.mentor_id]))?;
    Ok(rows.into_iter().map(|r| r.into_api(&names)).collect())
}

impl RequestRow {
    fn into_api(self, names: &Names) -> MentorRequest {
        MentorRequest {
            id: db::id(&self.id),
            program_id: db::id(&self.program_id),
            mentee_id: db::id(&self.mentee_id),
            mentee_name: name(names, &self.mentee_id),
            mentor_id: db::id(&self.mentor_id),
            mentor_name: name(names, &self.mentor_id),
            status: status_of(&self.status),
            note: self.note,
            decline_message: self.decline_message,
            created_at: db::utc(self.created_at),
            expires_at: self.expires_at.map(db::utc),
            decided_at: self.decided_at.map(db::utc),
        }
    }
}

pub fn get_request(conn: &mut DbConn, program: &str, id: Uuid) -> Result<RequestRow, ApiError> {
    Ok(mentor_requests::table
        .filter(mentor_requests::program_id.eq(program.to_owned()))
        .filter(mentor_requests::id.eq(id.to_string()))
        .select(RequestRow::as_select())
        .first(conn)?)
}

/// A request of the organisation by id, whatever its program, or 404.
pub fn get_request_of_org(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<RequestRow, ApiError> {
    Ok(mentor_requests::table
        .filter(mentor_requests::organization_id.eq(org.to_string()))
        .filter(mentor_requests::id.eq(id.to_string()))
        .select(RequestRow::as_select())
        .first(conn)?)
}

pub fn find_request(conn: &mut DbConn, id: &str) -> Result<Option<RequestRow>, ApiError> {
    Ok(mentor_requests::table
        .find(id.to_owned())
        .select(RequestRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn has_open_request(conn: &mut DbConn, program: &str, mentee: &str) -> Result<bool, ApiError> {
    let n: i64 = mentor_requests::table
        .filter(mentor_requests::program_id.eq(program.to_owned()))
        .filter(mentor_requests::mentee_id.eq(mentee.to_owned()))
        .filter(mentor_requests::status.eq("open"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn decide(conn: &mut DbConn, id: &str, status: &str, decline_message: Option<String>) -> Result<bool, ApiError> {
    let n = diesel::update(
        mentor_requests::table
            .find(id.to_owned())
            .filter(mentor_requests::status.eq("open")),
    )
    .set((
        mentor_requests::status.eq(status),
        mentor_requests::decline_message.eq(decline_message),
        mentor_requests::decided_at.eq(db::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = pairings, treat_none_as_null = true)]
pub struct PairingRow {
    pub id: String,
    pub organization_id: String,
    pub program_id: String,
    pub mentee_id: String,
    pub mentor_id: String,
    pub request_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub end_reason: Option<String>,
}

impl PairingRow {
    fn into_api(self, names: &Names) -> Pairing {
        Pairing {
            id: db::id(&self.id),
            program_id: db::id(&self.program_id),
            mentee_id: db::id(&self.mentee_id),
            mentee_name: name(names, &self.mentee_id),
            mentor_id: db::id(&self.mentor_id),
            mentor_name: name(names, &self.mentor_id),
            request_id: self.request_id.as_deref().map(db::id),
            created_at: db::utc(self.created_at),
            ended_at: self.ended_at.map(db::utc),
            end_reason: self.end_reason,
        }
    }
}

pub fn get_pairing(conn: &mut DbConn, program: &str, id: Uuid) -> Result<PairingRow, ApiError> {
    Ok(pairings::table
        .filter(pairings::program_id.eq(program.to_owned()))
        .filter(pairings::id.eq(id.to_string()))
        .select(PairingRow::as_select())
        .first(conn)?)
}

/// The pairing `id`, if it exists.
pub fn find_pairing(conn: &mut DbConn, id: &str) -> Result<Option<PairingRow>, ApiError> {
    Ok(pairings::table
        .find(id)
        .select(PairingRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every pairing of the program, ended or not, by id.
pub fn pairings_in(conn: &mut DbConn, program: &str) -> Result<Vec<PairingRow>, ApiError> {
    Ok(pairings::table
        .filter(pairings::program_id.eq(program))
        .select(PairingRow::as_select())
        .order(pairings::id)
        .load(conn)?)
}

/// How many of the program's requests have `status`.
pub fn count_requests(conn: &mut DbConn, program: &str, status: &str) -> Result<i64, ApiError> {
    Ok(mentor_requests::table
        .filter(mentor_requests::program_id.eq(program))
        .filter(mentor_requests::status.eq(status))
        .count()
        .get_result(conn)?)
}

/// The program's active mentors with their own capacity.
pub fn active_mentors(conn: &mut DbConn, program: &str) -> Result<Vec<(String, Option<i32>)>, ApiError> {
    Ok(participants::table
        .filter(participants::program_id.eq(program))
        .filter(participants::role.eq("mentor"))
        .filter(participants::status.eq("active"))
        .select((participants::person_id, participants::capacity))
        .load(conn)?)
}

/// When each of the program's requests was made, its status, and when it was decided.
pub fn request_times(
    conn: &mut DbConn,
    program: &str,
) -> Result<Vec<(NaiveDateTime, String, Option<NaiveDateTime>)>, ApiError> {
    Ok(mentor_requests::table
        .filter(mentor_requests::program_id.eq(program))
        .select((
            mentor_requests::created_at,
            mentor_requests::status,
            mentor_requests::decided_at,
        ))
        .load(conn)?)
}

/// Stores a new pairing.
pub fn insert_pairing(conn: &mut DbConn, row: &PairingRow) -> Result<(), ApiError> {
    diesel::insert_into(pairings::table).values(row).execute(conn)?;
    Ok(())
}

/// Stores a new request.
pub fn insert_request(conn: &mut DbConn, row: &RequestRow) -> Result<(), ApiError> {
    diesel::insert_into(mentor_requests::table).values(row).execute(conn)?;
    Ok(())
}

/// Up to `limit` of the program's requests after the id `after`, by id.
pub fn requests_page(
    conn: &mut DbConn,
    program: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<RequestRow>, ApiError> {
    let mut q = mentor_requests::table
        .filter(mentor_requests::program_id.eq(program))
        .select(RequestRow::as_select())
        .order(mentor_requests::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(mentor_requests::id.gt(after.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// Up to `limit` of the organisation's requests the person made or received, after the id `after`, by id.
pub fn requests_of_person(
    conn: &mut DbConn,
    org: Uuid,
    person: Uuid,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<RequestRow>, ApiError> {
    let me = person.to_string();
    let mut q = mentor_requests::table
        .filter(mentor_requests::organization_id.eq(org.to_string()))
        .filter(
            mentor_requests::mentee_id
                .eq(me.clone())
                .or(mentor_requests::mentor_id.eq(me)),
        )
        .select(RequestRow::as_select())
        .order(mentor_requests::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(mentor_requests::id.gt(after.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// Up to `limit` of the program's active pairings after the id `after`, by id.
pub fn active_pairings_page(
    conn: &mut DbConn,
    program: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<PairingRow>, ApiError> {
    let mut q = pairings::table
        .filter(pairings::program_id.eq(program))
        .filter(pairings::ended_at.is_null())
        .select(PairingRow::as_select())
        .order(pairings::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(pairings::id.gt(after.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// Ends the pairing `id` now with `reason`; false when it had ended already.
pub fn end_pairing(conn: &mut DbConn, id: &str, reason: &str) -> Result<bool, ApiError> {
    let n = diesel::update(pairings::table.find(id).filter(pairings::ended_at.is_null()))
        .set((pairings::ended_at.eq(db::now()), pairings::end_reason.eq(reason)))
        .execute(conn)?;
    Ok(n != 0)
}

/// Sets the mentor membership's own capacity (`None`: the program's).
pub fn set_capacity(conn: &mut DbConn, membership: &str, capacity: Option<i32>) -> Result<(), ApiError> {
    diesel::update(participants::table.find(membership))
        .set(participants::capacity.eq(capacity))
        .execute(conn)?;
    Ok(())
}

/// The mentees of the program's active pairings.
pub fn paired_mentees(conn: &mut DbConn, program: &str) -> Result<std::collections::HashSet<String>, ApiError> {
    Ok(pairings::table
        .filter(pairings::program_id.eq(program))
        .filter(pairings::ended_at.is_null())
        .select(pairings::mentee_id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// When each mentee of the program was first and last invited to find a mentor.
pub fn invitations(
    conn: &mut DbConn,
    program: &str,
) -> Result<std::collections::HashMap<String, (NaiveDateTime, NaiveDateTime)>, ApiError> {
    Ok(pairing_invitations::table
        .filter(pairing_invitations::program_id.eq(program))
        .select((
            pairing_invitations::mentee_id,
            pairing_invitations::first_sent_at,
            pairing_invitations::last_sent_at,
        ))
        .load::<(String, NaiveDateTime, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, first, last)| (id, (first, last)))
        .collect())
}

/// Records that the mentee was invited at `now`: counts one more invitation, or stores the first.
pub fn record_invitation(
    conn: &mut DbConn,
    org: &str,
    program: &str,
    mentee: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let target = pairing_invitations::table.find((program.to_owned(), mentee.to_owned()));
    let updated = diesel::update(target)
        .set((
            pairing_invitations::last_sent_at.eq(now),
            pairing_invitations::times.eq(pairing_invitations::times + 1),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(pairing_invitations::table)
            .values((
                pairing_invitations::program_id.eq(program),
                pairing_invitations::mentee_id.eq(mentee),
                pairing_invitations::organization_id.eq(org),
                pairing_invitations::first_sent_at.eq(now),
                pairing_invitations::last_sent_at.eq(now),
                pairing_invitations::times.eq(1),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The program's stored auto-pair rules and proposal, as JSON.
pub fn auto_pair(conn: &mut DbConn, program: &str) -> Result<Option<(String, Option<String>)>, ApiError> {
    Ok(auto_pair::table
        .find(program)
        .select((auto_pair::rules, auto_pair::proposal))
        .first(conn)
        .optional()?)
}

/// Stores the program's auto-pair rules and proposal (JSON), replacing what was there.
pub fn save_auto_pair(
    conn: &mut DbConn,
    org: &str,
    program: &str,
    rules: &str,
    proposal_id: Option<&str>,
    proposal: Option<&str>,
) -> Result<(), ApiError> {
    let updated = diesel::update(auto_pair::table.find(program))
        .set((
            auto_pair::rules.eq(rules),
            auto_pair::proposal_id.eq(proposal_id),
            auto_pair::proposal.eq(proposal),
            auto_pair::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(auto_pair::table)
            .values((
                auto_pair::program_id.eq(program),
                auto_pair::organization_id.eq(org),
                auto_pair::rules.eq(rules),
                auto_pair::proposal_id.eq(proposal_id),
                auto_pair::proposal.eq(proposal),
                auto_pair::updated_at.eq(db::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The membership's questionnaire answers, as JSON.
pub fn answers(conn: &mut DbConn, participant: &str) -> Result<String, ApiError> {
    Ok(participants::table
        .find(participant)
        .select(participants::answers)
        .first(conn)?)
}

/// Replaces the membership's questionnaire answers (JSON).
pub fn set_answers(conn: &mut DbConn, participant: &str, answers: &str) -> Result<(), ApiError> {
    diesel::update(participants::table.find(participant))
        .set(participants::answers.eq(answers))
        .execute(conn)?;
    Ok(())
}

/// The answers (JSON) of the person's active membership in the program (all of their memberships
/// there hold the same answers: [`set_answers_of`] writes them all), if they take part.
pub fn answers_of(conn: &mut DbConn, program: &str, person: Uuid) -> Result<Option<String>, ApiError> {
    Ok(participants::table
        .filter(participants::program_id.eq(program))
        .filter(participants::person_id.eq(person.to_string()))
        .filter(participants::status.eq("active"))
        .order(participants::id)
        .select(participants::answers)
        .first(conn)
        .optional()?)
}

/// Replaces the answers (JSON) of each of the person's active memberships in the program; how many.
pub fn set_answers_of(conn: &mut DbConn, program: &str, person: Uuid, answers: &str) -> Result<usize, ApiError> {
    Ok(diesel::update(
        participants::table
            .filter(participants::program_id.eq(program))
            .filter(participants::person_id.eq(person.to_string()))
            .filter(participants::status.eq("active")),
    )
    .set(participants::answers.eq(answers))
    .execute(conn)?)
}
