//! The caller's organisation: name, time zone, holidays, labels, retention settings.

pub mod repo;

use actix_web::{get, patch, web};
use cohort_api_types::{Organization, Problem, UpdateOrganization};
use cohort_domain::retention::Kept;
use cohort_domain::tenancy;

use crate::audit;
use crate::auth::Caller;
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::AppState;

/// The caller's organisation.
#[utoipa::path(
    tag = "organization",
    responses(
        (status = 200, description = "The organisation", body = Organization),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/organization")]
pub async fn get_organization(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<Organization>, ApiError> {
    let org = caller.org;
    Ok(web::Json(
        state.db.read(move |conn| Ok(repo::get(conn, org)?.into_api())).await?,
    ))
}

/// Changes the organisation's name, time zone, holidays, labels or how long it keeps the audit
/// log, ended sessions, jobs, deliveries and events (admins only). Every change, a shorter
/// retention included, is in the audit log with its before and after.
#[utoipa::path(
    tag = "organization",
    request_body = UpdateOrganization,
    responses(
        (status = 200, description = "The organisation after the change", body = Organization),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Invalid field values", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[patch("/organization")]
pub async fn update_organization(
    state: web::Data<AppState>,
    caller: Caller,
    Body(changes): Body<UpdateOrganization>,
) -> Result<web::Json<Organization>, ApiError> {
    caller.require_admin()?;
    let mut problems = Problems::default();
    let name = changes
        .name
        .as_deref()
        .and_then(|n| problems.check("name", tenancy::parse_organization_name(n)));
    let time_zone = changes
        .time_zone
        .as_deref()
        .and_then(|tz| problems.check("time_zone", tenancy::parse_time_zone(tz)));
    let holidays = changes
        .holidays
        .and_then(|days| problems.check("holidays", tenancy::normalize_holidays(days)));
    let labels = changes.labels.map(|l| {
        [
            ("labels.provider_singular", l.provider_singular),
            ("labels.provider_plural", l.provider_plural),
            ("labels.class_singular", l.class_singular),
            ("labels.class_plural", l.class_plural),
        ]
        .map(|(field, value)| problems.check(field, tenancy::parse_label(&value)).unwrap_or_default())
    });
    let retention = changes
        .audit_retention_days
        .and_then(|d| problems.check("audit_retention_days", cohort_domain::audit::parse_retention_days(d)));
    let kept = [
        (Kept::RefreshTokens, changes.refresh_token_retention_days),
        (Kept::FinishedJobs, changes.job_retention_days),
        (Kept::DeadJobs, changes.dead_job_retention_days),
        (Kept::WebhookDeliveries, changes.webhook_delivery_retention_days),
        (Kept::EmailDeliveries, changes.email_delivery_retention_days),
        (Kept::Events, changes.event_retention_days),
    ]
    .map(|(kept, days)| {
        (
            kept,
            days.and_then(|d| problems.check(kept.field(), kept.parse_days(d))),
        )
    });
    problems.finish()?;
    let (org, actor) = (caller.org, caller.actor());
    let updated = state
        .db
        .write(move |conn| {
            let mut row = repo::get(conn, org)?;
            let before = row.clone().into_api();
            if let Some(days) = retention {
                row.audit_retention_days = days;
            }
            for (kept, days) in kept {
                if let Some(days) = days {
                    *row.retention_days_mut(kept) = days;
                }
            }
            if let Some(name) = name {
                row.name = name;
            }
            if let Some(tz) = time_zone {
                row.time_zone = tz.name().to_owned();
            }
            if let Some(days) = holidays {
                row.holidays = serde_json::to_string(&days).map_err(|e| ApiError::Internal(e.to_string()))?;
            }
            if let Some([ps, pp, cs, cp]) = labels {
                (
                    row.provider_singular,
                    row.provider_plural,
                    row.class_singular,
                    row.class_plural,
                ) = (ps, pp, cs, cp);
            }
            row.updated_at = crate::db::now();
            repo::save(conn, &row)?;
            // Its zone is the zone of providers without one of their own, so a part of the free slots.
            crate::booking::repo::slots_changed(conn, org, crate::booking::repo::SlotsChange::Other)?;
            let after = row.into_api();
            audit::record(
                conn,
                &actor,
                "organization.updated",
                ("organization", org),
                &before,
                &after,
            )?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(updated))
}
