//! The database layer's own rules, on PostgreSQL where they apply.

mod common;

use cohort_api::db::{self, Backend, DbConn};
use cohort_api::error::ApiError;
use common::TestDb;
use diesel::prelude::*;
use diesel::sql_types::Text;

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
