//! Chat: conversations between the people of a pairing, or from the program
//! team to participants. Only members see a conversation; others get a 404.

use std::collections::HashMap;

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDateTime;
use cohort_api_types::{
    ChatMessage, ChatMessagePage, Conversation, ConversationList, CreateConversation, PageQuery, Problem,
    SendChatMessage,
};
use uuid::Uuid;

use super::chat_repo::{self as repo, ConversationRow, MessageRow};
use super::notifications::{notify, NewNotification};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::paging::PageRequest;
use crate::{people, programs, AppState};

const MAX_MEMBERS: usize = 50;

/// Opens a conversation among `members` (used by the API here, and by pairing and automations).
pub fn open_conversation(
    conn: &mut DbConn,
    org: Uuid,
    kind: &str,
    subject: &str,
    program: Option<Uuid>,
    members: &[Uuid],
) -> Result<String, ApiError> {
    let row = ConversationRow {
        id: db::new_id(),
        organization_id: org.to_string(),
        program_id: program.map(|p| p.to_string()),
        kind: kind.to_owned(),
        subject: subject.to_owned(),
        created_at: db::now(),
    };
    repo::insert_conversation(conn, &row, members)?;
    Ok(row.id)
}

/// Adds a message and tells the other members in their feed.
pub fn post_message(
    conn: &mut DbConn,
    org: Uuid,
    conversation: &str,
    sender: Option<Uuid>,
    body: &str,
) -> Result<ChatMessage, ApiError> {
    let row = MessageRow {
        id: db::new_id(),
        organization_id: org.to_string(),
        conversation_id: conversation.to_owned(),
        sender_id: sender.map(|s| s.to_string()),
        body: body.to_owned(),
        created_at: db::now(),
    };
    repo::insert_message(conn, &row)?;
    let others = repo::member_ids(conn, conversation)?;
    let preview: String = body.chars().take(140).collect();
    for person in others.iter().filter(|p| Some(db::id(p)) != sender) {
        let link = cohort_api_types::links::participant_conversation(conversation);
        let new = NewNotification {
            kind: "chat_message",
            title: "New message",
            body: &preview,
            link: Some(&link),
            dedupe_key: Some(format!("chat:{}:{person}", row.id)),
        };
        notify(conn, org, db::id(person), new)?;
    }
    if let Some(sender) = sender {
        repo::mark_read(conn, conversation, sender)?;
    }
    Ok(row.into_api())
}

fn describe(conn: &mut DbConn, person: Uuid, rows: Vec<ConversationRow>) -> Result<Vec<Conversation>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let members = repo::members(conn, &ids)?;
    let mut by_conversation: HashMap<String, Vec<Uuid>> = HashMap::new();
    let mut read_at: HashMap<String, Option<NaiveDateTime>> = HashMap::new();
    for (conversation, member, last_read) in members {
        if db::id(&member) == person {
            read_at.insert(conversation.clone(), last_read);
        }
        by_conversation.entry(conversation).or_default().push(db::id(&member));
    }
    rows.into_iter()
        .map(|row| {
            // Never read: every message counts (PostgreSQL's timestamps start long after chrono's MIN).
            let since = read_at
                .get(&row.id)
                .copied()
                .flatten()
                .unwrap_or(chrono::DateTime::UNIX_EPOCH.naive_utc());
            let unread_count = repo::unread_count(conn, &row.id, person, since)?;
            Ok(Conversation {
                id: db::id(&row.id),
                member_ids: by_conversation.remove(&row.id).unwrap_or_default(),
                kind: row.kind,
                subject: row.subject,
                program_id: row.program_id.as_deref().map(db::id),
                unread_count,
                created_at: db::utc(row.created_at),
            })
        })
        .collect()
}

/// The caller's conversations, newest first, with unread counts.
#[utoipa::path(
    tag = "chat",
    responses((status = 200, description = "The caller's conversations", body = ConversationList)),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/conversations")]
pub async fn list_conversations(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<ConversationList>, ApiError> {
    let (org, person) = (caller.org, caller.person);
    let items = state
        .db
        .read(move |conn| {
            let rows = repo::conversations_of(conn, org, person)?;
            describe(conn, person, rows)
        })
        .await?;
    Ok(web::Json(ConversationList { items }))
}

/// Opens a conversation from the program team (the caller) to people of the organisation (admins only).
#[utoipa::path(
    tag = "chat",
    request_body = CreateConversation,
    responses(
        (status = 201, description = "The conversation", body = Conversation),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Unknown people or program", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/conversations")]
