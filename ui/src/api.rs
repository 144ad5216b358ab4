//! Every HTTP call both apps make, and the client under them: typed results, and access tokens
//! refreshed once on a 401 (when that fails, the session has ended).

use cohort_api_types::{
    Availability, Booking, BookingPage, BookingSettings, CancelBooking, CreateBooking, EnrollPeople, EnrollmentPage,
    Provider, ProviderInput, ProviderPage, RescheduleBooking, Service, ServiceInput, ServicePage, SlotList,
    UpdateBookingSettings,
};
use cohort_api_types::{
    ChangePassword, MentorRequest, MyRequestPage, MyStep, MyStepPage, PasswordResetAccepted, PasswordResetRequest,
    SetPassword, UpdateMe,
};
use cohort_api_types::{DeclineWithLink, RequestAnswerLink, RequestDecision, RequestToAnswer};
use cohort_api_types::{LoginRequest, Me, Person, Problem, RefreshRequest, TokenResponse};
pub use gloo_net::http::Method;
use gloo_net::http::{RequestBuilder, Response};
use gloo_storage::{SessionStorage, Storage};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

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
            Self::Problem(p) if !p.errors.is_empty() => "Please correct the fields marked below.".into(),
            Self::Problem(p) => p.detail.clone().unwrap_or_else(|| p.title.clone()),
            Self::SessionEnded => "Your session has ended; please log in again.".into(),
            Self::Unreachable => "The server cannot be reached. Check your connection and try again.".into(),
        }
    }

    /// The message for one field of a validation problem (`name`, `labels.provider_singular`, …).
    pub fn field(&self, field: &str) -> Option<String> {
        match self {
            Self::Problem(p) => p
                .errors
                .iter()
                .find(|e| e.field == field || e.field.starts_with(&format!("{field}[")))
                .map(|e| e.message.clone()),
            _ => None,
        }
    }
}

impl ApiError {
    /// Every message about `path` itself or one of its fields (`path.id` as "id …").
    pub fn under(&self, path: &str) -> Option<String> {
        let Self::Problem(p) = self else { return None };
        let found: Vec<String> = p
            .errors
            .iter()
            .filter_map(|e| {
                if e.field == path {
                    Some(e.message.clone())
                } else {
                    let child = e.field.strip_prefix(path)?.strip_prefix('.')?;
                    Some(format!("{child} {}", e.message))
                }
            })
            .collect();
        (!found.is_empty()).then(|| found.join("; "))
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

pub async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if response.ok() {
        response.json::<T>().await.map_err(|_| ApiError::Unreachable)
    } else {
        response
            .json::<Problem>()
            .await
            .map(ApiError::Problem)
            .map_or(Err(ApiError::Unreachable), Err)
    }
}

pub async fn send(method: Method, path: &str, token: Option<&str>, body: Option<&str>) -> Result<Response, ApiError> {
    // The audit log tells the dashboard's changes from other clients' by this header.
    let mut request = RequestBuilder::new(path)
        .method(method)
        .header("X-Cohort-Client", "dashboard");
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let result = match body {
        Some(body) => {
            request
                .header("Content-Type", "application/json")
                .body(body.to_owned())
                .map_err(|_| ApiError::Unreachable)?
                .send()
                .await
        }
        None => request.send().await,
    };
    result.map_err(|_| ApiError::Unreachable)
}

async fn public<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    let body = serde_json::to_string(body).map_err(|_| ApiError::Unreachable)?;
    read(send(Method::POST, path, None, Some(&body)).await?).await
}

pub async fn login(request: &LoginRequest) -> Result<TokenResponse, ApiError> {
    let tokens: TokenResponse = public("/api/v1/auth/login", request).await?;
    save_session(&tokens);
    Ok(tokens)
}

/// Sets the first password with an invitation's token, and logs in.
pub async fn accept_invitation(request: &SetPassword) -> Result<TokenResponse, ApiError> {
    let tokens: TokenResponse = public("/api/v1/auth/accept-invitation", request).await?;
    save_session(&tokens);
    Ok(tokens)
}

