//! Active pairings: the list and ending one.

use super::*;

/// The program's active pairings, oldest first (admins).
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id"), PageQuery),
    responses(
        (status = 200, description = "A page of active pairings", body = PairingPage),
        (status = 400, description = "Malformed id or bad query parameter", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/pairings")]
pub async fn list_pairings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    page: PageRequest,
) -> Result<web::Json<PairingPage>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            let rows = repo::active_pairings_page(conn, &program.id, page.after.as_deref(), page.fetch())?;
            let (rows, next) = page.finish(rows, |r| db::id(&r.id));
            let items = repo::pairings_to_api(conn, rows)?;
            Ok((items, next))
        })
        .await?;
    Ok(web::Json(PairingPage { items, next_cursor }))
}

/// Ends a pairing with a reason: the mentor's place frees up.
#[utoipa::path(
    tag = "pairing",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("pairing_id" = Uuid, Path, description = "The pairing's id"),
    ),
    request_body = EndPairing,
    responses(
        (status = 200, description = "The ended pairing", body = Pairing),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program or pairing in this organisation", body = Problem),
        (status = 409, description = "Ended already", body = Problem),
        (status = 422, description = "No reason given", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/pairings/{pairing_id}/end")]
pub async fn end_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Body(input): Body<EndPairing>,
) -> Result<web::Json<Pairing>, ApiError> {
    caller.require_admin()?;
    let reason = cohort_domain::bounded_text(&input.reason, 1, 500).map_err(|e| ApiError::invalid("reason", e))?;
    let (org, (program_id, pairing_id), actor) = (caller.org, path.into_inner(), caller.actor());
    let ended = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, program_id)?;
            let pairing = repo::get_pairing(conn, &program.id, pairing_id)?;
            if !repo::end_pairing(conn, &pairing.id, &reason)? {
                return Err(ApiError::Conflict("The pairing has ended already.".into()));
            }
            let payload = json!({"pairing_id": pairing.id, "reason": reason});
            let events = [
                event(
                    &program,
                    PAIRING_ENDED,
                    &pairing.mentee_id,
                    payload.clone(),
                    &pairing.id,
                ),
                event(&program, PAIRING_ENDED, &pairing.mentor_id, payload, &pairing.id),
            ];
            crate::events::record(conn, &events)?;
            let (before, after) = (
                json!({"ended_at": null}),
                json!({"ended_at": db::utc(db::now()), "end_reason": reason}),
            );
            audit::record(conn, &actor, "pairing.ended", ("pairing", pairing_id), before, after)?;
            let row = repo::get_pairing(conn, &program.id, pairing_id)?;
            Ok(one(repo::pairings_to_api(conn, vec![row])?))
        })
        .await?;
    Ok(web::Json(ended))
}
