//! The application: routes, the OpenAPI document, the dashboard, and what
//! happens to requests no route takes.

use std::path::Path;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::{middleware, web, App, HttpRequest, HttpResponse};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::extract::RouteTable;
use crate::{
    audit, auth, automations, booking, events, extract, hardening, health, idempotency, imports, jobs, messaging,
    organization, pairing, people, programs, request_id, steps, AppState,
};
use cohort_api_types::links::{self, WebApp};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cohort API",
        description = "Mentoring, coaching and advising programs: organisations, people, programs and participants.\n\n\
            Every list takes `limit` and `cursor`; every error is an RFC 9457 problem document.\n\n\
            Every authenticated `POST` takes an optional `Idempotency-Key` header: a retry with the same key and \
            body within 24 hours gets the first answer back (marked `Idempotency-Replayed: true`) and writes \
            nothing again; the same key with another body is a 422.\n\n\
            Logins are rate limited per email and per client address, API keys per key: over the limit the \
            answer is a 429 with `Retry-After` in seconds.\n\n\
            Every admin write is recorded in the audit log (`GET /audit-log`). Send `X-Cohort-Client: dashboard` \
            only from the admin dashboard: its changes are then logged with the source `dashboard`; other \
            clients' changes are logged as `api_key`.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Log in, refresh, log out; the caller"),
        (name = "api-keys", description = "Keys for integrations"),
        (name = "organization", description = "The caller's organisation"),
        (name = "people", description = "People of the organisation"),
        (name = "programs", description = "Programs"),
        (name = "participants", description = "Who takes part in a program"),
        (name = "email-templates", description = "The emails Cohort sends, in the organisation's words"),
        (name = "notifications", description = "Each person's in-app feed"),
        (name = "webhooks", description = "Signed event deliveries to integrations"),
        (name = "jobs", description = "Background work (emails, webhooks, actions) that ran out of attempts: list it, queue it again"),
        (name = "chat", description = "Conversations of pairings and of the program team"),
        (name = "pairing", description = "Pairing settings, mentor requests and pairings"),
        (name = "events", description = "What happened, stored before automations react to it"),
        (name = "automations", description = "When this happens, do that: triggers, conditions, frequency limits, delayed actions, run history; badges"),
        (name = "steps", description = "Program steps, their delivery, and each participant's step feed"),
        (name = "booking", description = "Provider-first booking: services, providers, availability, slots, bookings, the booking flow, calendar feeds"),
        (name = "audit", description = "Every admin write: who, when, from where, what changed; read-only"),
        (name = "csv", description = "Spreadsheets in and out: templates, uploads checked whole (dry run) then applied all or nothing, exports"),
        (name = "operations", description = "Health checks"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
    }
}

