//! Fresh databases for the crate's integration tests: a SQLite file or a new PostgreSQL database.

#![allow(dead_code)]

use cohort_api::db::{Backend, Db};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

pub fn pg_admin_url() -> String {
    std::env::var("COHORT_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new empty PostgreSQL database (PostgreSQL is required, never skipped); returns its name and URL.
pub fn pg_database(prefix: &str) -> (String, String) {
    let admin_url = pg_admin_url();
    let mut admin = PgConnection::establish(&admin_url)
        .unwrap_or_else(|e| panic!("PostgreSQL is required for the tests ({admin_url}): {e}"));
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let base = admin_url
        .rsplit_once('/')
        .expect("COHORT_TEST_PG_URL ends with a database name")
        .0;
    (name.clone(), format!("{base}/{name}"))
}

pub fn drop_pg_database(name: &str) {
    if let Ok(mut admin) = PgConnection::establish(&pg_admin_url()) {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

/// A migrated database of either backend, removed when dropped.
pub struct TestDb {
    pub db: Db,
    /// The database's URL, to look at it from outside the pool.
    pub url: String,
    pg_name: Option<String>,
    dir: Option<std::path::PathBuf>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        Self::with_pool_size(backend, 8)
    }

    pub fn with_pool_size(backend: Backend, pool_size: u32) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("cohort-db-{}", uuid::Uuid::now_v7()));
                let url = format!("sqlite://{}/test.db", dir.display());
                Self {
                    db: Db::connect(&url, backend, pool_size).unwrap(),
                    url,
                    pg_name: None,
                    dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let (name, url) = pg_database("cohort_j");
                Self {
                    db: Db::connect(&url, backend, pool_size).unwrap(),
                    url,
                    pg_name: Some(name),
                    dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            drop_pg_database(name);
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
