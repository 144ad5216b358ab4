//! Free slots of a service: a fixed number of statements whatever the number of providers, then
//! the domain's slot engine, and a cache of the answers.
//!
//! # The cache
//!
//! An answer depends on the service's rules, its certified providers with their availability,
//! zones and bookings, the organisation's zone and labels, the range and zone asked for, and the
//! time. Each process keeps recent answers ([`Cache`]) with:
//! - the slot revision when it was computed: every write that can change an answer adds one to
//!   the organisation's revision, or for a booking to its provider's certifications', in its own
//!   transaction ([`repo::slots_changed`]), in whichever process; an answer is kept under the
//!   organisation's and the sum of the service's certifications' (within one organisation
//!   revision the certifications stay the same and theirs only grow, so any change moves the
//!   pair), which a request
//!   reads first ([`data::context`]), before anything the answer is computed from, so an answer is
//!   never kept under a revision newer than its data;
//! - the instant until which time alone leaves it as it is ([`rules::unchanged_until`]: the
//!   minimum notice reaching its first slot, or a local midnight moving the horizon or a notice
//!   in calendar days).
//!
//! A request with the same key at the same revision before that instant gets the answer's bytes,
//! after the caller's checks (the service is the organisation's, enrolled students only): one
//! statement in all.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use actix_web::http::header::{self, AcceptEncoding, ContentType, Encoding, Header};
use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use cohort_api_types::{Labels, Problem, ServiceRef, Slot, SlotList, SlotProvider, SlotsQuery};
use cohort_domain::booking as rules;
use cohort_domain::tenancy::{instant_at_or_after, parse_time_zone};
use serde::Serialize;
use uuid::Uuid;

use super::providers::{ProviderPerson, ProviderRow};
use super::repo::{self, ServiceRow};
use super::slots_repo as data;
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::AppState;

/// At most this many days of slots per request.
pub const MAX_DAYS: u64 = 42;

/// A certified provider and their person.
pub type Certified = (ProviderRow, ProviderPerson);

/// The certified providers of a service (or the one asked for), as the engine sees them, with
/// their bookings that block time between `from` and `to`: two statements.
pub fn availability(
    conn: &mut DbConn,
    service: &ServiceRow,
    only: Option<Uuid>,
    org_zone: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<(Vec<rules::Availability<Uuid>>, Vec<Certified>), ApiError> {
    let found = data::certified(conn, &service.id, only)?;
    let mut busy: HashMap<String, Vec<rules::Busy>> = HashMap::new();
    for (provider, blocked_from, blocked_until) in data::busy(conn, &service.id, only, from, to)? {
        busy.entry(provider).or_default().push(rules::Busy {
            starts_at: db::utc(blocked_from),
            ends_at: db::utc(blocked_until),
            buffer_before: chrono::Duration::zero(),
            buffer_after: chrono::Duration::zero(),
        });
    }
    let engine = found
        .iter()
        .map(|(row, person)| {
            let zone = super::providers::zone_of(person, org_zone);
            row.availability(zone, busy.remove(&row.person_id).unwrap_or_default())
        })
        .collect();
    Ok((engine, found))
}

/// The free slots from `start` to `end` in `zone`, each naming its free providers by their
/// position in the providers returned with them (the providers free at one slot at least, by
/// name), and until when time alone leaves them as they are.
fn compute(
    rules: &rules::ServiceRules,
    engine: Vec<rules::Availability<Uuid>>,
    found: &mut [Certified],
    zone: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Vec<Slot>, Vec<SlotProvider>, Option<DateTime<Utc>>) {
    // The engine lists each slot's providers in ascending order of their key: ranks by name, so
    // positions in the answer's list (by name too) come out ascending without sorting again.
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&a, &b| (&found[a].1.name, &found[a].0.person_id).cmp(&(&found[b].1.name, &found[b].0.person_id)));
    let mut rank = vec![0u32; found.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as u32;
    }
    let by_rank: Vec<rules::Availability<u32>> = engine
        .into_iter()
        .enumerate()
        .map(|(i, a)| rules::Availability {
            provider: rank[i],
            zone: a.zone,
            weekly: a.weekly,
            overrides: a.overrides,
            time_off: a.time_off,
            busy: a.busy,
        })
        .collect();
    let slots = rules::slots(rules, &by_rank, start, end, now);
    let until = rules::unchanged_until(rules, &by_rank, end, now, &slots);
    // Rank → position in the answer's list, for the ranks some slot names.
    let mut position: Vec<Option<u32>> = vec![None; found.len()];
    for s in &slots {
        for &r in &s.providers {
            position[r as usize] = Some(0);
        }
    }
    let mut providers = Vec::new();
    for (r, &i) in order.iter().enumerate() {
        if position[r].is_some() {
            position[r] = Some(providers.len() as u32);
            let (row, person) = &mut found[i];
            providers.push(SlotProvider {
                id: db::id(&row.person_id),
                name: std::mem::take(&mut person.name),
                bio: std::mem::take(&mut person.bio),
                photo_url: row.photo_url.take(),
            });
        }
    }
    let items = slots
        .into_iter()
        .map(|s| Slot {
            starts_at: s.starts_at.with_timezone(&zone).fixed_offset(),
            ends_at: s.ends_at.with_timezone(&zone).fixed_offset(),
            providers: s.providers.iter().filter_map(|&r| position[r as usize]).collect(),
        })
        .collect();
    (items, providers, until)
}

