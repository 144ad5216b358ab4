//! The mentee's and the mentor's side of pairing: "Find a mentor" in one program (mentors with
//! room, best fit first with the reasons of the score; a request with a note; the open request and
//! its withdrawal; the questionnaire answers matching reads), and "Requests" (a mentor answers the
//! requests they received; a mentee follows the ones they sent).

use cohort_api_types::{
    AttributeValue, AvailableMentor, AvailableMentorList, CreateMentorRequest, DeclineRequest, MentorRequest,
    MyPairing, MyPairingPage, ParticipantRole, QuestionnaireAnswers, RequestDecision, RequestStatus, ScoreReason,
};
use cohort_ui::api::{self, ApiError, Method};
use cohort_ui::components::field::{TextArea, TextField};
use cohort_ui::state::{local_time, use_load, Load, Session};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::shell::Shell;
use crate::Route;

async fn mentors(program: Uuid) -> Result<AvailableMentorList, ApiError> {
    api::get(&format!("/api/v1/programs/{program}/mentors")).await
}

async fn my_answers(program: Uuid) -> Result<QuestionnaireAnswers, ApiError> {
    api::get(&format!("/api/v1/me/programs/{program}/answers")).await
}

async fn save_answers(program: Uuid, answers: &QuestionnaireAnswers) -> Result<QuestionnaireAnswers, ApiError> {
    api::write(Method::PUT, &format!("/api/v1/me/programs/{program}/answers"), answers).await
}

async fn request_mentor(program: Uuid, request: &CreateMentorRequest) -> Result<RequestDecision, ApiError> {
    api::write(Method::POST, &format!("/api/v1/programs/{program}/requests"), request).await
}

async fn withdraw(request: Uuid) -> Result<(), ApiError> {
    api::delete(&format!("/api/v1/me/requests/{request}")).await
}

async fn approve(request: &MentorRequest) -> Result<RequestDecision, ApiError> {
    let path = format!(
        "/api/v1/programs/{}/requests/{}/approve",
        request.program_id, request.id
    );
    api::write(Method::POST, &path, &()).await
}

async fn decline(request: &MentorRequest, message: String) -> Result<MentorRequest, ApiError> {
    let path = format!(
        "/api/v1/programs/{}/requests/{}/decline",
        request.program_id, request.id
    );
    api::write(Method::POST, &path, &DeclineRequest { message }).await
}

/// The caller's active pairings (the first 200).
pub async fn my_pairings() -> Result<Vec<MyPairing>, ApiError> {
    let page: MyPairingPage = api::get("/api/v1/me/pairings?limit=200").await?;
    Ok(page.items)
}

#[derive(Properties, PartialEq)]
pub struct FindMentorLinkProps {
    pub program: Uuid,
    /// Names the program, on a line of its own (elsewhere than beside the program's name).
    #[prop_or_default]
    pub program_name: Option<AttrValue>,
}

/// A "Find a mentor" link for a program where the caller is a mentee, shown only while they may
/// request one there (pairing is on and mentees choose).
#[function_component(FindMentorLink)]
pub fn find_mentor_link(props: &FindMentorLinkProps) -> Html {
    let open = use_load(props.program, |p| {
        let p = *p;
        async move { Ok::<_, ApiError>(mentors(p).await?.requests_open) }
    });
    let to = Route::FindMentor { id: props.program };
    match (&*open, &props.program_name) {
        (Load::Loaded(true), None) => html! {
            <>{ " · " }<Link<Route> {to}>{ "Find a mentor" }</Link<Route>></>
        },
        (Load::Loaded(true), Some(name)) => html! {
            <p><Link<Route> {to}>{ format!("Find a mentor in {name}") }</Link<Route>></p>
        },
        _ => html! {},
    }
}

fn status_label(status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Open => "Waiting for an answer",
        RequestStatus::Approved => "Accepted",
        RequestStatus::Declined => "Declined",
        RequestStatus::Expired => "Expired",
        RequestStatus::Withdrawn => "Withdrawn",
    }
}

fn reason_text(r: &ScoreReason) -> String {
    if r.shared.is_empty() {
        format!("{} (+{})", r.key, r.points)
    } else {
        format!("{} (+{}): {}", r.key, r.points, r.shared.join(", "))
    }
}

fn answer_text(value: &AttributeValue) -> String {
    match value {
        AttributeValue::Flag(b) => if *b { "yes" } else { "no" }.into(),
        AttributeValue::Number(n) => n.to_string(),
        AttributeValue::Text(t) => t.clone(),
        AttributeValue::List(items) => items.join(", "),
    }
}

