//! Automations: "when this happens, do that". Admins define them here; `engine` matches each
//! stored event against them and runs their actions from the job queue. Every definition is
//! kept as a version, so an event meets the automation as it was when the event arrived.

pub mod badges;
pub mod engine;
pub mod left_out;
pub mod repo;
pub mod views;

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{delete, get, post, put, web, HttpResponse};
use cohort_api_types::{
    ActionState, AttributeValue, Automation, AutomationActionType, AutomationCounts, AutomationInput, AutomationPage,
    AutomationRun, AutomationRunPage, ConditionOperator, ConditionOutcome, Frequency, PageQuery, Problem, RunAction,
    RunOutcome, StepDelay,
};
use cohort_domain::automations::{self as rules, Condition, Fact, Operator};
use cohort_domain::steps::{Delay, DelayUnit};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, DbConn};
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::paging::PageRequest;
use crate::AppState;
use repo::{AutomationRow, RunActionRow};

impl AutomationRow {
    pub fn definition(&self) -> AutomationInput {
        definition(&self.definition)
    }
}

/// A stored definition. It was checked when saved, so it parses.
pub fn definition(json: &str) -> AutomationInput {
    serde_json::from_str(json).expect("stored automation definitions are valid")
}

/// A wire delay as the domain's, checked (at most a year).
fn checked_delay(d: StepDelay) -> Result<Delay, cohort_domain::Invalid> {
    let unit = DelayUnit::parse(&crate::steps::repo::name_of(d.unit)).expect("wire and domain names match");
    Delay::new(d.amount, unit)
}

/// A stored delay: it was checked when saved.
pub fn delay(d: Option<StepDelay>) -> Option<Delay> {
    d.and_then(|d| checked_delay(d).ok())
}

pub fn operator(o: ConditionOperator) -> Operator {
    match o {
        ConditionOperator::Is => Operator::Is,
        ConditionOperator::IsNot => Operator::IsNot,
        ConditionOperator::Contains => Operator::Contains,
        ConditionOperator::GreaterThan => Operator::GreaterThan,
        ConditionOperator::LessThan => Operator::LessThan,
        ConditionOperator::In => Operator::In,
    }
}

pub fn fact(value: &AttributeValue) -> Fact {
    match value {
        AttributeValue::Text(t) => Fact::Text(t.clone()),
        AttributeValue::Number(n) => Fact::Number(n.as_f64().unwrap_or(f64::NAN)),
        AttributeValue::Flag(b) => Fact::Flag(*b),
        AttributeValue::List(items) => Fact::List(items.clone()),
    }
}

pub fn frequency(f: Frequency) -> rules::Frequency {
    match f {
        Frequency::EveryTime => rules::Frequency::EveryTime,
        Frequency::OncePerContact => rules::Frequency::OncePerContact,
        Frequency::OncePerContactPer24h => rules::Frequency::OncePerContactPer24h,
    }
}

const STEP_TRIGGERS: [&str; 2] = [
    cohort_domain::events::STEP_COMPLETED,
    cohort_domain::events::STEP_MISSED,
];

