//! Unpaired mentees and invitations to choose a mentor ("Submit your mentor preferences").

use std::collections::HashMap;

use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDateTime;
use cohort_api_types::{
    InvitationPreview, InvitationsSent, InviteMentees, Problem, UnpairedMentee, UnpairedMenteePage, UnpairedQuery,
    UnpairedTab,
};
use cohort_domain::pairing::may_invite;
use serde_json::json;
use uuid::Uuid;

use super::{context, email, repo, views};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::messaging::email::{render_apart, wording};
use crate::paging::PageRequest;
use crate::programs::repo::{self as programs, ProgramRow};
use crate::AppState;

struct Unpaired {
    participant: String,
    person: crate::people::repo::PersonRow,
    invited: Option<(NaiveDateTime, NaiveDateTime)>,
    request: Option<(String, String)>,
}

impl Unpaired {
    fn tab(&self) -> UnpairedTab {
        match (&self.request, &self.invited) {
            (Some(_), _) => UnpairedTab::Requested,
            (None, Some(_)) => UnpairedTab::Invited,
            (None, None) => UnpairedTab::NotInvited,
        }
    }
}

/// The program's active mentees without an active pairing, by person id, with their invitation
/// and open request.
fn unpaired(conn: &mut DbConn, program: &ProgramRow) -> Result<Vec<Unpaired>, ApiError> {
    let paired = repo::paired_mentees(conn, &program.id)?;
    let invited = repo::invitations(conn, &program.id)?;
    let requests = views::open_requests_with_mentor_names(conn, &program.id)?;
    let mentees = views::active_mentees(conn, &program.id)?;
    Ok(mentees
        .into_iter()
        .filter(|(_, p)| !paired.contains(&p.id))
        .map(|(participant, person)| Unpaired {
            participant,
            invited: invited.get(&person.id).copied(),
            request: requests.get(&person.id).cloned(),
            person,
        })
        .collect())
}

/// Unpaired mentees on one tab: not invited, invited, or waiting for a mentor's answer.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id"), UnpairedQuery),
    responses(
        (status = 200, description = "A page of unpaired mentees", body = UnpairedMenteePage),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/unpaired")]
pub async fn list_unpaired(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<UnpairedQuery>,
) -> Result<web::Json<UnpairedMenteePage>, ApiError> {
    caller.require_admin()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let (org, id, tab) = (
        caller.org,
        id.into_inner(),
        query.tab.unwrap_or(UnpairedTab::NotInvited),
    );
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            let rows: Vec<Unpaired> = unpaired(conn, &program)?
                .into_iter()
                .filter(|u| u.tab() == tab)
                .filter(|u| page.after.as_ref().is_none_or(|after| u.person.id > *after))
                .take(page.fetch() as usize)
                .collect();
            Ok(page.finish(rows, |u| db::id(&u.person.id)))
        })
        .await?;
    let items = items
        .into_iter()
        .map(|u| UnpairedMentee {
            participant_id: db::id(&u.participant),
            person_id: db::id(&u.person.id),
            name: u.person.name,
            email: u.person.email,
            first_invited_at: u.invited.map(|(first, _)| db::utc(first)),
            last_invited_at: u.invited.map(|(_, last)| db::utc(last)),
            request_id: u.request.as_ref().map(|(id, _)| db::id(id)),
            requested_mentor: u.request.map(|(_, mentor)| mentor),
        })
        .collect();
    Ok(web::Json(UnpairedMenteePage { items, next_cursor }))
}

/// Whom an invitation goes to now, and who waits out the cooldown.
fn targets(conn: &mut DbConn, program: &ProgramRow, input: &InviteMentees) -> Result<(Vec<Unpaired>, u32), ApiError> {
    let all = unpaired(conn, program)?;
    let chosen: Vec<Unpaired> = match &input.mentee_ids {
        None => all.into_iter().filter(|u| u.tab() == UnpairedTab::NotInvited).collect(),
        Some(ids) => {
            let mut by_id: HashMap<String, Unpaired> = all.into_iter().map(|u| (u.person.id.clone(), u)).collect();
            let mut problems = Problems::default();
            let mut chosen = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                match by_id.remove(&id.to_string()) {
                    Some(u) => chosen.push(u),
                    None => problems.push(format!("mentee_ids[{i}]"), "not an unpaired mentee of this program"),
                }
            }
            problems.finish()?;
            chosen
        }
    };
    let now = db::now().and_utc();
    let (send, wait): (Vec<Unpaired>, Vec<Unpaired>) = chosen
        .into_iter()
        .partition(|u| may_invite(u.invited.map(|(_, last)| last.and_utc()), now));
    Ok((send, wait.len() as u32))
}

/// How many invitations "invite" would send, and the email the first mentee would get.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = InviteMentees,
    responses(
        (status = 200, description = "What inviting would send", body = InvitationPreview),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 422, description = "Someone chosen is not an unpaired mentee", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/invitations/preview")]
pub async fn preview_invitations(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<InviteMentees>,
) -> Result<web::Json<InvitationPreview>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let (would_send, skipped_recently_invited, first) = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            let (send, skipped) = targets(conn, &program, &input)?;
            let first = match send.first() {
                Some(first) => Some((
                    wording(conn, org, "invitation")?,
                    context(conn, &program, &first.person, json!({}))?,
                )),
                None => None,
            };
            Ok((send.len() as u32, skipped, first))
        })
        .await?;
    let email = match first {
        Some((template, context)) => Some(render_apart(template, context).await?),
        None => None,
    };
    Ok(web::Json(InvitationPreview {
        would_send,
        skipped_recently_invited,
        email,
    }))
}

/// Invites mentees to choose a mentor; anyone invited in the last day is skipped.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = InviteMentees,
    responses(
        (status = 202, description = "The invitations are queued", body = InvitationsSent),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 422, description = "Someone chosen is not an unpaired mentee", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/invitations")]
pub async fn send_invitations(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<InviteMentees>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    let sent = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, id)?;
            let (send, skipped) = targets(conn, &program, &input)?;
            let now = db::now();
            for u in &send {
                let stamp = now.and_utc().timestamp_micros();
                email(
                    conn,
                    &program,
                    "invitation",
                    &u.person,
                    json!({}),
                    &format!("invitation:{}:{stamp}", program.id),
                )?;
                repo::record_invitation(conn, &program.organization_id, &program.id, &u.person.id, now)?;
            }
            let invited: Vec<&str> = send.iter().map(|u| u.person.id.as_str()).collect();
            let after = json!({"mentee_ids": invited, "skipped_recently_invited": skipped});
            audit::record(conn, &actor, "invitations.sent", ("program", id), audit::NONE, after)?;
            Ok(InvitationsSent {
                sent: send.len() as u32,
                skipped_recently_invited: skipped,
            })
        })
        .await?;
    Ok(HttpResponse::Accepted().json(sent))
}
