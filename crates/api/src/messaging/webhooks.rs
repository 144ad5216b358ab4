//! Webhooks for integrations: endpoints per organisation, events published in
//! the caller's transaction, deliveries signed as Standard Webhooks describes,
//! retried on the job queue's backoff, logged, and endpoints turned off after
//! persistent failure. Loopback and private destinations are refused unless
//! configuration allows them, by a resolver that checks the addresses it hands the connection
//! (see [`client`]).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cohort_api_types::{
    CreateWebhook, CreatedWebhook, PageQuery, Problem, UpdateWebhook, WebhookDelivery, WebhookDeliveryPage,
    WebhookEndpoint, WebhookEndpointList,
};
use cohort_domain::webhooks::{check_event_type, is_public};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

use super::webhooks_repo as repo;
use super::webhooks_repo::{DeliveryRow, EndpointRow};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db, DbConn};
use crate::error::{ApiError, Problems};
use crate::extract::Body;
use crate::jobs::{self, Job, NewJob};
use crate::paging::PageRequest;
use crate::AppState;

pub const JOB_KIND: &str = "webhook";
/// Deliveries that used up every retry, in a row, before an endpoint is turned off.
pub const DISABLE_AFTER_FAILED_DELIVERIES: i32 = 5;
const TIMEOUT: Duration = Duration::from_secs(10);

impl EndpointRow {
    fn into_api(self) -> WebhookEndpoint {
        WebhookEndpoint {
            id: db::id(&self.id),
            event_types: self.events(),
            url: self.url,
            description: self.description,
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            created_at: db::utc(self.created_at),
        }
    }
}

/// The `webhook-id` of a delivery: the same on every attempt.
fn message_id(delivery: &str) -> String {
    format!("msg_{}", delivery.replace('-', ""))
}

impl DeliveryRow {
    fn into_api(self) -> WebhookDelivery {
        WebhookDelivery {
            id: db::id(&self.id),
            webhook_id: message_id(&self.id),
            event_type: self.event_type,
            status: self.status,
            attempts: self.attempts,
            last_status_code: self.last_status_code,
            last_error: self.last_error,
            created_at: db::utc(self.created_at),
            delivered_at: self.delivered_at.map(db::utc),
        }
    }
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the secret's bytes (after `whsec_`).
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> String {
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap_or_default();
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts any key length");
    mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// An http(s) URL whose host, when it is an address, may receive deliveries.
pub(crate) fn check_url(url: &str, allow_private: bool) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    match parsed.host() {
        None => return Err("must name a host".into()),
        Some(url::Host::Ipv4(ip)) if !allow_private && !is_public(ip.into()) => {
            return Err("must not be a loopback or private address".into())
        }
        Some(url::Host::Ipv6(ip)) if !allow_private && !is_public(ip.into()) => {
            return Err("must not be a loopback or private address".into())
        }
        Some(url::Host::Domain(host)) if !allow_private && (host == "localhost" || host.ends_with(".localhost")) => {
            return Err("must not be a loopback or private address".into())
        }
        _ => {}
    }
    if url.len() > 2000 {
        return Err("at most 2000 characters".into());
    }
    Ok(parsed.to_string())
}

/// The HTTP client of every outgoing webhook: endpoints' deliveries and automations' "call a
/// webhook" actions. It follows no redirect (a 3xx is a failed delivery showing its code, never a
/// second request to wherever it points), ignores the proxy variables of the environment, and
/// resolves each destination's name once, through [`DestinationResolver`], connecting only to
/// addresses that passed the check. With `proxy` set, every request goes through it and the proxy
/// resolves destinations: refusing internal addresses is then its job too (the resolver only
/// looks up the proxy's own name).
pub fn client(allow_private: bool, proxy: Option<&url::Url>) -> Result<reqwest::Client, String> {
    let resolver = DestinationResolver::system(allow_private || proxy.is_some());
    build_client(resolver, proxy)
}

fn build_client(resolver: DestinationResolver, proxy: Option<&url::Url>) -> Result<reqwest::Client, String> {
    // reqwest is built without a TLS crypto provider: `main` installs one for every TLS client;
    // this covers the callers that run without `main` (tests). A second install is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .user_agent("Cohort-Webhooks/1")
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(resolver);
    if let Some(proxy) = proxy {
        builder = builder.proxy(reqwest::Proxy::all(proxy.as_str()).map_err(|e| format!("proxy: {e}"))?);
    }
    builder.build().map_err(|e| e.to_string())
}

/// Looks up a host's addresses.
type Lookup = Arc<dyn Fn(String) -> BoxFuture<std::io::Result<Vec<IpAddr>>> + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// reqwest's resolver for webhook destinations: one lookup per connection, and the connection
/// is made only to the addresses that lookup returned, after every one of them passed
/// `allowed`. A name that answers one address to a check and another to the connection (DNS
/// rebinding) has no second answer to give. Addresses written in a URL never come here
/// (reqwest connects to them directly): `check_url` checks those before each request.
#[derive(Clone)]
pub struct DestinationResolver {
    lookup: Lookup,
    allowed: fn(IpAddr) -> bool,
}

impl DestinationResolver {
    /// The system's resolver; with `allow_private`, every address is let through.
    pub fn system(allow_private: bool) -> Self {
        let lookup: Lookup = Arc::new(|host: String| {
            Box::pin(async move {
                Ok(tokio::net::lookup_host((host.as_str(), 0))
                    .await?
                    .map(|address| address.ip())
                    .collect())
            })
        });
        let allowed: fn(IpAddr) -> bool = if allow_private { |_| true } else { is_public };
        Self { lookup, allowed }
    }

