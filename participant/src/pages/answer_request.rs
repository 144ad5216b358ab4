//! "Answer a mentor request": the page a request email's "Accept" and "Decline" links open. It
//! works logged out (the link's token authorises this one answer) and shows the request before
//! anything changes: mail scanners open links too, so only the confirm button answers.

use cohort_api_types::{
    AttributeValue, DeclineWithLink, MentorRequest, RequestAnswerLink, RequestDecision, RequestToAnswer,
};
use serde::Deserialize;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::Route;
use cohort_ui::api::{self, ApiError};
use cohort_ui::state::{use_load, Load};

#[derive(Deserialize, Default)]
struct AnswerQuery {
    token: Option<String>,
    answer: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Answer {
    Accept,
    Decline,
}

#[derive(Clone, PartialEq)]
enum Outcome {
    Accepted(RequestDecision),
    Declined(MentorRequest),
}

/// What to say when the link cannot answer: the server's reason for a used or expired link
/// (410) or an answered request (409), a plain one for a link it does not know (404).
fn link_problem(e: &ApiError) -> String {
    match e {
        ApiError::Problem(p) if p.status == 404 => "This link is not valid. Check that you opened the whole \
                                                     link from the email."
            .into(),
        _ => e.message(),
    }
}

fn attribute_text(value: &AttributeValue) -> String {
    match value {
        AttributeValue::Flag(b) => if *b { "yes" } else { "no" }.into(),
        AttributeValue::Number(n) => n.to_string(),
        AttributeValue::Text(t) => t.clone(),
        AttributeValue::List(items) => items.join(", "),
    }
}

/// The request as the mentor sees it: who asks, their note and profile, and how well they fit.
fn request_card(shown: &RequestToAnswer) -> Html {
    let request = &shown.request;
    html! {
        <section class="card" aria-labelledby="request-title">
            <h2 id="request-title">{ format!("{} asks you to be their mentor", request.mentee_name) }</h2>
            <p>{ format!("Program: {}", shown.program_name) }</p>
            if !request.note.is_empty() {
                <blockquote class="request-note">{ request.note.clone() }</blockquote>
            }
            if !shown.mentee_bio.is_empty() {
                <p class="bio">{ shown.mentee_bio.clone() }</p>
            }
            if !shown.mentee_attributes.is_empty() {
                <dl class="profile">
                    { for shown.mentee_attributes.iter().map(|(key, value)| html! {
                        <>
                            <dt>{ key.clone() }</dt>
                            <dd>{ attribute_text(value) }</dd>
                        </>
                    }) }
                </dl>
            }
            if let Some(score) = shown.score {
                <div class="compatibility">
                    <p>{ format!("Compatibility: {score}") }</p>
                    <ul>
                        { for shown.reasons.iter().map(|r| {
                            let shared = if r.shared.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", r.shared.join(", "))
                            };
                            html! { <li>{ format!("{} (+{}){shared}", r.key, r.points) }</li> }
                        }) }
                    </ul>
                </div>
            }
            if let Some(expires) = request.expires_at {
                <p class="hint">{ format!("Please answer by {}.", expires.format("%d %b %Y, %H:%M UTC")) }</p>
            }
        </section>
    }
}

