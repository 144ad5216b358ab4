//! The hourly purge of what grows with use: ended refresh tokens, finished and dead jobs,
//! webhook and email deliveries, events. Each organisation says how long it keeps each
//! (`cohort_domain::retention`, set on the organisation like the audit log's retention, so a
//! change is audited); rows without an organisation (Cohort's own jobs) use the defaults.
//!
//! Deletes run in batches of [`BATCH`] rows, each its own short write transaction, so a purge
//! that has a year of rows to delete never holds the SQLite writer for long.

use chrono::NaiveDateTime;
use cohort_domain::retention::{cutoff, Kept};
use diesel::dsl::{exists, not};
use diesel::prelude::*;

use crate::db::{self, Db, DbConn};
use crate::error::ApiError;
use crate::schema::{
    automation_queue, email_deliveries, events, jobs, link_tokens, organizations, refresh_tokens, webhook_deliveries,
};

/// The job that purges what each organisation keeps no longer.
pub const PURGE_JOB: &str = "retention.purge";

/// How often each process queues a purge (and once at start), as for the audit log.
pub const PURGE_EVERY: std::time::Duration = crate::audit::PURGE_EVERY;

/// The most rows one write transaction deletes.
pub const BATCH: i64 = 500;

/// Whose rows a batch deletes: one organisation's, or those that belong to none.
type Owner = Option<String>;

/// How many days an owner keeps each kind of row.
type Settings = Vec<(Kept, i32)>;

/// Every organisation with its settings, then the rows of no organisation with the defaults.
fn owners(conn: &mut DbConn) -> Result<Vec<(Owner, Settings)>, ApiError> {
    let orgs: Vec<crate::organization::repo::OrganizationRow> = organizations::table
        .select(crate::organization::repo::OrganizationRow::as_select())
        .load(conn)?;
    let mut owners: Vec<_> = orgs
        .into_iter()
        .map(|org| {
            let days = Kept::ALL.map(|kept| (kept, org.retention_days(kept))).to_vec();
            (Some(org.id), days)
        })
        .collect();
    owners.push((None, Kept::ALL.map(|kept| (kept, kept.default_days())).to_vec()));
    Ok(owners)
}