    /// Another lookup and rule (tests: a name whose answers change between lookups).
    pub fn new(lookup: Lookup, allowed: fn(IpAddr) -> bool) -> Self {
        Self { lookup, allowed }
    }

    /// The addresses of `host`, all of them allowed, or why not.
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let found = (self.lookup)(host.to_owned())
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?;
        allowed_addresses(host, found, self.allowed)
    }
}

/// Every address of `host` when all are allowed: a name with one internal address among public
/// ones is refused whole, since the connection may go to any of them.
fn allowed_addresses(host: &str, found: Vec<IpAddr>, allowed: fn(IpAddr) -> bool) -> Result<Vec<IpAddr>, String> {
    if found.is_empty() {
        return Err(format!("{host} has no address"));
    }
    if let Some(refused) = found.iter().find(|ip| !allowed(**ip)) {
        return Err(format!("{host} resolves to {refused}, a loopback or private address"));
    }
    Ok(found)
}

impl reqwest::dns::Resolve for DestinationResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = resolver.addresses(&host).await?;
            // Port 0: reqwest puts the URL's port in.
            let addrs: reqwest::dns::Addrs = Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// POSTs `body` to `url` signed as Standard Webhooks describes, and returns the answer's status
/// code. The answer's body is never read (nothing is kept of it): the response is dropped once
/// its status is known, and hyper closes a connection whose body was not read rather than
/// draining it, so a receiver cannot make Cohort download anything.
pub(crate) async fn post_signed(
    client: &reqwest::Client,
    allow_private: bool,
    url: &str,
    secret: &str,
    msg_id: &str,
    body: String,
) -> Result<i32, (Option<i32>, String)> {
    // The resolver checks names; an address written in the URL is checked here, again at each
    // send since the rules may have tightened after the URL was saved.
    check_url(url, allow_private).map_err(|e| (None, format!("the URL {e}")))?;
    let timestamp = chrono::Utc::now().timestamp();
    let signature = sign(secret, msg_id, timestamp, &body);
    let response = client
        .post(url)
        .timeout(TIMEOUT)
        .header("content-type", "application/json")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| (None, format!("no answer: {}", with_causes(&e))))?;
    let status = response.status();
    drop(response);
    if status.is_success() {
        Ok(i32::from(status.as_u16()))
    } else {
        Err((Some(i32::from(status.as_u16())), format!("answered {status}")))
    }
}

/// An error and its causes: reqwest's own message names only the URL, the cause says why (a
/// refused address, a timeout, a refused connection).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

fn check_events(problems: &mut Problems, events: &[String]) {
    for (i, event) in events.iter().enumerate() {
        problems.check(&format!("event_types[{i}]"), check_event_type(event));
    }
}

/// Records an event for every enabled endpoint that wants it, in the caller's
/// transaction, and queues the deliveries. Returns the delivery ids.
pub fn publish(conn: &mut DbConn, org: Uuid, event_type: &str, data: Value) -> Result<Vec<String>, ApiError> {
    let body = json!({"type": event_type, "timestamp": chrono::Utc::now().to_rfc3339(), "data": data}).to_string();
    let mut ids = Vec::new();
    for endpoint in subscribers(conn, org, event_type)? {
        ids.push(record_delivery(conn, org, &endpoint.id, event_type, &body)?.id);
    }
    Ok(ids)
}

