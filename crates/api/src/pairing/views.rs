//! Read models of pairings over other capabilities' tables: conversations, steps, bookings, events.

use chrono::NaiveDateTime;
use cohort_domain::pairing as rules;
use diesel::dsl::max;
use diesel::prelude::*;

use super::repo::PairingRow;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::people::repo::PersonRow;
use crate::schema::{
    bookings, chat_messages, conversation_members, conversations, events, mentor_requests, pairings, participants,
    people, step_deliveries, steps,
};

/// The last sign of life of a pairing: a message in the pair's conversation, a step either
/// of them completed in the program, or a session they had (a completed booking, either of them
/// the provider), since they were paired.
pub fn last_activity(conn: &mut DbConn, pairing: &PairingRow) -> Result<Option<NaiveDateTime>, ApiError> {
    let (mentee_member, mentor_member) = diesel::alias!(
        conversation_members as mentee_member,
        conversation_members as mentor_member
    );
    let message: Option<NaiveDateTime> = chat_messages::table
        .inner_join(conversations::table)
        .inner_join(
            mentee_member.on(mentee_member
                .field(conversation_members::conversation_id)
                .eq(conversations::id)
                .and(
                    mentee_member
                        .field(conversation_members::person_id)
                        .eq(pairing.mentee_id.clone()),
                )),
        )
        .inner_join(
            mentor_member.on(mentor_member
                .field(conversation_members::conversation_id)
                .eq(conversations::id)
                .and(
                    mentor_member
                        .field(conversation_members::person_id)
                        .eq(pairing.mentor_id.clone()),
                )),
        )
        .filter(conversations::kind.eq("pairing"))
        .filter(conversations::program_id.eq(pairing.program_id.clone()))
        .filter(chat_messages::created_at.ge(pairing.created_at))
        .select(max(chat_messages::created_at))
        .first(conn)?;
    let step: Option<NaiveDateTime> = step_deliveries::table
        .inner_join(steps::table)
        .filter(steps::program_id.eq(&pairing.program_id))
        .filter(step_deliveries::person_id.eq_any([&pairing.mentee_id, &pairing.mentor_id]))
        .filter(step_deliveries::completed_at.ge(pairing.created_at))
        .select(max(step_deliveries::completed_at))
        .first::<Option<NaiveDateTime>>(conn)?;
    let (mentee, mentor) = (&pairing.mentee_id, &pairing.mentor_id);
    let session: Option<NaiveDateTime> = bookings::table
        .filter(bookings::organization_id.eq(&pairing.organization_id))
        .filter(bookings::status.eq("completed"))
        .filter(
            (bookings::student_id.eq(mentee).and(bookings::provider_id.eq(mentor)))
                .or(bookings::student_id.eq(mentor).and(bookings::provider_id.eq(mentee))),
        )
        .filter(bookings::starts_at.ge(pairing.created_at))
        .select(max(bookings::starts_at))
        .first(conn)?;
    Ok(message.max(step).max(session))
}

/// The completed bookings between the people of `pairings` (one statement).
pub fn sessions(
    conn: &mut DbConn,
    org: &str,
    pairings: &[PairingRow],
) -> Result<Vec<rules::Session<String>>, ApiError> {
    let people: Vec<&str> = pairings
        .iter()
        .flat_map(|p| [p.mentee_id.as_str(), p.mentor_id.as_str()])
        .collect();
    let rows: Vec<(String, String, NaiveDateTime)> = bookings::table
        .filter(bookings::organization_id.eq(org))
        .filter(bookings::status.eq("completed"))
        .filter(bookings::student_id.eq_any(&people))
        .filter(bookings::provider_id.eq_any(&people))
        .select((bookings::student_id, bookings::provider_id, bookings::starts_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(student, provider, at)| rules::Session {
            student,
            provider,
            starts_at: db::utc(at),
        })
        .collect())
}

/// How many events of `event_type` the person has in the program.
pub fn count_events(conn: &mut DbConn, program: &str, person: &str, event_type: &str) -> Result<i64, ApiError> {
    Ok(events::table
        .filter(events::program_id.eq(program))
        .filter(events::person_id.eq(person))
        .filter(events::event_type.eq(event_type))
        .count()
        .get_result(conn)?)
}

/// A mentor as the lists show them: person id, name, bio and own capacity.
pub type MentorRow = (String, String, String, Option<i32>);

/// The program's active mentors with their name, bio and own capacity.
pub fn active_mentors_with_people(conn: &mut DbConn, program: &str) -> Result<Vec<MentorRow>, ApiError> {
    Ok(participants::table
        .inner_join(people::table)
        .filter(participants::program_id.eq(program))
        .filter(participants::role.eq("mentor"))
        .filter(participants::status.eq("active"))
        .select((
            participants::person_id,
            people::name,
            people::bio,
            participants::capacity,
        ))
        .load(conn)?)
}

/// A pairing in the export: id, mentee's name and email, mentor's name and email, paired at.
pub type ExportRow = (String, String, String, String, String, NaiveDateTime);