/// An answer as typed: commas make a list, as when it was shown.
fn parse_answer(text: &str) -> AttributeValue {
    if text.contains(',') {
        AttributeValue::List(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    } else {
        AttributeValue::Text(text.trim().to_owned())
    }
}

/// Everything "Find a mentor" shows, read at once.
#[derive(Clone, PartialEq)]
struct MentorChoice {
    mentors: AvailableMentorList,
    open_request: Option<MentorRequest>,
    mentor: Option<MyPairing>,
}

async fn mentor_choice(program: Uuid, me: Uuid) -> Result<MentorChoice, ApiError> {
    let mentors = mentors(program).await?;
    let open_request = api::my_requests()
        .await?
        .into_iter()
        .find(|r| r.program_id == program && r.mentee_id == me && r.status == RequestStatus::Open);
    let mentor = my_pairings()
        .await?
        .into_iter()
        .find(|p| p.program_id == program && p.my_role == ParticipantRole::Mentee);
    Ok(MentorChoice {
        mentors,
        open_request,
        mentor,
    })
}

#[derive(Properties, PartialEq)]
pub struct ProgramProps {
    pub program: Uuid,
}

/// "Find a mentor" in one program.
#[function_component(FindMentor)]
pub fn find_mentor(props: &ProgramProps) -> Html {
    html! { <Shell><FindMentorBody program={props.program} /></Shell> }
}

#[function_component(FindMentorBody)]
fn find_mentor_body(props: &ProgramProps) -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let program = props.program;
    let me = session.me.person.id;
    let reload = use_state(|| 0u32);
    let data = use_load((program, *reload), move |(program, _)| mentor_choice(*program, me));
    let changed = {
        let reload = reload.clone();
        Callback::from(move |()| reload.set(*reload + 1))
    };
    let membership = session
        .me
        .memberships
        .iter()
        .find(|m| m.program_id == program && m.role == ParticipantRole::Mentee);
    let Some(membership) = membership else {
        return html! {
            <>
                <h1>{ "Find a mentor" }</h1>
                <p class="empty">{ "You are not a mentee of this program." }</p>
                <p><Link<Route> to={Route::Participant}>{ "Back to my programs" }</Link<Route>></p>
            </>
        };
    };
    let provider = session.labels().provider_singular.to_lowercase();
    let body = data.view(|choice| {
        let waiting = choice.open_request.clone();
        let list = if let Some(paired) = &choice.mentor {
            html! {
                <section class="card" aria-labelledby="my-mentor">
                    <h2 id="my-mentor">{ "Your mentor" }</h2>
                    <p>{ format!("You are paired with {}.", paired.partner.name) }</p>
                    <p><Link<Route> to={Route::Chat}>{ "My pairings and chat" }</Link<Route>></p>
                </section>
            }
        } else {
            html! {
                <section aria-labelledby="mentors-heading">
                    <h2 id="mentors-heading">{ "Mentors with room" }</h2>
                    if !choice.mentors.requests_open {
                        <p class="hint">{ "Requests are closed in this program right now." }</p>
                    }
                    if choice.mentors.items.is_empty() {
                        <p class="empty">{ format!("No {provider} has room at the moment.") }</p>
                    }
                    <ul class="mentors">
                        { for choice.mentors.items.iter().map(|m| html! {
                            <MentorCard key={m.person_id.to_string()} {program} mentor={m.clone()}
                                may_request={choice.mentors.requests_open && waiting.is_none()}
                                changed={changed.clone()} />
                        }) }
                    </ul>
                </section>
            }
        };
        html! {
            <>
                if let Some(request) = waiting {
                    <OpenRequest {request} changed={changed.clone()} />
                }
                { list }
            </>
        }
    });
    html! {
        <>
            <h1>{ "Find a mentor" }</h1>
            <p class="hint">{ format!("{}: best fit first.", membership.program_name) }</p>
            { body }
            <Answers {program} />
        </>
    }
}

#[derive(Properties, PartialEq)]
struct OpenRequestProps {
    request: MentorRequest,
    changed: Callback<()>,
}

