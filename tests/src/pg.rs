//! Fresh PostgreSQL databases for tests: PostgreSQL is required, never skipped. The server is
//! `COHORT_TEST_PG_URL` (by default the local one as `postgres`).

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

/// A URL of the server's maintenance database, to create and drop test databases from.
pub fn admin_url() -> String {
    std::env::var("COHORT_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new empty database named `<prefix>_<uuid>`: its name and URL.
pub fn create_database(prefix: &str) -> (String, String) {
    let admin = admin_url();
    let mut conn = PgConnection::establish(&admin)
        .unwrap_or_else(|e| panic!("PostgreSQL is required for the tests ({admin}): {e}"));
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .expect("COHORT_TEST_PG_URL ends with a database name")
        .0;
    (name.clone(), format!("{base}/{name}"))
}

/// Drops a test database, whoever is still connected to it.
pub fn drop_database(name: &str) {
    if let Ok(mut conn) = PgConnection::establish(&admin_url()) {
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}