/// Publishes recorded events to the endpoints that want them, in the recording transaction: one
/// query for each organisation's endpoints, then a delivery per endpoint and event.
pub fn publish_events(conn: &mut DbConn, events: &[&crate::events::EventRow]) -> Result<(), ApiError> {
    let mut endpoints_of: std::collections::HashMap<String, Vec<EndpointRow>> = std::collections::HashMap::new();
    for event in events {
        if !cohort_domain::webhooks::EVENT_TYPES.contains(&event.event_type.as_str()) {
            continue;
        }
        if !endpoints_of.contains_key(&event.organization_id) {
            let endpoints = repo::enabled_endpoints(conn, &event.organization_id)?;
            endpoints_of.insert(event.organization_id.clone(), endpoints);
        }
        let wanted: Vec<String> = endpoints_of[&event.organization_id]
            .iter()
            .filter(|e| {
                let types = e.events();
                types.is_empty() || types.contains(&event.event_type)
            })
            .map(|e| e.id.clone())
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let body = json!({
            "type": event.event_type,
            "timestamp": db::utc(event.occurred_at).to_rfc3339(),
            "data": {
                "event_id": event.id,
                "program_id": event.program_id,
                "person_id": event.person_id,
                "payload": serde_json::from_str::<Value>(&event.payload).unwrap_or(Value::Null),
            },
        })
        .to_string();
        let org = db::id(&event.organization_id);
        for endpoint in wanted {
            record_delivery(conn, org, &endpoint, &event.event_type, &body)?;
        }
    }
    Ok(())
}

/// The enabled endpoints that receive `event_type`.
fn subscribers(conn: &mut DbConn, org: Uuid, event_type: &str) -> Result<Vec<EndpointRow>, ApiError> {
    Ok(repo::enabled_endpoints(conn, &org.to_string())?
        .into_iter()
        .filter(|e| {
            let events = e.events();
            events.is_empty() || events.iter().any(|t| t == event_type)
        })
        .collect())
}

/// Whether any enabled endpoint receives `event_type` (bulk senders skip the work otherwise).
pub fn subscribed(conn: &mut DbConn, org: Uuid, event_type: &str) -> Result<bool, ApiError> {
    Ok(!subscribers(conn, org, event_type)?.is_empty())
}

/// Logs a pending delivery of `body` to one endpoint and queues its sending.
fn record_delivery(
    conn: &mut DbConn,
    org: Uuid,
    endpoint: &str,
    event_type: &str,
    body: &str,
) -> Result<DeliveryRow, ApiError> {
    let delivery = DeliveryRow {
        id: db::new_id(),
        organization_id: org.to_string(),
        endpoint_id: endpoint.to_owned(),
        event_type: event_type.to_owned(),
        body: body.to_owned(),
        status: "pending".into(),
        attempts: 0,
        last_status_code: None,
        last_error: None,
        created_at: db::now(),
        delivered_at: None,
    };
    repo::insert_delivery(conn, &delivery)?;
    queue(conn, org, &delivery.id, &delivery.id)?;
    Ok(delivery)
}

fn queue(conn: &mut DbConn, org: Uuid, delivery: &str, dedupe: &str) -> Result<bool, ApiError> {
    jobs::enqueue(
        conn,
        NewJob {
            organization_id: Some(org),
            dedupe_key: Some(format!("webhook:{dedupe}")),
            ..NewJob::now(JOB_KIND, json!({"delivery_id": delivery}))
        },
    )
}

