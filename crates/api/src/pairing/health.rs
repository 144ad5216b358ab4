//! Pairing health: how each active pairing is doing, and the job that notices a quiet one
//! (`pairing.unresponsive`, and the steps' `first_unresponsive_match` trigger).

use actix_web::{get, web};
use cohort_api_types::{HealthWeek, PairingHealth, PairingHealthRow, PairingHealthStatus, Problem};
use cohort_domain::events::PAIRING_UNRESPONSIVE;
use cohort_domain::pairing::{self as rules, Health};
use serde_json::json;
use uuid::Uuid;

use super::repo::{self, PairingRow};
use super::views;
use crate::auth::Caller;
use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::jobs::{self, Job, NewJob};
use crate::programs::repo::{self as programs, ProgramRow};
use crate::AppState;

pub const CHECK_JOB: &str = "pairing.check";

fn span(p: &PairingRow) -> rules::Span {
    (db::utc(p.created_at), p.ended_at.map(db::utc))
}

fn status(h: Health) -> PairingHealthStatus {
    match h {
        Health::TooEarly => PairingHealthStatus::TooEarly,
        Health::OnTrack => PairingHealthStatus::OnTrack,
        Health::NeedsCheckIn => PairingHealthStatus::NeedsCheckIn,
    }
}

/// Queues the look at a pairing at the end of its quiet window.
pub fn schedule_check(conn: &mut DbConn, pairing: &PairingRow, window_days: u32) -> Result<(), ApiError> {
    let last = views::last_activity(conn, pairing)?.map(db::utc);
    let at = rules::next_check(db::utc(pairing.created_at), last, window_days);
    jobs::enqueue(
        conn,
        NewJob {
            organization_id: Some(db::id(&pairing.organization_id)),
            run_at: at.naive_utc(),
            dedupe_key: Some(format!("{CHECK_JOB}:{}:{}", pairing.id, at.timestamp())),
            ..NewJob::now(CHECK_JOB, json!({"pairing_id": pairing.id}))
        },
    )?;
    Ok(())
}

/// `pairing.check`: a pairing quiet for its whole window is recorded as unresponsive (once), and
/// the steps waiting for someone's first unresponsive match start; otherwise it is looked at
/// again at the end of the next window.
pub async fn run_check(db: Db, job: Job) -> Result<(), String> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let id = payload["pairing_id"]
        .as_str()
        .ok_or("pairing.check without pairing_id")?
        .to_owned();
    db.write(move |conn| {
        let Some(pairing) = repo::find_pairing(conn, &id)? else {
            return Ok(());
        };
        if pairing.ended_at.is_some() {
            return Ok(());
        }
        let org = db::id(&pairing.organization_id);
        let program = programs::get(conn, org, db::id(&pairing.program_id))?;
        let window = repo::settings(conn, &program.id)?.unresponsive_days;
        let last = views::last_activity(conn, &pairing)?.map(db::utc);
        if rules::health(db::utc(pairing.created_at), last, db::now().and_utc(), window) != Health::NeedsCheckIn {
            return schedule_check(conn, &pairing, window);
        }
        unresponsive(conn, &program, &pairing)
    })
    .await
    .map_err(|e| e.to_string())
}

fn unresponsive(conn: &mut DbConn, program: &ProgramRow, pairing: &PairingRow) -> Result<(), ApiError> {
    for person in [&pairing.mentee_id, &pairing.mentor_id] {
        let earlier = views::count_events(conn, &program.id, person, PAIRING_UNRESPONSIVE)?;
        let event = super::event(
            program,
            PAIRING_UNRESPONSIVE,
            person,
            json!({"pairing_id": pairing.id}),
            &pairing.id,
        );
        if crate::events::record(conn, &[event])? == 1 && earlier == 0 {
            let memberships: Vec<_> = programs::memberships_of(conn, &program.id, std::slice::from_ref(person))?
                .into_iter()
                .filter(|m| m.status == "active")
                .collect();
            crate::steps::delivery::fire(
                conn,
                &program.id,
                &program.time_zone,
                &memberships,
                cohort_domain::steps::Trigger::FirstUnresponsiveMatch,
                db::now(),
            )?;
        }
    }
    Ok(())
}