/// The zone times are shown in: asked for, else the caller's, else the organisation's.
fn zone(asked: Option<&str>, mine: Option<&str>, org: &str) -> Result<Tz, ApiError> {
    match asked {
        Some(name) => parse_time_zone(name).map_err(|e| ApiError::invalid("time_zone", e)),
        None => Ok(cohort_domain::tenancy::zone(mine.unwrap_or(org))),
    }
}

/// What the cache keeps an answer under, besides its revision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    service: Uuid,
    provider: Option<Uuid>,
    zone: Tz,
    from: NaiveDate,
    to: NaiveDate,
}

struct Entry {
    revision: (i64, i64),
    /// Valid from `since` until `until` (exclusive; `None`: until the revision moves).
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    /// The answer's JSON, and gzipped once a client asks for it so.
    body: Bytes,
    gzip: Option<Bytes>,
    used: u64,
}

impl Entry {
    fn size(&self) -> usize {
        self.body.len() + self.gzip.as_ref().map_or(0, Bytes::len)
    }
}

/// Recent answers of this process, at most [`Cache::MAX_ENTRIES`] of them and
/// [`Cache::MAX_BYTES`] in all; the least recently used go first.
#[derive(Default)]
pub struct Cache {
    inner: Mutex<Entries>,
    /// One answer is computed at a time per gate (keys are spread over them by hash): when an
    /// answer expires under load, one request computes it while the others wait for it, instead
    /// of each computing it at once.
    gates: [Mutex<()>; 32],
}

#[derive(Default)]
struct Entries {
    map: HashMap<Key, Entry>,
    bytes: usize,
    clock: u64,
}

impl Cache {
    pub const MAX_ENTRIES: usize = 256;
    pub const MAX_BYTES: usize = 64 << 20;

    fn get(&self, key: &Key, revision: (i64, i64), now: DateTime<Utc>) -> Option<(Bytes, Option<Bytes>)> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.clock += 1;
        let clock = inner.clock;
        let entry = inner.map.get_mut(key)?;
        let fresh = entry.revision == revision && entry.since <= now && entry.until.is_none_or(|u| now < u);
        if !fresh {
            return None;
        }
        entry.used = clock;
        Some((entry.body.clone(), entry.gzip.clone()))
    }

    /// Keeps the gzipped form of the answer under `key` at `revision`, if it is still there.
    fn put_gzip(&self, key: &Key, revision: (i64, i64), gzip: Bytes) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = inner.map.get_mut(key) else { return };
        if entry.revision != revision || entry.gzip.is_some() {
            return;
        }
        let added = gzip.len();
        entry.gzip = Some(gzip);
        inner.bytes += added;
    }

    fn gate(&self, key: &Key) -> std::sync::MutexGuard<'_, ()> {
        use std::hash::{BuildHasher, RandomState};
        static HASHER: std::sync::LazyLock<RandomState> = std::sync::LazyLock::new(RandomState::new);
        let gate = &self.gates[HASHER.hash_one(key) as usize % self.gates.len()];
        gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn put(&self, key: Key, entry: Entry) {
        if entry.body.len() > Self::MAX_BYTES / 4 || entry.until.is_some_and(|u| u <= entry.since) {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.map.get(&key).is_some_and(|e| e.revision > entry.revision) {
            return; // a slower request computed an answer that is older already
        }
        inner.clock += 1;
        let entry = Entry {
            used: inner.clock,
            ..entry
        };
        inner.bytes += entry.size();
        if let Some(old) = inner.map.insert(key, entry) {
            inner.bytes -= old.size();
        }
        while inner.map.len() > Self::MAX_ENTRIES || inner.bytes > Self::MAX_BYTES {
            let Some(oldest) = inner.map.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone()) else {
                break;
            };
            if let Some(gone) = inner.map.remove(&oldest) {
                inner.bytes -= gone.size();
            }
        }
    }
}

/// [`SlotList`], serialised the same way.
#[derive(Serialize)]
struct Cached<'a> {
    service: &'a ServiceRef,
    time_zone: &'a str,
    from: NaiveDate,
    to: NaiveDate,
    items: &'a [Slot],
    providers: &'a [SlotProvider],
    labels: &'a Labels,
}