/// The `webhook` job: send one delivery, record the answer, and on the last failed
/// attempt count the failure against the endpoint (turning it off after too many).
pub async fn deliver(db: Db, client: reqwest::Client, allow_private: bool, job: Job) -> Result<(), String> {
    let input: Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let id = input["delivery_id"]
        .as_str()
        .ok_or("webhook job without delivery")?
        .to_owned();
    let found = {
        let id = id.clone();
        db.read(move |conn| repo::delivery_with_endpoint(conn, &id))
            .await
            .map_err(|e| e.to_string())?
    };
    let Some((delivery, endpoint)) = found else {
        return Ok(());
    };
    if delivery.status == "succeeded" {
        return Ok(());
    }
    let attempt = if endpoint.enabled {
        post_signed(
            &client,
            allow_private,
            &endpoint.url,
            &endpoint.secret,
            &message_id(&delivery.id),
            delivery.body.clone(),
        )
        .await
    } else {
        Err((None, "the endpoint is disabled".to_owned()))
    };
    let last_try = job.attempts >= job.max_attempts || !endpoint.enabled;
    let outcome = attempt.clone();
    db.write(move |conn| {
        let (status, code, error) = match &outcome {
            Ok(code) => ("succeeded", Some(*code), None),
            Err((code, error)) => (if last_try { "failed" } else { "pending" }, *code, Some(error.clone())),
        };
        repo::record_attempt(conn, &delivery.id, status, code, error, outcome.is_ok().then(db::now))?;
        if outcome.is_ok() {
            repo::reset_failures(conn, &endpoint.id)?;
        } else if last_try && endpoint.enabled {
            let reason =
                format!("turned off after {DISABLE_AFTER_FAILED_DELIVERIES} deliveries in a row failed every retry");
            repo::count_failure(conn, &endpoint.id, DISABLE_AFTER_FAILED_DELIVERIES, &reason)?;
        }
        Ok(())
    })
    .await
    .map_err(|e| e.to_string())?;
    match attempt {
        Ok(_) => Ok(()),
        // A disabled endpoint or a refused destination will not get better by retrying.
        Err(_) if !endpoint.enabled => Ok(()),
        Err((_, error)) => Err(error),
    }
}

/// The organisation's webhook endpoints.
#[utoipa::path(
    tag = "webhooks",
    responses(
        (status = 200, description = "The endpoints", body = WebhookEndpointList),
        (status = 403, description = "Not an admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<WebhookEndpointList>, ApiError> {
    caller.require_admin()?;
    let org = caller.org;
    let rows: Vec<EndpointRow> = state.db.read(move |conn| repo::endpoints(conn, org)).await?;
    Ok(web::Json(WebhookEndpointList {
        items: rows.into_iter().map(EndpointRow::into_api).collect(),
    }))
}

/// Adds an endpoint. The response shows its signing secret, once.
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "The endpoint and its secret", body = CreatedWebhook),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Invalid URL (or a private address) or unknown event types", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    Body(input): Body<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let mut problems = Problems::default();
    let url = check_url(&input.url, state.allow_private_webhooks)
        .map_err(|e| problems.push("url", e))
        .ok();
    let description = problems.check("description", cohort_domain::bounded_text(&input.description, 0, 500));
    check_events(&mut problems, &input.event_types);
    problems.finish()?;
    let (Some(url), Some(description)) = (url, description) else {
        unreachable!("problems.finish() returned early")
    };
    let now = db::now();
    let row = EndpointRow {
        id: db::new_id(),
        organization_id: caller.org.to_string(),
        url,
        description,
        secret: new_secret(),
        event_types: serde_json::to_string(&input.event_types).map_err(|e| ApiError::Internal(e.to_string()))?,
        enabled: true,
        failure_count: 0,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    };
    let actor = caller.actor();
    let created = state
        .db
        .write(move |conn| {
            repo::insert_endpoint(conn, &row)?;
            let created = CreatedWebhook {
                secret: row.secret.clone(),
                endpoint: row.into_api(),
            };
            // The signing secret is left out of the log (`secret` is a secret field).
            audit::record(
                conn,
                &actor,
                "webhook.created",
                ("webhook", created.endpoint.id),
                audit::NONE,
                &created,
            )?;
            Ok(created)
        })
        .await?;
    Ok(crate::idempotency::secrets::holding_secrets(
        HttpResponse::Created().json(created),
        &["secret"],
    ))
}

/// One endpoint.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpoint),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such endpoint in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<web::Json<WebhookEndpoint>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    Ok(web::Json(
        state
            .db
            .read(move |conn| Ok(repo::get_endpoint(conn, org, id)?.into_api()))
            .await?,
    ))
}

