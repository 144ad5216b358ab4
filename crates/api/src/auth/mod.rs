//! Logging in, refreshing and logging out; who am I; API keys.

pub mod accounts;
pub mod caller;
pub mod invitations;
pub mod repo;
pub mod tokens;

pub use caller::{Caller, Via};

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use cohort_api_types::{
    ApiKeyPage, CreateApiKey, CreatedApiKey, LoginRequest, Me, Membership, PageQuery, Problem, RefreshRequest,
    TokenResponse,
};
use cohort_domain::auth::{Scope, ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_SECONDS};
use cohort_domain::people::Email;
use uuid::Uuid;

use crate::audit;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::extract::Body;
use crate::paging::PageRequest;
use crate::{organization, people, programs, AppState};

const BAD_LOGIN: &str = "The email or password is not correct.";
const BAD_REFRESH: &str = "The refresh token is unknown, expired, used or revoked; log in again.";

/// Issues an access token and stores a new refresh token of `family` (a new login starts a
/// family), valid until `expires_at`, the end of the login.
fn issue_tokens(
    state: &AppState,
    conn: &mut DbConn,
    person: &people::repo::PersonRow,
    family: &str,
    expires_at: chrono::NaiveDateTime,
) -> Result<TokenResponse, ApiError> {
    let refresh_token = tokens::random_token("rt_");
    repo::insert_refresh_token(
        conn,
        &person.organization_id,
        &person.id,
        family,
        &refresh_token,
        expires_at,
    )?;
    Ok(TokenResponse {
        access_token: state.jwt.issue(
            db::id(&person.id),
            db::id(&person.organization_id),
            person.is_admin,
            ACCESS_TOKEN_SECONDS,
        ),
        token_type: "Bearer".into(),
        expires_in: ACCESS_TOKEN_SECONDS,
        refresh_token,
        refresh_expires_in: (expires_at - db::now()).num_seconds().max(0),
    })
}

/// Logs in with email and password.
///
/// A wrong password and an unknown email get the same answer, after the same work.
/// Attempts are limited per email address and per client address
/// (`COHORT_LOGIN_LIMIT_PER_ACCOUNT`, `COHORT_LOGIN_LIMIT_PER_ADDRESS`).
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Wrong email or password", body = Problem),
        (status = 422, description = "The email belongs to several organisations; name one", body = Problem),
        (status = 429, description = "Too many attempts for this email or from this address; see `Retry-After`", body = Problem,
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
    ),
    security(())
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    Body(input): Body<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    // Counted before any lookup, by the email as typed: the limit says nothing about
    // whether an account exists. The account's bucket is per client too, so that someone who
    // knows an admin's email cannot lock them out by failing from elsewhere.
    let client = state.limits.client_address(&req).map(crate::limits::client_key);
    if let Some(client) = &client {
        state.limits.login_per_address.check(client)?;
    }
    let account = input.email.trim().to_lowercase();
    state
        .limits
        .login_per_account
        .check(&format!("{account} from {}", client.as_deref().unwrap_or("anywhere")))?;
    let email = Email::parse(&input.email).map_err(|_| ApiError::Unauthorized(BAD_LOGIN))?;
    let slug = input.organization.map(|s| s.trim().to_lowercase());
    let candidates = state
        .db
        .read(move |conn| {
            let mut found = people::repo::with_login(conn, email.as_str())?;
            if let Some(slug) = slug {
                let mut kept = Vec::new();
                for person in found {
                    let org = organization::repo::get(conn, db::id(&person.organization_id))?;
                    if org.slug == slug {
                        kept.push(person);
                    }
                }
                found = kept;
            }
            Ok(found)
        })
        .await?;
    let dummy = state.dummy_password_hash.clone();
    let password = input.password;
    let matched: Vec<people::repo::PersonRow> = tokens::hashing(move || {
        if candidates.is_empty() {
            tokens::verify_password(&password, &dummy);
        }
        candidates
            .into_iter()
            .filter(|p| {
                p.password_hash
                    .as_deref()
                    .is_some_and(|h| tokens::verify_password(&password, h))
            })
            .collect()
    })
    .await?;
    let person = match matched.len() {
        0 => return Err(ApiError::Unauthorized(BAD_LOGIN)),
        1 => matched.into_iter().next().ok_or(ApiError::Unauthorized(BAD_LOGIN))?,
        _ => {
            return Err(ApiError::field(
                "organization",
                "this email belongs to several organisations: give the organisation's slug",
            ))
        }
    };
    let state2 = state.clone();
    let tokens = state
        .db
        .write(move |conn| {
            let ends = db::now() + chrono::Duration::seconds(REFRESH_TOKEN_SECONDS);
            issue_tokens(&state2, conn, &person, &db::new_id(), ends)
        })
        .await?;
    Ok(web::Json(tokens))
}