/// Checks an automation against the organisation's programs, templates, badges and steps; every
/// problem names its field.
fn check(conn: &mut DbConn, org: Uuid, input: &AutomationInput, allow_private: bool) -> Result<String, ApiError> {
    let mut p = Problems::default();
    let name = p.check("name", rules::parse_name(&input.name));
    if !cohort_domain::events::is_event_type(&input.trigger) {
        p.push(
            "trigger",
            format!(
                "\"{}\" is not an event: use one of {} or custom.<name>",
                input.trigger,
                cohort_domain::events::EVENT_TYPES.join(", ")
            ),
        );
    }
    if let Some(ids) = &input.program_ids {
        if ids.is_empty() || ids.len() > 100 {
            p.push("program_ids", "list 1 to 100 programs, or null for all");
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let found = repo::programs_in_org(conn, org, &ids)?;
        let with_steps = repo::programs_with_steps(conn, &ids)?;
        for (n, id) in ids.iter().enumerate() {
            if !found.contains(id) {
                p.push(format!("program_ids[{n}]"), "no such program in this organisation");
            } else if STEP_TRIGGERS.contains(&input.trigger.as_str()) && !with_steps.contains(id) {
                p.push(
                    format!("program_ids[{n}]"),
                    "this program has no steps to complete or miss",
                );
            }
        }
    }
    if let Some(d) = input.delay {
        p.check("delay", checked_delay(d));
    }
    if input.conditions.len() > rules::MAX_CONDITIONS {
        p.push("conditions", format!("at most {} conditions", rules::MAX_CONDITIONS));
    }
    for (n, c) in input.conditions.iter().enumerate() {
        let condition = Condition {
            field: c.field.clone(),
            operator: operator(c.operator),
            value: fact(&c.value),
        };
        if let Err((field, invalid)) = rules::check_condition(&condition) {
            p.push(format!("conditions[{n}].{field}"), invalid.0);
        }
    }
    if input.actions.is_empty() || input.actions.len() > rules::MAX_ACTIONS {
        p.push("actions", format!("1 to {} actions", rules::MAX_ACTIONS));
    }
    for (n, a) in input.actions.iter().enumerate() {
        let at = |f: &str| format!("actions[{n}].{f}");
        if let Some(d) = a.delay {
            p.check(&at("delay"), checked_delay(d));
        }
        let text = |p: &mut Problems, field: &str, value: &Option<String>, max: usize| match value {
            None => p.push(at(field), "required for this action"),
            Some(v) => {
                p.check(&at(field), cohort_domain::bounded_text(v, 1, max));
            }
        };
        match a.action_type {
            AutomationActionType::SendEmail => match &a.template {
                Some(t) if crate::messaging::templates::kind(t).is_some() => {}
                Some(t) => p.push(at("template"), format!("no email template \"{t}\"")),
                None => p.push(at("template"), "required for this action"),
            },
            AutomationActionType::SendChatMessage => text(&mut p, "text", &a.text, 2000),
            AutomationActionType::SendNotification => {
                text(&mut p, "title", &a.title, 200);
                text(&mut p, "body", &a.body, 2000);
            }
            AutomationActionType::AwardBadge => match a.badge_id {
                None => p.push(at("badge_id"), "required for this action"),
                Some(id) => {
                    if !repo::has_badge(conn, org, id)? {
                        p.push(at("badge_id"), "no such badge in this organisation");
                    }
                }
            },
            AutomationActionType::DeliverStep => match a.step_id {
                None => p.push(at("step_id"), "required for this action"),
                Some(id) => {
                    if !repo::has_step(conn, org, id)? {
                        p.push(at("step_id"), "no such step in this organisation");
                    }
                }
            },
            AutomationActionType::CallWebhook => match &a.url {
                None => p.push(at("url"), "required for this action"),
                Some(u) => {
                    if let Err(e) = crate::messaging::webhooks::check_url(u, allow_private) {
                        p.push(at("url"), e);
                    }
                }
            },
        }
    }
    p.finish()?;
    Ok(name.unwrap_or_default())
}

fn clash(conn: &mut DbConn, org: Uuid, name: &str, except: Option<&str>) -> Result<(), ApiError> {
    if repo::name_taken(conn, org, name, except)? {
        return Err(ApiError::Conflict(format!(
            "An automation named \"{name}\" already exists."
        )));
    }
    Ok(())
}

fn to_api(row: AutomationRow, counts: &HashMap<String, AutomationCounts>) -> Automation {
    let d = row.definition();
    Automation {
        id: db::id(&row.id),
        counts: counts.get(&row.id).cloned().unwrap_or_default(),
        name: row.name,
        trigger: row.trigger_type,
        program_ids: d.program_ids,
        frequency: d.frequency,
        delay: d.delay,
        conditions: d.conditions,
        actions: d.actions,
        active: row.active,
        version: row.version as u32,
        created_at: db::utc(row.created_at),
        updated_at: db::utc(row.updated_at),
        webhook_secret: None,
    }
}

/// The automation as its creator or editor sees it: with its signing secret when it calls a
/// webhook, so the admin who adds that action can give the receiver the secret right there.
fn saved(conn: &mut DbConn, row: AutomationRow) -> Result<Automation, ApiError> {
    let secret = row.webhook_secret.clone();
    let mut automation = one(conn, row)?;
    if automation
        .actions
        .iter()
        .any(|a| a.action_type == AutomationActionType::CallWebhook)
    {
        automation.webhook_secret = Some(secret);
    }
    Ok(automation)
}

fn one(conn: &mut DbConn, row: AutomationRow) -> Result<Automation, ApiError> {
    let c = repo::counts(conn, std::slice::from_ref(&row.id))?;
    Ok(to_api(row, &c))
}

/// The organisation's automations with their counts, by name (admins).
#[utoipa::path(
    tag = "automations",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of automations", body = AutomationPage),
        (status = 403, description = "Not an admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/automations")]
pub async fn list_automations(
    state: web::Data<AppState>,
    caller: Caller,
    page: PageRequest,
) -> Result<web::Json<AutomationPage>, ApiError> {
    caller.require_admin()?;
    let org = caller.org;
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let rows = repo::page(conn, org, page.after.as_deref(), page.fetch())?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let c = repo::counts(conn, &ids)?;
            let (rows, next) = page.finish(rows, |r| db::id(&r.id));
            Ok((rows.into_iter().map(|r| to_api(r, &c)).collect::<Vec<_>>(), next))
        })
        .await?;
    Ok(web::Json(AutomationPage { items, next_cursor }))
}

