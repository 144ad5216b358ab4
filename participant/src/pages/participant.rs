//! A participant's home, where their emails' links lead: their programs, their next steps,
//! their unread notifications and their next booking; and one program's view of the same.

use cohort_api_types::{Booking, MyStep, Notification, NotificationPage, StepState};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::pages::steps::StepCard;
use crate::shell::Shell;
use crate::Route;
use cohort_ui::api::{self, ApiError};
use cohort_ui::state::{local_time, use_load, Session};

/// How many of each kind the home shows; the rest are a link away.
const SHOWN: usize = 3;

/// Everything the home shows besides who the person is, read at once.
#[derive(Clone, PartialEq)]
struct Overview {
    steps: Vec<MyStep>,
    unread: Vec<Notification>,
    bookings: Vec<Booking>,
}

async fn overview() -> Result<Overview, ApiError> {
    let steps = api::my_steps().await?;
    let unread: NotificationPage = api::get("/api/v1/notifications?unread=true&limit=3").await?;
    let bookings = api::my_bookings().await?;
    Ok(Overview {
        steps,
        unread: unread.items,
        bookings,
    })
}

#[derive(Properties, PartialEq)]
pub struct ParticipantProps {
    /// Shows only this program (the link of a program's email).
    #[prop_or_default]
    pub program: Option<Uuid>,
}

/// A participant's home: their programs, next steps, unread notifications and next booking.
#[function_component(ParticipantHome)]
pub fn participant_home(props: &ParticipantProps) -> Html {
    html! { <Shell><Home program={props.program} /></Shell> }
}

#[function_component(Home)]
fn home(props: &ParticipantProps) -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let reload = use_state(|| 0u32);
    let data = use_load(*reload, |_| overview());
    let changed = {
        let reload = reload.clone();
        Callback::from(move |()| reload.set(*reload + 1))
    };
    let me = &session.me;
    let zone = session.zone();
    let program = props.program;
    let in_program = move |id: Uuid| program.is_none_or(|p| p == id);
    let programs: Vec<_> = me.memberships.iter().filter(|m| in_program(m.program_id)).collect();
    let first_name = me.person.name.split_whitespace().next().unwrap_or(&me.person.name);
    let body = data.view(|o| {
        let next: Vec<&MyStep> = o
            .steps
            .iter()
            .filter(|s| in_program(s.program_id) && s.state != StepState::Completed)
            .collect();
        let now = cohort_ui::state::now();
        let booking = o.bookings.iter().find(|b| b.ends_at > now);
        html! {
            <div class="grid">
                <section class="card" aria-labelledby="my-next-steps">
                    <h2 id="my-next-steps">{ "My next steps" }</h2>
                    if next.is_empty() {
                        <p class="empty">{ "Nothing to do right now." }</p>
                    }
                    { for next.iter().take(SHOWN).map(|s| html! {
                        <StepCard key={s.step_id.to_string()} step={(*s).clone()} changed={changed.clone()} />
                    }) }
                    <p>
                        if let Some(id) = program {
                            <Link<Route> to={Route::ProgramSteps { id }}>{ "All steps of this program" }</Link<Route>>
                        } else {
                            <Link<Route> to={Route::Steps}>{ format!("All my steps ({})", o.steps.len()) }</Link<Route>>
                        }
                    </p>
                </section>
                <section class="card" aria-labelledby="my-unread">
                    <h2 id="my-unread">{ "Unread notifications" }</h2>
                    if o.unread.is_empty() {
                        <p class="empty">{ "You are all caught up." }</p>
                    } else {
                        <ul>
                            { for o.unread.iter().map(|n| html! {
                                <li key={n.id.to_string()}><strong>{ &n.title }</strong>{ format!(" — {}", n.body) }</li>
                            }) }
                        </ul>
                    }
                    <p><Link<Route> to={Route::Notifications}>{ "All notifications" }</Link<Route>></p>
                </section>
                <section class="card" aria-labelledby="my-next-booking">
                    <h2 id="my-next-booking">{ "My next booking" }</h2>
                    if let Some(b) = booking {
                        <p>
                            <Link<Route> to={Route::ParticipantBooking { id: b.id }}>{ &b.service.name }</Link<Route>>
                            { format!(" with {}, {}", b.provider.name, local_time(&b.starts_at, &zone)) }
                        </p>
                    } else {
                        <p class="empty">{ "Nothing booked." }</p>
                    }
                    <p>
                        <Link<Route> to={Route::Book}>{ "Book an appointment" }</Link<Route>>
                        { " · " }
                        <Link<Route> to={Route::MyBookings}>{ "All my bookings" }</Link<Route>>
                    </p>
                </section>
            </div>
        }
    });
    html! {
        <>
            <h1>{ format!("Hi {first_name}") }</h1>
            if program.is_some() {
                <p><Link<Route> to={Route::Participant}>{ "All my programs" }</Link<Route>></p>
            }
            <section class="card" aria-labelledby="my-programs">
                <h2 id="my-programs">{ if program.is_some() { "This program" } else { "My programs" } }</h2>
                if programs.is_empty() {
                    <p class="empty">{ "You take part in no program yet." }</p>
                } else {
                    <ul>
                        { for programs.iter().map(|m| html! {
                            <li key={m.program_id.to_string()}>
                                <Link<Route> to={Route::ParticipantProgram { id: m.program_id }}>{ &m.program_name }</Link<Route>>
                                { format!(" — {}", match m.role {
                                    cohort_api_types::ParticipantRole::Mentor => "mentor",
                                    cohort_api_types::ParticipantRole::Mentee => "mentee",
                                }) }
                                if m.role == cohort_api_types::ParticipantRole::Mentee {
                                    <crate::pages::mentoring::FindMentorLink program={m.program_id} />
                                }
                            </li>
                        }) }
                    </ul>
                }
            </section>
            { body }
        </>
    }
}