#[function_component(AnswerRequest)]
pub fn answer_request() -> Html {
    let query = use_location()
        .and_then(|l| l.query::<AnswerQuery>().ok())
        .unwrap_or_default();
    let token = query.token.filter(|t| !t.is_empty());
    let chosen = use_state(|| match query.answer.as_deref() {
        Some("decline") => Answer::Decline,
        _ => Answer::Accept,
    });
    let outcome = use_state(|| None::<Outcome>);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let message = use_node_ref();
    let preview = use_load(token.clone(), |token| {
        let token = token.clone();
        async move {
            match token {
                Some(token) => api::preview_request_answer(&RequestAnswerLink { token }).await,
                None => Err(ApiError::Unreachable),
            }
        }
    });
    let login = html! {
        <p><Link<Route> to={Route::Login}>{ "Log in to see your requests" }</Link<Route>></p>
    };
    let Some(token) = token else {
        return html! {
            <main class="page narrow">
                <h1>{ "Answer a mentor request" }</h1>
                <p class="error" role="alert">{ "This page needs the link from your email." }</p>
                { login }
            </main>
        };
    };

    if let Some(done) = &*outcome {
        let text = match done {
            Outcome::Accepted(made) => format!(
                "You accepted. You and {} are now paired; we have emailed you both.",
                made.request.mentee_name
            ),
            Outcome::Declined(request) => {
                format!("You declined. We have let {} know.", request.mentee_name)
            }
        };
        return html! {
            <main class="page narrow">
                <h1>{ "Answer a mentor request" }</h1>
                <div class="card" role="status">
                    <p class="outcome">{ text }</p>
                    { login }
                </div>
            </main>
        };
    }

    let confirm = {
        let (chosen, outcome, error, busy, message, token) = (
            chosen.clone(),
            outcome.clone(),
            error.clone(),
            busy.clone(),
            message.clone(),
            token.clone(),
        );
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let text = message
                .cast::<HtmlTextAreaElement>()
                .map(|t| t.value())
                .unwrap_or_default();
            let (answer, outcome, error, busy, token) =
                (*chosen, outcome.clone(), error.clone(), busy.clone(), token.clone());
            busy.set(true);
            yew::platform::spawn_local(async move {
                let result = match answer {
                    Answer::Accept => api::accept_with_link(&RequestAnswerLink { token })
                        .await
                        .map(Outcome::Accepted),
                    Answer::Decline => api::decline_with_link(&DeclineWithLink { token, message: text })
                        .await
                        .map(Outcome::Declined),
                };
                busy.set(false);
                match result {
                    Ok(done) => outcome.set(Some(done)),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let pick = |answer: Answer| {
        let (chosen, error) = (chosen.clone(), error.clone());
        Callback::from(move |_: Event| {
            chosen.set(answer);
            error.set(None);
        })
    };

    let body = match &*preview {
        Load::Failed(e) => html! {
            <div class="card" role="alert">
                <p class="error">{ link_problem(e) }</p>
                { login.clone() }
            </div>
        },
        loaded => loaded.view(|shown| {
            let mentee = shown.request.mentee_name.clone();
            let problem = error
                .as_ref()
                .map(|e| e.field("message").unwrap_or_else(|| link_problem(e)));
            html! {
                <>
                    { request_card(shown) }
                    <form class="card" onsubmit={confirm.clone()}>
                        <fieldset>
                            <legend>{ "Your answer" }</legend>
                            <div class="check">
                                <input type="radio" id="answer-accept" name="answer" value="accept"
                                    checked={*chosen == Answer::Accept} onchange={pick(Answer::Accept)} />
                                <label for="answer-accept">{ "Accept" }</label>
                            </div>
                            <div class="check">
                                <input type="radio" id="answer-decline" name="answer" value="decline"
                                    checked={*chosen == Answer::Decline} onchange={pick(Answer::Decline)} />
                                <label for="answer-decline">{ "Decline" }</label>
                            </div>
                        </fieldset>
                        if *chosen == Answer::Decline {
                            <label for="decline-message">{ format!("A message to {mentee} (optional)") }</label>
                            <textarea id="decline-message" rows="4" maxlength="2000" ref={message.clone()} />
                        }
                        if let Some(problem) = problem {
                            <p class="error" role="alert">{ problem }</p>
                        }
                        <button type="submit" disabled={*busy}>
                            { if *chosen == Answer::Accept {
                                format!("Confirm: accept {mentee}")
                            } else {
                                format!("Confirm: decline {mentee}")
                            } }
                        </button>
                    </form>
                </>
            }
        }),
    };
    html! {
        <main class="page narrow">
            <h1>{ "Answer a mentor request" }</h1>
            { body }
        </main>
    }
}
