//! Every HTTP call of the dashboard, returning typed results.

use cohort_api_types::{LoginRequest, Me, Problem, RefreshRequest, TokenResponse};
use gloo_net::http::{Request, Response};
use gloo_storage::{SessionStorage, Storage};
use serde::de::DeserializeOwned;

const SESSION_KEY: &str = "cohort.session";

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered with a problem document.
    Problem(Problem),
    /// The session ended (or never began): log in again.
    SessionEnded,
    /// No answer from the server.
    Unreachable,
}

impl ApiError {
    pub fn message(&self) -> String {
        match self {
            Self::Problem(p) => p.detail.clone().unwrap_or_else(|| p.title.clone()),
            Self::SessionEnded => "Your session has ended; please log in again.".into(),
            Self::Unreachable => "The server cannot be reached. Check your connection and try again.".into(),
        }
    }
}

pub fn session() -> Option<TokenResponse> {
    SessionStorage::get(SESSION_KEY).ok()
}

fn save_session(tokens: &TokenResponse) {
    let _ = SessionStorage::set(SESSION_KEY, tokens);
}

pub fn clear_session() {
    SessionStorage::delete(SESSION_KEY);
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if response.ok() {
        response.json::<T>().await.map_err(|_| ApiError::Unreachable)
    } else {
        match response.json::<Problem>().await {
            Ok(problem) => Err(ApiError::Problem(problem)),
            Err(_) => Err(ApiError::Unreachable),
        }
    }
}

pub async fn login(request: &LoginRequest) -> Result<TokenResponse, ApiError> {
    let response = Request::post("/api/v1/auth/login")
        .json(request)
        .map_err(|_| ApiError::Unreachable)?
        .send()
        .await
        .map_err(|_| ApiError::Unreachable)?;
    let tokens: TokenResponse = read(response).await?;
    save_session(&tokens);
    Ok(tokens)
}

async fn refresh() -> Result<TokenResponse, ApiError> {
    let current = session().ok_or(ApiError::SessionEnded)?;
    let response = Request::post("/api/v1/auth/refresh")
        .json(&RefreshRequest {
            refresh_token: current.refresh_token,
        })
        .map_err(|_| ApiError::Unreachable)?
        .send()
        .await
        .map_err(|_| ApiError::Unreachable)?;
    match read::<TokenResponse>(response).await {
        Ok(tokens) => {
            save_session(&tokens);
            Ok(tokens)
        }
        Err(ApiError::Problem(_)) => {
            clear_session();
            Err(ApiError::SessionEnded)
        }
        Err(e) => Err(e),
    }
}

/// GETs `path` with the access token; on a 401 refreshes the tokens once and tries again.
async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let token = session().ok_or(ApiError::SessionEnded)?.access_token;
    let send = |token: String| async move {
        Request::get(path)
            .header("Authorization", &format!("Bearer {token}"))
            .send()
            .await
            .map_err(|_| ApiError::Unreachable)
    };
    let mut response = send(token).await?;
    if response.status() == 401 {
        response = send(refresh().await?.access_token).await?;
        if response.status() == 401 {
            clear_session();
            return Err(ApiError::SessionEnded);
        }
    }
    read(response).await
}

pub async fn me() -> Result<Me, ApiError> {
    get("/api/v1/me").await
}

pub async fn logout() {
    if let Some(tokens) = session() {
        if let Ok(request) = Request::post("/api/v1/auth/logout").json(&RefreshRequest {
            refresh_token: tokens.refresh_token,
        }) {
            let _ = request.send().await;
        }
    }
    clear_session();
}
