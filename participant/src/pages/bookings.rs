//! A participant's bookings: the list (upcoming and past, as student or as provider) and one
//! booking, where its emails lead: cancel (the late-cancellation rule explained), reschedule, and
//! "add to my calendar" (the booking's `.ics`, and the personal feed's address).

use chrono::Duration;
use cohort_api_types::{Booking, BookingPage, BookingStatus, CalendarFeed, CancelBooking, Service};
use cohort_ui::api::{self, ApiError, Method};
use cohort_ui::components::reschedule::Reschedule;
use cohort_ui::state::{local_time, now, use_load, Session};
use uuid::Uuid;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::shell::Shell;
use crate::Route;

/// How far back "past" bookings go.
const PAST_DAYS: i64 = 180;

/// The caller's bookings starting from `from` (every page).
async fn my_bookings_from(from: chrono::DateTime<chrono::Utc>) -> Result<Vec<Booking>, ApiError> {
    let from = api::enc(&from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    api::all_pages(|cursor| {
        let path = api::with_cursor(format!("/api/v1/me/bookings?limit=200&from={from}"), &cursor);
        async move {
            let page: BookingPage = api::get(&path).await?;
            Ok((page.items, page.next_cursor))
        }
    })
    .await
}

/// A new address for the caller's calendar feed (the old one stops working).
async fn new_calendar_feed() -> Result<CalendarFeed, ApiError> {
    api::write(Method::POST, "/api/v1/me/calendar-feed", &()).await
}

fn status_name(s: BookingStatus) -> &'static str {
    match s {
        BookingStatus::Confirmed => "Confirmed",
        BookingStatus::Cancelled => "Cancelled",
        BookingStatus::Completed => "Completed",
    }
}

/// The list page (`/me/bookings`).
#[function_component(MyBookingsPage)]
pub fn my_bookings_page() -> Html {
    html! { <Shell narrow=true><MyBookings /></Shell> }
}

#[function_component(MyBookings)]
fn my_bookings() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let zone = session.zone();
    let me = session.me.person.id;
    let labels = session.labels().clone();
    let data = use_load((), |_| my_bookings_from(now() - Duration::days(PAST_DAYS)));
    let item = |b: &Booking| {
        let mine_to_give = b.provider.id == me;
        let with = if mine_to_give {
            format!("Student: {}", b.student.name)
        } else {
            format!("{}: {}", labels.provider_singular, b.provider.name)
        };
        html! {
            <li key={b.id.to_string()} class={classes!("booking", (b.status == BookingStatus::Cancelled).then_some("cancelled"))}>
                <Link<Route> to={Route::ParticipantBooking { id: b.id }}>{ &b.service.name }</Link<Route>>
                <span class="when">{ format!(" — {}", local_time(&b.starts_at, &zone)) }</span>
                <br />
                <small>{ format!("{with} · {} · {}", b.location, status_name(b.status)) }</small>
            </li>
        }
    };
    let body = data.view(|all: &Vec<Booking>| {
        let at = now();
        let upcoming: Vec<&Booking> = all.iter().filter(|b| b.ends_at > at).collect();
        let mut past: Vec<&Booking> = all.iter().filter(|b| b.ends_at <= at).collect();
        past.reverse();
        html! {
            <>
                <section class="card" aria-labelledby="upcoming">
                    <h2 id="upcoming">{ "Upcoming" }</h2>
                    if upcoming.is_empty() {
                        <p class="empty">{ "Nothing booked. " }<Link<Route> to={Route::Book}>{ "Book an appointment" }</Link<Route>></p>
                    } else {
                        <ul class="bookings">{ for upcoming.iter().map(|b| item(b)) }</ul>
                    }
                </section>
                <section class="card" aria-labelledby="past">
                    <h2 id="past">{ "Past" }</h2>
                    if past.is_empty() {
                        <p class="empty">{ format!("No bookings in the last {PAST_DAYS} days.") }</p>
                    } else {
                        <ul class="bookings">{ for past.iter().map(|b| item(b)) }</ul>
                    }
                </section>
            </>
        }
    });
    html! {
        <>
            <h1>{ "My bookings" }</h1>
            <p>{ format!("Times are in {zone}. ") }<Link<Route> to={Route::Book}>{ "Book an appointment" }</Link<Route>></p>
            { body }
            <CalendarFeedCard />
        </>
    }
}

