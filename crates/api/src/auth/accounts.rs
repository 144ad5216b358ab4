//! How people get in without an admin typing a password for them: invitations to set a first
//! password, password resets, and changing one's own password. Every link is a one-time token
//! ([`LinkPurpose`]) sent by email and stored hashed.

use actix_web::{post, web, HttpRequest, HttpResponse};
use cohort_api_types::{
    links, AccountInvitations, ChangePassword, InvitePeople, PasswordResetAccepted, PasswordResetRequest, Problem,
    SetPassword, TokenResponse,
};
use cohort_domain::auth::{check_password, link_usable, LinkPurpose, REFRESH_TOKEN_SECONDS};
use cohort_domain::people::Email;
use serde_json::json;
use uuid::Uuid;

use super::invitations::{account_context, invite};
use super::{issue_tokens, repo, tokens, Caller};
use crate::audit;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::extract::Body;
use crate::messaging::email::{queue_email, render_apart, wording};
use crate::people::repo::PersonRow;
use crate::{organization, people, programs, AppState};

/// The most people one invitation request may name.
const MAX_INVITED: usize = 1000;

const RESET_ACCEPTED: &str =
    "If an account uses this address, a link to choose a new password is on its way. It works for an hour.";

/// The people a request chooses, and how many of them can log in already.
fn invitees(
    conn: &mut DbConn,
    org: Uuid,
    input: &InvitePeople,
) -> Result<(Vec<PersonRow>, Option<String>, u32), ApiError> {
    match (&input.person_ids, input.program_id) {
        (Some(ids), None) => {
            if ids.is_empty() || ids.len() > MAX_INVITED {
                return Err(ApiError::field("person_ids", format!("name 1 to {MAX_INVITED} people")));
            }
            let wanted: Vec<String> = ids.iter().map(Uuid::to_string).collect();
            let found = people::repo::get_many(conn, org, &wanted)?;
            if let Some(i) = wanted.iter().position(|id| !found.iter().any(|p| &p.id == id)) {
                return Err(ApiError::field(
                    format!("person_ids[{i}]"),
                    "no such person in this organisation",
                ));
            }
            let (with, without): (Vec<_>, Vec<_>) = found.into_iter().partition(|p| p.password_hash.is_some());
            Ok((without, None, with.len() as u32))
        }
        (None, Some(program)) => {
            let program = programs::repo::get(conn, org, program)
                .map_err(|_| ApiError::field("program_id", "no such program in this organisation"))?;
            let without = people::repo::program_members_without_password(conn, &program.id)?;
            Ok((without, Some(program.name), 0))
        }
        _ => Err(ApiError::field("person_ids", "give either person_ids or program_id")),
    }
}

/// Invites people to set a password: listed people, or everyone active in a program who cannot
/// log in yet. Each gets an email whose link works once, for 7 days; inviting again replaces the
/// link. With `preview`, nothing is sent.
#[utoipa::path(
    tag = "people",
    request_body = InvitePeople,
    responses(
        (status = 200, description = "With `preview`: what inviting would send", body = AccountInvitations),
        (status = 202, description = "The invitations are queued", body = AccountInvitations),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Neither or both of person_ids and program_id, or someone unknown", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/people/invite")]
pub async fn invite_people(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<InvitePeople>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, actor) = (caller.org, caller.actor());
    if input.preview {
        let (count, skipped, first) = state
            .db
            .read(move |conn| {
                let (chosen, program, skipped) = invitees(conn, org, &input)?;
                let first = match chosen.first() {
                    Some(person) => {
                        let organization = organization::repo::get(conn, org)?.name;
                        let context =
                            account_context(person, &organization, program.as_deref(), links::welcome("preview"));
                        Some((wording(conn, org, "account_invitation")?, context))
                    }
                    None => None,
                };
                Ok((chosen.len() as u32, skipped, first))
            })
            .await?;
        let email = match first {
            Some((template, context)) => Some(render_apart(template, context).await?),
            None => None,
        };
        return Ok(HttpResponse::Ok().json(AccountInvitations {
            invited: count,
            skipped_with_password: skipped,
            preview: true,
            email,
        }));
    }
    let sent = state
        .db
        .write(move |conn| {
            let (chosen, program, skipped) = invitees(conn, org, &input)?;
            let organization = organization::repo::get(conn, org)?.name;
            for person in &chosen {
                invite(conn, person, &organization, program.as_deref())?;
            }
            let ids: Vec<&str> = chosen.iter().map(|p| p.id.as_str()).collect();
            let after = json!({"person_ids": ids, "program_id": input.program_id, "skipped_with_password": skipped});
            audit::record(
                conn,
                &actor,
                "people.invited",
                ("organization", org),
                audit::NONE,
                after,
            )?;
            Ok(AccountInvitations {
                invited: chosen.len() as u32,
                skipped_with_password: skipped,
                preview: false,
                email: None,
            })
        })
        .await?;
    Ok(HttpResponse::Accepted().json(sent))
}

