//! Program steps: the admin API, the participant feed, and triggers from integrations.

pub mod delivery;
pub mod repo;
pub mod views;

use actix_web::http::header;
use actix_web::{delete, get, post, put, web, HttpResponse};
use cohort_api_types::{
    FireTrigger, MyStep, MyStepPage, PageQuery, Problem, PublishType, Step, StepInput, StepPage, TriggerFired,
};
use cohort_domain::events;
use cohort_domain::steps::{self as rules, CheckedStep, PublishKind, StepDraft};
use uuid::Uuid;

use self::repo::{name_of, StepRow};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Problems};
use crate::events::EventRow;
use crate::extract::Body;
use crate::paging::PageRequest;
use crate::programs::repo as programs;
use crate::AppState;

/// Checks the submitted step with the domain's rules, in the program's zone; `previous` is the
/// stored step on edit.
fn check(input: &StepInput, zone: chrono_tz::Tz, previous: Option<&StepRow>) -> Result<CheckedStep, ApiError> {
    // The wire enums and the domain's share their names.
    fn domain<T: serde::Serialize, D>(value: T, parse: fn(&str) -> Option<D>) -> D {
        parse(&name_of(value)).expect("wire and domain names match")
    }
    let draft = StepDraft {
        title: &input.title,
        description: &input.description,
        action: domain(input.action_type, rules::ActionType::parse),
        link_url: input.link_url.as_deref(),
        publish: match input.publish_type {
            PublishType::Instant => PublishKind::Instant,
            PublishType::Scheduled => PublishKind::Scheduled,
            PublishType::Triggered => PublishKind::Triggered,
        },
        scheduled_for: input.scheduled_for,
        trigger: input.trigger.map(|t| domain(t, rules::Trigger::parse)),
        delay: input.delay.map(|d| (d.amount, domain(d.unit, rules::DelayUnit::parse))),
        include_existing: input.include_existing,
        previous_schedule: previous.and_then(|p| p.scheduled_for),
    };
    rules::check_step(&draft, zone, chrono::Utc::now()).map_err(|problems| {
        let mut collected = Problems::default();
        for (field, invalid) in problems {
            collected.push(field, invalid.0);
        }
        collected
            .finish()
            .expect_err("check_step names a problem when it fails")
    })
}

fn apply(row: &mut StepRow, input: &StepInput, checked: CheckedStep) {
    row.title = checked.title;
    row.description = checked.description;
    row.viewer_type = name_of(input.viewer_type);
    row.action_type = name_of(input.action_type);
    row.link_url = checked.link_url;
    row.publish_type = name_of(input.publish_type);
    row.scheduled_for = checked.scheduled_for;
    row.publish_at = checked.publish_at.map(|t| t.naive_utc());
    row.trigger_name = checked.trigger.map(|(t, _, _)| t.as_str().to_owned());
    row.delay_amount = checked.trigger.map(|(_, d, _)| d.amount as i32);
    row.delay_unit = checked.trigger.map(|(_, d, _)| d.unit.as_str().to_owned());
    row.include_existing = checked.trigger.is_some_and(|(_, _, include)| include);
    row.due_date = input.due_date;
}

fn with_counts(conn: &mut DbConn, rows: Vec<StepRow>, time_zone: &str) -> Result<Vec<Step>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let counts = repo::counts(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let c = counts.get(&r.id).copied().unwrap_or_default();
            r.into_api(time_zone, c)
        })
        .collect())
}

/// A program's steps in the order they were created, with delivery and completion counts.
#[utoipa::path(
    tag = "steps",
    params(("id" = Uuid, Path, description = "The program's id"), PageQuery),
    responses(
        (status = 200, description = "A page of steps", body = StepPage),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/steps")]
pub async fn list_steps(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    page: PageRequest,
) -> Result<web::Json<StepPage>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, id)?;
            let (rows, next) = page.finish(repo::list(conn, &program.id, &page)?, |r| db::id(&r.id));
            Ok((with_counts(conn, rows, &program.time_zone)?, next))
        })
        .await?;
    Ok(web::Json(StepPage { items, next_cursor }))
}

