//! A participant's own page, where their emails' links lead: their programs, steps, mentor
//! requests and bookings, their profile and their password. The full participant app builds on it.

use cohort_api_types::{Booking, ChangePassword, Me, MentorRequest, MyStep, Person, StepState, UpdateMe};
use uuid::Uuid;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::shell::Shell;
use crate::Route;
use cohort_ui::api::{self, ApiError};
use cohort_ui::components::field::{SelectField, TextArea, TextField};
use cohort_ui::state::{local_time, time_zones, use_load, Load};

/// Everything the page shows, read at once.
#[derive(Clone, PartialEq)]
struct Overview {
    me: Me,
    steps: Vec<MyStep>,
    requests: Vec<MentorRequest>,
    bookings: Vec<Booking>,
}

async fn overview() -> Result<Overview, ApiError> {
    let me = api::me().await?;
    let steps = api::my_steps().await?;
    let requests = api::my_requests().await?;
    let bookings = api::my_bookings().await?;
    Ok(Overview {
        me,
        steps,
        requests,
        bookings,
    })
}

#[derive(Properties, PartialEq)]
pub struct ParticipantProps {
    /// Shows only this program's steps and requests (the link of a program's email).
    #[prop_or_default]
    pub program: Option<Uuid>,
}

/// A participant's home: their programs, steps, requests and upcoming bookings.
#[function_component(ParticipantHome)]
pub fn participant_home(props: &ParticipantProps) -> Html {
    let navigator = use_navigator();
    let reload = use_state(|| 0u32);
    let data = use_load(*reload, |_| overview());
    let failed = use_state(|| None::<ApiError>);
    let complete = {
        let (reload, failed) = (reload.clone(), failed.clone());
        move |step: Uuid| {
            let (reload, failed) = (reload.clone(), failed.clone());
            Callback::from(move |_: MouseEvent| {
                let (reload, failed) = (reload.clone(), failed.clone());
                yew::platform::spawn_local(async move {
                    match api::complete_step(step).await {
                        Ok(()) => {
                            failed.set(None);
                            reload.set(*reload + 1);
                        }
                        Err(e) => failed.set(Some(e)),
                    }
                });
            })
        }
    };
    if let Load::Failed(ApiError::SessionEnded) = &*data {
        if let Some(navigator) = navigator {
            navigator.replace(&Route::Login);
        }
    }
    let program = props.program;
    let in_program = move |id: Uuid| program.is_none_or(|p| p == id);
    let body = data.view(|o| {
        let zone = o
            .me
            .person
            .time_zone
            .clone()
            .unwrap_or_else(|| o.me.organization.time_zone.clone());
        let programs: Vec<_> = o.me.memberships.iter().filter(|m| in_program(m.program_id)).collect();
        let steps: Vec<_> = o.steps.iter().filter(|s| in_program(s.program_id)).collect();
        let requests: Vec<_> = o.requests.iter().filter(|r| in_program(r.program_id)).collect();
        html! {
            <>
                <h1>{ format!("Hi {}", o.me.person.name.split_whitespace().next().unwrap_or(&o.me.person.name)) }</h1>
                if program.is_some() {
                    <p><Link<Route> to={Route::Participant}>{ "All my programs" }</Link<Route>></p>
                }
                <section class="card" aria-labelledby="my-programs">
                    <h2 id="my-programs">{ "My programs" }</h2>
                    if programs.is_empty() {
                        <p class="empty">{ "You take part in no program yet." }</p>
                    } else {
                        <ul>
                            { for programs.iter().map(|m| html! {
                                <li>
                                    <Link<Route> to={Route::ParticipantProgram { id: m.program_id }}>{ &m.program_name }</Link<Route>>
                                    { format!(" — {}", match m.role {
                                        cohort_api_types::ParticipantRole::Mentor => "mentor",
                                        cohort_api_types::ParticipantRole::Mentee => "mentee",
                                    }) }
                                </li>
                            }) }
                        </ul>
                    }
                </section>
                <section class="card" aria-labelledby="my-steps">
                    <h2 id="my-steps">{ "My steps" }</h2>
                    if let Some(e) = &*failed { <p class="error" role="alert">{ e.message() }</p> }
                    if steps.is_empty() {
                        <p class="empty">{ "No steps yet." }</p>
                    } else {
                        <ul>
                            { for steps.iter().map(|s| html! {
                                <li>
                                    <strong>{ &s.title }</strong>
                                    { format!(" — {}", match s.state {
                                        StepState::New => "new",
                                        StepState::Opened => "opened",
                                        StepState::Completed => "completed",
                                    }) }
                                    if let Some(due) = s.due_date {
                                        { format!(", due {}", due.format("%-d %b %Y")) }
                                    }
                                    if s.missed { { " (missed)" } }
                                    if !s.description.is_empty() { <p>{ &s.description }</p> }
                                    if let Some(url) = &s.link_url {
                                        <p><a href={url.clone()} target="_blank" rel="noopener">{ "Open the link" }</a></p>
                                    }
                                    if s.state != StepState::Completed {
                                        <button type="button" class="secondary" onclick={complete(s.step_id)}
                                            aria-label={format!("Mark “{}” done", s.title)}>{ "Mark done" }</button>
                                    }
                                </li>
                            }) }
                        </ul>
                    }
                </section>
                <section class="card" aria-labelledby="my-requests">
                    <h2 id="my-requests">{ "My mentor requests" }</h2>
                    if requests.is_empty() {
                        <p class="empty">{ "No requests." }</p>
                    } else {
                        <ul>
                            { for requests.iter().map(|r| html! {
                                <li>{ format!("{} → {}: {:?}", r.mentee_name, r.mentor_name, r.status).to_lowercase() }</li>
                            }) }
                        </ul>
                    }
                </section>
                <section class="card" aria-labelledby="my-bookings">
                    <h2 id="my-bookings">{ "My next bookings" }</h2>
                    if o.bookings.is_empty() {
                        <p class="empty">{ "Nothing booked." }</p>
                    } else {
                        <ul>
                            { for o.bookings.iter().map(|b| html! {
                                <li>
                                    <Link<Route> to={Route::ParticipantBooking { id: b.id }}>{ &b.service.name }</Link<Route>>
                                    { format!(" with {}, {}", b.provider.name, local_time(&b.starts_at, &zone)) }
                                </li>
                            }) }
                        </ul>
                    }
                </section>
                <ProfileForm person={o.me.person.clone()} organization_zone={o.me.organization.time_zone.clone()} />
                <ChangePasswordForm />
            </>
        }
    });
    html! { <Shell>{ body }</Shell> }
}

