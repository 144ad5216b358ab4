//! The two migration trees stay in step, and both run up, down and up again.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use cohort_api::db::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sqlite::Sqlite;
use diesel_migrations::MigrationHarness;

/// Every table of `schema.rs`.
const TABLES: [&str; 42] = [
    "organizations",
    "people",
    "programs",
    "participants",
    "refresh_tokens",
    "api_keys",
    "jobs",
    "email_templates",
    "email_deliveries",
    "notifications",
    "webhook_endpoints",
    "webhook_deliveries",
    "conversations",
    "conversation_members",
    "chat_messages",
    "steps",
    "step_deliveries",
    "events",
    "pairing_settings",
    "mentor_requests",
    "pairings",
    "pairing_invitations",
    "auto_pair",
    "automations",
    "automation_versions",
    "automation_runs",
    "automation_run_actions",
    "automation_contacts",
    "automation_queue",
    "badges",
    "person_badges",
    "idempotency_keys",
    "services",
    "providers",
    "certifications",
    "enrollments",
    "booking_settings",
    "bookings",
    "booking_waitlist",
    "calendar_feeds",
    "audit_log",
    "slot_revisions",
];

fn names(backend: &str) -> BTreeSet<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_trees_hold_the_same_migrations() {
    let (sqlite, postgres) = (names("sqlite"), names("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must hold the same migration names"
    );
    let embedded_sqlite = MigrationSource::<Sqlite>::migrations(&SQLITE_MIGRATIONS).unwrap().len();
    let embedded_postgres = MigrationSource::<Pg>::migrations(&POSTGRES_MIGRATIONS).unwrap().len();
    assert_eq!((embedded_sqlite, embedded_postgres), (sqlite.len(), sqlite.len()));
}

fn count_every_table(conn: &mut impl SimpleConnection) {
    for table in TABLES {
        conn.batch_execute(&format!("SELECT COUNT(*) FROM {table}"))
            .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
}

#[test]
fn sqlite_migrations_run_up_down_up() {
    let dir = std::env::temp_dir().join(format!("cohort-migrations-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut conn = SqliteConnection::establish(dir.join("m.db").to_str().unwrap()).unwrap();
    conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    count_every_table(&mut conn);
    conn.revert_all_migrations(SQLITE_MIGRATIONS).unwrap();
    assert!(
        conn.batch_execute("SELECT COUNT(*) FROM people").is_err(),
        "down left the people table"
    );
    conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    count_every_table(&mut conn);
    drop(conn);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn postgres_migrations_run_up_down_up() {
    let (name, url) = common::pg_database("cohort_m");
    {
        let mut conn = PgConnection::establish(&url).unwrap();
        conn.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
        count_every_table(&mut conn);
        conn.revert_all_migrations(POSTGRES_MIGRATIONS).unwrap();
        assert!(
            conn.batch_execute("SELECT COUNT(*) FROM people").is_err(),
            "down left the people table"
        );
        conn.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
        count_every_table(&mut conn);
    }
    common::drop_pg_database(&name);
}