/// Creates a step. An instant step goes out at once to every current participant of its viewer
/// type; a scheduled one at its time; a triggered one when a participant's trigger fires.
#[utoipa::path(
    tag = "steps",
    params(("id" = Uuid, Path, description = "The program's id")),
    request_body = StepInput,
    responses(
        (status = 201, description = "The step was created", body = Step),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 422, description = "Invalid fields, such as a scheduled time the clocks skip", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/steps")]
pub async fn create_step(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<StepInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, program_id, actor) = (caller.org, id.into_inner(), caller.actor());
    let step = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, program_id)?;
            let zone = cohort_domain::tenancy::zone(&program.time_zone);
            let checked = check(&input, zone, None)?;
            let now = db::now();
            let mut row = StepRow {
                id: db::new_id(),
                organization_id: org.to_string(),
                program_id: program.id.clone(),
                created_at: now,
                updated_at: now,
                ..Default::default()
            };
            apply(&mut row, &input, checked);
            repo::insert(conn, &row)?;
            delivery::schedule(conn, &row, zone)?;
            let step = row.into_api(&program.time_zone, Default::default());
            audit::record(conn, &actor, "step.created", ("step", step.id), audit::NONE, &step)?;
            Ok(step)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/programs/{}/steps/{}", step.program_id, step.id),
        ))
        .json(step))
}

/// One step with its counts.
#[utoipa::path(
    tag = "steps",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("step_id" = Uuid, Path, description = "The step's id"),
    ),
    responses(
        (status = 200, description = "The step", body = Step),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program or step in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/programs/{id}/steps/{step_id}")]
pub async fn get_step(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<Step>, ApiError> {
    caller.require_admin()?;
    let (org, (program_id, step_id)) = (caller.org, path.into_inner());
    let step = state
        .db
        .read(move |conn| {
            let program = programs::get(conn, org, program_id)?;
            let row = repo::get(conn, org, &program.id, step_id)?;
            with_counts(conn, vec![row], &program.time_zone)
        })
        .await?;
    Ok(web::Json(step.into_iter().next().ok_or(ApiError::NotFound)?))
}

/// Replaces a step. Participants who have it see the new wording; nobody gets it a second time.
/// A new publish time or trigger applies to deliveries still to come.
#[utoipa::path(
    tag = "steps",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("step_id" = Uuid, Path, description = "The step's id"),
    ),
    request_body = StepInput,
    responses(
        (status = 200, description = "The step after the change", body = Step),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program or step in this organisation", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[put("/programs/{id}/steps/{step_id}")]
pub async fn update_step(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Body(input): Body<StepInput>,
) -> Result<web::Json<Step>, ApiError> {
    caller.require_admin()?;
    let (org, (program_id, step_id), actor) = (caller.org, path.into_inner(), caller.actor());
    let step = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, program_id)?;
            let zone = cohort_domain::tenancy::zone(&program.time_zone);
            let mut row = repo::get(conn, org, &program.id, step_id)?;
            let before = row.clone().into_api(&program.time_zone, Default::default());
            let checked = check(&input, zone, Some(&row))?;
            apply(&mut row, &input, checked);
            row.updated_at = db::now();
            repo::update(conn, &row)?;
            delivery::schedule(conn, &row, zone)?;
            let after = row.clone().into_api(&program.time_zone, Default::default());
            audit::record(conn, &actor, "step.updated", ("step", step_id), &before, &after)?;
            with_counts(conn, vec![row], &program.time_zone)
        })
        .await?;
    Ok(web::Json(step.into_iter().next().ok_or(ApiError::NotFound)?))
}

