//! Mentor requests: a mentee asks, the mentor (or an admin) approves or declines.

use super::*;

/// Stores an open request that waits for its mentor's answer: it expires after the program's
/// business days (with a reminder the day before, if the program wants one), and the mentor is
/// emailed with links to accept or decline.
pub(crate) fn wait_for_answer(
    conn: &mut DbConn,
    program: &ProgramRow,
    settings: &rules::Settings,
    mut row: RequestRow,
) -> Result<RequestRow, ApiError> {
    let org = db::id(&program.organization_id);
    let organization = organization::repo::get(conn, org)?;
    let holidays: Vec<NaiveDate> = serde_json::from_str(&organization.holidays).unwrap_or_default();
    let calendar = BusinessCalendar {
        zone: organization.time_zone.parse().unwrap_or(chrono_tz::UTC),
        holidays: &holidays,
    };
    let (expires, remind) = rules::request_deadlines(&calendar, db::utc(row.created_at), settings);
    row.expires_at = Some(expires.naive_utc());
    repo::insert_request(conn, &row)?;
    let job = |kind: &str, at: chrono::DateTime<chrono::Utc>| NewJob {
        organization_id: Some(org),
        run_at: at.naive_utc(),
        dedupe_key: Some(format!("{kind}:{}", row.id)),
        ..NewJob::now(kind, json!({"request_id": row.id}))
    };
    jobs::enqueue(conn, job(EXPIRE_JOB, expires))?;
    if let Some(remind) = remind {
        jobs::enqueue(conn, job(REMIND_JOB, remind))?;
    }
    request_email(conn, program, &row, "request")?;
    Ok(row)
}

/// A mentee asks a mentor with room. With approval, the mentor is emailed and the request expires
/// after the program's business days; under `user_led` the request is the pairing.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = CreateMentorRequest,
    responses(
        (status = 201, description = "The request, and the pairing when the program pairs at once", body = RequestDecision),
        (status = 403, description = "Not a mentee of the program (or asking for someone else)", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 409, description = "Pairing is off, admins pair, the mentee is paired or has an open request, or the mentor has no room", body = Problem),
        (status = 422, description = "The mentor or mentee does not take part in that role", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/requests")]
pub async fn create_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<CreateMentorRequest>,
) -> Result<HttpResponse, ApiError> {
    let (org, program_id) = (caller.org, id.into_inner());
    let mentee = match input.mentee_id {
        Some(m) if caller.is_admin => m,
        Some(m) if m != caller.person => return Err(ApiError::Forbidden("Only admins ask on someone else's behalf.")),
        _ => caller.person,
    };
    let actor = caller.actor();
    let made = state
        .db
        .write(move |conn| {
            let made = (|| {
                let program = programs::get(conn, org, program_id)?;
                let settings = repo::settings(conn, &program.id)?;
                let (mentee, mentor) = (mentee.to_string(), input.mentor_id.to_string());
                if repo::membership(conn, &program.id, &mentee, "mentee")?.is_none() {
                    return Err(if caller.is_admin {
                        ApiError::field("mentee_id", "not a mentee of this program")
                    } else {
                        ApiError::Forbidden("Only the program's mentees request mentors.")
                    });
                }
                let Some((_, mentor_capacity)) = repo::membership(conn, &program.id, &mentor, "mentor")? else {
                    return Err(ApiError::field("mentor_id", "not a mentor of this program"));
                };
                if !settings.enabled {
                    return Err(ApiError::Conflict("Pairing is off for this program.".into()));
                }
                if !settings.process.mentees_request() {
                    return Err(ApiError::Conflict("Admins pair mentees in this program.".into()));
                }
                if repo::pairings_of(conn, &program.id, &mentee, true)? > 0 {
                    return Err(ApiError::Conflict(
                        "The mentee is already paired in this program.".into(),
                    ));
                }
                if repo::has_open_request(conn, &program.id, &mentee)? {
                    return Err(ApiError::Conflict("The mentee already has an open request.".into()));
                }
                let now = db::now();
                let mut row = RequestRow {
                    id: db::new_id(),
                    organization_id: org.to_string(),
                    program_id: program.id.clone(),
                    mentee_id: mentee.clone(),
                    mentor_id: mentor.clone(),
                    status: "open".into(),
                    note: input.note.trim().chars().take(2000).collect(),
                    decline_message: None,
                    created_at: now,
                    expires_at: None,
                    decided_at: None,
                };
                if settings.process == Process::UserLed {
                    row.status = "approved".into();
                    row.decided_at = Some(now);
                    repo::insert_request(conn, &row)?;
                    let pairing = create_pairing(conn, &program, &mentee, &mentor, Some(&row.id))?;
                    return decision(conn, row, Some(pairing));
                }
                // Room now, or the request would wait for nothing.
                let capacity = settings.capacity_of(mentor_capacity);
                let active = repo::active_pairings_of_mentor(conn, &program.id, &mentor)? as u32;
                if !rules::has_room(capacity, active) {
                    return Err(ApiError::Conflict("The mentor has no room.".into()));
                }
                let row = wait_for_answer(conn, &program, &settings, row)?;
                decision(conn, row, None)
            })()?;
            audit::record(
                conn,
                &actor,
                "mentor_request.created",
                ("mentor_request", made.request.id),
                audit::NONE,
                &made,
            )?;
            Ok(made)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/programs/{program_id}/requests/{}", made.request.id),
        ))
        .json(made))
}