/// The mentee's open request, and its withdrawal.
#[function_component(OpenRequest)]
fn open_request(props: &OpenRequestProps) -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let failed = use_state(|| None::<ApiError>);
    let r = &props.request;
    let onclick = {
        let (id, changed, failed) = (r.id, props.changed.clone(), failed.clone());
        Callback::from(move |_: MouseEvent| {
            let (changed, failed) = (changed.clone(), failed.clone());
            yew::platform::spawn_local(async move {
                match withdraw(id).await {
                    Ok(()) => changed.emit(()),
                    Err(e) => failed.set(Some(e)),
                }
            });
        })
    };
    html! {
        <section class="card" aria-labelledby="my-open-request" role="status">
            <h2 id="my-open-request">{ "Your request" }</h2>
            <p>{ format!("You asked {}.", r.mentor_name) }</p>
            <p><span class="badge">{ status_label(r.status) }</span></p>
            if !r.note.is_empty() { <blockquote class="request-note">{ &r.note }</blockquote> }
            if let Some(expires) = r.expires_at {
                <p class="hint">{ format!("It expires {} if unanswered.", local_time(&expires, &session.zone())) }</p>
            }
            if let Some(e) = &*failed { <p class="error" role="alert">{ e.message() }</p> }
            <button type="button" class="danger" {onclick}>{ "Withdraw my request" }</button>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct MentorCardProps {
    program: Uuid,
    mentor: AvailableMentor,
    may_request: bool,
    changed: Callback<()>,
}

/// One mentor: their fit and its reasons, their bio and room, and the request form.
#[function_component(MentorCard)]
fn mentor_card(props: &MentorCardProps) -> Html {
    let asking = use_state(|| false);
    let note = use_state(String::new);
    let failed = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let m = &props.mentor;
    let heading = format!("mentor-{}", m.person_id);
    let room = m.capacity.saturating_sub(m.active_pairings);
    let open = {
        let asking = asking.clone();
        Callback::from(move |_: MouseEvent| asking.set(true))
    };
    let cancel = {
        let asking = asking.clone();
        Callback::from(move |_: MouseEvent| asking.set(false))
    };
    let onsubmit = {
        let (program, mentor, note, failed, busy, changed, asking) = (
            props.program,
            m.person_id,
            note.clone(),
            failed.clone(),
            busy.clone(),
            props.changed.clone(),
            asking.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let request = CreateMentorRequest {
                mentor_id: mentor,
                mentee_id: None,
                note: (*note).clone(),
            };
            let (failed, busy, changed, asking, note) = (
                failed.clone(),
                busy.clone(),
                changed.clone(),
                asking.clone(),
                note.clone(),
            );
            busy.set(true);
            yew::platform::spawn_local(async move {
                let result = request_mentor(program, &request).await;
                busy.set(false);
                match result {
                    Ok(_) => {
                        asking.set(false);
                        note.set(String::new());
                        failed.set(None);
                        changed.emit(());
                    }
                    Err(e) => failed.set(Some(e)),
                }
            });
        })
    };
    let note_id = format!("note-{}", m.person_id);
    html! {
        <li class="card mentor" aria-labelledby={heading.clone()}>
            <h3 id={heading}>{ &m.name }</h3>
            // A score without reasons (no rules, or nothing in common) says nothing to a mentee.
            if let (Some(score), false) = (m.score, m.reasons.is_empty()) {
                <p class="score">{ format!("Compatibility: {score}") }</p>
                <ul class="reasons" aria-label={format!("Why {} fits", m.name)}>
                    { for m.reasons.iter().map(|r| html! { <li>{ reason_text(r) }</li> }) }
                </ul>
            }
            if m.bio.is_empty() {
                <p class="empty">{ "No bio yet." }</p>
            } else {
                <p class="bio">{ &m.bio }</p>
            }
            <p class="hint">{ format!("{room} of {} places free", m.capacity) }</p>
            if props.may_request {
                if *asking {
                    <form class="stack" {onsubmit}>
                        <TextArea id={note_id} label={format!("A note to {} (optional)", m.name)}
                            value={(*note).clone()} oninput={{ let note = note.clone(); Callback::from(move |v| note.set(v)) }}
                            error={failed.as_ref().and_then(|e| e.field("note"))} />
                        if let Some(e) = failed.as_ref().filter(|e| e.field("note").is_none()) {
                            <p class="error" role="alert">{ e.message() }</p>
                        }
                        <div class="actions">
                            <button type="submit" disabled={*busy}>{ format!("Send my request to {}", m.name) }</button>
                            <button type="button" class="secondary" onclick={cancel}>{ "Cancel" }</button>
                        </div>
                    </form>
                } else {
                    <button type="button" onclick={open}>{ format!("Request {}", m.name) }</button>
                }
            }
        </li>
    }
}