/// Deletes a step: it leaves every participant's feed, with its notifications.
#[utoipa::path(
    tag = "steps",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("step_id" = Uuid, Path, description = "The step's id"),
    ),
    responses(
        (status = 204, description = "The step is gone"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program or step in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/programs/{id}/steps/{step_id}")]
pub async fn delete_step(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, (program_id, step_id), actor) = (caller.org, path.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, program_id)?;
            let row = repo::get(conn, org, &program.id, step_id)?;
            repo::delete(conn, &row.id)?;
            let before = row.clone().into_api(&program.time_zone, Default::default());
            audit::record(conn, &actor, "step.deleted", ("step", step_id), &before, audit::NONE)?;
            delivery::forget(conn, org, &row.id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Records that a participant did something triggered steps react to (their first match, first
/// completed session, ...), for integrations that track it outside Cohort. Schedules each
/// triggered step that applies to them, the step's delay after `occurred_at`.
#[utoipa::path(
    tag = "steps",
    params(
        ("id" = Uuid, Path, description = "The program's id"),
        ("participant_id" = Uuid, Path, description = "The participant's id"),
    ),
    request_body = FireTrigger,
    responses(
        (status = 202, description = "The steps scheduled for the participant", body = TriggerFired),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program or participant in this organisation", body = Problem),
        (status = 409, description = "The participant was removed from the program", body = Problem),
        (status = 422, description = "A time in the future", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/programs/{id}/participants/{participant_id}/triggers")]
pub async fn fire_trigger(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    Body(input): Body<FireTrigger>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let now = db::now();
    let at = input.occurred_at.map(|t| t.naive_utc()).unwrap_or(now);
    if at > now + chrono::Duration::minutes(1) {
        return Err(ApiError::field("occurred_at", "must not be in the future"));
    }
    let trigger = rules::Trigger::parse(&name_of(input.trigger)).expect("wire and domain triggers match");
    let (org, (program_id, participant_id), actor) = (caller.org, path.into_inner(), caller.actor());
    let trigger_name = name_of(input.trigger);
    let scheduled = state
        .db
        .write(move |conn| {
            let fired = serde_json::json!({"trigger": trigger_name, "occurred_at": db::utc(at)});
            audit::record(
                conn,
                &actor,
                "participant.trigger_fired",
                ("participant", participant_id),
                audit::NONE,
                fired,
            )?;
            let program = programs::get(conn, org, program_id)?;
            let participant = programs::get_participant(conn, &program.id, participant_id)?;
            if participant.status != "active" {
                return Err(ApiError::Conflict(
                    "The participant was removed from the program.".into(),
                ));
            }
            let memberships: Vec<_> =
                programs::memberships_of(conn, &program.id, std::slice::from_ref(&participant.person_id))?
                    .into_iter()
                    .filter(|m| m.status == "active")
                    .collect();
            delivery::fire(conn, &program.id, &program.time_zone, &memberships, trigger, at)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(TriggerFired { scheduled }))
}

/// The caller's steps across their programs, in each program's order, with their state.
#[utoipa::path(
    tag = "steps",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's steps", body = MyStepPage),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me/steps")]
pub async fn my_steps(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageRequest,
) -> Result<web::Json<MyStepPage>, ApiError> {
    let (org, person) = (caller.org, caller.person);
    let rows = state
        .db
        .read(move |conn| {
            views::feed(conn, org, person, None, Some(&page)).map(|rows| page.finish(rows, |r| db::id(&r.step_id)))
        })
        .await?;
    let (rows, next_cursor) = rows;
    Ok(web::Json(MyStepPage {
        items: rows.into_iter().map(views::FeedRow::into_api).collect(),
        next_cursor,
    }))
}

/// Marks one of the caller's steps as opened (the first time counts).
#[utoipa::path(
    tag = "steps",
    params(("step_id" = Uuid, Path, description = "The step's id")),
    responses(
        (status = 200, description = "The step with its new state", body = MyStep),
        (status = 404, description = "The caller has no such step", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/me/steps/{step_id}/open")]
pub async fn open_step(
    state: web::Data<AppState>,
    caller: Caller,
    step_id: web::Path<Uuid>,
) -> Result<web::Json<MyStep>, ApiError> {
    progress(state, caller, step_id.into_inner(), false).await
}

/// Marks one of the caller's steps as completed (and opened, if it was not).
#[utoipa::path(
    tag = "steps",
    params(("step_id" = Uuid, Path, description = "The step's id")),
    responses(
        (status = 200, description = "The step with its new state", body = MyStep),
        (status = 404, description = "The caller has no such step", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/me/steps/{step_id}/complete")]
pub async fn complete_step(
    state: web::Data<AppState>,
    caller: Caller,
    step_id: web::Path<Uuid>,
) -> Result<web::Json<MyStep>, ApiError> {
    progress(state, caller, step_id.into_inner(), true).await
}

async fn progress(
    state: web::Data<AppState>,
    caller: Caller,
    step_id: Uuid,
    complete: bool,
) -> Result<web::Json<MyStep>, ApiError> {
    let (org, person, step) = (caller.org, caller.person, step_id.to_string());
    let row = state
        .db
        .write(move |conn| {
            let now = db::now();
            let completed = repo::progress(conn, org, person, &step, complete, now)?;
            let row = views::feed(conn, org, person, Some(&step), None)?
                .into_iter()
                .next()
                .ok_or(ApiError::NotFound)?;
            if completed {
                let event = EventRow::new(
                    &org.to_string(),
                    events::STEP_COMPLETED,
                    &row.program_id,
                    &person.to_string(),
                    serde_json::json!({"step_id": step}),
                    format!("{}:{step}:{person}", events::STEP_COMPLETED),
                    now,
                );
                crate::events::record(conn, &[event])?;
            }
            Ok(row)
        })
        .await?;
    Ok(web::Json(row.into_api()))
}