/// Asks for a password reset link; the answer is the same for every address.
pub async fn request_password_reset(request: &PasswordResetRequest) -> Result<PasswordResetAccepted, ApiError> {
    public("/api/v1/auth/password-reset", request).await
}

/// Sets a new password with a reset link's token, and logs in.
pub async fn confirm_password_reset(request: &SetPassword) -> Result<TokenResponse, ApiError> {
    let tokens: TokenResponse = public("/api/v1/auth/password-reset/confirm", request).await?;
    save_session(&tokens);
    Ok(tokens)
}

/// The request a mentor's email link answers; changes nothing. The link's token authorises it.
pub async fn preview_request_answer(request: &RequestAnswerLink) -> Result<RequestToAnswer, ApiError> {
    public("/api/v1/request-answers/preview", request).await
}

/// Accepts the request with the mentor's email link: the pairing is created.
pub async fn accept_with_link(request: &RequestAnswerLink) -> Result<RequestDecision, ApiError> {
    public("/api/v1/request-answers/accept", request).await
}

/// Declines the request with the mentor's email link; the message goes to the mentee.
pub async fn decline_with_link(request: &DeclineWithLink) -> Result<MentorRequest, ApiError> {
    public("/api/v1/request-answers/decline", request).await
}

/// Changes the caller's password; the other logins end and this one continues with new tokens.
pub async fn change_password(request: &ChangePassword) -> Result<(), ApiError> {
    let tokens: TokenResponse = write(Method::POST, "/api/v1/me/password", request).await?;
    save_session(&tokens);
    Ok(())
}

/// The caller's step feed (the first 200).
pub async fn my_steps() -> Result<Vec<MyStep>, ApiError> {
    let page: MyStepPage = get("/api/v1/me/steps?limit=200").await?;
    Ok(page.items)
}

/// Marks one of the caller's steps completed.
pub async fn complete_step(step: Uuid) -> Result<(), ApiError> {
    let _: MyStep = write(Method::POST, &format!("/api/v1/me/steps/{step}/complete"), &()).await?;
    Ok(())
}

/// The caller's mentor requests, sent or received (the first 200).
pub async fn my_requests() -> Result<Vec<MentorRequest>, ApiError> {
    let page: MyRequestPage = get("/api/v1/me/requests?limit=200").await?;
    Ok(page.items)
}

/// The caller's next bookings, as student or provider (the first 20, soonest first).
pub async fn my_bookings() -> Result<Vec<Booking>, ApiError> {
    let page: BookingPage = get("/api/v1/me/bookings?limit=20").await?;
    Ok(page.items)
}

pub async fn booking(id: Uuid) -> Result<Booking, ApiError> {
    get(&format!("/api/v1/bookings/{id}")).await
}

/// New tokens from the refresh token; when that fails the session has ended.
pub async fn refresh() -> Result<String, ApiError> {
    let current = session().ok_or(ApiError::SessionEnded)?;
    match public::<_, TokenResponse>(
        "/api/v1/auth/refresh",
        &RefreshRequest {
            refresh_token: current.refresh_token,
        },
    )
    .await
    {
        Ok(tokens) => {
            save_session(&tokens);
            Ok(tokens.access_token)
        }
        Err(ApiError::Problem(_)) => {
            clear_session();
            Err(ApiError::SessionEnded)
        }
        Err(e) => Err(e),
    }
}

/// An authenticated call; a 401 refreshes the tokens once and tries again.
pub async fn authed(method: Method, path: &str, body: Option<String>) -> Result<Response, ApiError> {
    let token = session().ok_or(ApiError::SessionEnded)?.access_token;
    let response = send(method.clone(), path, Some(&token), body.as_deref()).await?;
    if response.status() != 401 {
        return Ok(response);
    }
    let response = send(method, path, Some(&refresh().await?), body.as_deref()).await?;
    if response.status() == 401 {
        clear_session();
        return Err(ApiError::SessionEnded);
    }
    Ok(response)
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    read(authed(Method::GET, path, None).await?).await
}

pub async fn write<B: Serialize, T: DeserializeOwned>(method: Method, path: &str, body: &B) -> Result<T, ApiError> {
    let body = serde_json::to_string(body).map_err(|_| ApiError::Unreachable)?;
    read(authed(method, path, Some(body)).await?).await
}