/// Invites one person to set a password (again: the earlier link stops working).
#[utoipa::path(
    tag = "people",
    params(("id" = Uuid, Path, description = "The person's id")),
    responses(
        (status = 202, description = "The invitation is queued", body = AccountInvitations),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such person in this organisation", body = Problem),
        (status = 409, description = "The person can log in already; they may reset their password", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/people/{id}/invite")]
pub async fn invite_person(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    let sent = state
        .db
        .write(move |conn| {
            let person = people::repo::get(conn, org, id)?;
            if person.password_hash.is_some() {
                return Err(ApiError::Conflict(
                    "This person can log in already; they may use \"Forgot your password?\".".into(),
                ));
            }
            let organization = organization::repo::get(conn, org)?.name;
            invite(conn, &person, &organization, None)?;
            audit::record(
                conn,
                &actor,
                "person.invited",
                ("person", id),
                audit::NONE,
                json!({"invited": true}),
            )?;
            Ok(AccountInvitations {
                invited: 1,
                skipped_with_password: 0,
                preview: false,
                email: None,
            })
        })
        .await?;
    Ok(HttpResponse::Accepted().json(sent))
}

/// Uses a one-time link of `purpose` to set the person's password: the link is used up, every
/// other password link and every login of the person ends, and a new login starts.
async fn set_password_with_link(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    input: SetPassword,
    purpose: LinkPurpose,
) -> Result<TokenResponse, ApiError> {
    let (dashboard, request_id) = (audit::from_dashboard(req), crate::request_id::current());
    check_password(&input.password).map_err(|e| ApiError::invalid("password", e))?;
    let token = input.token;
    // Unknown, used and expired links are refused on the read path, before any hashing.
    let lookup = token.clone();
    let found = state
        .db
        .read(move |conn| repo::find_link(conn, &lookup, purpose))
        .await?
        .ok_or(ApiError::NotFound)?;
    link_usable(found.expires_at, found.used_at, db::now()).map_err(|e| ApiError::Gone(e.message()))?;
    let password = input.password;
    let hash = tokens::hashing(move || tokens::hash_password(&password)).await?;
    let state2 = state.clone();
    state
        .db
        .write(move |conn| {
            let link = repo::find_link(conn, &token, purpose)?.ok_or(ApiError::NotFound)?;
            link_usable(link.expires_at, link.used_at, db::now()).map_err(|e| ApiError::Gone(e.message()))?;
            if !repo::use_link(conn, &link.id)? {
                return Err(ApiError::Gone(cohort_domain::auth::LinkRefused::Used.message()));
            }
            let person = people::repo::get(conn, db::id(&link.organization_id), db::id(&link.person_id))?;
            people::repo::set_password(conn, &person.id, Some(&hash))?;
            repo::drop_password_links(conn, &person.id)?;
            repo::revoke_person(conn, db::id(&person.id))?;
            let actor = audit::Actor::link_holder(
                db::id(&person.organization_id),
                db::id(&person.id),
                dashboard,
                request_id,
            );
            let action = match purpose {
                LinkPurpose::Invitation => "person.invitation_accepted",
                _ => "person.password_reset",
            };
            audit::record(
                conn,
                &actor,
                action,
                ("person", &person.id),
                audit::NONE,
                json!({"password": "set"}),
            )?;
            let ends = db::now() + chrono::Duration::seconds(REFRESH_TOKEN_SECONDS);
            issue_tokens(&state2, conn, &person, &db::new_id(), ends)
        })
        .await
}

/// Accepts an invitation: sets the first password with the link's token and logs in.
#[utoipa::path(
    tag = "auth",
    request_body = SetPassword,
    responses(
        (status = 200, description = "The password is set; logged in", body = TokenResponse),
        (status = 404, description = "No such invitation", body = Problem),
        (status = 410, description = "The invitation was used or has expired; ask for a new link", body = Problem),
        (status = 422, description = "The password is too short, too long or too common", body = Problem),
    ),
    security(())
)]
#[post("/auth/accept-invitation")]
pub async fn accept_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    Body(input): Body<SetPassword>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    Ok(web::Json(
        set_password_with_link(&req, &state, input, LinkPurpose::Invitation).await?,
    ))
}

