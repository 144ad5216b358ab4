//! Who is calling: the `Caller` extractor authenticates every protected
//! request and carries the organisation that scopes everything it touches.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use cohort_domain::auth::{scopes_allow, Area};
use uuid::Uuid;

use crate::error::ApiError;
use crate::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Password,
    ApiKey(Uuid),
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub org: Uuid,
    /// The person logged in, or the API key's creator.
    pub person: Uuid,
    pub is_admin: bool,
    pub via: Via,
    /// The request came from the admin dashboard (`X-Cohort-Client: dashboard` with a bearer
    /// token). Only the audit log's `source` reads it: it grants nothing.
    pub dashboard: bool,
}

impl Caller {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden("This needs an organisation admin."))
        }
    }

    /// Who the audit log says made a change in this request.
    pub fn actor(&self) -> crate::audit::Actor {
        use cohort_domain::audit::Source;
        let (api_key, source) = match self.via {
            Via::ApiKey(key) => (Some(key), Source::ApiKey),
            Via::Password if self.dashboard => (None, Source::Dashboard),
            Via::Password => (None, Source::ApiKey),
        };
        crate::audit::Actor {
            org: self.org,
            person: Some(self.person),
            api_key,
            source,
            // Read while the request is handled: the request id lives in the request's task.
            request_id: crate::request_id::current(),
        }
    }

    /// Refuses API keys with `why`: they act for an admin, not as a person, so they have no
    /// password, profile or logins of their own.
    pub fn require_person(&self, why: &'static str) -> Result<(), ApiError> {
        match self.via {
            Via::Password => Ok(()),
            Via::ApiKey(_) => Err(ApiError::Forbidden(why)),
        }
    }

    /// API keys act for the organisation but cannot mint or revoke keys, nor set passwords or
    /// admin flags: a leaked key must not become a login.
    pub fn require_admin_session(&self) -> Result<(), ApiError> {
        self.require_admin()?;
        match self.via {
            Via::Password => Ok(()),
            Via::ApiKey(_) => Err(ApiError::Forbidden(
                "API keys cannot manage API keys, passwords or admin rights; log in as an admin.",
            )),
        }
    }
}

const INVALID_TOKEN: &str = "The access token is missing, invalid or expired.";

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Authenticated once per request: the idempotency middleware may have done it already.
        if let Some(caller) = req.extensions().get::<Caller>().cloned() {
            return Box::pin(async move { Ok(caller) });
        }
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return Box::pin(async { Err(ApiError::Internal("application state missing".into())) });
        };
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bearer = header("authorization").and_then(|h| {
            let (scheme, token) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
        });
        let api_key = header("x-api-key");
        // What an API key needs for this request: the route's area, and whether it writes.
        let area = req
            .path()
            .strip_prefix("/api/v1/")
            .and_then(|rest| rest.split('/').next())
            .and_then(Area::of_segment);
        let write = !matches!(
            *req.method(),
            actix_web::http::Method::GET | actix_web::http::Method::HEAD
        );
        let dashboard = crate::audit::from_dashboard(req);
        Box::pin(async move {
            if let Some(token) = bearer {
                let claims = state.jwt.verify(&token).ok_or(ApiError::Unauthorized(INVALID_TOKEN))?;
                state.limits.per_person.check(&claims.sub.to_string())?;
                return Ok(Caller {
                    org: claims.org,
                    person: claims.sub,
                    is_admin: claims.adm,
                    via: Via::Password,
                    dashboard,
                });
            }
            if let Some(secret) = api_key {
                let (caller, scopes) = super::repo::caller_for_api_key(&state.db, secret.trim().to_owned())
                    .await?
                    .ok_or(ApiError::Unauthorized("The API key is unknown, expired or revoked."))?;
                if let Via::ApiKey(id) = caller.via {
                    state.limits.api_key.check(&id.to_string())?;
                }
                if !scopes_allow(&scopes, area, write) {
                    return Err(ApiError::Forbidden("This API key's scopes do not cover this request."));
                }
                return Ok(caller);
            }
            Err(ApiError::Unauthorized(
                "Send `Authorization: Bearer <access token>` or `X-Api-Key: <key>`.",
            ))
        })
    }
}