/// The caller's questionnaire answers in the program, which matching reads.
#[function_component(Answers)]
fn answers(props: &ProgramProps) -> Html {
    let program = props.program;
    let data = use_load(program, |p| my_answers(*p));
    let edits = use_state(Vec::<(String, String)>::new);
    let new_question = use_state(String::new);
    let new_answer = use_state(String::new);
    let saved = use_state(|| None::<Result<(), ApiError>>);
    {
        let edits = edits.clone();
        use_effect_with(data.clone(), move |data| {
            if let Load::Loaded(a) = &**data {
                edits.set(a.answers.iter().map(|(k, v)| (k.clone(), answer_text(v))).collect());
            }
        });
    }
    let onsubmit = {
        let (edits, new_question, new_answer, saved) =
            (edits.clone(), new_question.clone(), new_answer.clone(), saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut answers: cohort_api_types::Attributes =
                edits.iter().map(|(k, v)| (k.clone(), parse_answer(v))).collect();
            if !new_question.trim().is_empty() {
                answers.insert(new_question.trim().to_owned(), parse_answer(&new_answer));
            }
            let (edits, new_question, new_answer, saved) =
                (edits.clone(), new_question.clone(), new_answer.clone(), saved.clone());
            yew::platform::spawn_local(async move {
                match save_answers(program, &QuestionnaireAnswers { answers }).await {
                    Ok(now) => {
                        edits.set(now.answers.iter().map(|(k, v)| (k.clone(), answer_text(v))).collect());
                        new_question.set(String::new());
                        new_answer.set(String::new());
                        saved.set(Some(Ok(())));
                    }
                    Err(e) => saved.set(Some(Err(e))),
                }
            });
        })
    };
    let body = data.view(|_| {
        let fields = edits.iter().enumerate().map(|(i, (key, value))| {
            let oninput = {
                let edits = edits.clone();
                Callback::from(move |v: String| {
                    let mut now = (*edits).clone();
                    now[i].1 = v;
                    edits.set(now);
                })
            };
            html! { <TextField id={format!("answer-{i}")} label={key.clone()} value={value.clone()} {oninput} /> }
        });
        html! {
            <form class="stack" onsubmit={onsubmit.clone()}>
                if edits.is_empty() {
                    <p class="empty">{ "You have not answered any question yet." }</p>
                }
                { for fields }
                <fieldset class="stack">
                    <legend>{ "Add an answer" }</legend>
                    <TextField id="new-question" label="Question" value={(*new_question).clone()}
                        oninput={{ let q = new_question.clone(); Callback::from(move |v| q.set(v)) }} />
                    <TextField id="new-answer" label="Answer" value={(*new_answer).clone()}
                        hint={Some(AttrValue::Static("Separate several answers with commas."))}
                        oninput={{ let a = new_answer.clone(); Callback::from(move |v| a.set(v)) }} />
                </fieldset>
                { match &*saved {
                    Some(Ok(())) => html! { <p class="ok" role="status">{ "Your answers are saved." }</p> },
                    Some(Err(e)) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    None => html! {},
                } }
                <div class="actions"><button type="submit">{ "Save my answers" }</button></div>
            </form>
        }
    });
    html! {
        <section class="card" aria-labelledby="my-answers">
            <h2 id="my-answers">{ "My answers" }</h2>
            <p class="hint">{ "Mentors are suggested from these answers and your profile." }</p>
            { body }
        </section>
    }
}

/// A mentor's received requests to answer, and a mentee's sent requests with their status.
#[function_component(Requests)]
pub fn requests() -> Html {
    html! { <Shell><RequestsBody /></Shell> }
}