/// Asks for a link to choose a new password. The answer is the same whether or not the address
/// has an account; each account with it gets an email whose link works once, for an hour.
/// Requests are limited per address and per client (`COHORT_LOGIN_LIMIT_PER_ACCOUNT`,
/// `COHORT_LOGIN_LIMIT_PER_ADDRESS`).
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted; an email is on its way if the account exists", body = PasswordResetAccepted),
        (status = 429, description = "Too many requests for this address or from this client; see `Retry-After`", body = Problem,
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
    ),
    security(())
)]
#[post("/auth/password-reset")]
pub async fn request_password_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    Body(input): Body<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    if let Some(client) = state.limits.client_address(&req).map(crate::limits::client_key) {
        state.limits.login_per_address.check(&client)?;
    }
    // Per address, from anywhere: the limit is what keeps a mailbox from being flooded.
    let account = input.email.trim().to_lowercase();
    state.limits.login_per_account.check(&format!("reset {account}"))?;
    if let Ok(email) = Email::parse(&input.email) {
        let slug = input.organization.map(|s| s.trim().to_lowercase());
        state
            .db
            .write(move |conn| {
                for person in people::repo::with_email(conn, email.as_str())? {
                    let org = organization::repo::get(conn, db::id(&person.organization_id))?;
                    if slug.as_ref().is_some_and(|s| *s != org.slug) {
                        continue;
                    }
                    let token = repo::issue_link(
                        conn,
                        &person.organization_id,
                        &person.id,
                        LinkPurpose::PasswordReset,
                        None,
                    )?;
                    let context = account_context(&person, &org.name, None, links::reset_password(&token));
                    let key = format!("password_reset:{}:{}", person.id, tokens::token_hash(&token));
                    queue_email(conn, db::id(&org.id), "password_reset", &person.email, context, &key)?;
                }
                Ok(())
            })
            .await?;
    }
    Ok(HttpResponse::Accepted().json(PasswordResetAccepted {
        message: RESET_ACCEPTED.into(),
    }))
}

/// Sets a new password with a reset link's token. Every login of the person ends (access tokens
/// already issued expire within 15 minutes); the answer starts a new one.
#[utoipa::path(
    tag = "auth",
    request_body = SetPassword,
    responses(
        (status = 200, description = "The password is set; logged in", body = TokenResponse),
        (status = 404, description = "No such reset link", body = Problem),
        (status = 410, description = "The link was used or has expired; ask for a new one", body = Problem),
        (status = 422, description = "The password is too short, too long or too common", body = Problem),
    ),
    security(())
)]
#[post("/auth/password-reset/confirm")]
pub async fn confirm_password_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    Body(input): Body<SetPassword>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    Ok(web::Json(
        set_password_with_link(&req, &state, input, LinkPurpose::PasswordReset).await?,
    ))
}

/// Changes the caller's password. Every other login of the caller ends; the answer holds the
/// tokens of a new one. Attempts count against the login limit of the caller's address.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePassword,
    responses(
        (status = 200, description = "The password is changed; the new login's tokens", body = TokenResponse),
        (status = 403, description = "Called with an API key", body = Problem),
        (status = 422, description = "The current password is wrong, or the new one is too weak", body = Problem),
        (status = 429, description = "Too many attempts; see `Retry-After`", body = Problem,
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
    ),
    security(("bearer" = []))
)]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<ChangePassword>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    caller.require_person("API keys have no password; log in to change yours.")?;
    check_password(&input.new_password).map_err(|e| ApiError::invalid("new_password", e))?;
    let (org, me) = (caller.org, caller.person);
    let person = state.db.read(move |conn| people::repo::get(conn, org, me)).await?;
    state
        .limits
        .login_per_account
        .check(&format!("{} password change", person.email))?;
    let (current, new, stored) = (input.current_password, input.new_password, person.password_hash.clone());
    let hash = tokens::hashing(move || {
        let right = stored.as_deref().is_some_and(|h| tokens::verify_password(&current, h));
        right.then(|| tokens::hash_password(&new))
    })
    .await?
    .ok_or_else(|| ApiError::field("current_password", "is not correct"))?;
    let (state2, actor) = (state.clone(), caller.actor());
    let tokens = state
        .db
        .write(move |conn| {
            people::repo::set_password(conn, &person.id, Some(&hash))?;
            repo::drop_password_links(conn, &person.id)?;
            repo::revoke_person(conn, me)?;
            audit::record(
                conn,
                &actor,
                "person.password_changed",
                ("person", me),
                audit::NONE,
                json!({"password": "set"}),
            )?;
            let ends = db::now() + chrono::Duration::seconds(REFRESH_TOKEN_SECONDS);
            issue_tokens(&state2, conn, &person, &db::new_id(), ends)
        })
        .await?;
    Ok(web::Json(tokens))
}