/// Changes an endpoint; turning it on again clears its failure count.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id")),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "The endpoint after the change", body = WebhookEndpoint),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such endpoint in this organisation", body = Problem),
        (status = 422, description = "Invalid URL or unknown event types", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    Body(changes): Body<UpdateWebhook>,
) -> Result<web::Json<WebhookEndpoint>, ApiError> {
    caller.require_admin()?;
    let mut problems = Problems::default();
    let url = changes.url.as_deref().and_then(|u| {
        check_url(u, state.allow_private_webhooks)
            .map_err(|e| problems.push("url", e))
            .ok()
    });
    let description = changes
        .description
        .as_deref()
        .and_then(|d| problems.check("description", cohort_domain::bounded_text(d, 0, 500)));
    if let Some(events) = &changes.event_types {
        check_events(&mut problems, events);
    }
    problems.finish()?;
    let events = changes
        .event_types
        .map(|e| serde_json::to_string(&e))
        .transpose()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    let updated = state
        .db
        .write(move |conn| {
            let mut row = repo::get_endpoint(conn, org, id)?;
            let before = row.clone().into_api();
            row.url = url.unwrap_or(row.url);
            row.description = description.unwrap_or(row.description);
            row.event_types = events.unwrap_or(row.event_types);
            if let Some(enabled) = changes.enabled {
                if enabled && !row.enabled {
                    row.failure_count = 0;
                    row.disabled_reason = None;
                }
                row.enabled = enabled;
            }
            row.updated_at = db::now();
            repo::update_endpoint(conn, &row)?;
            let after = row.into_api();
            audit::record(conn, &actor, "webhook.updated", ("webhook", id), &before, &after)?;
            Ok(after)
        })
        .await?;
    Ok(web::Json(updated))
}

/// Deletes an endpoint and its delivery log.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such endpoint in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    state
        .db
        .write(move |conn| {
            let row = repo::get_endpoint(conn, org, id)?;
            repo::delete_endpoint(conn, &row.id)?;
            audit::record(
                conn,
                &actor,
                "webhook.deleted",
                ("webhook", id),
                row.into_api(),
                audit::NONE,
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The endpoint's delivery log, newest first.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id"), PageQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = WebhookDeliveryPage),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such endpoint in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    page: PageRequest,
) -> Result<web::Json<WebhookDeliveryPage>, ApiError> {
    caller.require_admin()?;
    let (org, id) = (caller.org, id.into_inner());
    let (rows, next_cursor) = state
        .db
        .read(move |conn| {
            let endpoint = repo::get_endpoint(conn, org, id)?;
            let rows = repo::deliveries_page(conn, &endpoint.id, page.after.as_deref(), page.fetch())?;
            Ok(page.finish(rows, |r: &DeliveryRow| db::id(&r.id)))
        })
        .await?;
    Ok(web::Json(WebhookDeliveryPage {
        items: rows.into_iter().map(DeliveryRow::into_api).collect(),
        next_cursor,
    }))
}

/// Sends a `webhook.test` event to this endpoint (even if it subscribes to other events only).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The endpoint's id")),
    responses(
        (status = 202, description = "The test delivery is queued", body = WebhookDelivery),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such endpoint in this organisation", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/webhooks/{id}/test")]
pub async fn send_test_event(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, id, actor) = (caller.org, id.into_inner(), caller.actor());
    let delivery = state
        .db
        .write(move |conn| {
            let endpoint = repo::get_endpoint(conn, org, id)?;
            audit::record(
                conn,
                &actor,
                "webhook.test_sent",
                ("webhook", id),
                audit::NONE,
                audit::NONE,
            )?;
            let body = json!({"type": "webhook.test", "timestamp": chrono::Utc::now().to_rfc3339(),
                              "data": {"message": "Test event from Cohort"}})
            .to_string();
            Ok(record_delivery(conn, org, &endpoint.id, "webhook.test", &body)?.into_api())
        })
        .await?;
    Ok(HttpResponse::Accepted().json(delivery))
}