/// Up to `limit` of the program's active pairings after the id `after`, by id, with both people.
pub fn active_pairings_with_people(
    conn: &mut DbConn,
    program: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ExportRow>, ApiError> {
    let (mentee, mentor) = diesel::alias!(people as mentee, people as mentor);
    let mut query = pairings::table
        .inner_join(mentee.on(mentee.field(people::id).eq(pairings::mentee_id)))
        .inner_join(mentor.on(mentor.field(people::id).eq(pairings::mentor_id)))
        .filter(pairings::program_id.eq(program))
        .filter(pairings::ended_at.is_null())
        .order(pairings::id)
        .select((
            pairings::id,
            mentee.field(people::name),
            mentee.field(people::email),
            mentor.field(people::name),
            mentor.field(people::email),
            pairings::created_at,
        ))
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(pairings::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// The program's open requests by mentee: the request's id and the mentor's name.
pub fn open_requests_with_mentor_names(
    conn: &mut DbConn,
    program: &str,
) -> Result<std::collections::HashMap<String, (String, String)>, ApiError> {
    Ok(mentor_requests::table
        .inner_join(people::table.on(people::id.eq(mentor_requests::mentor_id)))
        .filter(mentor_requests::program_id.eq(program))
        .filter(mentor_requests::status.eq("open"))
        .select((mentor_requests::mentee_id, mentor_requests::id, people::name))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(mentee, id, mentor)| (mentee, (id, mentor)))
        .collect())
}

/// The program's active mentees by person id: their membership id and the person.
pub fn active_mentees(conn: &mut DbConn, program: &str) -> Result<Vec<(String, PersonRow)>, ApiError> {
    Ok(participants::table
        .inner_join(people::table)
        .filter(participants::program_id.eq(program))
        .filter(participants::role.eq("mentee"))
        .filter(participants::status.eq("active"))
        .select((participants::id, PersonRow::as_select()))
        .order(people::id)
        .load(conn)?)
}

/// A participant as auto-pair reads them: person id, name, attributes, answers, own capacity.
pub type SideRow = (String, String, String, String, Option<i32>);

/// The program's active participants in `role` (or just the person `only`), by person id.
pub fn active_side(conn: &mut DbConn, program: &str, role: &str, only: Option<&str>) -> Result<Vec<SideRow>, ApiError> {
    let mut query = participants::table
        .inner_join(people::table)
        .filter(participants::program_id.eq(program))
        .filter(participants::role.eq(role))
        .filter(participants::status.eq("active"))
        .into_boxed();
    if let Some(person) = only {
        query = query.filter(participants::person_id.eq(person));
    }
    Ok(query
        .order(participants::person_id)
        .select((
            participants::person_id,
            people::name,
            people::attributes,
            participants::answers,
            participants::capacity,
        ))
        .load(conn)?)
}

/// Everyone in the organisation: id, email and attributes.
pub fn people_with_attributes(conn: &mut DbConn, org: &str) -> Result<Vec<(String, String, String)>, ApiError> {
    Ok(people::table
        .filter(people::organization_id.eq(org))
        .select((people::id, people::email, people::attributes))
        .load(conn)?)
}

/// One of a person's active pairings with its program's name and the other person (id, name, bio).
pub type MyPairingRow = (PairingRow, String, (String, String, String));

/// Up to `limit` of the person's active pairings in the organisation (as mentee or as mentor)
/// after the id `after`, by id, each with its program's name and the other person.
pub fn active_pairings_of_person(
    conn: &mut DbConn,
    org: &str,
    person: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<MyPairingRow>, ApiError> {
    use crate::schema::programs;
    let mut query = pairings::table
        .inner_join(programs::table.on(programs::id.eq(pairings::program_id)))
        .inner_join(
            people::table.on(people::id
                .eq(pairings::mentor_id)
                .and(pairings::mentee_id.eq(person))
                .or(people::id.eq(pairings::mentee_id).and(pairings::mentor_id.eq(person)))),
        )
        .filter(pairings::organization_id.eq(org))
        .filter(pairings::ended_at.is_null())
        .filter(pairings::mentee_id.eq(person).or(pairings::mentor_id.eq(person)))
        .order(pairings::id)
        .select((
            PairingRow::as_select(),
            programs::name,
            (people::id, people::name, people::bio),
        ))
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(pairings::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// A pairing conversation: its id, program id, when it was opened, and its members.
pub type PairConversation = (String, String, NaiveDateTime, Vec<String>);

/// The pairing conversations of these programs that `person` is in.
pub fn pairing_conversations_of(
    conn: &mut DbConn,
    org: &str,
    person: &str,
    programs: &[String],
) -> Result<Vec<PairConversation>, ApiError> {
    let mine: Vec<(String, Option<String>, NaiveDateTime)> = conversations::table
        .inner_join(conversation_members::table)
        .filter(conversations::organization_id.eq(org))
        .filter(conversations::kind.eq("pairing"))
        .filter(conversations::program_id.eq_any(programs))
        .filter(conversation_members::person_id.eq(person))
        .select((conversations::id, conversations::program_id, conversations::created_at))
        .order(conversations::id)
        .load(conn)?;
    let ids: Vec<&str> = mine.iter().map(|(id, _, _)| id.as_str()).collect();
    let members: Vec<(String, String)> = conversation_members::table
        .filter(conversation_members::conversation_id.eq_any(&ids))
        .select((conversation_members::conversation_id, conversation_members::person_id))
        .load(conn)?;
    Ok(mine
        .into_iter()
        .filter_map(|(id, program, opened)| {
            let people = members
                .iter()
                .filter(|(c, _)| *c == id)
                .map(|(_, p)| p.clone())
                .collect();
            Some((id, program?, opened, people))
        })
        .collect())
}
