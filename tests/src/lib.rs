//! Test support: start the real `cohort` binary on a fresh database, on
//! SQLite or PostgreSQL, and talk HTTP to it.
//!
//! Every response with an error status is checked to be problem JSON, so each
//! test also checks the error format of whatever it provokes.

mod app;
mod openapi;
pub mod pg;
mod pg_cluster;
mod receivers;

pub use app::*;
pub use openapi::*;
pub use pg_cluster::*;
pub use receivers::*;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use cohort_api_types::TokenResponse;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub use reqwest;
pub use serde_json;

pub const JWT_SECRET: &str = "UbK09TnSoCZ2G-rWnL4QtPLjuLDkjIvhUA-bwIsR";
pub const ADMIN_EMAIL: &str = "admin@demo.test";
pub const ADMIN_PASSWORD: &str = "admin-password-0123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Expands one test body, async or not, into `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* fn $name:ident($backend:ident: Backend) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($backend: $crate::Backend) $body
            #[test]
            fn sqlite() {
                run($crate::Backend::Sqlite)
            }
            #[test]
            fn postgres() {
                run($crate::Backend::Postgres)
            }
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($backend:ident: Backend) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($backend: $crate::Backend) $body
            #[tokio::test]
            async fn sqlite() {
                run($crate::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                run($crate::Backend::Postgres).await
            }
        }
    };
}
