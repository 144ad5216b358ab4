//! Conversations, their members and messages in the database.

use chrono::NaiveDateTime;
use cohort_api_types::ChatMessage;
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::schema::{chat_messages, conversation_members, conversations};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = conversations)]
pub struct ConversationRow {
    pub id: String,
    pub organization_id: String,
    pub program_id: Option<String>,
    pub kind: String,
    pub subject: String,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = chat_messages)]
pub struct MessageRow {
    pub id: String,
    pub organization_id: String,
    pub conversation_id: String,
    pub sender_id: Option<String>,
    pub body: String,
    pub created_at: NaiveDateTime,
}

impl MessageRow {
    pub fn into_api(self) -> ChatMessage {
        ChatMessage {
            id: db::id(&self.id),
            conversation_id: db::id(&self.conversation_id),
            sender_id: self.sender_id.as_deref().map(db::id),
            body: self.body,
            created_at: db::utc(self.created_at),
        }
    }
}

/// Stores a new conversation and its members.
pub fn insert_conversation(conn: &mut DbConn, row: &ConversationRow, members: &[Uuid]) -> Result<(), ApiError> {
    diesel::insert_into(conversations::table).values(row).execute(conn)?;
    for member in members {
        diesel::insert_into(conversation_members::table)
            .values((
                conversation_members::conversation_id.eq(&row.id),
                conversation_members::person_id.eq(member.to_string()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Stores a new message.
pub fn insert_message(conn: &mut DbConn, row: &MessageRow) -> Result<(), ApiError> {
    diesel::insert_into(chat_messages::table).values(row).execute(conn)?;
    Ok(())
}

/// The person ids of the conversation's members.
pub fn member_ids(conn: &mut DbConn, conversation: &str) -> Result<Vec<String>, ApiError> {
    Ok(conversation_members::table
        .filter(conversation_members::conversation_id.eq(conversation))
        .select(conversation_members::person_id)
        .load(conn)?)
}

/// Marks the conversation read up to now for the member `person`.
pub fn mark_read(conn: &mut DbConn, conversation: &str, person: Uuid) -> Result<(), ApiError> {
    diesel::update(
        conversation_members::table
            .filter(conversation_members::conversation_id.eq(conversation))
            .filter(conversation_members::person_id.eq(person.to_string())),
    )
    .set(conversation_members::last_read_at.eq(db::now()))
    .execute(conn)?;
    Ok(())
}

/// The conversation, if `person` is one of its members in `org`.
pub fn membership(conn: &mut DbConn, org: Uuid, person: Uuid, conversation: Uuid) -> Result<ConversationRow, ApiError> {
    Ok(conversations::table
        .inner_join(conversation_members::table)
        .filter(conversations::organization_id.eq(org.to_string()))
        .filter(conversations::id.eq(conversation.to_string()))
        .filter(conversation_members::person_id.eq(person.to_string()))
        .select(ConversationRow::as_select())
        .first(conn)?)
}

/// The members of the conversations `ids`: conversation id, person id, when they last read it.
pub fn members(conn: &mut DbConn, ids: &[String]) -> Result<Vec<(String, String, Option<NaiveDateTime>)>, ApiError> {
    Ok(conversation_members::table
        .filter(conversation_members::conversation_id.eq_any(ids))
        .select((
            conversation_members::conversation_id,
            conversation_members::person_id,
            conversation_members::last_read_at,
        ))
        .load(conn)?)
}

/// How many messages of the conversation from others (or the program team) arrived after `since`.
pub fn unread_count(
    conn: &mut DbConn,
    conversation: &str,
    person: Uuid,
    since: NaiveDateTime,
) -> Result<i64, ApiError> {
    Ok(chat_messages::table
        .filter(chat_messages::conversation_id.eq(conversation))
        .filter(chat_messages::created_at.gt(since))
        .filter(
            chat_messages::sender_id
                .is_null()
                .or(chat_messages::sender_id.ne(person.to_string())),
        )
        .count()
        .get_result(conn)?)
}

/// The person's 200 newest conversations in the organisation, newest first.
pub fn conversations_of(conn: &mut DbConn, org: Uuid, person: Uuid) -> Result<Vec<ConversationRow>, ApiError> {
    Ok(conversations::table
        .inner_join(conversation_members::table)
        .filter(conversations::organization_id.eq(org.to_string()))
        .filter(conversation_members::person_id.eq(person.to_string()))
        .select(ConversationRow::as_select())
        .order(conversations::id.desc())
        .limit(200)
        .load(conn)?)
}

/// The conversation `id`.
pub fn get_conversation(conn: &mut DbConn, id: &str) -> Result<ConversationRow, ApiError> {
    Ok(conversations::table
        .find(id)
        .select(ConversationRow::as_select())
        .first(conn)?)
}

/// Up to `limit` of the conversation's messages before the id `before`, newest first.
pub fn messages_page(
    conn: &mut DbConn,
    conversation: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<MessageRow>, ApiError> {
    let mut q = chat_messages::table
        .filter(chat_messages::conversation_id.eq(conversation))
        .select(MessageRow::as_select())
        .order(chat_messages::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(chat_messages::id.lt(before.to_owned()));
    }
    Ok(q.load(conn)?)
}
