//! A program's pairing settings.

use super::*;

/// Settings and whether mentees may request now.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    responses(
        (status = 200, description = "The program's pairing settings", body = PairingSettings),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/pairing")]
pub async fn get_settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<PairingSettings>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let settings = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            Ok((
                repo::settings(conn, &program.id)?,
                repo::checklist_done(conn, &program.id)?,
            ))
        })
        .await?;
    Ok(web::Json(repo::settings_to_api(&settings.0, &settings.1)))
}

/// Changes the pairing settings; turning pairing on sends nothing by itself.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = UpdatePairingSettings,
    responses(
        (status = 200, description = "The settings after the change", body = PairingSettings),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 422, description = "Invalid values", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[patch("/programs/{id}/pairing")]
pub async fn update_settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(changes): Body<UpdatePairingSettings>,
) -> Result<web::Json<PairingSettings>, ApiError> {
    caller.require_admin()?;
    let mut problems = Problems::default();
    let capacity = changes
        .mentor_capacity
        .and_then(|c| problems.check("mentor_capacity", rules::check_capacity(c)));
    let expiry = changes
        .request_expiry_days
        .and_then(|d| problems.check("request_expiry_days", rules::check_expiry_days(d)));
    let unresponsive = changes
        .unresponsive_days
        .and_then(|d| problems.check("unresponsive_days", rules::check_unresponsive_days(d)));
    let checklist = changes
        .checklist_done
        .as_deref()
        .and_then(|done| problems.check("checklist_done", rules::check_checklist(done)));
    problems.finish()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    let settings = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, id)?;
            let mut s = repo::settings(conn, &program.id)?;
            let before = repo::settings_to_api(&s, &repo::checklist_done(conn, &program.id)?);
            s.process = changes.process.map(repo::process_from_api).unwrap_or(s.process);
            s.mentor_capacity = capacity.unwrap_or(s.mentor_capacity);
            s.request_expiry_days = expiry.unwrap_or(s.request_expiry_days);
            s.remind_before_expiry = changes.remind_before_expiry.unwrap_or(s.remind_before_expiry);
            s.unresponsive_days = unresponsive.unwrap_or(s.unresponsive_days);
            s.enabled = changes.enabled.unwrap_or(s.enabled);
            let done = match checklist {
                Some(done) => done,
                None => repo::checklist_done(conn, &program.id)?,
            };
            repo::save_settings(conn, org, &program.id, &s, &done)?;
            let after = repo::settings_to_api(&s, &done);
            audit::record(
                conn,
                &actor,
                "pairing_settings.updated",
                ("program", id),
                &before,
                &after,
            )?;
            Ok((s, done))
        })
        .await?;
    Ok(web::Json(repo::settings_to_api(&settings.0, &settings.1)))
}