/// One of the participant's bookings, where a booking email's link leads.
#[function_component(ParticipantBooking)]
pub fn participant_booking(props: &ParticipantBookingProps) -> Html {
    let data = use_load(props.id, |id| {
        let id = *id;
        async move { Ok((api::me().await?, api::booking(id).await?)) }
    });
    let body = data.view(|(me, b)| {
        let zone = me
            .person
            .time_zone
            .clone()
            .unwrap_or_else(|| me.organization.time_zone.clone());
        html! {
            <section class="card">
                <h1>{ &b.service.name }</h1>
                <dl>
                    <dt>{ "When" }</dt><dd>{ local_time(&b.starts_at, &zone) }</dd>
                    <dt>{ "With" }</dt><dd>{ &b.provider.name }</dd>
                    <dt>{ "Student" }</dt><dd>{ &b.student.name }</dd>
                    <dt>{ "Where" }</dt><dd>{ &b.location }</dd>
                    <dt>{ "Status" }</dt><dd>{ format!("{:?}", b.status).to_lowercase() }</dd>
                </dl>
                <Link<Route> to={Route::Participant}>{ "Back to my page" }</Link<Route>>
            </section>
        }
    });
    html! { <Shell narrow=true>{ body }</Shell> }
}

#[derive(Properties, PartialEq)]
pub struct ParticipantBookingProps {
    pub id: Uuid,
}

#[derive(Properties, PartialEq)]
struct ProfileProps {
    person: Person,
    /// Applies when the person chose no zone of their own.
    organization_zone: String,
}

