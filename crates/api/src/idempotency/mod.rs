//! `Idempotency-Key` on every authenticated `POST`: mobile apps retry on flaky
//! networks, and a retry must not create a second object.
//!
//! The first request with a key (per organisation and caller) claims it in the
//! database before the handler runs, and stores the answer after; a request with
//! the same key and the same method, path and body within 24 hours gets that
//! answer back (with `Idempotency-Replayed: true`) and writes nothing. The same
//! key with another request is a 422. A request arriving while the first still
//! runs waits for its answer (10 s at most, then a 409 to retry).
//!
//! Server errors and 429s are not stored: the key is released so a retry runs
//! again. A process that dies mid-request leaves its claim, which lapses after
//! `repo::LEASE`; the next retry then runs the request. The handler's write and
//! the stored answer are two transactions, so a crash exactly between them lets
//! that retry write a second time: the one case this does not cover.

pub mod repo;
pub mod secrets;

use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use sha2::{Digest, Sha256};

use crate::auth::{Caller, Via};
use crate::error::ApiError;
use crate::AppState;
use repo::{Claim, Scope, Stored};
use secrets::{redact, HoldsSecrets};

pub const HEADER: &str = "Idempotency-Key";
pub const REPLAYED_HEADER: &str = "Idempotency-Replayed";
pub const MAX_KEY_CHARS: usize = 255;
/// How long a request waits for the key's first request to answer.
const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(25);

fn pass(res: ServiceResponse<impl MessageBody + 'static>) -> ServiceResponse<BoxBody> {
    res.map_into_boxed_body()
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // CSV uploads are idempotent by design (a repeated file changes nothing) and larger than
    // the JSON bodies the keys store.
    if req.method() != Method::POST || !req.headers().contains_key(HEADER) || req.path().starts_with("/api/v1/imports/")
    {
        return next.call(req).await.map(pass);
    }
    // Anonymous requests (logging in) keep no keys; a failed authentication is the handler's 401.
    let Ok(caller) = req.extract::<Caller>().await else {
        return next.call(req).await.map(pass);
    };
    req.extensions_mut().insert(caller.clone());
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(pass);
    };
    let key = match req.headers().get(HEADER).map(|v| v.to_str()) {
        Some(Ok(k)) if (1..=MAX_KEY_CHARS).contains(&k.trim().len()) => k.trim().to_owned(),
        _ => {
            return Ok(req.error_response(ApiError::BadRequest(format!(
                "the {HEADER} header must have 1 to {MAX_KEY_CHARS} visible ASCII characters"
            ))))
        }
    };
    let body = match req.extract::<web::Bytes>().await {
        Ok(body) => body,
        Err(e) => {
            let error = if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(format!(
                    "the body may have at most {} bytes",
                    crate::extract::MAX_JSON_BYTES
                ))
            } else {
                ApiError::BadRequest(format!("cannot read the body: {e}"))
            };
            return Ok(req.error_response(error));
        }
    };
    req.set_payload(Payload::from(body.clone()));
    let hash = request_hash(req.method(), req.uri(), &body);
    let scope = Scope {
        org: caller.org.to_string(),
        caller: match caller.via {
            Via::Password => caller.person.to_string(),
            Via::ApiKey(id) => format!("api-key:{id}"),
        },
        key,
    };
    let held = match claim(&state, &scope, &hash).await {
        Ok(Ok(held)) => held,
        Ok(Err(response)) => return Ok(req.into_response(response)),
        Err(e) => return Ok(req.error_response(e)),
    };

    let res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            release(&state, held).await;
            return Err(e);
        }
    };
    let status = res.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT {
        release(&state, held).await;
        return Ok(pass(res));
    }
    let (http_req, res) = res.into_parts();
    let secrets = res.extensions().get::<HoldsSecrets>().copied();
    let (res, body) = res.into_parts();
    let bytes = match actix_web::body::to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(e) => {
            release(&state, held).await;
            let cause: Box<dyn std::error::Error> = e.into();
            let error = ApiError::Internal(format!("reading the response to store it: {cause}"));
            return Ok(ServiceResponse::new(
                http_req,
                actix_web::ResponseError::error_response(&error),
            ));
        }
    };
    let header_text = |name| res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let answer = Stored {
        status: status.as_u16(),
        content_type: header_text(header::CONTENT_TYPE),
        location: header_text(header::LOCATION),
        body: match secrets {
            Some(HoldsSecrets(fields)) => redact(&bytes, fields),
            None => bytes.to_vec(),
        },
    };
    match state.db.write(move |conn| repo::store(conn, &held, &answer)).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!("an idempotency key's lease ended before its request answered"),
        Err(e) => tracing::warn!(error = %e, "could not store the answer of an idempotency key"),
    }
    Ok(ServiceResponse::new(http_req, res.set_body(BoxBody::new(bytes))))
}

/// Claims the key, or waits for the request that holds it; `Err` carries the answer to send instead.
async fn claim(state: &AppState, scope: &Scope, hash: &str) -> Result<Result<repo::Held, HttpResponse>, ApiError> {
    let started = Instant::now();
    loop {
        let (s, h) = (scope.clone(), hash.to_owned());
        match state.db.write(move |conn| repo::claim(conn, &s, &h)).await? {
            Claim::Held(held) => return Ok(Ok(held)),
            Claim::Stored(stored) => return Ok(Err(replay(stored))),
            Claim::OtherRequest => {
                return Err(ApiError::field(
                    HEADER,
                    "was already used with another request (method, path or body); use a new key for a new request",
                ))
            }
            Claim::Running => loop {
                if started.elapsed() > WAIT {
                    return Err(ApiError::Conflict(format!(
                        "a request with this {HEADER} is still running; retry in a few seconds"
                    )));
                }
                actix_web::rt::time::sleep(POLL).await;
                let s = scope.clone();
                if !state.db.read(move |conn| repo::still_running(conn, &s)).await? {
                    break;
                }
            },
        }
    }
}

async fn release(state: &AppState, held: repo::Held) {
    if let Err(e) = state.db.write(move |conn| repo::release(conn, &held)).await {
        tracing::warn!(error = %e, "could not release an idempotency key; it lapses with its lease");
    }
}

fn replay(stored: Stored) -> HttpResponse {
    let mut response =
        HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    if let Some(content_type) = stored.content_type {
        response.insert_header((header::CONTENT_TYPE, content_type));
    }
    if let Some(location) = stored.location {
        response.insert_header((header::LOCATION, location));
    }
    response.insert_header((REPLAYED_HEADER, "true"));
    response.body(stored.body)
}

/// What makes two requests "the same": method, path with query, and body bytes.
fn request_hash(method: &Method, uri: &actix_web::http::Uri, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(uri.path_and_query().map_or(uri.path(), |p| p.as_str()).as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_differ_by_method_path_and_body() {
        let uri = |s: &str| s.parse::<actix_web::http::Uri>().unwrap();
        let a = request_hash(&Method::POST, &uri("/api/v1/people"), b"{\"name\":\"A\"}");
        assert_eq!(
            a,
            request_hash(&Method::POST, &uri("/api/v1/people"), b"{\"name\":\"A\"}")
        );
        assert_ne!(
            a,
            request_hash(&Method::POST, &uri("/api/v1/people"), b"{\"name\":\"B\"}")
        );
        assert_ne!(
            a,
            request_hash(&Method::POST, &uri("/api/v1/programs"), b"{\"name\":\"A\"}")
        );
        assert_ne!(
            a,
            request_hash(&Method::POST, &uri("/api/v1/people?x=1"), b"{\"name\":\"A\"}")
        );
    }
}