/// Creates an automation (inactive unless `active` is true).
#[utoipa::path(
    tag = "automations",
    request_body = AutomationInput,
    responses(
        (status = 201, description = "Created; with `webhook_secret` when it calls a webhook", body = Automation),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 409, description = "The name is taken in this organisation", body = Problem),
        (status = 422, description = "A field is invalid (named): an unknown trigger, template, badge, step, another organisation's program, a condition on an unknown field", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/automations")]
pub async fn create_automation(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<AutomationInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, allow_private, actor) = (caller.org, state.allow_private_webhooks, caller.actor());
    let created = state
        .db
        .write(move |conn| {
            let name = check(conn, org, &input, allow_private)?;
            clash(conn, org, &name, None)?;
            let now = db::now();
            let row = AutomationRow {
                id: db::new_id(),
                organization_id: org.to_string(),
                name,
                trigger_type: input.trigger.clone(),
                definition: serde_json::to_string(&input).map_err(|e| ApiError::Internal(e.to_string()))?,
                active: input.active.unwrap_or(false),
                version: 1,
                created_at: now,
                updated_at: now,
                webhook_secret: crate::messaging::webhooks::new_secret(),
            };
            repo::insert(conn, &row)?;
            repo::save_version(conn, &row)?;
            // The secret is left out of the audit log (`webhook_secret` is a secret field).
            let created = saved(conn, row)?;
            audit::record(
                conn,
                &actor,
                "automation.created",
                ("automation", created.id),
                audit::NONE,
                &created,
            )?;
            Ok(created)
        })
        .await?;
    let res = HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/automations/{}", created.id)))
        .json(created);
    Ok(crate::idempotency::secrets::holding_secrets(res, &["webhook_secret"]))
}

/// One automation with its counts.
#[utoipa::path(
    tag = "automations",
    params(("id" = Uuid, Path, description = "The automation's id")),
    responses(
        (status = 200, description = "The automation", body = Automation),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such automation in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/automations/{id}")]
pub async fn get_automation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Automation>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let a = state
        .db
        .read(move |conn| {
            let row = repo::find(conn, org, id)?;
            one(conn, row)
        })
        .await?;
    Ok(web::Json(a))
}

/// Replaces an automation. Events that arrived before keep meeting the old version; actions
/// already scheduled run as they were defined.
#[utoipa::path(
    tag = "automations",
    params(("id" = Uuid, Path, description = "The automation's id")),
    request_body = AutomationInput,
    responses(
        (status = 200, description = "The new version; with `webhook_secret` when it calls a webhook", body = Automation),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such automation in this organisation", body = Problem),
        (status = 409, description = "The name is taken in this organisation", body = Problem),
        (status = 422, description = "A field is invalid (named)", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[put("/automations/{id}")]
pub async fn update_automation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(input): Body<AutomationInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, allow_private) = (caller.org, id.into_inner(), state.allow_private_webhooks);
    let actor = caller.actor();
    let a = state
        .db
        .write(move |conn| {
            let mut row = repo::find(conn, org, id)?;
            let before = one(conn, row.clone())?;
            let name = check(conn, org, &input, allow_private)?;
            clash(conn, org, &name, Some(&row.id))?;
            let was_active = row.active;
            row.name = name;
            row.trigger_type = input.trigger.clone();
            row.definition = serde_json::to_string(&input).map_err(|e| ApiError::Internal(e.to_string()))?;
            row.active = input.active.unwrap_or(row.active);
            row.version += 1;
            row.updated_at = db::now();
            repo::update(conn, &row)?;
            repo::save_version(conn, &row)?;
            if was_active && !row.active {
                engine::cancel_pending(conn, &row.id)?;
            }
            let after = saved(conn, row)?;
            audit::record(conn, &actor, "automation.updated", ("automation", id), &before, &after)?;
            Ok(after)
        })
        .await?;
    Ok(crate::idempotency::secrets::holding_secrets(
        HttpResponse::Ok().json(a),
        &["webhook_secret"],
    ))
}

/// Deletes an automation, its history and its pending actions.
#[utoipa::path(
    tag = "automations",
    params(("id" = Uuid, Path, description = "The automation's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such automation in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/automations/{id}")]
