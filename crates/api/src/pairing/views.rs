//! Read models of pairings over other capabilities' tables: conversations, steps, bookings, events.

use chrono::NaiveDateTime;
use cohort_domain::pairing as rules;
use diesel::dsl::max;
use diesel::prelude::*;

use super::repo::PairingRow;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::{bookings, chat_messages, conversation_members, conversations, events, step_deliveries, steps};

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
