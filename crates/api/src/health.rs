//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::{get, web};
use cohort_api_types::{Health, Problem};

use crate::error::ApiError;
use crate::AppState;

/// The process is alive.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Alive", body = Health)),
    security(())
)]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok".into() })
}

/// The process can reach its database.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database is not reachable", body = Problem),
    ),
    security(())
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Health>, ApiError> {
    let db = state.db.clone();
    web::block(move || db.ping())
        .await?
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(web::Json(Health { status: "ok".into() }))
}
