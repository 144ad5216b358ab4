//! Active pairings: the list and ending one.

use super::*;

/// The program's active pairings, oldest first (admins).
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id"), PageQuery),
    responses(
        (status = 200, description = "A page of active pairings", body = PairingPage),
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

/// The caller's active pairings across programs: their mentor, or each of their mentees, with
/// the pair's conversation, oldest first.
#[utoipa::path(
    tag = "pairing",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's active pairings", body = MyPairingPage),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me/pairings")]
pub async fn my_pairings(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageRequest,
) -> Result<web::Json<MyPairingPage>, ApiError> {
    let (org, me) = (caller.org.to_string(), caller.person.to_string());
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let rows = views::active_pairings_of_person(conn, &org, &me, page.after.as_deref(), page.fetch())?;
            let (rows, next) = page.finish(rows, |(p, _, _)| db::id(&p.id));
            let mut programs: Vec<String> = rows.iter().map(|(p, _, _)| p.program_id.clone()).collect();
            programs.sort();
            programs.dedup();
            let conversations = views::pairing_conversations_of(conn, &org, &me, &programs)?;
            let items = rows
                .into_iter()
                .map(|(pairing, program_name, (partner_id, name, bio))| {
                    let theirs: Vec<(&str, _)> = conversations
                        .iter()
                        .filter(|(_, program, _, members)| {
                            *program == pairing.program_id && members.contains(&partner_id)
                        })
                        .map(|(id, _, opened, _)| (id.as_str(), db::utc(*opened)))
                        .collect();
                    let paired_at = db::utc(pairing.created_at);
                    let i_mentor = pairing.mentor_id == me;
                    let (mine, theirs_role) = if i_mentor {
                        (ParticipantRole::Mentor, ParticipantRole::Mentee)
                    } else {
                        (ParticipantRole::Mentee, ParticipantRole::Mentor)
                    };
                    MyPairing {
                        pairing_id: db::id(&pairing.id),
                        program_id: db::id(&pairing.program_id),
                        program_name,
                        my_role: mine,
                        partner: PairedPerson {
                            id: db::id(&partner_id),
                            name,
                            bio,
                            role: theirs_role,
                        },
                        conversation_id: rules::conversation_of(paired_at, &theirs).map(db::id),
                        paired_at,
                    }
                })
                .collect();
            Ok((items, next))
        })
        .await?;
    Ok(web::Json(MyPairingPage { items, next_cursor }))
}