enum Refreshed {
    Tokens(TokenResponse),
    Refused,
}

/// A refresh token that may be exchanged or revoked, found on the read path: unknown, expired
/// and revoked tokens (the guesses and the replays) never wait for the writer.
async fn live_refresh_token(
    req: &HttpRequest,
    state: &AppState,
    token: String,
) -> Result<Option<repo::RefreshTokenRow>, ApiError> {
    if let Some(address) = state.limits.client_address(req) {
        state
            .limits
            .sessions_per_address
            .check(&crate::limits::client_key(address))?;
    }
    let found = state
        .db
        .read(move |conn| repo::find_refresh_token(conn, &token))
        .await?;
    Ok(found.filter(|t| t.revoked_at.is_none() && t.expires_at >= db::now()))
}

/// Exchanges a refresh token for new tokens. The refresh token rotates: the old one stops working,
/// and presenting it again revokes every token of that login. A login lasts 30 days from the
/// password however often it is refreshed.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Unknown, expired, used or revoked refresh token", body = Problem),
        (status = 429, description = "Too many attempts from this address; see `Retry-After`", body = Problem,
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
    ),
    security(())
)]
#[post("/auth/refresh")]
pub async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    Body(input): Body<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    if live_refresh_token(&req, &state, input.refresh_token.clone())
        .await?
        .is_none()
    {
        return Err(ApiError::Unauthorized(BAD_REFRESH));
    }
    let state2 = state.clone();
    let outcome = state
        .db
        .write(move |conn| {
            let Some(token) = repo::find_refresh_token(conn, &input.refresh_token)? else {
                return Ok(Refreshed::Refused);
            };
            if token.revoked_at.is_some() || token.expires_at < db::now() {
                return Ok(Refreshed::Refused);
            }
            if token.used_at.is_some() || !repo::use_refresh_token(conn, &token.id)? {
                // A used token presented again: someone else may hold a copy. End the whole login.
                repo::revoke_family(conn, &token.family_id)?;
                return Ok(Refreshed::Refused);
            }
            let org = db::id(&token.organization_id);
            let Ok(person) = people::repo::get(conn, org, db::id(&token.person_id)) else {
                return Ok(Refreshed::Refused);
            };
            Ok(Refreshed::Tokens(issue_tokens(
                &state2,
                conn,
                &person,
                &token.family_id,
                token.expires_at,
            )?))
        })
        .await?;
    match outcome {
        Refreshed::Tokens(tokens) => Ok(web::Json(tokens)),
        Refreshed::Refused => Err(ApiError::Unauthorized(BAD_REFRESH)),
    }
}