/// Every route of the API, registered so utoipa-actix-web documents each one.
fn routes<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(health::healthz).service(health::readyz).service(
        scope::scope("/api/v1")
            .service(auth::login)
            .service(auth::refresh)
            .service(auth::logout)
            .service(auth::logout_all)
            .service(auth::accounts::accept_invitation)
            .service(auth::accounts::request_password_reset)
            .service(auth::accounts::confirm_password_reset)
            .service(auth::accounts::change_password)
            .service(auth::accounts::invite_people)
            .service(auth::accounts::invite_person)
            .service(auth::me)
            .service(people::update_me)
            .service(auth::list_api_keys)
            .service(auth::create_api_key)
            .service(auth::revoke_api_key)
            .service(organization::get_organization)
            .service(organization::update_organization)
            .service(people::list_people)
            .service(people::create_person)
            .service(people::get_person)
            .service(people::update_person)
            .service(people::delete_person)
            .service(people::privacy::export_person)
            .service(people::privacy::erase_person)
            .service(audit::handlers::list_audit_log)
            .service(audit::handlers::export_audit_log)
            .service(programs::list_programs)
            .service(programs::create_program)
            .service(programs::get_program)
            .service(programs::update_program)
            .service(programs::list_participants)
            .service(programs::add_participant)
            .service(programs::add_participants)
            .service(programs::remove_participant)
            .service(programs::my_programs)
            .service(messaging::email::list_templates)
            .service(messaging::email::get_template)
            .service(messaging::email::update_template)
            .service(messaging::email::reset_template)
            .service(messaging::email::preview_template)
            .service(messaging::email::send_test_email)
            .service(messaging::notifications::list_notifications)
            .service(messaging::notifications::mark_all_read)
            .service(messaging::notifications::mark_read)
            .service(messaging::notifications::send_notification)
            .service(messaging::notifications::notification_log)
            .service(messaging::webhooks::list_webhooks)
            .service(messaging::webhooks::create_webhook)
            .service(messaging::webhooks::get_webhook)
            .service(messaging::webhooks::update_webhook)
            .service(messaging::webhooks::delete_webhook)
            .service(messaging::webhooks::list_deliveries)
            .service(messaging::webhooks::send_test_event)
            .service(messaging::webhooks::redeliver)
            .service(jobs::dead::list_dead_jobs)
            .service(jobs::dead::retry_dead_job)
            .service(messaging::chat::list_conversations)
            .service(messaging::chat::create_conversation)
            .service(messaging::chat::list_messages)
            .service(messaging::chat::send_message)
            .service(messaging::chat::read_conversation)
            .service(steps::list_steps)
            .service(steps::create_step)
            .service(steps::get_step)
            .service(steps::update_step)
            .service(steps::delete_step)
            .service(steps::fire_trigger)
            .service(steps::my_steps)
            .service(steps::open_step)
            .service(steps::complete_step)
            .service(events::list_events)
            .service(automations::left_out::list_left_out)
            .service(automations::left_out::match_left_out_again)
            .service(events::post_event)
            .service(automations::list_automations)
            .service(automations::create_automation)
            .service(automations::get_automation)
            .service(automations::update_automation)
            .service(automations::delete_automation)
            .service(automations::activate_automation)
            .service(automations::deactivate_automation)
            .service(automations::list_runs)
            .service(automations::badges::list_badges)
            .service(automations::badges::create_badge)
            .service(automations::badges::delete_badge)
            .service(automations::badges::person_badges_list)
            .service(pairing::get_settings)
            .service(pairing::update_settings)
            .service(pairing::create_request)
            .service(pairing::list_requests)
            .service(pairing::approve_request)
            .service(pairing::decline_request)
            .service(pairing::preview_request_answer)
            .service(pairing::accept_with_link)
            .service(pairing::decline_with_link)
            .service(pairing::list_pairings)
            .service(pairing::end_pairing)
            .service(pairing::export_pairings)
            .service(pairing::available_mentors)
            .service(pairing::set_mentor_capacity)
            .service(pairing::my_requests)
            .service(pairing::withdraw_request)
            .service(pairing::my_pairings)
            .service(pairing::health::pairing_health)
            .service(pairing::invitations::list_unpaired)
            .service(pairing::invitations::preview_invitations)
            .service(pairing::invitations::send_invitations)
            .service(pairing::auto::get_rules)
            .service(pairing::auto::put_rules)
            .service(pairing::auto::run_auto_pair)
            .service(pairing::auto::get_proposal)
            .service(pairing::auto::adjust_pair)
            .service(pairing::auto::discard_proposal)
            .service(pairing::auto::confirm_proposal)
            .service(pairing::auto::get_answers)
            .service(pairing::auto::put_answers)
            .service(pairing::auto::get_my_answers)
            .service(pairing::auto::put_my_answers)
            .service(booking::list_services)
            .service(booking::create_service)
            .service(booking::get_service)
            .service(booking::update_service)
            .service(booking::delete_service)
            .service(booking::list_enrollments)
            .service(booking::enroll)
            .service(booking::unenroll)
            .service(booking::my_classes)
            .service(booking::set_my_classes)
            .service(booking::get_settings)
            .service(booking::update_settings)
            .service(booking::providers::list_providers)
            .service(booking::providers::create_provider)
            .service(booking::providers::get_provider)
            .service(booking::providers::update_provider)
            .service(booking::providers::delete_provider)
            .service(booking::providers::get_availability)
            .service(booking::providers::set_availability)
            .service(booking::slots::list_slots)
            .service(booking::bookings::create_booking)
            .service(booking::bookings::list_bookings)
            .service(booking::bookings::my_bookings)
            .service(booking::bookings::get_booking)
            .service(booking::bookings::cancel_booking)
            .service(booking::bookings::reschedule_booking)
            .service(booking::bookings::complete_booking)
            .service(booking::bookings::join_waitlist)
            .service(booking::bookings::create_feed)
            .service(booking::bookings::calendar_feed)
            .service(booking::bookings::booking_ics)
            .service(imports::import_file)
            .service(imports::import_template)
            .service(imports::export_file),
    )
}

/// The OpenAPI document, built from the routes without starting a server.
/// What reacts to every stored event, in its transaction: the automations' matcher queues the
/// event for the organisation's automations on its type, and the webhook publisher queues a
/// delivery to each endpoint that subscribed to it. Registered by `main` before anything runs.
pub const EVENT_SUBSCRIBERS: &[crate::events::Subscriber] = &[
    crate::automations::engine::on_events,
    crate::messaging::webhooks::publish_events,
];

