//! A mentor's answer from the request email: "Accept" and "Decline" open a page that shows the
//! request and asks to confirm. The link's one-time token authorises that one answer to that one
//! request, as its mentor, logged in or not; looking at the request changes nothing, since mail
//! scanners follow links. The token travels in the body, never in the path, to stay out of
//! access logs.

use actix_web::HttpRequest;
use cohort_api_types::{DeclineWithLink, RequestAnswerLink, RequestToAnswer};
use cohort_domain::auth::{link_usable, LinkRefused};

use super::*;
use crate::auth::repo::{self as links, LinkTokenRow};

/// The open request a link answers, refused as the link's rules say: unknown (404), used or
/// expired (410), presented by someone logged in as another person (403) or in another
/// organisation (404), or a request answered, withdrawn or expired meanwhile (409).
fn linked_request(
    conn: &mut DbConn,
    token: &str,
    caller: Option<&Caller>,
) -> Result<(LinkTokenRow, ProgramRow, RequestRow), ApiError> {
    let link = links::find_link(conn, token, LinkPurpose::RequestAnswer)?.ok_or(ApiError::NotFound)?;
    let org = db::id(&link.organization_id);
    if let Some(caller) = caller {
        if caller.org != org {
            return Err(ApiError::NotFound);
        }
        if caller.person.to_string() != link.person_id {
            return Err(ApiError::Forbidden(
                "This link is for the request's mentor; log out to use it, or answer from your own requests.",
            ));
        }
    }
    link_usable(link.expires_at, link.used_at, db::now()).map_err(|e| ApiError::Gone(e.message()))?;
    let request = match link.subject_id.as_deref() {
        Some(id) => repo::find_request(conn, id)?,
        None => None,
    }
    .filter(|r| r.organization_id == link.organization_id)
    .ok_or(ApiError::NotFound)?;
    if request.mentor_id != link.person_id {
        return Err(ApiError::Forbidden("This link is for the request's mentor."));
    }
    if request.status != "open" {
        return Err(ApiError::Conflict(format!(
            "The request is {} already.",
            request.status
        )));
    }
    let program = programs::get(conn, org, db::id(&request.program_id))?;
    Ok((link, program, request))
}

/// Who answers, read while the request is handled (the request id lives in its task): the
/// caller when logged in (as the link's person, [`linked_request`] checks), else the link's person,
/// from the dashboard or another client.
struct Answerer {
    caller: Option<audit::Actor>,
    dashboard: bool,
    request_id: Option<String>,
}

impl Answerer {
    fn of(req: &HttpRequest, caller: Option<&Caller>) -> Self {
        Self {
            caller: caller.map(Caller::actor),
            dashboard: audit::from_dashboard(req),
            request_id: crate::request_id::current(),
        }
    }

    fn actor(self, link: &LinkTokenRow) -> audit::Actor {
        let (org, person) = (db::id(&link.organization_id), db::id(&link.person_id));
        self.caller
            .unwrap_or_else(|| audit::Actor::link_holder(org, person, self.dashboard, self.request_id))
    }
}

/// Uses the link up in the answer's transaction: a second answer with it is a 410.
fn use_up(conn: &mut DbConn, link: &LinkTokenRow) -> Result<(), ApiError> {
    if !links::use_link(conn, &link.id)? {
        return Err(ApiError::Gone(LinkRefused::Used.message()));
    }
    Ok(())
}

/// The request a mentor's email link answers, as the mentor sees it before confirming: the
/// mentee, their note and profile, and the compatibility by the program's auto-pair rules.
/// Changes nothing.
#[utoipa::path(
    tag = "pairing",
    request_body = RequestAnswerLink,
    responses(
        (status = 200, description = "The request to answer", body = RequestToAnswer),
        (status = 403, description = "Logged in as someone other than the link's mentor", body = Problem),
        (status = 404, description = "No such link", body = Problem),
        (status = 409, description = "The request was answered, withdrawn or expired already", body = Problem),
        (status = 410, description = "The link was used or has expired", body = Problem),
    ),
    security(())
)]
#[post("/request-answers/preview")]
pub async fn preview_request_answer(
    state: web::Data<AppState>,
    caller: Option<Caller>,
    Body(input): Body<RequestAnswerLink>,
) -> Result<web::Json<RequestToAnswer>, ApiError> {
    let shown = state
        .db
        .read(move |conn| {
            let (_, program, request) = linked_request(conn, &input.token, caller.as_ref())?;
            let mentee = person(conn, db::id(&program.organization_id), &request.mentee_id)?.into_api();
            let compatibility = auto::explain_pair(conn, &program, &request.mentee_id, &request.mentor_id)?;
            let (score, reasons) = match compatibility {
                Some((score, reasons)) => (Some(score), reasons),
                None => (None, Vec::new()),
            };
            Ok(RequestToAnswer {
                request: one(repo::requests_to_api(conn, vec![request])?),
                program_name: program.name,
                mentee_bio: mentee.bio,
                mentee_attributes: mentee.attributes,
                score,
                reasons,
            })
        })
        .await?;
    Ok(web::Json(shown))
}

/// Accepts the request with the mentor's email link: the pairing is created as when the mentor
/// approves logged in (both are emailed), and the link is used up.
#[utoipa::path(
    tag = "pairing",
    request_body = RequestAnswerLink,
    responses(
        (status = 200, description = "The approved request and its pairing", body = RequestDecision),
        (status = 403, description = "Logged in as someone other than the link's mentor", body = Problem),
        (status = 404, description = "No such link", body = Problem),
        (status = 409, description = "The request was answered, withdrawn or expired already, the mentor has no room, or the mentee is paired", body = Problem),
        (status = 410, description = "The link was used or has expired", body = Problem),
    ),
    security(())
)]
#[post("/request-answers/accept")]
pub async fn accept_with_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Option<Caller>,
    Body(input): Body<RequestAnswerLink>,
) -> Result<web::Json<RequestDecision>, ApiError> {
    let answerer = Answerer::of(&req, caller.as_ref());
    let made = state
        .db
        .write(move |conn| {
            let (link, program, request) = linked_request(conn, &input.token, caller.as_ref())?;
            use_up(conn, &link)?;
            approve(conn, &answerer.actor(&link), &program, &request)
        })
        .await?;
    Ok(web::Json(made))
}

/// Declines the request with the mentor's email link: the message (optional) goes to the mentee,
/// as when the mentor declines logged in, and the link is used up.
#[utoipa::path(
    tag = "pairing",
    request_body = DeclineWithLink,
    responses(
        (status = 200, description = "The declined request", body = MentorRequest),
        (status = 403, description = "Logged in as someone other than the link's mentor", body = Problem),
        (status = 404, description = "No such link", body = Problem),
        (status = 409, description = "The request was answered, withdrawn or expired already", body = Problem),
        (status = 410, description = "The link was used or has expired", body = Problem),
        (status = 422, description = "A message over 2,000 characters", body = Problem),
    ),
    security(())
)]
#[post("/request-answers/decline")]
pub async fn decline_with_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Option<Caller>,
    Body(input): Body<DeclineWithLink>,
) -> Result<web::Json<MentorRequest>, ApiError> {
    let message = decline_message(&input.message)?;
    let answerer = Answerer::of(&req, caller.as_ref());
    let declined = state
        .db
        .write(move |conn| {
            let (link, program, request) = linked_request(conn, &input.token, caller.as_ref())?;
            use_up(conn, &link)?;
            decline(conn, &answerer.actor(&link), &program, &request, message)
        })
        .await?;
    Ok(web::Json(declined))
}