pub async fn delete(path: &str) -> Result<(), ApiError> {
    let response = authed(Method::DELETE, path, None).await?;
    if response.ok() {
        Ok(())
    } else {
        read::<()>(response).await
    }
}

/// Encodes a query parameter value.
pub fn enc(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}

pub async fn logout() {
    if let Some(tokens) = session() {
        let body = serde_json::to_string(&RefreshRequest {
            refresh_token: tokens.refresh_token,
        })
        .unwrap_or_default();
        let _ = send(Method::POST, "/api/v1/auth/logout", None, Some(&body)).await;
    }
    clear_session();
}

pub async fn me() -> Result<Me, ApiError> {
    get("/api/v1/me").await
}

/// Changes the caller's own profile.
pub async fn update_me(changes: &UpdateMe) -> Result<Person, ApiError> {
    write(Method::PATCH, "/api/v1/me", changes).await
}
/// A write whose success has no body (204).
pub async fn write_empty<B: Serialize>(method: Method, path: &str, body: &B) -> Result<(), ApiError> {
    let body = serde_json::to_string(body).map_err(|_| ApiError::Unreachable)?;
    let response = authed(method, path, Some(body)).await?;
    if response.ok() {
        Ok(())
    } else {
        read::<()>(response).await
    }
}

/// Every page of a cursor-paginated list: `fetch(cursor)` returns one page's items and the next cursor.
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, ApiError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), ApiError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = fetch(cursor).await?;
        items.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

pub fn with_cursor(path: String, cursor: &Option<String>) -> String {
    match cursor {
        Some(c) => format!("{path}&cursor={}", enc(c)),
        None => path,
    }
}

/// Every service, with the organisation's labels (of the first page).
pub async fn services() -> Result<ServicePage, ApiError> {
    let mut first: ServicePage = get("/api/v1/services?limit=200").await?;
    let mut cursor = first.next_cursor.take();
    while let Some(c) = cursor {
        let next: ServicePage = get(&format!("/api/v1/services?limit=200&cursor={}", enc(&c))).await?;
        first.items.extend(next.items);
        cursor = next.next_cursor;
    }
    Ok(first)
}

pub async fn service(id: Uuid) -> Result<Service, ApiError> {
    get(&format!("/api/v1/services/{id}")).await
}

pub async fn create_service(input: &ServiceInput) -> Result<Service, ApiError> {
    write(Method::POST, "/api/v1/services", input).await
}

pub async fn update_service(id: Uuid, input: &ServiceInput) -> Result<Service, ApiError> {
    write(Method::PATCH, &format!("/api/v1/services/{id}"), input).await
}

pub async fn delete_service(id: Uuid) -> Result<(), ApiError> {
    delete(&format!("/api/v1/services/{id}")).await
}

pub async fn enrollments(service: Uuid) -> Result<Vec<cohort_api_types::BookingPerson>, ApiError> {
    all_pages(|cursor| async move {
        let page: EnrollmentPage = get(&with_cursor(
            format!("/api/v1/services/{service}/enrollments?limit=200"),
            &cursor,
        ))
        .await?;
        Ok((page.items, page.next_cursor))
    })
    .await
}

pub async fn enroll(service: Uuid, input: &EnrollPeople) -> Result<(), ApiError> {
    write_empty(Method::POST, &format!("/api/v1/services/{service}/enrollments"), input).await
}

pub async fn unenroll(service: Uuid, person: Uuid) -> Result<(), ApiError> {
    delete(&format!("/api/v1/services/{service}/enrollments/{person}")).await
}

/// Every provider, with the organisation's labels.
pub async fn providers() -> Result<ProviderPage, ApiError> {
    let mut first: ProviderPage = get("/api/v1/providers?limit=200").await?;
    let mut cursor = first.next_cursor.take();
    while let Some(c) = cursor {
        let next: ProviderPage = get(&format!("/api/v1/providers?limit=200&cursor={}", enc(&c))).await?;
        first.items.extend(next.items);
        cursor = next.next_cursor;
    }
    Ok(first)
}

