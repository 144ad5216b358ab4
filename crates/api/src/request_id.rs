//! A request id per request: in the log span, the `x-request-id` response
//! header, and every problem body, so a user's report finds the log lines.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, if called while handling one.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Where a path is itself a secret (a calendar feed's address), the log keeps only its route.
const SECRET_PATHS: [&str; 1] = ["/api/v1/calendar/"];

/// The path as the log may show it.
fn loggable(path: &str) -> &str {
    SECRET_PATHS
        .iter()
        .find(|prefix| path.starts_with(*prefix))
        .map_or(path, |prefix| &prefix[..prefix.len() - 1])
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = uuid::Uuid::now_v7().to_string();
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %loggable(req.path()));
    let started = std::time::Instant::now();
    let mut response = REQUEST_ID
        .scope(id.clone(), next.call(req))
        .instrument(span.clone())
        .await?;
    let status = response.status().as_u16();
    span.in_scope(|| tracing::info!(status, micros = started.elapsed().as_micros() as u64, "done"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    #[test]
    fn calendar_feed_tokens_stay_out_of_the_log() {
        assert_eq!(super::loggable("/api/v1/calendar/cal_s3cret.ics"), "/api/v1/calendar");
        assert_eq!(super::loggable("/api/v1/programs/1"), "/api/v1/programs/1");
    }
}