pub fn openapi() -> OpenApiDoc {
    let mut doc = routes(App::new().into_utoipa_app().openapi(ApiDoc::openapi()))
        .split_for_parts()
        .1;
    CommonResponses.modify(&mut doc);
    doc
}

/// Documents what any operation may answer besides its own responses (malformed
/// requests, authentication, body limits), and that every error is problem JSON.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        let retry_after = || {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)))
                .description(Some("Seconds until a request is allowed again"))
                .build()
        };
        let idempotency_key = ParameterBuilder::new()
            .name(idempotency::HEADER)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes a retry safe: the same key (per caller) with the same body within 24 hours returns \
                 the first answer instead of writing again; with another body it is a 422.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(idempotency::MAX_KEY_CHARS)),
            ))
            .example(Some(serde_json::json!("5f0c6a52-7d1e-4c1b-9a57-0d9c1e0f2b11")))
            .build();
        let is_problem = |c: &utoipa::openapi::Content| matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"));
        for (path, item) in openapi.paths.paths.iter_mut() {
            if let Some(op) = item.post.as_mut().filter(|_| !path.starts_with("/api/v1/imports/")) {
                let secured = op
                    .security
                    .as_ref()
                    .is_some_and(|reqs| reqs.iter().any(|r| r != &Default::default()));
                if secured {
                    op.parameters.get_or_insert_with(Vec::new).push(idempotency_key.clone());
                    let responses = &mut op.responses.responses;
                    responses.entry("409".into()).or_insert_with(|| {
                        problem("Conflict; or a request with the same `Idempotency-Key` is still running").into()
                    });
                    responses.entry("422".into()).or_insert_with(|| {
                        problem("Invalid input, or an `Idempotency-Key` already used with another request").into()
                    });
                }
            }
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                let by_api_key = op.security.as_ref().is_some_and(|reqs| {
                    serde_json::to_value(reqs).is_ok_and(|v| v.to_string().contains("\"api_key\""))
                });
                let responses = &mut op.responses.responses;
                if by_api_key {
                    let mut limited = problem("Too many requests with this API key; see `Retry-After`");
                    limited.headers.insert("Retry-After".into(), retry_after());
                    responses.entry("429".into()).or_insert_with(|| limited.into());
                }
                // Problem bodies are `application/problem+json`, not `application/json`.
                for response in responses.values_mut() {
                    if let RefOr::T(response) = response {
                        if response.content.get("application/json").is_some_and(is_problem) {
                            if let Some(content) = response.content.shift_remove("application/json") {
                                response.content.insert("application/problem+json".into(), content);
                            }
                        }
                    }
                }
                let secured = op
                    .security
                    .as_ref()
                    .is_some_and(|reqs| reqs.iter().any(|r| r != &Default::default()));
                let mut add = |status: &str, description: &str| {
                    responses
                        .entry(status.into())
                        .or_insert_with(|| problem(description).into());
                };
                add(
                    "400",
                    "Malformed request: a bad path or query parameter, or a body that is not JSON",
                );
                if secured {
                    add("401", "Not authenticated");
                }
                if op.request_body.is_some() {
                    add("413", "Request body larger than 1 MiB");
                    add("415", "Request body not sent as application/json");
                    add(
                        "422",
                        "Well-formed JSON of the wrong shape or with invalid values; `errors` names the fields",
                    );
                }
            }
        }
    }
}

/// Requests no route took: 405 for a known path, the dashboard for its pages (with a 404 status
/// for a path that is none of them), a problem JSON 404 for the rest.
async fn fallback(
    req: HttpRequest,
    state: web::Data<AppState>,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    if let Some(allowed) = table.allowed(path) {
        return Err(ApiError::MethodNotAllowed(allowed));
    }
    let is_api = path.starts_with("/api/") || path == "/api" || path == "/healthz" || path == "/readyz";
    if !is_api && req.method() == Method::GET {
        let (app, known) = links::app_of(path);
        if let Ok(html) = std::fs::read(state.dashboard_dir.join(app.page_file())) {
            // The app shows its own "Page not found" for a path its router does not know; the
            // status says so too, so a broken link is visible to checkers and crawlers.
            let status = if known { StatusCode::OK } else { StatusCode::NOT_FOUND };
            return Ok(HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(html));
        }
        if path == "/" {
            return Ok(HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(NO_DASHBOARD));
        }
    }
    Err(ApiError::NotFound)
}

