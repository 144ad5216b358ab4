use chrono::{Duration, NaiveDateTime};
use cohort_api_types::ApiKey;
use cohort_domain::auth::{LinkPurpose, Scope};
use diesel::prelude::*;
use uuid::Uuid;

use super::caller::{Caller, Via};
use super::tokens::token_hash;
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::paging::PageRequest;
use crate::schema::{api_keys, link_tokens, people, refresh_tokens};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub organization_id: String,
    pub person_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Stores the hash of a new refresh token; `family` ties it to the login it descends from, and
/// `expires_at` is the login's end (rotating a token does not extend it).
pub fn insert_refresh_token(
    conn: &mut DbConn,
    org: &str,
    person: &str,
    family: &str,
    token: &str,
    expires_at: NaiveDateTime,
) -> Result<(), ApiError> {
    let now = db::now();
    let row = RefreshTokenRow {
        id: db::new_id(),
        organization_id: org.to_owned(),
        person_id: person.to_owned(),
        family_id: family.to_owned(),
        token_hash: token_hash(token),
        created_at: now,
        expires_at,
        used_at: None,
        revoked_at: None,
    };
    diesel::insert_into(refresh_tokens::table).values(&row).execute(conn)?;
    Ok(())
}

pub fn find_refresh_token(conn: &mut DbConn, token: &str) -> Result<Option<RefreshTokenRow>, ApiError> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash(token)))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Marks the token used; false when another request used it first.
pub fn use_refresh_token(conn: &mut DbConn, id: &str) -> Result<bool, ApiError> {
    let n = diesel::update(
        refresh_tokens::table
            .find(id.to_owned())
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(db::now()))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn revoke_family(conn: &mut DbConn, family: &str) -> Result<(), ApiError> {
    diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(family.to_owned())))
        .filter(refresh_tokens::revoked_at.is_null())
        .set(refresh_tokens::revoked_at.eq(db::now()))
        .execute(conn)?;
    Ok(())
}

/// Ends every login of a person: after a password change, a demotion, or "log out everywhere".
/// Their access tokens still work until they expire (minutes); privileged writes re-read the
/// admin flag ([`confirm_admin`]).
pub fn revoke_person(conn: &mut DbConn, person: Uuid) -> Result<usize, ApiError> {
    Ok(
        diesel::update(refresh_tokens::table.filter(refresh_tokens::person_id.eq(person.to_string())))
            .filter(refresh_tokens::revoked_at.is_null())
            .set(refresh_tokens::revoked_at.eq(db::now()))
            .execute(conn)?,
    )
}

