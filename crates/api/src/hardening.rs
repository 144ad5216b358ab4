//! What browsers are told to enforce: the content security policy and other
//! security headers on every response, and CORS for the origins the operator
//! lists (`COHORT_ALLOWED_ORIGINS`; none by default, so only the dashboard's own
//! origin may call the API from a browser).

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Where Swagger UI is served; it styles its elements inline, so it gets a policy of its own.
pub const DOCS_PREFIX: &str = "/api/v1/docs";

/// The content security policies, worked out once at start-up.
pub struct SecurityHeaders {
    /// For the dashboard and every API response.
    main: HeaderValue,
    /// For Swagger UI.
    docs: HeaderValue,
}

impl SecurityHeaders {
    /// `pages`: the web apps' HTML pages, whose inline scripts are allowed by their hash.
    pub fn new(pages: &[String]) -> Self {
        let hashes: String = pages
            .iter()
            .flat_map(|page| inline_scripts(page))
            .map(|script| {
                format!(
                    " 'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
                )
            })
            .collect();
        // 'wasm-unsafe-eval' lets the page compile WebAssembly, and nothing else: no eval().
        let main = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
             img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        );
        let docs = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                    form-action 'self'; frame-ancestors 'none'";
        Self {
            // Built from base64 and fixed text: always a valid header value.
            main: HeaderValue::from_str(&main).expect("a CSP of ASCII text"),
            docs: HeaderValue::from_static(docs),
        }
    }

    pub fn policy_for(&self, path: &str) -> &HeaderValue {
        if path.starts_with(DOCS_PREFIX) {
            &self.docs
        } else {
            &self.main
        }
    }
}

/// The text of every `<script>` without a `src`, exactly as the browser hashes it.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let tag = &after[..open_end];
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</script") else { break };
        if !tag.contains("src=") && !body[..close].is_empty() {
            scripts.push(&body[..close]);
        }
        rest = &body[close..];
    }
    scripts
}

/// Adds the security headers to every response that does not set its own.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let policy = req
        .app_data::<web::Data<SecurityHeaders>>()
        .map(|h| h.policy_for(req.path()).clone());
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let mut set = |name: HeaderName, value: HeaderValue| {
        if !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    };
    if let Some(policy) = policy {
        set(header::CONTENT_SECURITY_POLICY, policy);
    }
    set(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    set(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    set(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    Ok(res)
}

/// CORS for the listed origins. Requests from other origins still reach the API (a
/// browser then refuses to show the answer to the page); their preflights are refused.
pub fn cors(allowed_origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static(crate::audit::CLIENT_HEADER),
        ])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("idempotency-replayed"),
        ])
        .block_on_origin_mismatch(false)
        .max_age(600);
    for origin in allowed_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_allowed_by_hash_and_nothing_else_is() {
        let html = r#"<head><script type="module">import init from "/app.js"; init();</script>
            <script src="/other.js"></script></head>"#;
        assert_eq!(inline_scripts(html), [r#"import init from "/app.js"; init();"#]);
        let headers = SecurityHeaders::new(&[html.to_owned()]);
        let policy = headers.policy_for("/").to_str().unwrap();
        let expected =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(br#"import init from "/app.js"; init();"#));
        assert!(policy.contains(&format!("'sha256-{expected}'")), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline") && !policy.contains("'unsafe-eval'"));
        assert!(headers
            .policy_for("/api/v1/docs/index.html")
            .to_str()
            .unwrap()
            .contains("'unsafe-inline'"));
        assert!(!SecurityHeaders::new(&[])
            .policy_for("/")
            .to_str()
            .unwrap()
            .contains("sha256"));
    }
}
