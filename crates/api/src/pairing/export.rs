//! The active pairings as CSV.

use super::*;

pub(super) const EXPORT_EXAMPLE: &str = "mentee,mentee_email,mentor,mentor_email,paired_at\r\n\
Amara N,amara.n@example.org,Talia K,talia.k@example.org,2027-01-12T04:00:00-05:00\r\n";

/// The program's active pairings as CSV, times in the organisation's zone. Cells that a
/// spreadsheet would run as formulas are written as text.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    responses(
        (status = 200, description = "The active pairings", content_type = "text/csv", body = String, example = json!(EXPORT_EXAMPLE)),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/pairings/export")]
pub async fn export_pairings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let program = state.db.read(move |conn| programs::get(conn, org, id)).await?;
    export_pairings_of(&state.db, org, program).await
}

/// The program's active pairings as a CSV download, times in the organisation's zone.
pub async fn export_pairings_of(db: &Db, org: Uuid, program: ProgramRow) -> Result<HttpResponse, ApiError> {
    let zone = db.read(move |conn| organization::repo::get(conn, org)).await?.time_zone;
    let zone = cohort_domain::tenancy::zone(&zone);
    let filename = format!("pairings-{}.csv", cohort_domain::tenancy::slugify(&program.name));
    crate::downloads::csv_stream(db, filename, move |conn, after| {
        pairings_csv(conn, &program.id, zone, after)
    })
    .await
}

/// A page of the program's active pairings as CSV, by id, times in `zone`.
pub(super) fn pairings_csv(
    conn: &mut DbConn,
    program: &str,
    zone: chrono_tz::Tz,
    after: Option<String>,
) -> Result<crate::downloads::CsvPage<String>, ApiError> {
    use cohort_domain::spreadsheet::safe_cell;
    let rows = views::active_pairings_with_people(conn, program, after.as_deref(), crate::downloads::PAGE)?;
    crate::downloads::CsvPage::of(
        after
            .is_none()
            .then_some(&["mentee", "mentee_email", "mentor", "mentor_email", "paired_at"][..]),
        rows,
        |row| row.0.clone(),
        |(_, mentee, mentee_email, mentor, mentor_email, at)| {
            let at = db::utc(*at)
                .with_timezone(&zone)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
            [mentee, mentee_email, mentor, mentor_email]
                .map(|c| safe_cell(c).into_owned())
                .into_iter()
                .chain([at])
                .collect()
        },
    )
}
