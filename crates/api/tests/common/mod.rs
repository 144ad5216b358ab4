//! Fresh databases for the crate's integration tests: a SQLite file or a new PostgreSQL database.

#![allow(dead_code)]

use cohort_api::db::{self, Db};
use cohort_tests::pg::{create_database, drop_database};
use cohort_tests::Backend;

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
                    db: Db::connect(&url, db_backend(backend), pool_size).unwrap(),
                    url,
                    pg_name: None,
                    dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let (name, url) = create_database("cohort_j");
                Self {
                    db: Db::connect(&url, db_backend(backend), pool_size).unwrap(),
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
            drop_database(name);
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The API's name for a test's backend.
pub fn db_backend(backend: Backend) -> db::Backend {
    match backend {
        Backend::Sqlite => db::Backend::Sqlite,
        Backend::Postgres => db::Backend::Postgres,
    }
}
