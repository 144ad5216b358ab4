//! The two migration trees stay in step, both run up, down and up again, and the migrations that
//! move data move it.

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
const TABLES: [&str; 43] = [
    "organizations",
    "people",
    "programs",
    "participants",
    "refresh_tokens",
    "link_tokens",
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

/// A new SQLite database in a directory of its own, removed when dropped.
struct SqliteFile {
    conn: SqliteConnection,
    dir: PathBuf,
}

impl SqliteFile {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("cohort-migrations-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let conn = SqliteConnection::establish(dir.join("m.db").to_str().unwrap()).unwrap();
        Self { conn, dir }
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// A new PostgreSQL database, dropped when this is (a failing test leaves none behind).
struct PgDatabase {
    conn: PgConnection,
    name: String,
}

impl PgDatabase {
    fn new(prefix: &str) -> Self {
        let (name, url) = cohort_tests::pg::create_database(prefix);
        let conn = PgConnection::establish(&url).unwrap();
        Self { conn, name }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        cohort_tests::pg::drop_database(&self.name);
    }
}

fn count_every_table(conn: &mut impl SimpleConnection) {
    for table in TABLES {
        conn.batch_execute(&format!("SELECT COUNT(*) FROM {table}"))
            .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
}

#[test]
fn sqlite_migrations_run_up_down_up() {
    let mut db = SqliteFile::new();
    let conn = &mut db.conn;
    conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    count_every_table(conn);
    conn.revert_all_migrations(SQLITE_MIGRATIONS).unwrap();
    assert!(
        conn.batch_execute("SELECT COUNT(*) FROM people").is_err(),
        "down left the people table"
    );
    conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    count_every_table(conn);
}

#[test]
fn postgres_migrations_run_up_down_up() {
    let mut db = PgDatabase::new("cohort_m");
    let conn = &mut db.conn;
    conn.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
    count_every_table(conn);
    conn.revert_all_migrations(POSTGRES_MIGRATIONS).unwrap();
    assert!(
        conn.batch_execute("SELECT COUNT(*) FROM people").is_err(),
        "down left the people table"
    );
    conn.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
    count_every_table(conn);
}

/// Runs `source`'s pending migrations up to the one whose name starts with `stop` (excluded).
fn migrate_until<DB: diesel::backend::Backend>(
    conn: &mut impl MigrationHarness<DB>,
    source: impl MigrationSource<DB>,
    stop: &str,
) {
    for migration in conn.pending_migrations(source).unwrap() {
        if migration.name().to_string().starts_with(stop) {
            return;
        }
        conn.run_migration(&*migration).unwrap();
    }
    panic!("no migration {stop}");
}

/// Rows as they stood before `automation_queue`: match jobs queued, running (the same event
/// twice), for an event since deleted, done, and another kind of job.
const BEFORE_THE_QUEUE: &str = "
INSERT INTO organizations (id, name, slug, time_zone, provider_singular, provider_plural, class_singular,
    class_plural, created_at, updated_at)
VALUES ('o1', 'Org', 'org', 'UTC', 'Peer Mentor', 'Peer Mentors', 'Course', 'Courses',
    '2026-12-01 00:00:00', '2026-12-01 00:00:00');
INSERT INTO events (id, organization_id, event_type, program_id, person_id, payload, dedupe_key, occurred_at, created_at)
VALUES ('e1', 'o1', 'payment.paid', NULL, NULL, '{}', 'k1', '2026-12-01 00:00:00', '2026-12-01 00:00:00'),
       ('e2', 'o1', 'payment.paid', NULL, NULL, '{}', 'k2', '2026-12-01 00:00:00', '2026-12-01 00:00:00');
INSERT INTO jobs (id, organization_id, kind, payload, dedupe_key, status, run_at, max_attempts, created_at)
VALUES ('j1', 'o1', 'automation.match', '{\"event_id\":\"e1\"}', 'm1', 'queued', '2026-12-01 00:00:00', 5, '2026-12-01 00:00:00'),
       ('j2', 'o1', 'automation.match', '{\"event_id\":\"e1\"}', 'm2', 'running', '2026-12-01 00:00:00', 5, '2026-12-01 00:00:00'),
       ('j3', 'o1', 'automation.match', '{\"event_id\":\"gone\"}', 'm3', 'queued', '2026-12-01 00:00:00', 5, '2026-12-01 00:00:00'),
       ('j4', 'o1', 'automation.match', '{\"event_id\":\"e2\"}', 'm4', 'done', '2026-12-01 00:00:00', 5, '2026-12-01 00:00:00'),
       ('j5', 'o1', 'email', '{}', 'm5', 'queued', '2026-12-01 00:00:00', 5, '2026-12-01 00:00:00');
";

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// The queued and running match jobs of events that still exist move to `automation_queue`
/// (once per event); those jobs go; done jobs and other kinds stay.
fn match_jobs_moved_to_the_queue<C>(conn: &mut C)
where
    C: Connection + diesel::connection::LoadConnection,
    Id: QueryableByName<C::Backend>,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, Id>,
{
    let ids = |conn: &mut C, sql: &str| -> Vec<String> {
        diesel::sql_query(sql)
            .load::<Id>(conn)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(
        ids(conn, "SELECT event_id AS id FROM automation_queue ORDER BY 1"),
        ["e1"]
    );
    assert_eq!(ids(conn, "SELECT id FROM jobs ORDER BY 1"), ["j4", "j5"]);
}

#[test]
fn sqlite_match_jobs_move_to_the_automation_queue() {
    let mut db = SqliteFile::new();
    let conn = &mut db.conn;
    migrate_until(conn, SQLITE_MIGRATIONS, "2026-12-06-070001");
    conn.batch_execute(BEFORE_THE_QUEUE).unwrap();
    conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    match_jobs_moved_to_the_queue(conn);
}

#[test]
fn postgres_match_jobs_move_to_the_automation_queue() {
    let mut db = PgDatabase::new("cohort_mq");
    let conn = &mut db.conn;
    migrate_until(conn, POSTGRES_MIGRATIONS, "2026-12-06-070001");
    conn.batch_execute(BEFORE_THE_QUEUE).unwrap();
    conn.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
    match_jobs_moved_to_the_queue(conn);
}

/// Two automations made before they had signing secrets.
const BEFORE_WEBHOOK_SECRETS: &str = "
INSERT INTO organizations (id, name, slug, time_zone, provider_singular, provider_plural, class_singular,
    class_plural, created_at, updated_at)
VALUES ('o1', 'Org', 'org', 'UTC', 'Peer Mentor', 'Peer Mentors', 'Course', 'Courses',
    '2026-12-01 00:00:00', '2026-12-01 00:00:00');
INSERT INTO automations (id, organization_id, name, trigger_type, definition, active, version, created_at, updated_at)
VALUES ('a1', 'o1', 'One', 'custom.x', '{}', TRUE, 1, '2026-12-01 00:00:00', '2026-12-01 00:00:00'),
       ('a2', 'o1', 'Two', 'custom.x', '{}', TRUE, 1, '2026-12-01 00:00:00', '2026-12-01 00:00:00');
";

#[derive(QueryableByName)]
struct Secret {
    #[diesel(sql_type = diesel::sql_types::Text)]
    webhook_secret: String,
}

/// Each automation made before gets a secret of its own that Standard Webhooks libraries accept
/// (`whsec_` and base64 of at least 24 bytes).
fn automations_got_their_own_secrets<C>(conn: &mut C)
where
    C: Connection + diesel::connection::LoadConnection,
    Secret: QueryableByName<C::Backend>,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, Secret>,
{
    use base64::Engine;
    let secrets: Vec<String> = diesel::sql_query("SELECT webhook_secret FROM automations ORDER BY id")
        .load::<Secret>(conn)
        .unwrap()
        .into_iter()
        .map(|r| r.webhook_secret)
        .collect();
    assert_eq!(secrets.len(), 2);
    assert_ne!(secrets[0], secrets[1]);
    for secret in &secrets {
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
            .unwrap_or_else(|e| panic!("{secret}: {e}"));
        assert!(key.len() >= 24, "{secret}");
    }
}

#[test]
fn sqlite_automations_get_webhook_secrets() {
    let mut db = SqliteFile::new();
    let conn = &mut db.conn;
    migrate_until(conn, SQLITE_MIGRATIONS, "2026-12-07-100000");
    conn.batch_execute(BEFORE_WEBHOOK_SECRETS).unwrap();
    conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    automations_got_their_own_secrets(conn);
}

#[test]
fn postgres_automations_get_webhook_secrets() {
    let mut db = PgDatabase::new("cohort_ms");
    let conn = &mut db.conn;
    migrate_until(conn, POSTGRES_MIGRATIONS, "2026-12-07-100000");
    conn.batch_execute(BEFORE_WEBHOOK_SECRETS).unwrap();
    conn.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
    automations_got_their_own_secrets(conn);
}

/// Tables whose rows the API never deletes: organisations are removed by an operator, and
/// programs are archived. Foreign keys to them need no index of their own.
const NEVER_DELETED: [&str; 2] = ["organizations", "programs"];

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = diesel::sql_types::Text)]
    referencing: String,
}

/// Every foreign key to a table the API deletes from has an index that starts with its column:
/// deleting a person (or a service, a request) finds the rows that cascade through that index
/// instead of reading the whole referencing table (with 31,000 events, deleting one person read
/// them all: 28 ms, growing with every event of every organisation).
#[test]
fn sqlite_foreign_keys_of_deleted_rows_have_indexes() {
    let mut db = SqliteFile::new();
    let conn = &mut db.conn;
    conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    let unindexed: Vec<ForeignKey> = diesel::sql_query(format!(
        "SELECT m.name || '.' || f.\"from\" || ' -> ' || f.\"table\" AS referencing
         FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
         WHERE m.type = 'table' AND f.\"table\" NOT IN ('{}')
           AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
                           WHERE ii.seqno = 0 AND ii.name = f.\"from\")
         ORDER BY 1",
        NEVER_DELETED.join("', '")
    ))
    .load(conn)
    .unwrap();
    assert_eq!(
        unindexed.iter().map(|k| k.referencing.as_str()).collect::<Vec<_>>(),
        Vec::<&str>::new()
    );
}

#[test]
fn postgres_foreign_keys_of_deleted_rows_have_indexes() {
    let mut db = PgDatabase::new("cohort_mfk");
    let conn = &mut db.conn;
    conn.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
    let unindexed: Vec<ForeignKey> = diesel::sql_query(format!(
        "SELECT c.conrelid::regclass || '.' || a.attname || ' -> ' || c.confrelid::regclass AS referencing
         FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'f' AND c.confrelid::regclass::text NOT IN ('{}')
           AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
         ORDER BY 1",
        NEVER_DELETED.join("', '")
    ))
    .load(conn)
    .unwrap();
    assert_eq!(
        unindexed.iter().map(|k| k.referencing.as_str()).collect::<Vec<_>>(),
        Vec::<&str>::new()
    );
}

/// Each table of `schema.rs` with its columns and whether each may be null.
type Tables = std::collections::BTreeMap<String, std::collections::BTreeMap<String, bool>>;

/// What `schema.rs` declares, read from its `table!` blocks.
fn declared() -> Tables {
    let schema = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/schema.rs")).unwrap();
    let mut tables = Tables::new();
    let mut current: Option<String> = None;
    for line in schema.lines().map(str::trim) {
        if let Some(name) = line.strip_suffix('{').and_then(|l| l.split_once(" (")).map(|(n, _)| n) {
            current = Some(name.to_owned());
            tables.insert(name.to_owned(), Default::default());
        } else if let (Some(table), Some((column, sql_type))) = (&current, line.split_once(" -> ")) {
            let nullable = sql_type.starts_with("Nullable<");
            tables.get_mut(table).unwrap().insert(column.to_owned(), nullable);
        } else if line == "}" {
            current = None;
        }
    }
    tables
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    nullable: bool,
}

/// Where the database's columns differ from `schema.rs`'s, one line each.
fn differences(columns: Vec<Column>) -> Vec<String> {
    let mut made = Tables::new();
    for c in columns {
        made.entry(c.table_name).or_default().insert(c.name, c.nullable);
    }
    let declared = declared();
    let mut differences = Vec::new();
    for table in made.keys().chain(declared.keys()).collect::<BTreeSet<_>>() {
        let (made, declared) = (made.get(table).cloned(), declared.get(table).cloned());
        let (made, declared) = (made.unwrap_or_default(), declared.unwrap_or_default());
        for column in made.keys().chain(declared.keys()).collect::<BTreeSet<_>>() {
            let null = |n: Option<&bool>| n.map(|n| if *n { "nullable" } else { "not null" });
            match (null(made.get(column)), null(declared.get(column))) {
                (a, b) if a == b => {}
                (a, b) => differences.push(format!(
                    "{table}.{column}: the migrations make it {}, schema.rs says {}",
                    a.unwrap_or("absent"),
                    b.unwrap_or("absent")
                )),
            }
        }
    }
    differences
}

#[test]
fn schema_rs_lists_every_table() {
    let declared: BTreeSet<String> = declared().into_keys().collect();
    let listed: BTreeSet<String> = TABLES.iter().map(|t| t.to_string()).collect();
    assert_eq!(declared, listed);
}

#[test]
fn sqlite_migrations_make_exactly_the_columns_of_schema_rs() {
    let mut db = SqliteFile::new();
    db.conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    // A primary key is never null, however SQLite declares it.
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT m.name AS table_name, c.name AS name, (c.\"notnull\" = 0 AND c.pk = 0) AS nullable \
         FROM sqlite_master m, pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'",
    )
    .load(&mut db.conn)
    .unwrap();
    assert_eq!(differences(columns), Vec::<String>::new());
}

#[test]
fn postgres_migrations_make_exactly_the_columns_of_schema_rs() {
    let mut db = PgDatabase::new("cohort_s");
    db.conn.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS name, is_nullable = 'YES' AS nullable \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut db.conn)
    .unwrap();
    assert_eq!(differences(columns), Vec::<String>::new());
}