/// The personal calendar feed: an address calendar apps subscribe to.
#[function_component(CalendarFeedCard)]
fn calendar_feed_card() -> Html {
    let feed = use_state(|| None::<Result<CalendarFeed, ApiError>>);
    let onclick = {
        let feed = feed.clone();
        Callback::from(move |_: MouseEvent| {
            let feed = feed.clone();
            yew::platform::spawn_local(async move { feed.set(Some(new_calendar_feed().await)) });
        })
    };
    html! {
        <section class="card" aria-labelledby="calendar-feed">
            <h2 id="calendar-feed">{ "Add all my bookings to my calendar" }</h2>
            <p class="hint">{ "Your calendar app can subscribe to an address that lists your bookings and keeps them up to date. Keep it secret: anyone with it can read your bookings. A new address ends the old one." }</p>
            {
                match &*feed {
                    Some(Ok(f)) => html! {
                        <div class="field">
                            <label for="calendar-feed-url">{ "Your calendar address" }</label>
                            <input id="calendar-feed-url" readonly=true value={f.url.clone()}
                                onfocus={Callback::from(|e: FocusEvent| e.target_unchecked_into::<HtmlInputElement>().select())} />
                        </div>
                    },
                    Some(Err(e)) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    None => html! {},
                }
            }
            <button type="button" class="secondary" {onclick}>{ "Get my calendar address" }</button>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ParticipantBookingProps {
    pub id: Uuid,
}

/// One of the participant's bookings, where a booking email's link leads.
#[function_component(ParticipantBooking)]
pub fn participant_booking(props: &ParticipantBookingProps) -> Html {
    html! { <Shell narrow=true><BookingView id={props.id} /></Shell> }
}

#[function_component(BookingView)]
fn booking_view(props: &ParticipantBookingProps) -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let zone = session.zone();
    let labels = session.labels().clone();
    let me = session.me.person.id;
    let admin = session.me.person.is_admin;
    let reload = use_state(|| 0u32);
    let data = use_load((props.id, *reload), |(id, _)| {
        let id = *id;
        async move {
            let b = api::booking(id).await?;
            // The service's late-cancellation window; a removed service has none to show.
            let service: Option<Service> = api::service(b.service.id).await.ok();
            Ok((b, service))
        }
    });
    let changed = {
        let reload = reload.clone();
        Callback::from(move |()| reload.set(*reload + 1))
    };
    let body = data.view(|(b, service): &(Booking, Option<Service>)| {
        let confirmed = b.status == BookingStatus::Confirmed;
        let upcoming = b.starts_at > now();
        let window = service.as_ref().map(|s| s.late_cancel_hours);
        let late = window.is_some_and(|h| now() > b.starts_at - Duration::hours(h.into()));
        let is_student = b.student.id == me;
        let rule = window.map(|h| {
            format!("Bookings can be cancelled or moved up to {h} hours before they start; after that only an admin can, so please contact your program's admin.")
        });
        html! {
            <>
                <section class="card" aria-labelledby="booking-title">
                    <h1 id="booking-title">{ &b.service.name }</h1>
                    <dl>
                        <dt>{ "When" }</dt><dd id="booking-when">{ local_time(&b.starts_at, &zone) }</dd>
                        <dt>{ labels.provider_singular.clone() }</dt><dd>{ &b.provider.name }</dd>
                        <dt>{ "Student" }</dt><dd>{ &b.student.name }</dd>
                        <dt>{ "Where" }</dt><dd>{ &b.location }</dd>
                        <dt>{ "Status" }</dt><dd id="booking-status">{ status_name(b.status) }</dd>
                        { for b.answers.iter().map(|a| html! { <><dt>{ &a.question }</dt><dd>{ &a.answer }</dd></> }) }
                        if let Some(reason) = &b.cancel_reason { <dt>{ "Reason" }</dt><dd>{ reason }</dd> }
                    </dl>
                    <AddToCalendar id={b.id} />
                </section>
                if confirmed && upcoming {
                    <section class="card" aria-labelledby="booking-change">
                        <h2 id="booking-change">{ "Change this booking" }</h2>
                        if late && !admin {
                            <p class="hint" id="late-rule">{ format!("It is too late to cancel or move this booking yourself. {}", rule.clone().unwrap_or_default()) }</p>
                        } else {
                            if let Some(rule) = &rule { <p class="hint">{ rule.clone() }</p> }
                            if is_student || admin {
                                <Reschedule booking={b.clone()} zone={zone.clone()} ondone={changed.clone()} />
                            }
                            <Cancel id={b.id} ondone={changed.clone()} />
                        }
                    </section>
                }
                if b.status == BookingStatus::Cancelled && is_student {
                    <p><Link<Route> to={Route::Book}>{ "Book another time" }</Link<Route>></p>
                }
            </>
        }
    });
    html! {
        <>
            <p><Link<Route> to={Route::MyBookings}>{ "← My bookings" }</Link<Route>></p>
            { body }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct AddToCalendarProps {
    id: Uuid,
}

#[function_component(AddToCalendar)]
fn add_to_calendar(props: &AddToCalendarProps) -> Html {
    let error = use_state(|| None::<ApiError>);
    let onclick = {
        let (error, id) = (error.clone(), props.id);
        Callback::from(move |_: MouseEvent| {
            let error = error.clone();
            yew::platform::spawn_local(async move {
                let (path, file) = (format!("/api/v1/bookings/{id}/ics"), format!("booking-{id}.ics"));
                error.set(api::download(&path, &file).await.err())
            });
        })
    };
    html! {
        <div class="row">
            <button type="button" class="secondary" {onclick}>{ "Add to my calendar (.ics)" }</button>
            <Link<Route> to={Route::MyBookings}>{ "Subscribe to all my bookings" }</Link<Route>>
            if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct CancelProps {
    id: Uuid,
    ondone: Callback<()>,
}

#[function_component(Cancel)]
fn cancel(props: &CancelProps) -> Html {
    let reason = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    let onsubmit = {
        let (reason, error, ondone, id) = (reason.clone(), error.clone(), props.ondone.clone(), props.id);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = CancelBooking {
                reason: Some((*reason).clone()).filter(|r| !r.trim().is_empty()),
            };
            let (error, ondone) = (error.clone(), ondone.clone());
            yew::platform::spawn_local(async move {
                match api::cancel_booking(id, &input).await {
                    Ok(_) => ondone.emit(()),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let oninput = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| reason.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    html! {
        <form class="stack" {onsubmit} aria-label="Cancel the booking">
            if let Some(e) = &*error { <p class="error" role="alert">{ e.under("reason").unwrap_or_else(|| e.message()) }</p> }
            <div class="field">
                <label for="cancel-reason">{ "Reason (optional)" }</label>
                <input id="cancel-reason" value={(*reason).clone()} {oninput} maxlength="500" />
            </div>
            <div class="actions"><button type="submit" class="danger">{ "Cancel booking" }</button></div>
        </form>
    }
}
