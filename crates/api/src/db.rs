//! One connection type over SQLite and PostgreSQL, its pool, migrations, and
//! the two ways handlers reach the database: `read` and `write`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use uuid::Uuid;

use crate::error::ApiError;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend is chosen from the URL scheme, never by trying to connect:
    /// SQLite would accept a mistyped PostgreSQL URL as a file name.
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// `sqlite://data/cohort.db` → `data/cohort.db`; `sqlite:///tmp/x.db` → `/tmp/x.db`.
fn sqlite_path(url: &str) -> &str {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    rest.strip_prefix("//").unwrap_or(rest)
}

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

thread_local! {
    static STATEMENTS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many SQL statements this thread has started: a handler reads it before and after its
/// work to show that a request costs a fixed number of statements.
pub fn statements() -> u64 {
    STATEMENTS.with(std::cell::Cell::get)
}

fn count_statements(event: diesel::connection::InstrumentationEvent<'_>) {
    if let diesel::connection::InstrumentationEvent::StartQuery { .. } = event {
        STATEMENTS.with(|n| n.set(n.get() + 1));
    }
}

/// A connection in the pool, with the number of lost connections the pool had seen when it last
/// worked.
pub struct PooledConn {
    conn: DbConn,
    known_good_at: u64,
}

impl std::ops::Deref for PooledConn {
    type Target = DbConn;

    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for PooledConn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

pub struct Manager {
    url: String,
    backend: Backend,
    /// How many connections were found lost. When PostgreSQL restarts, every connection dies at
    /// once, but each one is found dead only when next used: after the first, the others are
    /// pinged once on their next check-out instead of failing a request each.
    lost: AtomicU64,
}

impl Manager {
    fn establish(&self) -> Result<DbConn, r2d2::Error> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn =
                    SqliteConnection::establish(sqlite_path(&self.url)).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the one writer; the busy timeout covers the
                // few writes that do not go through `Db::write` (other processes, the CLI).
                // The busy timeout comes first: switching to WAL itself needs the lock.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -32768;",
                )
                .map_err(r2d2::Error::QueryError)?;
                conn.set_instrumentation(count_statements);
                Ok(DbConn::Sqlite(conn))
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
                conn.set_instrumentation(count_statements);
                Ok(DbConn::Postgres(conn))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = PooledConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PooledConn, r2d2::Error> {
        let known_good_at = self.lost.load(Ordering::Acquire);
        Ok(PooledConn {
            conn: self.establish()?,
            known_good_at,
        })
    }

    /// Called at every check-out, it costs a round trip only after a connection was found lost.
    fn is_valid(&self, conn: &mut PooledConn) -> Result<(), r2d2::Error> {
        let lost = self.lost.load(Ordering::Acquire);
        if conn.known_good_at != lost {
            conn.conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)?;
            conn.known_good_at = lost;
        }
        Ok(())
    }

    /// Drops a connection whose closure panicked (diesel's transactions are not panic-safe: one may
    /// still be open) and one whose transaction state diesel marked broken, which is also how a
    /// PostgreSQL connection whose server went away shows (libpq's transaction status becomes
    /// unknown; `unavailable_if_lost` makes sure of it). Without this, a restarted PostgreSQL left
    /// the pool full of dead connections and every request failed until they aged out.
    fn has_broken(&self, conn: &mut PooledConn) -> bool {
        if std::thread::panicking() {
            return true;
        }
        let broken = conn.conn.is_broken();
        if broken {
            self.lost.fetch_add(1, Ordering::AcqRel);
        }
        broken
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("cannot create the data folder {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::r2d2::PoolError),
    #[error("migrations failed: {0}")]
    Migrate(String),
}

/// The database handle the app shares: a pool, plus on SQLite the one writer lock.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    pub backend: Backend,
    /// SQLite allows one writer at a time; taking turns in the process beats
    /// retrying on "database is locked". PostgreSQL needs no such lock.
    writer: Option<Arc<Mutex<()>>>,
}

impl Db {
    pub fn connect(url: &str, backend: Backend, pool_size: u32) -> Result<Self, DbSetupError> {
        if backend == Backend::Sqlite {
            if let Some(dir) = std::path::Path::new(sqlite_path(url))
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|e| DbSetupError::DataDir(dir.display().to_string(), e))?;
            }
        }
        let pool = Pool::builder()
            .max_size(pool_size)
            // `is_valid` pings only connections that may have died with another one (see
            // `Manager::lost`): a `SELECT 1` before every check-out would double the queries of a
            // simple request.
            .test_on_check_out(true)
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(Manager {
                url: url.to_owned(),
                backend,
                lost: AtomicU64::new(0),
            })?;
        let db = Self {
            pool,
            backend,
            writer: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
        };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&self) -> Result<(), DbSetupError> {
        let _turn = self
            .writer
            .as_ref()
            .map(|w| w.lock().unwrap_or_else(PoisonError::into_inner));
        let mut conn = self.pool.get()?;
        let failed = |e: Box<dyn std::error::Error + Send + Sync>| DbSetupError::Migrate(e.to_string());
        match &mut **conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(drop).map_err(failed),
            DbConn::Postgres(c) => {
                // Several instances may start at once: one migrates, the others wait.
                c.batch_execute("SELECT pg_advisory_lock(727274)")
                    .map_err(|e| failed(e.into()))?;
                let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop).map_err(failed);
                c.batch_execute("SELECT pg_advisory_unlock(727274)")
                    .map_err(|e| failed(e.into()))?;
                result
            }
        }
    }

    /// Runs `f` on a pooled connection on the blocking thread pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            let result = f(&mut conn);
            unavailable_if_lost(&mut conn, result)
        })
        .await?
    }

    /// Runs `f` in one transaction (on SQLite, in the writer's turn): all of it is written, or none.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    {
        let this = self.clone();
        actix_web::web::block(move || this.write_blocking(f)).await?
    }

    pub fn write_blocking<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, ApiError>) -> Result<T, ApiError> {
        let _turn = self
            .writer
            .as_ref()
            .map(|w| w.lock().unwrap_or_else(PoisonError::into_inner));
        let mut pooled = self.pool.get()?;
        let conn: &mut DbConn = &mut pooled;
        AFTER_COMMIT.with(|w| w.borrow_mut().clear());
        let result = conn.transaction(f);
        let result = unavailable_if_lost(conn, result);
        let waiters = AFTER_COMMIT.with(|w| std::mem::take(&mut *w.borrow_mut()));
        if result.is_ok() {
            waiters.into_iter().for_each(Notify::notify_one);
        }
        result
    }

    pub fn ping(&self) -> Result<(), ApiError> {
        self.pool.get()?.batch_execute("SELECT 1")?;
        Ok(())
    }
}