/// Sends a delivery again, with the same `webhook-id` (receivers drop repeats they already handled).
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "The endpoint's id"),
        ("delivery_id" = Uuid, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "Queued again", body = WebhookDelivery),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such delivery of this endpoint", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let (org, (id, delivery_id), actor) = (caller.org, path.into_inner(), caller.actor());
    let delivery = state
        .db
        .write(move |conn| {
            let endpoint = repo::get_endpoint(conn, org, id)?;
            let after = json!({"delivery_id": delivery_id});
            audit::record(conn, &actor, "webhook.redelivered", ("webhook", id), audit::NONE, after)?;
            let row = repo::get_delivery(conn, &endpoint.id, delivery_id)?;
            repo::mark_pending(conn, &row.id)?;
            queue(conn, org, &row.id, &format!("{}:again:{}", row.id, db::new_id()))?;
            Ok(DeliveryRow {
                status: "pending".into(),
                ..row
            }
            .into_api())
        })
        .await?;
    Ok(HttpResponse::Accepted().json(delivery))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime builds")
            .block_on(future)
    }

    /// A one-request-at-a-time HTTP server on `ip`: answers 200 and counts the requests.
    fn server(ip: Ipv4Addr, port: u16) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind((ip, port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        (port, seen)
    }

    /// A lookup that answers `first` once and `later` ever after, counting its calls.
    fn rebinding(first: IpAddr, later: IpAddr) -> (Lookup, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let lookup: Lookup = Arc::new(move |_host| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok(vec![if n == 0 { first } else { later }]) })
        });
        (lookup, calls)
    }

    #[test]
    fn a_name_that_rebinds_is_connected_to_where_it_was_checked() {
        // 127.0.0.1 plays the internal address, 127.0.0.2 the public one: both are on this
        // machine, so the test sees which one the connection reached.
        let (checked, internal) = (Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 1));
        let (port, reached_internal) = server(internal, 0);
        let (_, reached_checked) = server(checked, port);
        let (lookup, lookups) = rebinding(checked.into(), internal.into());
        let resolver = DestinationResolver::new(lookup, |ip| ip != IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)));
        let client = build_client(resolver, None).unwrap();
        let code = block_on(post_signed(
            &client,
            true,
            &format!("http://rebind.test:{port}/hook"),
            &new_secret(),
            "msg_1",
            "{}".into(),
        ))
        .unwrap();
        assert_eq!(code, 200);
        assert_eq!(lookups.load(Ordering::SeqCst), 1, "one lookup, no second one to rebind");
        assert_eq!(reached_checked.load(Ordering::SeqCst), 1);
        assert_eq!(
            reached_internal.load(Ordering::SeqCst),
            0,
            "the second answer (loopback) is never connected to"
        );
    }

    #[test]
    fn a_name_resolving_to_loopback_is_refused_before_connecting() {
        let (port, reached) = server(Ipv4Addr::LOCALHOST, 0);
        let refused = block_on(DestinationResolver::system(false).addresses("localhost")).unwrap_err();
        assert!(refused.contains("loopback or private"), "{refused}");
        // Through the client itself (check_url would refuse `localhost` first, so not post_signed).
        let client = client(false, None).unwrap();
        let error = block_on(client.get(format!("http://localhost:{port}/")).send()).unwrap_err();
        assert!(
            with_causes(&error).contains("loopback or private"),
            "{}",
            with_causes(&error)
        );
        assert_eq!(reached.load(Ordering::SeqCst), 0);
        // Allowed, the same request gets through.
        let allowed = block_on(
            super::client(true, None)
                .unwrap()
                .get(format!("http://localhost:{port}/"))
                .send(),
        );
        assert_eq!(allowed.unwrap().status(), 200);
    }

    #[test]
    fn one_internal_address_among_public_ones_refuses_the_name() {
        let public: IpAddr = "93.184.216.34".parse().unwrap();
        let internal: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(allowed_addresses("a.test", vec![public], is_public), Ok(vec![public]));
        let refused = allowed_addresses("a.test", vec![public, internal], is_public).unwrap_err();
        assert!(refused.contains("10.0.0.1"), "{refused}");
        assert!(allowed_addresses("a.test", vec![], is_public).is_err());
    }

    #[test]
    fn an_address_in_the_url_is_checked_at_each_send() {
        let (port, reached) = server(Ipv4Addr::LOCALHOST, 0);
        let client = client(false, None).unwrap();
        for url in [
            format!("http://127.0.0.1:{port}/"),
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            "http://[64:ff9b::7f00:1]/".to_owned(),
        ] {
            let (code, error) =
                block_on(post_signed(&client, false, &url, &new_secret(), "msg_1", "{}".into())).unwrap_err();
            assert_eq!(code, None);
            assert!(error.contains("loopback or private"), "{url}: {error}");
        }
        assert_eq!(reached.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn proxy_variables_of_the_environment_are_not_used() {
        // A client built while HTTP_PROXY names a closed port still connects directly (nextest
        // runs each test in its own process, so the variable reaches no other test).
        let (port, reached) = server(Ipv4Addr::LOCALHOST, 0);
        std::env::set_var("HTTP_PROXY", "http://127.0.0.1:9");
        let client = client(true, None).unwrap();
        std::env::remove_var("HTTP_PROXY");
        let answer = block_on(client.get(format!("http://127.0.0.1:{port}/")).send()).unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(reached.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_configured_proxy_carries_every_request() {
        // The "proxy" is a plain server: a proxied request reaches it whatever the URL says.
        let (port, reached) = server(Ipv4Addr::LOCALHOST, 0);
        let proxy = url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let client = client(false, Some(&proxy)).unwrap();
        let answer = block_on(client.get("http://hooks.example.org/x").send()).unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(reached.load(Ordering::SeqCst), 1);
    }
}