pub async fn create_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<CreateConversation>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let mut problems = Problems::default();
    let subject = problems.check("subject", cohort_domain::bounded_text(&input.subject, 0, 200));
    if input.person_ids.is_empty() || input.person_ids.len() > MAX_MEMBERS {
        problems.push("person_ids", format!("name 1 to {MAX_MEMBERS} people"));
    }
    problems.finish()?;
    let subject = subject.unwrap_or_default();
    let (org, me, actor) = (caller.org, caller.person, caller.actor());
    let created = state
        .db
        .write(move |conn| {
            let wanted: Vec<String> = input.person_ids.iter().map(|p| p.to_string()).collect();
            let known = people::repo::existing_ids(conn, org, &wanted)?;
            let mut problems = Problems::default();
            for (i, id) in wanted.iter().enumerate() {
                if !known.contains(id) {
                    problems.push(format!("person_ids[{i}]"), "no such person in this organisation");
                }
            }
            if let Some(program) = input.program_id {
                if programs::repo::get(conn, org, program).is_err() {
                    problems.push("program_id", "no such program in this organisation");
                }
            }
            problems.finish()?;
            let mut members = vec![me];
            members.extend(input.person_ids.iter().copied().filter(|p| *p != me));
            members.dedup();
            let id = open_conversation(conn, org, "admin", &subject, input.program_id, &members)?;
            let row = repo::get_conversation(conn, &id)?;
            let created = describe(conn, me, vec![row])?.remove(0);
            let after = serde_json::json!({"subject": subject, "program_id": input.program_id, "person_ids": members});
            audit::record(
                conn,
                &actor,
                "conversation.created",
                ("conversation", &id),
                audit::NONE,
                after,
            )?;
            Ok(created)
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// A conversation's messages, newest page first (each page oldest first).
#[utoipa::path(
    tag = "chat",
    params(("id" = Uuid, Path, description = "The conversation's id"), PageQuery),
    responses(
        (status = 200, description = "A page of messages", body = ChatMessagePage),
        (status = 404, description = "Not a conversation of the caller", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/conversations/{id}/messages")]
pub async fn list_messages(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    page: PageRequest,
) -> Result<web::Json<ChatMessagePage>, ApiError> {
    let (org, person, id) = (caller.org, caller.person, id.into_inner());
    let (mut rows, next_cursor) = state
        .db
        .read(move |conn| {
            let conversation = repo::membership(conn, org, person, id)?;
            let rows = repo::messages_page(conn, &conversation.id, page.after.as_deref(), page.fetch())?;
            Ok(page.finish(rows, |m: &MessageRow| db::id(&m.id)))
        })
        .await?;
    rows.reverse();
    Ok(web::Json(ChatMessagePage {
        items: rows.into_iter().map(MessageRow::into_api).collect(),
        next_cursor,
    }))
}

/// Sends a message; the other members find it in their feed.
#[utoipa::path(
    tag = "chat",
    params(("id" = Uuid, Path, description = "The conversation's id")),
    request_body = SendChatMessage,
    responses(
        (status = 201, description = "Sent", body = ChatMessage),
        (status = 404, description = "Not a conversation of the caller", body = Problem),
        (status = 422, description = "Empty or too long", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/conversations/{id}/messages")]
pub async fn send_message(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<SendChatMessage>,
) -> Result<HttpResponse, ApiError> {
    let body = cohort_domain::bounded_text(&input.body, 1, 10_000).map_err(|e| ApiError::invalid("body", e))?;
    let (org, person, id) = (caller.org, caller.person, id.into_inner());
    let message = state
        .db
        .write(move |conn| {
            let conversation = repo::membership(conn, org, person, id)?;
            post_message(conn, org, &conversation.id, Some(person), &body)
        })
        .await?;
    Ok(HttpResponse::Created().json(message))
}

/// Marks the conversation read up to now for the caller.
#[utoipa::path(
    tag = "chat",
    params(("id" = Uuid, Path, description = "The conversation's id")),
    responses(
        (status = 204, description = "Read"),
        (status = 404, description = "Not a conversation of the caller", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/conversations/{id}/read")]
pub async fn read_conversation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (org, person, id) = (caller.org, caller.person, id.into_inner());
    state
        .db
        .write(move |conn| {
            let conversation = repo::membership(conn, org, person, id)?;
            repo::mark_read(conn, &conversation.id, person)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