/// The program's requests, newest last (admins).
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The program's id"), PageQuery),
    responses(
        (status = 200, description = "A page of requests", body = MentorRequestPage),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/requests")]
pub async fn list_requests(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    page: PageRequest,
) -> Result<web::Json<MentorRequestPage>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            let rows = repo::requests_page(conn, &program.id, page.after.as_deref(), page.fetch())?;
            let (rows, next) = page.finish(rows, |r| db::id(&r.id));
            let items = repo::requests_to_api(conn, rows)?;
            Ok((items, next))
        })
        .await?;
    Ok(web::Json(MentorRequestPage { items, next_cursor }))
}

/// Loads an open request the caller may answer: its mentor, or an admin.
pub(super) fn answerable(
    conn: &mut DbConn,
    caller: &Caller,
    program: &ProgramRow,
    id: Uuid,
) -> Result<RequestRow, ApiError> {
    let request = repo::get_request(conn, &program.id, id)?;
    if !caller.is_admin && request.mentor_id != caller.person.to_string() {
        return Err(ApiError::Forbidden("Only the request's mentor or an admin answers it."));
    }
    if request.status != "open" {
        return Err(ApiError::Conflict(format!(
            "The request is {} already.",
            request.status
        )));
    }
    Ok(request)
}

/// Approves an open request as `actor`: the pairing is created if the mentor still has room
/// (both are emailed), the request is approved, and the audit log says who did it. Shared by the
/// logged-in answer and the email link's.
pub(super) fn approve(
    conn: &mut DbConn,
    actor: &audit::Actor,
    program: &ProgramRow,
    request: &RequestRow,
) -> Result<RequestDecision, ApiError> {
    let pairing = create_pairing(conn, program, &request.mentee_id, &request.mentor_id, Some(&request.id))?;
    if !repo::decide(conn, &request.id, "approved", None)? {
        return Err(ApiError::Conflict("The request was answered meanwhile.".into()));
    }
    let request_id = db::id(&request.id);
    let request = repo::get_request(conn, &program.id, request_id)?;
    let made = decision(conn, request, Some(pairing))?;
    let (before, after) = (
        json!({"status": "open"}),
        json!({"status": "approved", "pairing": made.pairing}),
    );
    audit::record(
        conn,
        actor,
        "mentor_request.approved",
        ("mentor_request", request_id),
        before,
        after,
    )?;
    Ok(made)
}

/// A decline's message to the mentee: up to 2,000 characters, possibly empty.
pub(super) fn decline_message(message: &str) -> Result<String, ApiError> {
    cohort_domain::bounded_text(message, 0, 2000).map_err(|e| ApiError::invalid("message", e))
}

/// Declines an open request as `actor`: the mentee is emailed the message and the event is
/// recorded for automations. Shared by the logged-in answer and the email link's.
pub(super) fn decline(
    conn: &mut DbConn,
    actor: &audit::Actor,
    program: &ProgramRow,
    request: &RequestRow,
    message: String,
) -> Result<MentorRequest, ApiError> {
    if !repo::decide(conn, &request.id, "declined", Some(message.clone()))? {
        return Err(ApiError::Conflict("The request was answered meanwhile.".into()));
    }
    let request_id = db::id(&request.id);
    let (before, after) = (
        json!({"status": "open"}),
        json!({"status": "declined", "decline_message": message}),
    );
    audit::record(
        conn,
        actor,
        "mentor_request.declined",
        ("mentor_request", request_id),
        before,
        after,
    )?;
    let extra = json!({"message": message});
    answered(conn, program, request, "request_declined", extra, REQUEST_DECLINED)?;
    let row = repo::get_request(conn, &program.id, request_id)?;
    Ok(one(repo::requests_to_api(conn, vec![row])?))
}

