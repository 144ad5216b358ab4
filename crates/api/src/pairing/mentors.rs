//! Mentors: who has room, best compatibility first, and a mentor's own capacity.

use super::*;

/// The program's mentors with their room: for a mentee, the best-fitting first (by the
/// program's auto-pair rules, those the rules rule out last), then the emptiest, then by name.
/// `include_full` keeps mentors without room (the admins' view).
pub(super) fn mentors_with_room(
    conn: &mut DbConn,
    program: &ProgramRow,
    mentee: Option<&str>,
    include_full: bool,
) -> Result<Vec<AvailableMentor>, ApiError> {
    let settings = repo::settings(conn, &program.id)?;
    let mentors = views::active_mentors_with_people(conn, &program.id)?;
    let active_by_mentor = repo::active_pairings_by_mentor(conn, &program.id)?;
    let mut scores = match mentee {
        Some(mentee) => auto::scores_for(conn, program, mentee)?,
        None => Default::default(),
    };
    let mut listed = Vec::new();
    for (id, name, bio, own) in mentors {
        let capacity = settings.capacity_of(own);
        let active = active_by_mentor.get(&id).copied().unwrap_or(0);
        if include_full || rules::has_room(capacity, active) {
            let (score, reasons) = scores.remove(&id).unzip();
            listed.push(AvailableMentor {
                score,
                reasons: reasons.unwrap_or_default(),
                person_id: db::id(&id),
                name,
                bio,
                own_capacity: own.map(|c| c as u32),
                capacity,
                active_pairings: active,
            });
        }
    }
    let room = |m: &AvailableMentor| m.capacity.saturating_sub(m.active_pairings);
    listed.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| room(b).cmp(&room(a)))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(listed)
}

/// Mentors the caller can ask, with their room (the program's mentees and admins).
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id"), MentorsQuery),
    responses(
        (status = 200, description = "Mentors with room: for a mentee the best fits first (with the reasons of each score), then the emptiest; and whether mentees may request now", body = AvailableMentorList),
        (status = 403, description = "Neither a mentee of the program nor an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/mentors")]
pub async fn available_mentors(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<MentorsQuery>,
) -> Result<web::Json<AvailableMentorList>, ApiError> {
    let program_id = id.into_inner();
    let list = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, caller.org, program_id)?;
            let mentee = repo::membership(conn, &program.id, &caller.person.to_string(), "mentee")?;
            if !caller.is_admin && mentee.is_none() {
                return Err(ApiError::Forbidden(
                    "Only the program's mentees and admins see its mentors' room.",
                ));
            }
            if query.include_full.unwrap_or(false) && !caller.is_admin {
                return Err(ApiError::Forbidden("Only admins see mentors without room."));
            }
            // A mentee sees the best fits first; admins may ask on a mentee's behalf.
            let for_mentee = match (mentee.is_some(), query.mentee_id) {
                (_, Some(m)) if caller.is_admin => Some(m.to_string()),
                (true, _) => Some(caller.person.to_string()),
                _ => None,
            };
            let settings = repo::settings(conn, &program.id)?;
            Ok(AvailableMentorList {
                items: mentors_with_room(
                    conn,
                    &program,
                    for_mentee.as_deref(),
                    query.include_full.unwrap_or(false),
                )?,
                requests_open: settings.enabled && settings.process.mentees_request(),
            })
        })
        .await?;
    Ok(web::Json(list))
}

/// Sets a mentor's own capacity in the program, or (with `null`) goes back to the program's.
#[utoipa::path(
    tag = "pairing",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("person_id" = Uuid, Path, description = "The mentor (a person taking part as mentor)"),
    ),
    request_body = SetMentorCapacity,
    responses(
        (status = 200, description = "The mentor's capacity now", body = MentorCapacity),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program, or no such mentor in it", body = Problem),
        (status = 422, description = "A capacity out of range", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[put("/programs/{id}/mentors/{person_id}/capacity")]
pub async fn set_mentor_capacity(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Body(input): Body<SetMentorCapacity>,
) -> Result<web::Json<MentorCapacity>, ApiError> {
    caller.require_admin()?;
    let own = input
        .capacity
        .map(rules::check_capacity)
        .transpose()
        .map_err(|e| ApiError::invalid("capacity", e))?;
    let (org, (program_id, person), actor) = (caller.org, path.into_inner(), caller.actor());
    let capacity = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, program_id)?;
            let person = person.to_string();
            let (membership, _) = repo::membership(conn, &program.id, &person, "mentor")?.ok_or(ApiError::NotFound)?;
            repo::set_capacity(conn, &membership, own.map(|c| c as i32))?;
            let settings = repo::settings(conn, &program.id)?;
            let after = json!({"own_capacity": own});
            audit::record(
                conn,
                &actor,
                "mentor_capacity.set",
                ("participant", &membership),
                audit::NONE,
                after,
            )?;
            Ok(MentorCapacity {
                person_id: db::id(&person),
                own_capacity: own,
                capacity: settings.capacity_of(own.map(|c| c as i32)),
                active_pairings: repo::active_pairings_of_mentor(conn, &program.id, &person)? as u32,
            })
        })
        .await?;
    Ok(web::Json(capacity))
}