/// Logs out: revokes the refresh token and every token of the same login. Always succeeds.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out"),
        (status = 429, description = "Too many attempts from this address; see `Retry-After`", body = Problem,
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
    ),
    security(())
)]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    Body(input): Body<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    if let Some(token) = live_refresh_token(&req, &state, input.refresh_token).await? {
        state
            .db
            .write(move |conn| repo::revoke_family(conn, &token.family_id))
            .await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Logs out everywhere: ends every login of the caller, on every device. Access tokens already
/// issued expire within 15 minutes.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "Every login of the caller is ended"),
        (status = 403, description = "Called with an API key", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/auth/logout-all")]
pub async fn logout_all(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require_person("API keys have no logins to end; revoke the key instead.")?;
    state
        .db
        .write(move |conn| repo::revoke_person(conn, caller.person).map(drop))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller, their organisation, and the programs they take part in.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = Me),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<Me>, ApiError> {
    let me = state
        .db
        .read(move |conn| {
            let person = people::repo::get(conn, caller.org, caller.person)
                .map_err(|_| ApiError::Unauthorized("The account no longer exists."))?;
            let organization = organization::repo::get(conn, caller.org)?.into_api();
            let memberships = programs::repo::memberships_of_person(conn, caller.org, caller.person)?
                .into_iter()
                .map(|(row, program_name)| Membership {
                    program_id: db::id(&row.program_id),
                    program_name,
                    role: programs::repo::role_from_db(&row.role),
                    joined_at: db::utc(row.joined_at),
                })
                .collect();
            let provider_id =
                crate::booking::providers_repo::is_provider(conn, caller.org, caller.person)?.then_some(caller.person);
            let via = match caller.via {
                Via::Password => "password",
                Via::ApiKey(_) => "api_key",
            };
            Ok(Me {
                person: person.into_api(),
                organization,
                via: via.into(),
                memberships,
                provider_id,
            })
        })
        .await?;
    Ok(web::Json(me))
}

/// The organisation's API keys, revoked ones included. Secrets are never shown again.
#[utoipa::path(
    tag = "api-keys",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of API keys", body = ApiKeyPage),
        (status = 403, description = "Not an admin, or called with an API key", body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageRequest,
) -> Result<web::Json<ApiKeyPage>, ApiError> {
    caller.require_admin_session()?;
    let org = caller.org;
    let (rows, next_cursor) = state
        .db
        .read(move |conn| Ok(page.finish(repo::list_api_keys(conn, org, &page)?, |r| db::id(&r.id))))
        .await?;
    Ok(web::Json(ApiKeyPage {
        items: rows.into_iter().map(repo::ApiKeyRow::into_api).collect(),
        next_cursor,
    }))
}

/// Creates an API key for an integration. The response holds the secret, once.
#[utoipa::path(
    tag = "api-keys",
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "The key and its secret", body = CreatedApiKey),
        (status = 401, description = "Not authenticated, or the account no longer exists", body = Problem),
        (status = 403, description = "Not an admin (any more), or called with an API key", body = Problem),
        (status = 422, description = "Invalid name, scopes or expiry", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin_session()?;
    let mut problems = crate::error::Problems::default();
    let name = problems.check("name", cohort_domain::bounded_text(&input.name, 1, 100));
    if input.scopes.is_empty() {
        problems.push("scopes", "name at least one scope, or \"all\"");
    }
    let scopes: Vec<String> = input
        .scopes
        .iter()
        .enumerate()
        .filter_map(|(i, s)| problems.check(&format!("scopes[{i}]"), Scope::parse(s)))
        .map(Scope::as_string)
        .collect();
    if input.expires_at.is_some_and(|t| t <= chrono::Utc::now()) {
        problems.push("expires_at", "must be in the future");
    }
    problems.finish()?;
    let Some(name) = name else {
        unreachable!("problems.finish() returned early")
    };
    let id = db::new_id();
    let prefix = format!("ck_{}", &id.replace('-', "")[24..32]);
    let secret = tokens::random_token(&format!("{prefix}_"));
    let row = repo::ApiKeyRow {
        id,
        organization_id: caller.org.to_string(),
        created_by: caller.person.to_string(),
        name,
        prefix,
        key_hash: tokens::token_hash(&secret),
        created_at: db::now(),
        last_used_at: None,
        revoked_at: None,
        scopes: scopes.join(" "),
        expires_at: input.expires_at.map(|t| t.naive_utc()),
    };
    let actor = caller.actor();
    let key = state
        .db
        .write(move |conn| {
            // A key outlives its creator's access token for good: their admin flag is read now.
            repo::confirm_admin(conn, &caller)?;
            repo::insert_api_key(conn, &row)?;
            let key = row.into_api();
            audit::record(conn, &actor, "api_key.created", ("api_key", key.id), audit::NONE, &key)?;
            Ok(key)
        })
        .await?;
    let res = HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/api-keys/{}", key.id)))
        .json(CreatedApiKey { key, secret });
    Ok(crate::idempotency::secrets::holding_secrets(res, &["secret"]))
}

/// Revokes an API key; it stops working at once.
#[utoipa::path(
    tag = "api-keys",
    params(("id" = Uuid, Path, description = "The API key's id")),
    responses(
        (status = 204, description = "The key is revoked"),
        (status = 403, description = "Not an admin, or called with an API key", body = Problem),
        (status = 404, description = "No such key in this organisation", body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/api-keys/{id}")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin_session()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            repo::revoke_api_key(conn, org, id)?;
            let (before, after) = (
                serde_json::json!({"revoked": false}),
                serde_json::json!({"revoked": true}),
            );
            audit::record(conn, &actor, "api_key.revoked", ("api_key", id), before, after)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