/// The mentor (or an admin) approves: the pairing is created if the mentor still has room.
#[utoipa::path(
    tag = "pairing",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("request_id" = Uuid, Path, description = "The request's id"),
    ),
    responses(
        (status = 200, description = "The approved request and its pairing", body = RequestDecision),
        (status = 403, description = "Neither the request's mentor nor an admin", body = Problem),
        (status = 404, description = "No such program or request in this organisation", body = Problem),
        (status = 409, description = "Already answered or expired, the mentor has no room, or the mentee is paired", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/requests/{request_id}/approve")]
pub async fn approve_request(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<RequestDecision>, ApiError> {
    let (program_id, request_id) = path.into_inner();
    let actor = caller.actor();
    let made = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, caller.org, program_id)?;
            let request = answerable(conn, &caller, &program, request_id)?;
            approve(conn, &actor, &program, &request)
        })
        .await?;
    Ok(web::Json(made))
}

/// The mentor (or an admin) declines; the message goes to the mentee.
#[utoipa::path(
    tag = "pairing",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("request_id" = Uuid, Path, description = "The request's id"),
    ),
    request_body = DeclineRequest,
    responses(
        (status = 200, description = "The declined request", body = MentorRequest),
        (status = 403, description = "Neither the request's mentor nor an admin", body = Problem),
        (status = 404, description = "No such program or request in this organisation", body = Problem),
        (status = 409, description = "Already answered or expired", body = Problem),
        (status = 422, description = "A message over 2,000 characters", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/requests/{request_id}/decline")]
pub async fn decline_request(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Body(input): Body<DeclineRequest>,
) -> Result<web::Json<MentorRequest>, ApiError> {
    let message = decline_message(&input.message)?;
    let (program_id, request_id) = path.into_inner();
    let actor = caller.actor();
    let declined = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, caller.org, program_id)?;
            let request = answerable(conn, &caller, &program, request_id)?;
            decline(conn, &actor, &program, &request, message)
        })
        .await?;
    Ok(web::Json(declined))
}

/// The caller's requests, as mentee and as mentor, across programs, oldest first.
#[utoipa::path(
    tag = "pairing",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's requests", body = MyRequestPage),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me/requests")]
pub async fn my_requests(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageRequest,
) -> Result<web::Json<MyRequestPage>, ApiError> {
    let (org, me) = (caller.org, caller.person);
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let rows = repo::requests_of_person(conn, org, me, page.after.as_deref(), page.fetch())?;
            let (rows, next) = page.finish(rows, |r| db::id(&r.id));
            let items = repo::requests_to_api(conn, rows)?;
            Ok((items, next))
        })
        .await?;
    Ok(web::Json(MyRequestPage { items, next_cursor }))
}

/// A mentee takes back their open request: it is `withdrawn`, the mentor no longer answers it
/// (its expiry and reminder jobs find it closed), and the mentee may ask someone else.
#[utoipa::path(
    tag = "pairing",
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The withdrawn request", body = MentorRequest),
        (status = 404, description = "No such request of the caller's in this organisation", body = Problem),
        (status = 409, description = "Answered, expired or withdrawn already", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/me/requests/{id}")]
pub async fn withdraw_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<MentorRequest>, ApiError> {
    let (org, me, request_id) = (caller.org, caller.person, id.into_inner());
    let actor = caller.actor();
    let withdrawn = state
        .db
        .write(move |conn| {
            let request = repo::get_request_of_org(conn, org, request_id)?;
            let status = rules::RequestStatus::parse(&request.status).unwrap_or(rules::RequestStatus::Open);
            match rules::may_withdraw(request.mentee_id == me.to_string(), status) {
                Ok(()) => {}
                Err(rules::CannotWithdraw::NotTheirs) => return Err(ApiError::NotFound),
                Err(rules::CannotWithdraw::Answered(s)) => {
                    return Err(ApiError::Conflict(format!("The request is {} already.", s.as_str())))
                }
            }
            if !repo::decide(conn, &request.id, rules::RequestStatus::Withdrawn.as_str(), None)? {
                return Err(ApiError::Conflict("The request was answered meanwhile.".into()));
            }
            let program = programs::get(conn, org, db::id(&request.program_id))?;
            let payload = json!({"request_id": request.id, "mentor_id": request.mentor_id});
            crate::events::record(
                conn,
                &[event(
                    &program,
                    REQUEST_WITHDRAWN,
                    &request.mentee_id,
                    payload,
                    &request.id,
                )],
            )?;
            audit::record(
                conn,
                &actor,
                "mentor_request.withdrawn",
                ("mentor_request", request_id),
                json!({"status": "open"}),
                json!({"status": "withdrawn"}),
            )?;
            let row = repo::get_request(conn, &program.id, request_id)?;
            Ok(one(repo::requests_to_api(conn, vec![row])?))
        })
        .await?;
    Ok(web::Json(withdrawn))
}