/// The person's own name, bio, photo and time zone; each field shows its own error.
#[function_component(ProfileForm)]
fn profile_form(props: &ProfileProps) -> Html {
    let p = &props.person;
    let name = use_state(|| p.name.clone());
    let bio = use_state(|| p.bio.clone());
    let photo_url = use_state(|| p.photo_url.clone().unwrap_or_default());
    // Empty: the organisation's zone.
    let time_zone = use_state(|| p.time_zone.clone().unwrap_or_default());
    let outcome = use_state(|| None::<Result<(), ApiError>>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (name, bio, photo_url, time_zone) = (name.clone(), bio.clone(), photo_url.clone(), time_zone.clone());
        let (outcome, busy) = (outcome.clone(), busy.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let or_null = |s: &str| Some(Some(s.trim().to_owned()).filter(|s| !s.is_empty()));
            let changes = UpdateMe {
                name: Some((*name).clone()),
                bio: Some((*bio).clone()),
                photo_url: or_null(&photo_url),
                time_zone: or_null(&time_zone),
                attributes: None,
            };
            let (name, outcome, busy) = (name.clone(), outcome.clone(), busy.clone());
            busy.set(true);
            yew::platform::spawn_local(async move {
                let result = api::update_me(&changes).await;
                if let Ok(person) = &result {
                    name.set(person.name.clone());
                }
                outcome.set(Some(result.map(drop)));
                busy.set(false);
            });
        })
    };
    let error = |f: &str| match &*outcome {
        Some(Err(e)) => e.field(f),
        _ => None,
    };
    let set = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    let mut zones: Vec<(String, String)> = vec![(
        String::new(),
        format!("The organisation's ({})", props.organization_zone),
    )];
    zones.extend(time_zones(&time_zone).into_iter().map(|z| (z.clone(), z)));
    let message = match &*outcome {
        None => html! {},
        Some(Ok(())) => html! { <p class="ok" role="status">{ "Your profile is saved." }</p> },
        Some(Err(e)) => html! { <p class="error" role="alert">{ e.message() }</p> },
    };
    html! {
        <form class="card stack" {onsubmit} aria-labelledby="profile-heading" novalidate=true>
            <h2 id="profile-heading">{ "Profile" }</h2>
            <TextField id="profile-name" label="Name" value={(*name).clone()} oninput={set(&name)}
                error={error("name")} required=true />
            <TextArea id="profile-bio" label="Bio" value={(*bio).clone()} oninput={set(&bio)} error={error("bio")} />
            <TextField id="profile-photo" label="Photo address" kind="url" value={(*photo_url).clone()}
                oninput={set(&photo_url)} error={error("photo_url")}
                hint={AttrValue::Static("An https:// link to a picture of you; leave empty for none.")} />
            <SelectField id="profile-time-zone" label="Time zone" value={(*time_zone).clone()} options={zones}
                onchange={set(&time_zone)} error={error("time_zone")} />
            { message }
            <button type="submit" disabled={*busy}>{ if *busy { "Saving…" } else { "Save profile" } }</button>
        </form>
    }
}

/// Changes the password; other devices are logged out.
#[function_component(ChangePasswordForm)]
fn change_password_form() -> Html {
    let (current, new) = (use_node_ref(), use_node_ref());
    let outcome = use_state(|| None::<Result<(), ApiError>>);
    let onsubmit = {
        let (current, new, outcome) = (current.clone(), new.clone(), outcome.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let value = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let request = ChangePassword {
                current_password: value(&current),
                new_password: value(&new),
            };
            let outcome = outcome.clone();
            yew::platform::spawn_local(async move { outcome.set(Some(api::change_password(&request).await)) });
        })
    };
    let message = match &*outcome {
        None => html! {},
        Some(Ok(())) => html! { <p role="status">{ "Your password is changed; other devices are logged out." }</p> },
        Some(Err(e)) => {
            let text = e
                .field("current_password")
                .map(|m| format!("Current password {m}."))
                .or_else(|| e.field("new_password").map(|m| format!("New password {m}.")))
                .unwrap_or_else(|| e.message());
            html! { <p class="error" role="alert">{ text }</p> }
        }
    };
    html! {
        <form class="card" {onsubmit} aria-labelledby="password-heading">
            <h2 id="password-heading">{ "Password" }</h2>
            <label for="current-password">{ "Current password" }</label>
            <input id="current-password" type="password" autocomplete="current-password" required=true ref={current} />
            <label for="changed-password">{ "New password" }</label>
            <input id="changed-password" type="password" autocomplete="new-password" required=true minlength="10" ref={new} />
            { message }
            <button type="submit">{ "Change password" }</button>
        </form>
    }
}
