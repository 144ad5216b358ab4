//! Claiming an idempotency key, storing the answer, releasing the key.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::insert_new;
use crate::schema::idempotency_keys;

/// How long a key and its stored answer count.
pub const RETENTION: Duration = Duration::hours(24);
/// How long the first request holds its key; after that (a crash) another request may take it over.
pub const LEASE: Duration = Duration::seconds(60);
/// How often, at most, a claim also deletes expired keys.
const PURGE_EVERY_SECONDS: i64 = 600;

/// Whose key it is: keys of different callers never meet.
#[derive(Clone)]
pub struct Scope {
    pub org: String,
    pub caller: String,
    pub key: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    id: String,
    organization_id: String,
    caller: String,
    idempotency_key: String,
    request_hash: String,
    response_status: Option<i32>,
    response_content_type: Option<String>,
    response_location: Option<String>,
    response_body: Option<Vec<u8>>,
    locked_until: NaiveDateTime,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

/// The answer stored for a key.
pub struct Stored {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// The claim this request holds: its row, and the lease that proves it still holds it.
#[derive(Clone)]
pub struct Held {
    id: String,
    locked_until: NaiveDateTime,
}

pub enum Claim {
    /// This request runs; the others wait for it.
    Held(Held),
    /// The key's first request has finished: answer with what it answered.
    Stored(Stored),
    /// The key was used with another request.
    OtherRequest,
    /// The key's first request is still running.
    Running,
}

fn find(conn: &mut DbConn, scope: &Scope) -> Result<Option<KeyRow>, ApiError> {
    Ok(idempotency_keys::table
        .filter(idempotency_keys::organization_id.eq(&scope.org))
        .filter(idempotency_keys::caller.eq(&scope.caller))
        .filter(idempotency_keys::idempotency_key.eq(&scope.key))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?)
}

/// What the key's row says to a request with `request_hash` at `now`.
fn judge(row: KeyRow, request_hash: &str) -> Claim {
    if row.request_hash != request_hash {
        return Claim::OtherRequest;
    }
    match row.response_status {
        Some(status) => Claim::Stored(Stored {
            status: u16::try_from(status).unwrap_or(500),
            content_type: row.response_content_type,
            location: row.response_location,
            body: row.response_body.unwrap_or_default(),
        }),
        None => Claim::Running,
    }
}

/// Takes the key for this request, or says who has it. Runs in a write transaction;
/// the unique constraint decides between two first requests (on PostgreSQL the
/// second insert waits for the first transaction, then inserts nothing).
pub fn claim(conn: &mut DbConn, scope: &Scope, request_hash: &str) -> Result<Claim, ApiError> {
    let now = db::now();
    purge_now_and_then(conn, now)?;
    let mut existing = find(conn, scope)?;
    if let Some(expired) = existing.take_if(|row| row.expires_at <= now) {
        diesel::delete(idempotency_keys::table.find(expired.id)).execute(conn)?;
    }
    let Some(row) = existing else {
        let row = KeyRow {
            id: db::new_id(),
            organization_id: scope.org.clone(),
            caller: scope.caller.clone(),
            idempotency_key: scope.key.clone(),
            request_hash: request_hash.to_owned(),
            response_status: None,
            response_content_type: None,
            response_location: None,
            response_body: None,
            locked_until: now + LEASE,
            created_at: now,
            expires_at: now + RETENTION,
        };
        if insert_new!(conn, idempotency_keys::table, &row)? == 1 {
            return Ok(Claim::Held(Held {
                id: row.id,
                locked_until: row.locked_until,
            }));
        }
        // Another request inserted it first.
        return Ok(match find(conn, scope)? {
            Some(row) => judge(row, request_hash),
            None => Claim::Running,
        });
    };
    if row.request_hash == request_hash && row.response_status.is_none() && row.locked_until <= now {
        // The first request's lease ended without an answer (its process died): take over,
        // unless another waiting request did just now.
        let locked_until = now + LEASE;
        let taken = diesel::update(
            idempotency_keys::table
                .find(&row.id)
                .filter(idempotency_keys::locked_until.eq(row.locked_until))
                .filter(idempotency_keys::response_status.is_null()),
        )
        .set(idempotency_keys::locked_until.eq(locked_until))
        .execute(conn)?;
        if taken == 1 {
            return Ok(Claim::Held(Held {
                id: row.id,
                locked_until,
            }));
        }
        return Ok(Claim::Running);
    }
    Ok(judge(row, request_hash))
}

/// Whether the key's first request is still running, read without taking the writer's turn.
pub fn still_running(conn: &mut DbConn, scope: &Scope) -> Result<bool, ApiError> {
    let now = db::now();
    Ok(find(conn, scope)?.is_some_and(|row| row.response_status.is_none() && row.locked_until > now))
}

/// Stores the answer of the request holding the key; false if it no longer held it.
pub fn store(conn: &mut DbConn, held: &Held, answer: &Stored) -> Result<bool, ApiError> {
    let n = diesel::update(
        idempotency_keys::table
            .find(&held.id)
            .filter(idempotency_keys::locked_until.eq(held.locked_until))
            .filter(idempotency_keys::response_status.is_null()),
    )
    .set((
        idempotency_keys::response_status.eq(i32::from(answer.status)),
        idempotency_keys::response_content_type.eq(&answer.content_type),
        idempotency_keys::response_location.eq(&answer.location),
        idempotency_keys::response_body.eq(&answer.body),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives the key up (the request failed in a way worth retrying), if this request still holds it.
pub fn release(conn: &mut DbConn, held: &Held) -> Result<(), ApiError> {
    diesel::delete(
        idempotency_keys::table
            .find(&held.id)
            .filter(idempotency_keys::locked_until.eq(held.locked_until))
            .filter(idempotency_keys::response_status.is_null()),
    )
    .execute(conn)?;
    Ok(())
}

static LAST_PURGE: AtomicI64 = AtomicI64::new(i64::MIN);

/// Deletes expired keys, at most once every few minutes per process.
fn purge_now_and_then(conn: &mut DbConn, now: NaiveDateTime) -> Result<(), ApiError> {
    let seconds = now.and_utc().timestamp();
    let last = LAST_PURGE.load(Ordering::Relaxed);
    if seconds.saturating_sub(last) < PURGE_EVERY_SECONDS
        || LAST_PURGE
            .compare_exchange(last, seconds, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return Ok(());
    }
    purge_expired(conn, now)?;
    Ok(())
}

/// Deletes every key that expired before `now`; how many.
pub fn purge_expired(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, ApiError> {
    Ok(diesel::delete(idempotency_keys::table.filter(idempotency_keys::expires_at.le(now))).execute(conn)?)
}
