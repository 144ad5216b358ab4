//! Cohort's HTTP API: actix-web handlers over diesel repositories, one module
//! per capability, with the product's rules in `cohort-domain`.

pub mod app;
pub mod audit;
pub mod auth;
pub mod automations;
pub mod booking;
pub mod config;
pub mod db;
pub mod demo;
pub mod downloads;
pub mod error;
pub mod events;
pub mod extract;
pub mod hardening;
pub mod health;
pub mod idempotency;
pub mod imports;
pub mod jobs;
pub mod limits;
pub mod messaging;
pub mod organization;
pub mod paging;
pub mod pairing;
pub mod people;
pub mod programs;
pub mod request_id;
pub mod retention;
pub mod schema;
pub mod steps;

use std::path::PathBuf;

/// What every handler shares.
pub struct AppState {
    pub db: db::Db,
    pub jwt: auth::tokens::JwtKeys,
    /// Verified against when a login names no known person, so both cases take as long.
    pub dummy_password_hash: String,
    pub dashboard_dir: PathBuf,
    /// Tests and closed networks may deliver webhooks to loopback and private addresses.
    pub allow_private_webhooks: bool,
    pub limits: limits::Limits,
    /// Origins besides the dashboard's own that browsers may call the API from.
    pub allowed_origins: Vec<String>,
    /// How large a CSV upload may be.
    pub imports: imports::Limits,
    /// The most mentee-mentor pairs one auto-pair run may consider (`COHORT_AUTOPAIR_MAX_PAIRS`).
    pub autopair_max_pairs: u64,
    /// Recent answers of `GET /services/{id}/slots` (see `booking::slots`).
    pub slots: booking::slots::Cache,
}