pub async fn delete_automation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            let row = repo::find(conn, org, id)?;
            let before = one(conn, row.clone())?;
            repo::delete(conn, &row.id)?;
            audit::record(
                conn,
                &actor,
                "automation.deleted",
                ("automation", id),
                &before,
                audit::NONE,
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_active(
    state: web::Data<AppState>,
    caller: Caller,
    id: Uuid,
    active: bool,
) -> Result<Automation, ApiError> {
    caller.require_admin()?;
    let (org, actor) = (caller.org, caller.actor());
    state
        .db
        .write(move |conn| {
            let mut row = repo::find(conn, org, id)?;
            if row.active != active {
                let action = if active {
                    "automation.activated"
                } else {
                    "automation.deactivated"
                };
                let (before, after) = (json!({"active": row.active}), json!({"active": active}));
                audit::record(conn, &actor, action, ("automation", id), before, after)?;
                row.active = active;
                row.version += 1;
                row.updated_at = db::now();
                repo::update(conn, &row)?;
                repo::save_version(conn, &row)?;
                if !active {
                    engine::cancel_pending(conn, &row.id)?;
                }
            }
            one(conn, row)
        })
        .await
}

/// Turns an automation on: events from now on are matched against it.
#[utoipa::path(
    tag = "automations",
    params(("id" = Uuid, Path, description = "The automation's id")),
    responses(
        (status = 200, description = "The automation, active", body = Automation),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such automation in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/automations/{id}/activate")]
pub async fn activate_automation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Automation>, ApiError> {
    Ok(web::Json(set_active(state, caller, id.into_inner(), true).await?))
}

/// Turns an automation off and cancels its pending actions (they show as skipped).
#[utoipa::path(
    tag = "automations",
    params(("id" = Uuid, Path, description = "The automation's id")),
    responses(
        (status = 200, description = "The automation, inactive", body = Automation),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such automation in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/automations/{id}/deactivate")]
pub async fn deactivate_automation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<Automation>, ApiError> {
    Ok(web::Json(set_active(state, caller, id.into_inner(), false).await?))
}

fn action_state(s: &str) -> ActionState {
    match s {
        "waiting" => ActionState::Waiting,
        "scheduled" => ActionState::Scheduled,
        "done" => ActionState::Done,
        "failed" => ActionState::Failed,
        _ => ActionState::Skipped,
    }
}

fn outcome(s: &str) -> RunOutcome {
    match s {
        "ran" => RunOutcome::Ran,
        "frequency_limited" => RunOutcome::FrequencyLimited,
        _ => RunOutcome::ConditionsNotMet,
    }
}

/// Each event the automation met, newest first: the conditions' outcome and each action's state.
#[utoipa::path(
    tag = "automations",
    params(("id" = Uuid, Path, description = "The automation's id"), PageQuery),
    responses(
        (status = 200, description = "A page of runs, newest first", body = AutomationRunPage),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such automation in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/automations/{id}/runs")]
pub async fn list_runs(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    page: PageRequest,
) -> Result<web::Json<AutomationRunPage>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let (items, next_cursor) = state
        .db
        .read(move |conn| {
            let automation = repo::find(conn, org, id)?;
            let rows = views::runs(conn, &automation.id, page.after.as_deref(), page.fetch())?;
            let (rows, next) = page.finish(rows, |(r, _)| db::id(&r.id));
            let ids: Vec<String> = rows.iter().map(|(r, _)| r.id.clone()).collect();
            let mut actions: HashMap<String, Vec<RunActionRow>> = HashMap::new();
            for a in repo::run_actions(conn, &ids)? {
                actions.entry(a.run_id.clone()).or_default().push(a);
            }
            let items = rows
                .into_iter()
                .map(|(run, event)| AutomationRun {
                    id: db::id(&run.id),
                    automation_id: db::id(&run.automation_id),
                    version: run.version as u32,
                    event: event.into_api(),
                    outcome: outcome(&run.outcome),
                    conditions: serde_json::from_str(&run.conditions).unwrap_or_default(),
                    actions: actions
                        .remove(&run.id)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|a| RunAction {
                            position: a.position as u32,
                            action_type: serde_json::from_str::<cohort_api_types::AutomationAction>(&a.action)
                                .map(|x| x.action_type)
                                .unwrap_or(AutomationActionType::SendNotification),
                            state: action_state(&a.state),
                            reason: a.reason,
                            due_at: a.due_at.map(db::utc),
                            done_at: a.done_at.map(db::utc),
                            attempts: a.attempts as u32,
                        })
                        .collect(),
                    created_at: db::utc(run.created_at),
                })
                .collect::<Vec<_>>();
            Ok((items, next))
        })
        .await?;
    Ok(web::Json(AutomationRunPage { items, next_cursor }))
}

/// What a condition's outcome looks like in the history.
pub fn condition_outcomes(
    conditions: &[cohort_api_types::AutomationCondition],
    held: &[bool],
) -> Vec<ConditionOutcome> {
    conditions
        .iter()
        .zip(held)
        .map(|(c, &holds)| ConditionOutcome {
            field: c.field.clone(),
            operator: c.operator,
            holds,
        })
        .collect()
}