pub async fn provider(id: Uuid) -> Result<Provider, ApiError> {
    get(&format!("/api/v1/providers/{id}")).await
}

pub async fn create_provider(input: &ProviderInput) -> Result<Provider, ApiError> {
    write(Method::POST, "/api/v1/providers", input).await
}

pub async fn update_provider(id: Uuid, input: &ProviderInput) -> Result<Provider, ApiError> {
    write(Method::PATCH, &format!("/api/v1/providers/{id}"), input).await
}

pub async fn delete_provider(id: Uuid) -> Result<(), ApiError> {
    delete(&format!("/api/v1/providers/{id}")).await
}

pub async fn availability(provider: Uuid) -> Result<Availability, ApiError> {
    get(&format!("/api/v1/providers/{provider}/availability")).await
}

pub async fn set_availability(provider: Uuid, input: &Availability) -> Result<Availability, ApiError> {
    write(
        Method::PUT,
        &format!("/api/v1/providers/{provider}/availability"),
        input,
    )
    .await
}

pub async fn booking_settings() -> Result<BookingSettings, ApiError> {
    get("/api/v1/booking-settings").await
}

pub async fn update_booking_settings(input: &UpdateBookingSettings) -> Result<BookingSettings, ApiError> {
    write(Method::PUT, "/api/v1/booking-settings", input).await
}

/// Free slots of a service on the days `from`..=`to`, shown in `zone`, of one provider or all.
pub async fn slots(
    service: Uuid,
    from: &str,
    to: &str,
    zone: &str,
    provider: Option<Uuid>,
) -> Result<SlotList, ApiError> {
    let mut path = format!(
        "/api/v1/services/{service}/slots?from={}&to={}&time_zone={}",
        enc(from),
        enc(to),
        enc(zone)
    );
    if let Some(p) = provider {
        path += &format!("&provider_id={p}");
    }
    get(&path).await
}

pub async fn reschedule_booking(id: Uuid, input: &RescheduleBooking) -> Result<Booking, ApiError> {
    write(Method::POST, &format!("/api/v1/bookings/{id}/reschedule"), input).await
}

pub async fn complete_booking(id: Uuid) -> Result<Booking, ApiError> {
    write(Method::POST, &format!("/api/v1/bookings/{id}/complete"), &()).await
}

/// Every booking starting in [from, to), optionally of one provider.
pub async fn bookings(from: &str, to: &str, provider: Option<Uuid>) -> Result<Vec<Booking>, ApiError> {
    let mut base = format!("/api/v1/bookings?limit=200&from={}&to={}", enc(from), enc(to));
    if let Some(p) = provider {
        base += &format!("&provider_id={p}");
    }
    all_pages(|cursor| {
        let path = with_cursor(base.clone(), &cursor);
        async move {
            let page: BookingPage = get(&path).await?;
            Ok((page.items, page.next_cursor))
        }
    })
    .await
}

pub async fn create_booking(input: &CreateBooking) -> Result<Booking, ApiError> {
    write(Method::POST, "/api/v1/bookings", input).await
}

pub async fn cancel_booking(id: Uuid, input: &CancelBooking) -> Result<Booking, ApiError> {
    write(Method::POST, &format!("/api/v1/bookings/{id}/cancel"), input).await
}

/// Fetches a file (a CSV template or export, a booking's `.ics`) and hands it to the browser as a
/// download, of the type the server said.
pub async fn download(path: &str, filename: &str) -> Result<(), ApiError> {
    let response = authed(Method::GET, path, None).await?;
    if !response.ok() {
        return read::<()>(response).await;
    }
    let kind = response
        .headers()
        .get("content-type")
        .unwrap_or_else(|| "text/plain".into());
    let text = response.text().await.map_err(|_| ApiError::Unreachable)?;
    save_file(&text, &kind, filename).ok_or(ApiError::Unreachable)
}

fn save_file(text: &str, kind: &str, filename: &str) -> Option<()> {
    use wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(kind);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let document = web_sys::window()?.document()?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a").ok()?.dyn_into().ok()?;
    link.set_href(&url);
    link.set_download(filename);
    link.click();
    web_sys::Url::revoke_object_url(&url).ok()
}
