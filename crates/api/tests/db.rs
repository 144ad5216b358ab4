//! The database layer's own rules, on PostgreSQL where they apply.

mod common;

use cohort_api::db::{self, DbConn};
use cohort_api::error::ApiError;
use cohort_tests::{both_backends, Backend};
use common::TestDb;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    plan_cache_mode: String,
}

fn plan_cache_mode(conn: &mut DbConn) -> Result<String, ApiError> {
    let DbConn::Postgres(c) = conn else {
        unreachable!("PostgreSQL only")
    };
    Ok(
        diesel::sql_query("SELECT current_setting('plan_cache_mode') AS plan_cache_mode")
            .get_result::<Setting>(c)?
            .plan_cache_mode,
    )
}

/// Look-ups are planned for their parameters, and the writes after them are not: planning the
/// writes' foreign-key checks for every row doubled a 100,000-row import.
#[test]
fn only_the_lookups_are_planned_for_their_parameters() {
    let t = TestDb::new(Backend::Postgres);
    let (during, after) =
        t.db.write_blocking(|conn| {
            let during = db::planned_for_their_parameters(conn, plan_cache_mode)?;
            Ok((during, plan_cache_mode(conn)?))
        })
        .unwrap();
    assert_eq!((during.as_str(), after.as_str()), ("force_custom_plan", "auto"));
}

#[derive(QueryableByName)]
struct Probe {
    #[diesel(sql_type = Integer)]
    n: i32,
}

both_backends!(
    /// A write whose closure panics loses its connection: diesel's transactions are not panic-safe, and
    /// the pool handed the connection, still inside the panicked transaction, to the next write, whose
    /// own transaction became a savepoint in it, never committed.
    fn a_panicking_write_leaves_no_open_transaction(backend: Backend) {
        let t = TestDb::with_pool_size(backend, 1);
        t.db.write_blocking(|conn| Ok(conn.batch_execute("CREATE TABLE probe (n INTEGER NOT NULL)")?))
            .unwrap();
        actix_web::rt::System::new().block_on(async {
            let panicked =
                t.db.write(|conn| -> Result<(), ApiError> {
                    conn.batch_execute("INSERT INTO probe VALUES (1)")?;
                    panic!("a bug in the middle of a write");
                })
                .await;
            assert!(matches!(panicked, Err(ApiError::Internal(_))), "{panicked:?}");
            t.db.write(|conn| Ok(conn.batch_execute("INSERT INTO probe VALUES (2)")?))
                .await
                .unwrap();
        });
        // Seen from outside the pool: the second write is committed, nothing of the first is.
        let query = diesel::sql_query("SELECT n FROM probe ORDER BY n");
        let committed = match backend {
            Backend::Sqlite => {
                let path = t.url.strip_prefix("sqlite://").unwrap();
                query.load::<Probe>(&mut SqliteConnection::establish(path).unwrap())
            }
            Backend::Postgres => query.load::<Probe>(&mut PgConnection::establish(&t.url).unwrap()),
        };
        let committed: Vec<i32> = committed.unwrap().into_iter().map(|p| p.n).collect();
        assert_eq!(committed, [2]);
    }
);

/// Connections that PostgreSQL closed while they sat in the pool (a restart, a failover, an
/// operator's `pg_terminate_backend`): the request that finds one is a 503, and the next request
/// works, on a connection the pool checked or made anew.
#[test]
fn connections_closed_by_postgres_are_replaced() {
    let t = TestDb::with_pool_size(Backend::Postgres, 2);
    let mut admin = PgConnection::establish(&cohort_tests::pg::admin_url()).unwrap();
    let name = t.url.rsplit('/').next().unwrap();
    admin
        .batch_execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let probe = |conn: &mut DbConn| -> Result<Vec<i32>, ApiError> {
        let DbConn::Postgres(c) = conn else {
            unreachable!("PostgreSQL only")
        };
        Ok(diesel::sql_query("SELECT 1 AS n")
            .load::<Probe>(c)?
            .into_iter()
            .map(|p| p.n)
            .collect())
    };
    actix_web::rt::System::new().block_on(async {
        let lost = t.db.read(probe).await;
        assert!(matches!(lost, Err(ApiError::Unavailable(_))), "{lost:?}");
        assert_eq!(t.db.read(probe).await.unwrap(), [1]);
        t.db.write(probe).await.unwrap();
        t.db.ping().unwrap();
    });
}