/// How the program's pairings are doing: each active pairing's health, requests, full mentors.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    responses(
        (status = 200, description = "The program's pairing health", body = PairingHealth),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/pairing/health")]
pub async fn pairing_health(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<PairingHealth>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let health = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            let settings = repo::settings(conn, &program.id)?;
            let all = repo::pairings_in(conn, &program.id)?;
            let sessions = views::sessions(conn, &program.organization_id, &all)?;
            let active: Vec<&PairingRow> = all.iter().filter(|p| p.ended_at.is_none()).collect();
            let now = db::now().and_utc();
            let names = repo::names(conn, active.iter().flat_map(|p| [&p.mentee_id, &p.mentor_id]))?;
            let mut rows = Vec::with_capacity(active.len());
            for &p in &active {
                let last = views::last_activity(conn, p)?.map(db::utc);
                let h = rules::health(db::utc(p.created_at), last, now, settings.unresponsive_days);
                rows.push(PairingHealthRow {
                    pairing_id: db::id(&p.id),
                    mentee_name: names.get(&p.mentee_id).cloned().unwrap_or_default(),
                    mentor_name: names.get(&p.mentor_id).cloned().unwrap_or_default(),
                    status: status(h),
                    last_activity_at: last,
                    paired_at: db::utc(p.created_at),
                    sessions_completed: rules::sessions_of(&sessions, &p.mentee_id, &p.mentor_id, span(p)).count()
                        as u32,
                });
            }
            let count = |s: PairingHealthStatus| rows.iter().filter(|r| r.status == s).count() as u32;
            let open_requests = repo::count_requests(conn, &program.id, "open")? as u32;
            let expired_requests = repo::count_requests(conn, &program.id, "expired")? as u32;
            let mentors = repo::active_mentors(conn, &program.id)?;
            let mut at_capacity = 0;
            for (mentor, own) in mentors {
                let capacity = settings.capacity_of(own);
                let active = active.iter().filter(|p| p.mentor_id == mentor).count() as u32;
                at_capacity += u32::from(!rules::has_room(capacity, active));
            }
            let history: Vec<rules::Span> = all.iter().map(span).collect();
            let zone: chrono_tz::Tz = crate::organization::repo::get(conn, org)?
                .time_zone
                .parse()
                .unwrap_or(chrono_tz::UTC);
            let request_times = repo::request_times(conn, &program.id)?;
            let mut happened = rules::Happenings::default();
            for (made, status, decided) in request_times {
                happened.requests_made.push(db::utc(made));
                if let (true, Some(at)) = (status == "expired", decided) {
                    happened.requests_expired.push(db::utc(at));
                }
            }
            happened.sessions = all
                .iter()
                .flat_map(|p| rules::sessions_of(&sessions, &p.mentee_id, &p.mentor_id, span(p)))
                .map(|s| s.starts_at)
                .collect();
            let weekly = rules::weekly(&history, &happened, now, zone, 12)
                .into_iter()
                .map(|w| HealthWeek {
                    week_start: w.start,
                    active_pairings: w.active,
                    pairings_started: w.started,
                    pairings_ended: w.ended,
                    requests_made: w.requests_made,
                    requests_expired: w.requests_expired,
                    sessions_completed: w.sessions_completed,
                })
                .collect();
            let mut health = PairingHealth {
                weekly,
                sessions_completed: rows.iter().map(|r| r.sessions_completed).sum(),
                active_pairings: rows.len() as u32,
                on_track: count(PairingHealthStatus::OnTrack),
                needs_check_in: count(PairingHealthStatus::NeedsCheckIn),
                too_early: count(PairingHealthStatus::TooEarly),
                open_requests,
                expired_requests,
                mentors_at_capacity: at_capacity,
                pairings: rows,
            };
            health
                .pairings
                .sort_by_key(|r| r.status != PairingHealthStatus::NeedsCheckIn);
            Ok(health)
        })
        .await?;
    Ok(web::Json(health))
}
