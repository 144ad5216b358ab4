//! The one error type of the API and its RFC 9457 problem responses.
//! What the client sees is decided here, exhaustively; causes of internal
//! errors go to the log with the request id, never to the client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use cohort_api_types::{FieldError, Problem};
use cohort_domain::Invalid;

use crate::request_id;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid input: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// It existed, and no longer works (a used or expired one-time link).
    #[error("gone: {0}")]
    Gone(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed(Vec<&'static str>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// Over a rate limit; the client may retry after this many seconds.
    #[error("rate limited for {0} s")]
    RateLimited(u64),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn invalid(field: impl Into<String>, invalid: Invalid) -> Self {
        Self::field(field, invalid.0)
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::Validation(_) => ("validation", "Invalid input"),
            Self::BadRequest(_) => ("bad-request", "Bad request"),
            Self::Unauthorized(_) => ("unauthorized", "Authentication required"),
            Self::Forbidden(_) => ("forbidden", "Not allowed"),
            Self::NotFound => ("not-found", "Not found"),
            Self::Gone(_) => ("gone", "No longer available"),
            Self::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::PayloadTooLarge(_) => ("payload-too-large", "Request body too large"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Self::RateLimited(_) => ("rate-limited", "Too many requests"),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::Internal(_) => ("internal", "Internal error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (kind, title) = self.kind_and_title();
        let detail = match self {
            Self::Validation(errors) if errors.len() == 1 => {
                Some(format!("{}: {}", errors[0].field, errors[0].message))
            }
            Self::Validation(errors) => Some(format!("{} fields are invalid", errors.len())),
            Self::BadRequest(m) | Self::Conflict(m) | Self::PayloadTooLarge(m) | Self::UnsupportedMediaType(m) => {
                Some(m.clone())
            }
            Self::Unauthorized(m) | Self::Forbidden(m) | Self::Gone(m) => Some((*m).to_owned()),
            Self::NotFound => Some("No such object in this organisation.".to_owned()),
            Self::MethodNotAllowed(allowed) => Some(format!("Allowed: {}", allowed.join(", "))),
            Self::RateLimited(seconds) => Some(format!("Too many requests; retry in {seconds} s.")),
            Self::Unavailable(_) => Some("The database is not reachable.".to_owned()),
            Self::Internal(_) => {
                Some("Something went wrong on our side; quote the request id when reporting it.".into())
            }
        };
        Problem {
            kind: format!("https://cohort.example/problems/{kind}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail,
            request_id: request_id::current(),
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Gone(_) => StatusCode::GONE,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) | Self::Unavailable(cause) => tracing::error!(%cause, "request failed"),
            _ => tracing::debug!(error = %self, "request refused"),
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match self {
            Self::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::MethodNotAllowed(allowed) => {
                response.insert_header((header::ALLOW, allowed.join(", ")));
            }
            Self::RateLimited(seconds) => {
                response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => Self::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Conflict("An object with the same unique value already exists.".into())
            }
            // Something the request refers to was deleted meanwhile (by another request, or the
            // caller's own account while its token is still valid): a conflict, not our failure.
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                tracing::warn!(cause = info.message(), "write refers to a deleted object");
                Self::Conflict("The request refers to an object that no longer exists.".into())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// Collects field errors so a request reports every invalid field at once.
#[derive(Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    /// Keeps the value if it parsed, or records why not under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, Invalid>) -> Option<T> {
        result.map_err(|e| self.0.push(FieldError::new(field, e.0))).ok()
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}