/// The free slots of a service over a range of days, in the zone the client asks for. For a
/// service with several certified providers each slot lists who is free; their names and bios
/// come once in `providers`.
#[utoipa::path(
    tag = "booking",
    params(("id" = Uuid, Path, description = "The service's id"), SlotsQuery),
    responses(
        (status = 200, description = "The free slots, by start", body = SlotList),
        (status = 403, description = "The service takes enrolled students only", body = Problem),
        (status = 404, description = "No such service in this organisation", body = Problem),
        (status = 422, description = "Unknown time zone, or a range that is reversed or longer than 42 days", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/services/{id}/slots")]
pub async fn list_slots(
    state: web::Data<AppState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<SlotsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (org, id) = (caller.org, id.into_inner());
    let (person, admin) = (caller.person, caller.is_admin);
    let shared = state.clone();
    // Answers are large (every slot names its free providers): a client that takes gzip gets the
    // cached answer compressed once, not on every request by the Compress middleware.
    let gzip = AcceptEncoding::parse(&request)
        .ok()
        .and_then(|a| a.negotiate([Encoding::gzip(), Encoding::identity()].iter()))
        == Some(Encoding::gzip());
    let (body, gzipped) = state
        .db
        .read(move |conn| {
            let cache = &shared.slots;
            let statements = db::statements();
            let data::Context {
                revision,
                service_found,
                may_book,
                org_zone,
                my_zone,
                labels,
            } = data::context(conn, org, id, person)?;
            if !service_found {
                return Err(ApiError::NotFound);
            }
            if !admin && !may_book {
                return Err(ApiError::Forbidden("This service takes enrolled students only."));
            }
            let zone = zone(query.time_zone.as_deref(), my_zone.as_deref(), &org_zone)?;
            let now = Utc::now();
            let from = query.from.unwrap_or_else(|| now.with_timezone(&zone).date_naive());
            let to = query.to.unwrap_or(from + Days::new(6));
            if to < from {
                return Err(ApiError::field("to", "must not be before from"));
            }
            if (to - from).num_days() >= MAX_DAYS as i64 {
                return Err(ApiError::field("to", format!("at most {MAX_DAYS} days after from")));
            }
            let key = Key {
                service: id,
                provider: query.provider_id,
                zone,
                from,
                to,
            };
            let mut found = cache.get(&key, revision, now);
            let gate = found.is_none().then(|| cache.gate(&key));
            if gate.is_some() {
                found = cache.get(&key, revision, now); // computed while this request waited
            }
            let (cached, answer) = match found {
                Some(found) => (true, found),
                None => {
                    let service = repo::service(conn, org, id)?;
                    let midnight = |d: NaiveDate| instant_at_or_after(zone, d.and_time(NaiveTime::MIN));
                    let (start, end) = (midnight(from), midnight(to + Days::new(1)));
                    // Bookings reaching into the range through their buffers count too.
                    let margin = chrono::Duration::days(1);
                    let (engine, mut found) = availability(
                        conn,
                        &service,
                        query.provider_id,
                        &org_zone,
                        (start - margin).naive_utc(),
                        (end + margin).naive_utc(),
                    )?;
                    let (items, providers, until) =
                        compute(&service.rules(), engine, &mut found, zone, start, end, now);
                    let json = serde_json::to_vec(&Cached {
                        service: &service.reference(),
                        time_zone: zone.name(),
                        from,
                        to,
                        items: &items,
                        providers: &providers,
                        labels: &labels,
                    })
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                    let body = Bytes::from(json);
                    let compressed = if gzip { Some(compress(&body)?) } else { None };
                    let entry = Entry {
                        revision,
                        since: now,
                        until,
                        body: body.clone(),
                        gzip: compressed.clone(),
                        used: 0,
                    };
                    cache.put(key.clone(), entry);
                    (false, (body, compressed))
                }
            };
            tracing::debug!(
                statements = db::statements() - statements,
                cached,
                bytes = answer.0.len(),
                "slots listed"
            );
            let (answer, compressed) = answer;
            if !gzip {
                return Ok((answer, false));
            }
            let compressed = match compressed {
                Some(c) => c,
                None => {
                    let c = compress(&answer)?;
                    cache.put_gzip(&key, revision, c.clone());
                    c
                }
            };
            Ok((compressed, true))
        })
        .await?;
    let mut response = HttpResponse::Ok();
    response.content_type(ContentType::json());
    response.insert_header((header::VARY, "accept-encoding"));
    if gzipped {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    Ok(response.body(body))
}

fn compress(json: &[u8]) -> Result<Bytes, ApiError> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(json.len() / 8), flate2::Compression::default());
    encoder.write_all(json).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Bytes::from(
        encoder.finish().map_err(|e| ApiError::Internal(e.to_string()))?,
    ))
}