#[function_component(RequestsBody)]
fn requests_body() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let me = session.me.person.id;
    let reload = use_state(|| 0u32);
    let data = use_load(*reload, |_| api::my_requests());
    let changed = {
        let reload = reload.clone();
        Callback::from(move |()| reload.set(*reload + 1))
    };
    let zone = session.zone();
    let mentee_of: Vec<_> = session
        .me
        .memberships
        .iter()
        .filter(|m| m.role == ParticipantRole::Mentee)
        .collect();
    let body = data.view(|all| {
        let received: Vec<&MentorRequest> = all.iter().filter(|r| r.mentor_id == me).rev().collect();
        let sent: Vec<&MentorRequest> = all.iter().filter(|r| r.mentee_id == me).rev().collect();
        html! {
            <>
                <section aria-labelledby="received">
                    <h2 id="received">{ "Requests to me" }</h2>
                    if received.is_empty() {
                        <p class="empty">{ "Nobody has asked you yet." }</p>
                    }
                    <ul class="requests">
                        { for received.iter().map(|r| html! {
                            <ReceivedRequest key={r.id.to_string()} request={(*r).clone()} changed={changed.clone()} />
                        }) }
                    </ul>
                </section>
                <section aria-labelledby="sent">
                    <h2 id="sent">{ "My requests" }</h2>
                    if sent.is_empty() {
                        <p class="empty">{ "You have not asked anyone." }</p>
                    }
                    { for mentee_of.iter().map(|m| html! {
                        <FindMentorLink key={m.program_id.to_string()} program={m.program_id}
                            program_name={Some(AttrValue::from(m.program_name.clone()))} />
                    }) }
                    <ul class="requests">
                        { for sent.iter().map(|r| html! {
                            <li key={r.id.to_string()} class="card">
                                <h3>{ format!("{} — {}", r.mentor_name, status_label(r.status)) }</h3>
                                <p class="hint">{ format!("Sent {}", local_time(&r.created_at, &zone)) }</p>
                                if let Some(message) = r.decline_message.as_ref().filter(|m| !m.is_empty()) {
                                    <blockquote class="request-note">{ message }</blockquote>
                                }
                                if r.status == RequestStatus::Open {
                                    <Link<Route> to={Route::FindMentor { id: r.program_id }}>{ "See or withdraw it" }</Link<Route>>
                                }
                            </li>
                        }) }
                    </ul>
                </section>
            </>
        }
    });
    html! {
        <>
            <h1>{ "Requests" }</h1>
            { body }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ReceivedProps {
    request: MentorRequest,
    changed: Callback<()>,
}

/// A request to the caller: who asks, their note, and for an open one "Accept" or "Decline" with
/// a message.
#[function_component(ReceivedRequest)]
fn received_request(props: &ReceivedProps) -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let declining = use_state(|| false);
    let message = use_state(String::new);
    let failed = use_state(|| None::<ApiError>);
    let r = &props.request;
    let accept = {
        let (request, changed, failed) = (r.clone(), props.changed.clone(), failed.clone());
        Callback::from(move |_: MouseEvent| {
            let (request, changed, failed) = (request.clone(), changed.clone(), failed.clone());
            yew::platform::spawn_local(async move {
                match approve(&request).await {
                    Ok(_) => changed.emit(()),
                    Err(e) => failed.set(Some(e)),
                }
            });
        })
    };
    let start_decline = {
        let declining = declining.clone();
        Callback::from(move |_: MouseEvent| declining.set(!*declining))
    };
    let onsubmit = {
        let (request, message, changed, failed) = (r.clone(), message.clone(), props.changed.clone(), failed.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (request, text, changed, failed) =
                (request.clone(), (*message).clone(), changed.clone(), failed.clone());
            yew::platform::spawn_local(async move {
                match decline(&request, text).await {
                    Ok(_) => changed.emit(()),
                    Err(e) => failed.set(Some(e)),
                }
            });
        })
    };
    let heading = format!("request-{}", r.id);
    html! {
        <li class="card" aria-labelledby={heading.clone()}>
            <h3 id={heading}>{ format!("{} — {}", r.mentee_name, status_label(r.status)) }</h3>
            <p class="hint">{ format!("Sent {}", local_time(&r.created_at, &session.zone())) }</p>
            if !r.note.is_empty() { <blockquote class="request-note">{ &r.note }</blockquote> }
            if let Some(e) = &*failed { <p class="error" role="alert">{ e.message() }</p> }
            if r.status == RequestStatus::Open {
                <div class="actions">
                    <button type="button" onclick={accept}>{ format!("Accept {}", r.mentee_name) }</button>
                    <button type="button" class="secondary" onclick={start_decline}
                        aria-expanded={(*declining).to_string()}>{ "Decline…" }</button>
                </div>
                if *declining {
                    <form class="stack" {onsubmit}>
                        <TextArea id={format!("decline-{}", r.id)} label={format!("A message to {} (optional)", r.mentee_name)}
                            value={(*message).clone()} oninput={{ let m = message.clone(); Callback::from(move |v| m.set(v)) }} />
                        <div class="actions">
                            <button type="submit" class="danger">{ format!("Decline {}", r.mentee_name) }</button>
                        </div>
                    </form>
                }
            }
        </li>
    }
}