/// Deletes up to `limit` of `owner`'s rows of `kept` that ended before `before`; how many.
pub fn purge_batch(
    conn: &mut DbConn,
    owner: Option<&str>,
    kept: Kept,
    before: NaiveDateTime,
    limit: i64,
) -> Result<usize, ApiError> {
    let Some(org) = owner else {
        // Only jobs and emails exist without an organisation.
        return match kept {
            Kept::FinishedJobs | Kept::DeadJobs => {
                let ids = jobs::table
                    .select(jobs::id)
                    .filter(jobs::organization_id.is_null())
                    .filter(jobs::status.eq(job_status(kept)))
                    .filter(jobs::finished_at.lt(before))
                    .limit(limit)
                    .load::<String>(conn)?;
                Ok(diesel::delete(jobs::table.filter(jobs::id.eq_any(ids))).execute(conn)?)
            }
            Kept::EmailDeliveries => {
                let keys = email_deliveries::table
                    .select(email_deliveries::delivery_key)
                    .filter(email_deliveries::organization_id.is_null())
                    .filter(email_deliveries::sent_at.lt(before))
                    .filter(not(exists(email_job_pending())))
                    .limit(limit)
                    .load::<String>(conn)?;
                Ok(
                    diesel::delete(email_deliveries::table.filter(email_deliveries::delivery_key.eq_any(keys)))
                        .execute(conn)?,
                )
            }
            Kept::RefreshTokens | Kept::WebhookDeliveries | Kept::Events => Ok(0),
        };
    };
    let org = org.to_owned();
    Ok(match kept {
        Kept::RefreshTokens => {
            // Two passes, one index each: expired logins, then revoked tokens.
            let expired = refresh_tokens::table
                .select(refresh_tokens::id)
                .filter(refresh_tokens::organization_id.eq(&org))
                .filter(refresh_tokens::expires_at.lt(before))
                .limit(limit)
                .load::<String>(conn)?;
            let n = diesel::delete(refresh_tokens::table.filter(refresh_tokens::id.eq_any(expired))).execute(conn)?;
            if n as i64 >= limit {
                return Ok(n);
            }
            let revoked = refresh_tokens::table
                .select(refresh_tokens::id)
                .filter(refresh_tokens::organization_id.eq(&org))
                .filter(refresh_tokens::revoked_at.lt(before))
                .limit(limit - n as i64)
                .load::<String>(conn)?;
            let n =
                n + diesel::delete(refresh_tokens::table.filter(refresh_tokens::id.eq_any(revoked))).execute(conn)?;
            if n as i64 >= limit {
                return Ok(n);
            }
            // One-time links (invitations, resets, request answers) that can no longer be used.
            let links = link_tokens::table
                .select(link_tokens::id)
                .filter(link_tokens::organization_id.eq(&org))
                .filter(link_tokens::expires_at.lt(before))
                .limit(limit - n as i64)
                .load::<String>(conn)?;
            n + diesel::delete(link_tokens::table.filter(link_tokens::id.eq_any(links))).execute(conn)?
        }
        Kept::FinishedJobs | Kept::DeadJobs => {
            let ids = jobs::table
                .select(jobs::id)
                .filter(jobs::organization_id.eq(&org))
                .filter(jobs::status.eq(job_status(kept)))
                .filter(jobs::finished_at.lt(before))
                .limit(limit)
                .load::<String>(conn)?;
            diesel::delete(jobs::table.filter(jobs::id.eq_any(ids))).execute(conn)?
        }
        Kept::WebhookDeliveries => {
            // A pending delivery still has a job that will send it.
            let ids = webhook_deliveries::table
                .select(webhook_deliveries::id)
                .filter(webhook_deliveries::organization_id.eq(&org))
                .filter(webhook_deliveries::created_at.lt(before))
                .filter(webhook_deliveries::status.ne("pending"))
                .limit(limit)
                .load::<String>(conn)?;
            diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(ids))).execute(conn)?
        }
        Kept::EmailDeliveries => {
            let keys = email_deliveries::table
                .select(email_deliveries::delivery_key)
                .filter(email_deliveries::organization_id.eq(&org))
                .filter(email_deliveries::sent_at.lt(before))
                .filter(not(exists(email_job_pending())))
                .limit(limit)
                .load::<String>(conn)?;
            diesel::delete(email_deliveries::table.filter(email_deliveries::delivery_key.eq_any(keys))).execute(conn)?
        }
        Kept::Events => {
            // An event the automations have not matched yet stays (deleting it would cascade
            // through the queue and the automations would never see it); the runs of a
            // purged event go with it.
            let ids = events::table
                .select(events::id)
                .filter(events::organization_id.eq(&org))
                .filter(events::created_at.lt(before))
                .filter(not(exists(
                    automation_queue::table.filter(automation_queue::event_id.eq(events::id)),
                )))
                .limit(limit)
                .load::<String>(conn)?;
            diesel::delete(events::table.filter(events::id.eq_any(ids))).execute(conn)?
        }
    })
}

fn job_status(kept: Kept) -> &'static str {
    if kept == Kept::DeadJobs {
        crate::jobs::DEAD
    } else {
        crate::jobs::DONE
    }
}

/// The email's job when it may still run (queued, running, or dead and retryable): its
/// "sent once" record must stay, or the job would send the email again.
#[allow(clippy::type_complexity)]
fn email_job_pending() -> diesel::dsl::Filter<
    diesel::dsl::Filter<
        jobs::table,
        diesel::dsl::Eq<
            jobs::dedupe_key,
            diesel::dsl::Nullable<
                diesel::dsl::Concat<
                    diesel::dsl::AsExprOf<&'static str, diesel::sql_types::Text>,
                    email_deliveries::delivery_key,
                >,
            >,
        >,
    >,
    diesel::dsl::NotEq<jobs::status, &'static str>,
> {
    use diesel::IntoSql;
    jobs::table
        .filter(
            jobs::dedupe_key.eq("email:"
                .into_sql::<diesel::sql_types::Text>()
                .concat(email_deliveries::delivery_key)
                .nullable()),
        )
        .filter(jobs::status.ne(crate::jobs::DONE))
}

/// Purges, batch by batch, everything past its organisation's retention at `now`; how many
/// rows went.
pub async fn purge(db: &Db, now: NaiveDateTime) -> Result<usize, ApiError> {
    let owners = db.read(owners).await?;
    let mut purged = 0;
    for (owner, settings) in owners {
        for (kept, days) in settings {
            let before = cutoff(now, days);
            loop {
                let owner = owner.clone();
                let n = db
                    .write(move |conn| purge_batch(conn, owner.as_deref(), kept, before, BATCH))
                    .await?;
                purged += n;
                if (n as i64) < BATCH {
                    break;
                }
            }
        }
    }
    Ok(purged)
}

pub async fn run_purge(db: Db, _job: crate::jobs::Job) -> Result<(), String> {
    let purged = purge(&db, db::now()).await.map_err(|e| e.to_string())?;
    if purged > 0 {
        tracing::info!(purged, "rows past their retention purged");
    }
    Ok(())
}