thread_local! {
    /// What the transaction running on this thread wakes once it commits (see [`on_commit`]).
    static AFTER_COMMIT: std::cell::RefCell<Vec<&'static Notify>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Wakes `waiter` once the write transaction running on this thread commits, and not at all when
/// it rolls back: a worker that sleeps until there is work (jobs, the automations' matcher) is
/// woken by whoever queued the work, after the work is visible. Outside [`Db::write`] it does
/// nothing; the worker finds the work at its next poll.
pub fn on_commit(waiter: &'static Notify) {
    AFTER_COMMIT.with(|w| {
        let mut w = w.borrow_mut();
        if !w.iter().any(|known| std::ptr::eq(*known, waiter)) {
            w.push(waiter);
        }
    });
}

/// A request whose connection was lost midway failed because the database is unreachable (503,
/// worth retrying), not because of a bug (500). Diesel marks most such connections broken, but not
/// all (a statement that fails while being prepared leaves the transaction state as it was; under
/// load, some requests on connections cut by a restart came back as 500s): a connection that does
/// not answer a ping either is lost, and the failed ping marks it broken so that the pool drops it.
/// Only failed requests pay for the ping.
fn unavailable_if_lost<T>(conn: &mut DbConn, result: Result<T, ApiError>) -> Result<T, ApiError> {
    match result {
        Err(ApiError::Internal(cause)) if conn.is_broken() || conn.batch_execute("SELECT 1").is_err() => {
            Err(ApiError::Unavailable(cause))
        }
        other => other,
    }
}

/// Runs `lookups` (inside the caller's transaction) with PostgreSQL planning each statement for
/// its parameters instead of reusing a generic plan; the statements after it are planned as usual.
/// For batches of look-ups between writes or right after them (a CSV import and its dry run): a
/// prepared lookup's generic plan, made while the table looked empty, scanned the whole growing
/// table for each batch (82 lookups of 1,000 emails took 51 s of a 100,000-row import).
///
/// Only the look-ups: foreign-key checks are prepared statements too, and planning each of them
/// for every row written doubled the time of the import's writes (26 s instead of 13 s).
pub fn planned_for_their_parameters<T>(
    conn: &mut DbConn,
    lookups: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    set_plan_cache_mode(conn, "force_custom_plan")?;
    let found = lookups(conn)?;
    set_plan_cache_mode(conn, "DEFAULT")?;
    Ok(found)
}

fn set_plan_cache_mode(conn: &mut DbConn, mode: &str) -> Result<(), ApiError> {
    if let DbConn::Postgres(c) = conn {
        c.batch_execute(&format!("SET LOCAL plan_cache_mode = {mode}"))?;
    }
    Ok(())
}

/// Refreshes PostgreSQL's statistics of `tables` inside the caller's transaction (which sees
/// its own new rows), so that statements after its commit are planned for the tables as they
/// are. Autovacuum gets there only a minute or more later; until then, right after a
/// 100,000-row import, a dry run of the same file took 4.8 s instead of 1 s. Nothing on SQLite,
/// whose planner keeps no statistics unless asked.
pub fn analyze(conn: &mut DbConn, tables: &[&str]) -> Result<(), ApiError> {
    if let DbConn::Postgres(c) = conn {
        c.batch_execute(&format!("ANALYZE {}", tables.join(", ")))?;
    }
    Ok(())
}

/// Now, in UTC, truncated to microseconds: PostgreSQL keeps microseconds, so a
/// value read back equals the value written on both backends.
/// `CAST(SUM(expr) AS BIGINT)`: the sum of a BIGINT column as a BIGINT on both backends
/// (PostgreSQL's is a numeric). Unlike an SQL literal it leaves a statement that diesel prepares
/// once per connection.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub struct SumBigInt<E>(pub E);

mod sum_big_int {
    use diesel::backend::Backend;
    use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
    use diesel::query_builder::{AstPass, QueryFragment};
    use diesel::sql_types::{BigInt, Nullable};
    use diesel::QueryResult;

    use super::SumBigInt;

    impl<E: Expression<SqlType = BigInt>> Expression for SumBigInt<E> {
        type SqlType = Nullable<BigInt>;
    }

    impl<E, GroupBy> ValidGrouping<GroupBy> for SumBigInt<E> {
        type IsAggregate = is_aggregate::Yes;
    }

    impl<E: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for SumBigInt<E> where Self: Expression {}

    impl<E: SelectableExpression<QS>, QS> SelectableExpression<QS> for SumBigInt<E> where Self: AppearsOnTable<QS> {}

    impl<E: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for SumBigInt<E> {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
            out.push_sql("CAST(SUM(");
            self.0.walk_ast(out.reborrow())?;
            out.push_sql(") AS BIGINT)");
            Ok(())
        }
    }
}

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