/// Whether the caller is still an admin, read from the database rather than from the access
/// token, for writes that grant privilege: a demoted or deleted admin's token lives on for
/// minutes and must not mint lasting access with them.
pub fn confirm_admin(conn: &mut DbConn, caller: &Caller) -> Result<(), ApiError> {
    match crate::people::repo::get(conn, caller.org, caller.person) {
        Err(ApiError::NotFound) => Err(ApiError::Unauthorized("The account no longer exists.")),
        Err(e) => Err(e),
        Ok(person) if !person.is_admin => Err(ApiError::Forbidden("This needs an organisation admin.")),
        Ok(_) => Ok(()),
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = link_tokens)]
pub struct LinkTokenRow {
    pub id: String,
    pub organization_id: String,
    pub person_id: String,
    pub purpose: String,
    pub subject_id: Option<String>,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// Creates a one-time link for `person` and returns its token, which is stored only hashed.
/// When the purpose [replaces earlier links](LinkPurpose::replaces_earlier), an unused link of
/// the same purpose (and subject) stops working: inviting again, or asking for another reset,
/// leaves one live link.
pub fn issue_link(
    conn: &mut DbConn,
    org: &str,
    person: &str,
    purpose: LinkPurpose,
    subject: Option<&str>,
) -> Result<String, ApiError> {
    if purpose.replaces_earlier() {
        drop_unused_links(conn, person, purpose, subject)?;
    }
    let token = super::tokens::random_token("lt_");
    let now = db::now();
    let row = LinkTokenRow {
        id: db::new_id(),
        organization_id: org.to_owned(),
        person_id: person.to_owned(),
        purpose: purpose.as_str().to_owned(),
        subject_id: subject.map(str::to_owned),
        token_hash: token_hash(&token),
        created_at: now,
        expires_at: now + purpose.lifetime(),
        used_at: None,
    };
    diesel::insert_into(link_tokens::table).values(&row).execute(conn)?;
    Ok(token)
}

fn drop_unused_links(
    conn: &mut DbConn,
    person: &str,
    purpose: LinkPurpose,
    subject: Option<&str>,
) -> Result<(), ApiError> {
    let earlier = link_tokens::table
        .filter(link_tokens::person_id.eq(person))
        .filter(link_tokens::purpose.eq(purpose.as_str()))
        .filter(link_tokens::used_at.is_null())
        .into_boxed();
    let earlier = match subject {
        Some(subject) => earlier.filter(link_tokens::subject_id.eq(subject)),
        None => earlier.filter(link_tokens::subject_id.is_null()),
    };
    let ids: Vec<String> = earlier.select(link_tokens::id).load(conn)?;
    diesel::delete(link_tokens::table.filter(link_tokens::id.eq_any(ids))).execute(conn)?;
    Ok(())
}

/// The link a token stands for, if it is one of `purpose`.
pub fn find_link(conn: &mut DbConn, token: &str, purpose: LinkPurpose) -> Result<Option<LinkTokenRow>, ApiError> {
    Ok(link_tokens::table
        .filter(link_tokens::token_hash.eq(token_hash(token)))
        .filter(link_tokens::purpose.eq(purpose.as_str()))
        .select(LinkTokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Uses the link up; false when another request used it first.
pub fn use_link(conn: &mut DbConn, id: &str) -> Result<bool, ApiError> {
    let n = diesel::update(link_tokens::table.find(id).filter(link_tokens::used_at.is_null()))
        .set(link_tokens::used_at.eq(db::now()))
        .execute(conn)?;
    Ok(n == 1)
}

/// Ends every unused link of a person that sets a password: after their password changes, an
/// older invitation or reset must not change it again.
pub fn drop_password_links(conn: &mut DbConn, person: &str) -> Result<(), ApiError> {
    diesel::delete(
        link_tokens::table
            .filter(link_tokens::person_id.eq(person))
            .filter(link_tokens::used_at.is_null())
            .filter(
                link_tokens::purpose.eq_any([LinkPurpose::Invitation.as_str(), LinkPurpose::PasswordReset.as_str()]),
            ),
    )
    .execute(conn)?;
    Ok(())
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub organization_id: String,
    pub created_by: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    /// Scopes separated by spaces (`cohort_domain::auth::Scope`).
    pub scopes: String,
    pub expires_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    pub fn into_api(self) -> ApiKey {
        ApiKey {
            id: db::id(&self.id),
            name: self.name,
            prefix: self.prefix,
            scopes: self.scopes.split_whitespace().map(str::to_owned).collect(),
            expires_at: self.expires_at.map(db::utc),
            created_at: db::utc(self.created_at),
            last_used_at: self.last_used_at.map(db::utc),
            revoked_at: self.revoked_at.map(db::utc),
        }
    }
}

pub fn insert_api_key(conn: &mut DbConn, row: &ApiKeyRow) -> Result<(), ApiError> {
    diesel::insert_into(api_keys::table).values(row).execute(conn)?;
    Ok(())
}

pub fn list_api_keys(conn: &mut DbConn, org: Uuid, page: &PageRequest) -> Result<Vec<ApiKeyRow>, ApiError> {
    let mut query = api_keys::table
        .filter(api_keys::organization_id.eq(org.to_string()))
        .select(ApiKeyRow::as_select())
        .order(api_keys::id)
        .limit(page.fetch())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(api_keys::id.gt(after.clone()));
    }
    Ok(query.load(conn)?)
}

pub fn revoke_api_key(conn: &mut DbConn, org: Uuid, id: Uuid) -> Result<(), ApiError> {
    let key = || {
        api_keys::table
            .filter(api_keys::organization_id.eq(org.to_string()))
            .filter(api_keys::id.eq(id.to_string()))
    };
    let exists: i64 = key().count().get_result(conn)?;
    if exists == 0 {
        return Err(ApiError::NotFound);
    }
    diesel::update(key().filter(api_keys::revoked_at.is_null()))
        .set(api_keys::revoked_at.eq(db::now()))
        .execute(conn)?;
    Ok(())
}

/// How stale `last_used_at` may get before a request refreshes it; saves a write per request.
const LAST_USED_PRECISION: Duration = Duration::minutes(1);

/// The caller an API key stands for and the key's scopes, if the key is live (not revoked, not
/// expired) and its creator still an admin. API keys act as an admin of their organisation,
/// within their scopes.
pub async fn caller_for_api_key(db: &Db, secret: String) -> Result<Option<(Caller, Vec<Scope>)>, ApiError> {
    let hash = token_hash(&secret);
    let now = db::now();
    let found: Option<(String, String, String, Option<NaiveDateTime>, String)> = db
        .read(move |conn| {
            // A key acts for its creator: it stops when they are no longer an admin.
            Ok(api_keys::table
                .inner_join(people::table)
                .filter(api_keys::key_hash.eq(hash))
                .filter(api_keys::revoked_at.is_null())
                .filter(people::is_admin.eq(true))
                .filter(api_keys::expires_at.is_null().or(api_keys::expires_at.gt(now)))
                .select((
                    api_keys::id,
                    api_keys::organization_id,
                    api_keys::created_by,
                    api_keys::last_used_at,
                    api_keys::scopes,
                ))
                .first(conn)
                .optional()?)
        })
        .await?;
    let Some((id, org, created_by, last_used, scopes)) = found else {
        return Ok(None);
    };
    // Written by `create_api_key` from parsed scopes; one that no longer parses grants nothing.
    let scopes = scopes.split_whitespace().filter_map(|s| Scope::parse(s).ok()).collect();
    if last_used.is_none_or(|t| now - t > LAST_USED_PRECISION) {
        let (db, id) = (db.clone(), id.clone());
        actix_web::rt::spawn(async move {
            let result = db
                .write(move |conn| {
                    diesel::update(api_keys::table.find(id))
                        .set(api_keys::last_used_at.eq(now))
                        .execute(conn)?;
                    Ok(())
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "could not record API key use");
            }
        });
    }
    let caller = Caller {
        org: db::id(&org),
        person: db::id(&created_by),
        is_admin: true,
        via: Via::ApiKey(db::id(&id)),
        dashboard: false,
    };
    Ok(Some((caller, scopes)))
}