const NO_DASHBOARD: &str = "<!doctype html><html lang=en><meta charset=utf-8><title>Cohort</title>\
<h1>Cohort</h1><p>The API runs at <a href=\"/api/v1/docs/\">/api/v1/docs/</a>. \
The dashboard is not built: run <code>cargo xtask run</code>.</p></html>";

/// Turns any error response that is not yet problem JSON (actix's own plain-text ones) into one;
/// the dashboard's HTML stays.
fn problem_json_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<middleware::ErrorHandlerResponse<B>> {
    // Problem JSON already, or the dashboard saying "Page not found" for a path it does not know.
    let is_problem = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/problem+json") || v.as_bytes().starts_with(b"text/html")
        });
    if is_problem {
        return Ok(middleware::ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let error = match status.as_u16() {
        400 => ApiError::BadRequest("The request is malformed.".into()),
        404 => ApiError::NotFound,
        413 => ApiError::PayloadTooLarge("The request body is too large.".into()),
        415 => ApiError::UnsupportedMediaType("Send application/json.".into()),
        s if s >= 500 => ApiError::Internal(format!("unhandled {status}")),
        _ => ApiError::BadRequest(status.canonical_reason().unwrap_or("Bad request").to_owned()),
    };
    let (req, _) = res.into_parts();
    let mut response = actix_web::ResponseError::error_response(&error);
    *response.status_mut() = status;
    Ok(middleware::ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}

/// The whole application, as each server worker builds it from the document `openapi()` made.
pub fn build(
    state: web::Data<AppState>,
    doc: &OpenApiDoc,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let dashboard_dir = state.dashboard_dir.clone();
    let pages: Vec<String> = WebApp::ALL
        .iter()
        .filter_map(|app| std::fs::read_to_string(dashboard_dir.join(app.page_file())).ok())
        .collect();
    let security_headers = web::Data::new(hardening::SecurityHeaders::new(&pages));
    let allowed_origins = state.allowed_origins.clone();
    // The docs go first: the `/api/v1` scope would otherwise take their paths.
    let app = App::new()
        .service(SwaggerUi::new("/api/v1/docs/{_:.*}").url("/api/v1/openapi.json", doc.clone()))
        .app_data(state)
        .app_data(security_headers)
        .app_data(web::Data::new(RouteTable::from_openapi(doc)))
        .app_data(extract::path_config())
        .app_data(extract::query_config())
        .app_data(extract::payload_config());
    let mut app = routes(app.into_utoipa_app()).into_app();
    if Path::new(&dashboard_dir).join("index.html").is_file() {
        app = app.service(
            actix_files::Files::new("/", dashboard_dir)
                .index_file("index.html")
                .guard(actix_web::guard::Get())
                .default_handler(web::to(fallback)),
        );
    }
    // The last `wrap` is the outermost: idempotency sees the handler's answer, before errors
    // become problem JSON and bodies are compressed.
    app.default_service(web::to(fallback))
        .wrap(middleware::from_fn(extract::reject_nul_in_query))
        .wrap(middleware::from_fn(idempotency::middleware))
        .wrap(middleware::Condition::new(
            !allowed_origins.is_empty(),
            hardening::cors(&allowed_origins),
        ))
        .wrap(middleware::ErrorHandlers::new().default_handler(problem_json_errors))
        .wrap(middleware::Compress::default())
        .wrap(middleware::from_fn(hardening::middleware))
        .wrap(middleware::from_fn(request_id::middleware))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_table_tells_wrong_methods_from_unknown_paths() {
        let table = RouteTable::from_openapi(&openapi());
        assert_eq!(
            table.allowed("/api/v1/people/123"),
            Some(vec!["GET", "PATCH", "DELETE"])
        );
        assert_eq!(table.allowed("/api/v1/me"), Some(vec!["GET", "PATCH"]));
        assert_eq!(table.allowed("/api/v1/nothing"), None);
        // A literal segment is its own resource, whatever a parameter beside it would take.
        let bulk = "/api/v1/programs/01930000-0000-7000-8000-000000000000/participants/bulk";
        assert_eq!(table.allowed(bulk), Some(vec!["POST"]));
        let by_id = "/api/v1/programs/{id}/participants/{participant_id}";
        assert_eq!(table.shadowed(bulk, by_id), Some(vec!["POST"]));
        let one = "/api/v1/programs/01930000-0000-7000-8000-000000000000/participants/0193";
        assert_eq!(table.shadowed(one, by_id), None);
    }
}
