//! Extractors whose failures are problem JSON with field paths, instead of
//! actix's plain-text defaults.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest JSON body accepted.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// A JSON request body. Malformed JSON is a 400; a well-formed body of the
/// wrong shape (unknown field, wrong type, missing field) is a 422 naming the field.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            let message = format!("send the body as application/json, not \"{content_type}\"");
            return Box::pin(async move { Err(ApiError::UnsupportedMediaType(message)) });
        }
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(format!("the body may have at most {MAX_JSON_BYTES} bytes"))
                } else {
                    ApiError::BadRequest(format!("cannot read the body: {e}"))
                }
            })?;
            parse_json(&bytes).map(Body)
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every body is an object; serde would also read a struct from an array of its fields.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(e) => Err(ApiError::BadRequest(format!("the body is not valid JSON: {e}"))),
            Ok(_) => Err(ApiError::field("body", "must be a JSON object")),
        };
    }
    // PostgreSQL text cannot hold U+0000 (a 500 there, found by schemathesis); JSON can only carry
    // it escaped, so bodies without that escape skip the walk.
    if bytes.windows(6).any(|w| w == b"\\u0000") {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if let Some(field) = nul_at(&value, String::new()) {
                let field = if field.is_empty() { "body".to_owned() } else { field };
                return Err(ApiError::field(field, "must not contain the NUL character (\\u0000)"));
            }
        }
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest(format!("the body is not valid JSON: {inner}"));
        }
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        // serde's message ends with " at line L column C", which adds nothing next to a field path.
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        ApiError::field(field, message)
    })
}

/// The path (`participants[0].name`, as serde_path_to_error writes it) of the first string or
/// object key holding U+0000.
fn nul_at(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let at = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                Some(at)
            } else {
                nul_at(item, at)
            }
        }),
        _ => None,
    }
}

/// A query parameter holding U+0000 (`%00`) is a 400 before any handler runs: PostgreSQL
/// cannot compare text with it, and no parameter of this API has a use for it.
pub async fn reject_nul_in_query(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if req.query_string().contains("%00") {
        return Err(
            ApiError::BadRequest("invalid query parameter: must not contain the NUL character (%00)".into()).into(),
        );
    }
    next.call(req).await
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|e, req| {
        let table = req.app_data::<web::Data<RouteTable>>();
        let shadowed = table
            .zip(req.match_pattern())
            .and_then(|(t, p)| t.shadowed(req.path(), &p));
        match shadowed {
            Some(allowed) => ApiError::MethodNotAllowed(allowed).into(),
            None => ApiError::BadRequest(format!("invalid path parameter: {e}")).into(),
        }
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|e, _| ApiError::BadRequest(format!("invalid query parameter: {e}")).into())
}

pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(MAX_JSON_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        tags: Vec<u8>,
    }

    fn field_of(e: ApiError) -> String {
        match e {
            ApiError::Validation(errors) => errors[0].field.clone(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn shape_errors_name_the_field_and_syntax_errors_are_bad_requests() {
        assert!(parse_json::<Sample>(br#"{"name": "a", "tags": [1]}"#).is_ok());
        assert_eq!(
            field_of(parse_json::<Sample>(br#"{"name": "a", "tags": [1, "x"]}"#).unwrap_err()),
            "tags[1]"
        );
        assert_eq!(
            field_of(parse_json::<Sample>(br#"{"name": "a", "tags": [], "x": 1}"#).unwrap_err()),
            "x"
        );
        assert_eq!(field_of(parse_json::<Sample>(br#"["a", [1]]"#).unwrap_err()), "body");
        assert!(matches!(
            parse_json::<Sample>(br#"{"name""#),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Sample>(b"nonsense"),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn the_nul_character_is_refused_where_it_is() {
        assert_eq!(
            field_of(parse_json::<Sample>(br#"{"name": "a\u0000b", "tags": []}"#).unwrap_err()),
            "name"
        );
        let value: serde_json::Value =
            serde_json::from_slice(br#"{"a": [{"ok": "x"}, {"b": "\u0000"}], "c": {"k\u0000": 1}}"#).unwrap();
        assert_eq!(nul_at(&value, String::new()).as_deref(), Some("a[1].b"));
        let value: serde_json::Value = serde_json::from_slice(br#"{"c": {"k\u0000": 1}}"#).unwrap();
        assert_eq!(nul_at(&value, String::new()).as_deref(), Some("c.k\0"));
        // An escaped backslash followed by "u0000" is six plain characters, not NUL.
        assert!(parse_json::<Sample>(br#"{"name": "a\\u0000", "tags": []}"#).is_ok());
    }
}

/// Path templates and their methods, to tell a wrong method (405) from an unknown path (404).
#[derive(Clone)]
pub struct RouteTable(Vec<(Vec<String>, Vec<&'static str>)>);

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let methods = |item: &utoipa::openapi::PathItem| {
            let mut m = Vec::new();
            for (name, op) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ] {
                if op.is_some() {
                    m.push(name);
                }
            }
            m
        };
        Self(
            doc.paths
                .paths
                .iter()
                .map(|(path, item)| (path.split('/').map(str::to_owned).collect(), methods(item)))
                .collect(),
        )
    }

    /// The methods of the template that matches `path` most specifically: `…/participants/bulk`
    /// is its own resource, not a `…/participants/{participant_id}`.
    pub fn allowed(&self, path: &str) -> Option<Vec<&'static str>> {
        self.most_specific(path).map(|(_, methods)| methods.clone())
    }

    fn most_specific(&self, path: &str) -> Option<&(Vec<String>, Vec<&'static str>)> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        self.0
            .iter()
            .filter(|(template, _)| {
                template.len() == segments.len()
                    && template
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| t.starts_with('{') || t == s)
            })
            .max_by_key(|(template, _)| literal_segments(template.iter().map(String::as_str)))
    }

    /// When actix took a request to a route with a parameter (`…/{participant_id}`) although
    /// the path names a literal resource beside it (`…/bulk`) that lacks the request's method:
    /// the methods of that resource, for a 405 instead of a 400 about an unparsable id.
    pub fn shadowed(&self, path: &str, matched_pattern: &str) -> Option<Vec<&'static str>> {
        let (template, methods) = self.most_specific(path)?;
        let matched = literal_segments(matched_pattern.trim_end_matches('/').split('/'));
        (literal_segments(template.iter().map(String::as_str)) > matched).then(|| methods.clone())
    }
}

fn literal_segments<'a>(template: impl Iterator<Item = &'a str>) -> usize {
    template.filter(|t| !t.starts_with('{')).count()
}
