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

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|e, req| {
        let table = req.app_data::<web::Data<crate::app::RouteTable>>();
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
}
