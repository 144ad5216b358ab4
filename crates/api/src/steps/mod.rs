//! Program steps: the admin API, the participant feed, and triggers from integrations.

pub mod delivery;
pub mod repo;

use actix_web::http::header;
use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::NaiveDateTime;
use cohort_api_types::{
    ActionType, FireTrigger, MyStep, MyStepPage, PageQuery, Problem, PublishType, Step, StepInput, StepPage, StepState,
    TriggerFired,
};
use cohort_domain::steps::{self as rules, Delay};
use diesel::prelude::*;
use uuid::Uuid;

use self::repo::{name_of, StepRow};
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::paging::PageRequest;
use crate::programs::repo as programs;
use crate::schema::{programs as programs_table, step_deliveries, steps};
use crate::AppState;

/// A validated step, ready to store: everything but ids and times.
struct Checked {
    title: String,
    description: String,
    link_url: Option<String>,
    scheduled_for: Option<NaiveDateTime>,
    publish_at: Option<NaiveDateTime>,
    delay: Option<Delay>,
}

/// Checks a step against the rules, in the program's zone; `previous` is the stored step on
/// edit (an unchanged past schedule is allowed there: the step has published).
fn check(input: &StepInput, zone: chrono_tz::Tz, previous: Option<&StepRow>) -> Result<Checked, ApiError> {
    let mut problems = Problems::default();
    let title = problems.check("title", rules::parse_step_title(&input.title));
    let description = problems.check("description", rules::parse_step_description(&input.description));
    let link_url = match (input.action_type, input.link_url.as_deref()) {
        (ActionType::OpenLink, Some(url)) => problems.check("link_url", rules::parse_link(url)),
        (ActionType::OpenLink, None) => {
            problems.push("link_url", "an open_link step needs the URL it opens");
            None
        }
        (_, Some(_)) => {
            problems.push("link_url", "only open_link steps carry a link");
            None
        }
        (_, None) => None,
    };
    let scheduled = input.publish_type == PublishType::Scheduled;
    let triggered = input.publish_type == PublishType::Triggered;
    let mut publish_at = None;
    match (scheduled, input.scheduled_for) {
        (true, None) => problems.push("scheduled_for", "a scheduled step needs the date and time it publishes"),
        (true, Some(local)) => {
            if let Some(at) = problems.check("scheduled_for", rules::publish_instant(local, zone)) {
                let unchanged = previous.is_some_and(|p| p.scheduled_for == Some(local));
                if at <= chrono::Utc::now() && !unchanged {
                    problems.push("scheduled_for", "must be in the future");
                }
                publish_at = Some(at.naive_utc());
            }
        }
        (false, Some(_)) => problems.push("scheduled_for", "only scheduled steps have a publish time"),
        (false, None) => {}
    }
    if triggered && input.trigger.is_none() {
        problems.push("trigger", "a triggered step needs a trigger");
    }
    if !triggered {
        for (present, name) in [
            (input.trigger.is_some(), "trigger"),
            (input.delay.is_some(), "delay"),
            (input.include_existing, "include_existing"),
        ] {
            if present {
                problems.push(name, "only triggered steps have this");
            }
        }
    }
    let delay = input.delay.and_then(|d| {
        let unit = rules::DelayUnit::parse(&name_of(d.unit)).expect("wire and domain units match");
        problems.check("delay.amount", Delay::new(d.amount, unit))
    });
    problems.finish()?;
    Ok(Checked {
        title: title.unwrap_or_default(),
        description: description.unwrap_or_default(),
        link_url,
        scheduled_for: input.scheduled_for.filter(|_| scheduled),
        publish_at,
        delay: delay.or(triggered.then_some(Delay {
            amount: 0,
            unit: rules::DelayUnit::Minutes,
        })),
    })
}