pub fn new_id() -> String {
    Uuid::now_v7().to_string()
}

/// Ids are written by `new_id`, so reading one back cannot fail.
pub fn id(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("ids in the database are written as UUIDs")
}

pub fn utc(t: NaiveDateTime) -> chrono::DateTime<Utc> {
    t.and_utc()
}

/// Escapes `%`, `_` and `\` so user text matches literally inside `LIKE '%…%'`.
pub fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Inserts many rows in one statement. Multi-row inserts are not part of what
/// `MultiConnection` abstracts, so this is the one per-backend branch writes need.
#[macro_export]
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
            $crate::db::DbConn::Postgres(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}

/// Inserts many rows: on PostgreSQL through `COPY ... FROM STDIN (FORMAT binary)`, which skips
/// parsing and planning a statement with a parameter per cell (a 1,000-row batch of people took
/// ~70 ms as one multi-row `INSERT`). The rows' type needs
/// `#[diesel(treat_none_as_default_value = false)]`.
#[macro_export]
macro_rules! copy_in {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
            $crate::db::DbConn::Postgres(c) => diesel::copy_from($table).from_insertable($rows).execute(c),
        }
    };
}

/// Inserts rows, skipping any that would break a unique constraint (a dedupe key); returns
/// how many were added. `ON CONFLICT DO NOTHING` needs the per-backend branch too.
#[macro_export]
macro_rules! insert_new {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite(c) => diesel::insert_into($table)
                .values($rows)
                .on_conflict_do_nothing()
                .execute(c),
            $crate::db::DbConn::Postgres(c) => diesel::insert_into($table)
                .values($rows)
                .on_conflict_do_nothing()
                .execute(c),
        }
    };
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite_path("sqlite://data/cohort.db"), "data/cohort.db");
        assert_eq!(sqlite_path("sqlite:///tmp/x.db"), "/tmp/x.db");
        assert_eq!(sqlite_path("sqlite:x.db"), "x.db");
        assert_eq!(Backend::from_url("mysql://x"), None);
    }

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(like_pattern(" 50%_Off\\ "), "%50\\%\\_off\\\\%");
    }
}