fn apply(row: &mut StepRow, input: &StepInput, checked: Checked) {
    row.title = checked.title;
    row.description = checked.description;
    row.viewer_type = name_of(input.viewer_type);
    row.action_type = name_of(input.action_type);
    row.link_url = checked.link_url;
    row.publish_type = name_of(input.publish_type);
    row.scheduled_for = checked.scheduled_for;
    row.publish_at = checked.publish_at;
    row.trigger_name = input.trigger.map(name_of);
    row.delay_amount = checked.delay.map(|d| d.amount as i32);
    row.delay_unit = checked.delay.map(|d| d.unit.as_str().to_owned());
    row.include_existing = input.include_existing;
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
        (status = 400, description = "Malformed id or bad query parameter", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
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
    query: web::Query<PageQuery>,
) -> Result<web::Json<StepPage>, ApiError> {
    caller.require_admin()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
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
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
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
    let (org, program_id) = (caller.org, id.into_inner());
    let step = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, program_id)?;
            let zone = delivery::zone(&program.time_zone);
            let checked = check(&input, zone, None)?;
            let now = db::now();
            let mut row = StepRow {
                id: db::new_id(),
                organization_id: org.to_string(),
                program_id: program.id.clone(),
                title: String::new(),
                description: String::new(),
                viewer_type: String::new(),
                action_type: String::new(),
                link_url: None,
                publish_type: String::new(),
                scheduled_for: None,
                publish_at: None,
                trigger_name: None,
                delay_amount: None,
                delay_unit: None,
                include_existing: false,
                due_date: None,
                created_at: now,
                updated_at: now,
            };
            apply(&mut row, &input, checked);
            diesel::insert_into(steps::table).values(&row).execute(conn)?;
            delivery::schedule(conn, &row, zone)?;
            Ok(row.into_api(&program.time_zone, Default::default()))
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
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
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
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
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
    let (org, (program_id, step_id)) = (caller.org, path.into_inner());
    let step = state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, program_id)?;
            let zone = delivery::zone(&program.time_zone);
            let mut row = repo::get(conn, org, &program.id, step_id)?;
            let checked = check(&input, zone, Some(&row))?;
            apply(&mut row, &input, checked);
            row.updated_at = db::now();
            diesel::update(steps::table.find(&row.id)).set(&row).execute(conn)?;
            delivery::schedule(conn, &row, zone)?;
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
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
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
    let (org, (program_id, step_id)) = (caller.org, path.into_inner());
    state
        .db
        .write(move |conn| {
            let program = programs::get(conn, org, program_id)?;
            let row = repo::get(conn, org, &program.id, step_id)?;
            diesel::delete(step_deliveries::table.filter(step_deliveries::step_id.eq(&row.id))).execute(conn)?;
            diesel::delete(steps::table.find(&row.id)).execute(conn)?;
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
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
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
    let (org, (program_id, participant_id)) = (caller.org, path.into_inner());
    let scheduled = state
        .db
        .write(move |conn| {
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

type FeedRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<chrono::NaiveDate>,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

fn my_step(row: FeedRow) -> MyStep {
    let (
        step_id,
        program_id,
        program_name,
        title,
        description,
        action,
        link_url,
        due_date,
        delivered,
        opened,
        completed,
        missed,
    ) = row;
    MyStep {
        step_id: db::id(&step_id),
        program_id: db::id(&program_id),
        program_name,
        title,
        description,
        action_type: serde_json::from_value(serde_json::Value::String(action)).expect("stored action types are valid"),
        link_url,
        due_date,
        state: match (opened, completed) {
            (_, Some(_)) => StepState::Completed,
            (Some(_), None) => StepState::Opened,
            (None, None) => StepState::New,
        },
        missed: missed.is_some(),
        delivered_at: db::utc(delivered),
        opened_at: opened.map(db::utc),
        completed_at: completed.map(db::utc),
    }
}

/// The caller's delivered steps, in program order (one step when `only` names it).
fn load_feed(
    conn: &mut DbConn,
    org: Uuid,
    person: Uuid,
    only: Option<&str>,
    page: Option<&PageRequest>,
) -> Result<Vec<FeedRow>, ApiError> {
    let mut query = step_deliveries::table
        .inner_join(steps::table)
        .inner_join(programs_table::table.on(programs_table::id.eq(steps::program_id)))
        .filter(step_deliveries::organization_id.eq(org.to_string()))
        .filter(step_deliveries::person_id.eq(person.to_string()))
        .select((
            steps::id,
            steps::program_id,
            programs_table::name,
            steps::title,
            steps::description,
            steps::action_type,
            steps::link_url,
            steps::due_date,
            step_deliveries::delivered_at,
            step_deliveries::opened_at,
            step_deliveries::completed_at,
            step_deliveries::missed_at,
        ))
        .order(steps::id)
        .into_boxed();
    if let Some(step) = only {
        query = query.filter(steps::id.eq(step.to_owned()));
    }
    if let Some(page) = page {
        query = query.limit(page.fetch());
        if let Some(after) = &page.after {
            query = query.filter(steps::id.gt(after.clone()));
        }
    }
    Ok(query.load(conn)?)
}

/// The caller's steps across their programs, in each program's order, with their state.
#[utoipa::path(
    tag = "steps",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's steps", body = MyStepPage),
        (status = 400, description = "Bad query parameter", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/me/steps")]
pub async fn my_steps(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<web::Json<MyStepPage>, ApiError> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let (org, person) = (caller.org, caller.person);
    let rows = state
        .db
        .read(move |conn| {
            load_feed(conn, org, person, None, Some(&page)).map(|rows| page.finish(rows, |r| db::id(&r.0)))
        })
        .await?;
    let (rows, next_cursor) = rows;
    Ok(web::Json(MyStepPage {
        items: rows.into_iter().map(my_step).collect(),
        next_cursor,
    }))
}

/// Marks one of the caller's steps as opened (the first time counts).
#[utoipa::path(
    tag = "steps",
    params(("step_id" = Uuid, Path, description = "The step's id")),
    responses(
        (status = 200, description = "The step with its new state", body = MyStep),
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
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
        (status = 400, description = "Malformed id", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
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
            let mine = || {
                step_deliveries::table
                    .filter(step_deliveries::organization_id.eq(org.to_string()))
                    .filter(step_deliveries::person_id.eq(person.to_string()))
                    .filter(step_deliveries::step_id.eq(step.clone()))
            };
            let now = db::now();
            diesel::update(mine().filter(step_deliveries::opened_at.is_null()))
                .set(step_deliveries::opened_at.eq(now))
                .execute(conn)?;
            if complete {
                diesel::update(mine().filter(step_deliveries::completed_at.is_null()))
                    .set(step_deliveries::completed_at.eq(now))
                    .execute(conn)?;
            }
            load_feed(conn, org, person, Some(&step), None)?
                .into_iter()
                .next()
                .ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(web::Json(my_step(row)))
}
