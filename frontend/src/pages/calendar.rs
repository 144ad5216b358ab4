//! The calendar of bookings: a week (Monday to Sunday) of hourly columns in the organisation's
//! time zone or a chosen one, filtered by provider, with each booking's details and cancel; and the admin's
//! booking flow (service → format → day → slot → provider → location → topic answers → student).

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use cohort_api_types::{
    AppointmentFormat, Booking, BookingSettings, BookingStatus, CancelBooking, CreateBooking, Person, Provider,
    Service, Slot, SlotList,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::components::person_picker::PersonPicker;
use crate::pages::services::{format_key, format_name, format_of};
use crate::Route;
use cohort_ui::components::reschedule::Reschedule;
use cohort_ui::state::{from_wall_clock, now, time_zones, today_in, wall_clock, Load, Session};

/// What the calendar shows, kept in the address so a reload or a shared link shows the same.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CalendarQuery {
    /// Any day of the week shown (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub week: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// A booking whose details are open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<Uuid>,
}

/// A change to what the calendar shows, given the control's value.
type QueryChange = Box<dyn Fn(&mut CalendarQuery, String)>;

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// The one provider free at `slot`, when only one is.
fn only_one(list: &SlotList, slot: &Slot) -> Option<Uuid> {
    match list.free_at(slot).collect::<Vec<_>>()[..] {
        [p] => Some(p.id),
        _ => None,
    }
}

/// Pixels per hour of the week's grid (as in the stylesheet's hour lines).
const HOUR_PX: u32 = 48;

/// A booking's start and end on the wall clock of the zone shown.
type Span = (NaiveDateTime, NaiveDateTime);

fn span(b: &Booking, zone: &str) -> Span {
    (wall_clock(&b.starts_at, zone), wall_clock(&b.ends_at, zone))
}

/// The hours the week's grid shows: 08:00 to 18:00, widened to every booking (to midnight for one
/// that ends on a later day).
fn hours_shown(spans: impl IntoIterator<Item = Span>) -> (u32, u32) {
    let (mut first, mut last) = (8, 18);
    for (starts, ends) in spans {
        first = first.min(starts.hour());
        last = last.max(if ends.date() > starts.date() {
            24
        } else {
            ends.hour() + u32::from(ends.minute() > 0)
        });
    }
    (first, last)
}

/// Where a booking sits in its day's column from `first` o'clock: top and height in pixels
/// (ending at midnight at the latest, and tall enough to click).
fn placed((starts, ends): Span, first: u32) -> (u32, u32) {
    let minutes = |t: NaiveDateTime| t.hour() * 60 + t.minute();
    let end = if ends.date() > starts.date() {
        24 * 60
    } else {
        minutes(ends)
    };
    let from = minutes(starts).saturating_sub(first * 60);
    let length = end.saturating_sub(minutes(starts));
    (from * HOUR_PX / 60, (length * HOUR_PX / 60).max(20))
}

/// Side by side: each of a day's bookings (sorted by start) gets the first lane free at its
/// start; the lanes of each booking and how many there are.
fn lanes(of_day: &[Span]) -> (Vec<usize>, usize) {
    let mut ends: Vec<NaiveDateTime> = Vec::new();
    let lane = of_day
        .iter()
        .map(|&(starts, ends_at)| match ends.iter().position(|end| *end <= starts) {
            Some(i) => {
                ends[i] = ends_at;
                i
            }
            None => {
                ends.push(ends_at);
                ends.len() - 1
            }
        })
        .collect();
    (lane, ends.len().max(1))
}

fn status_name(s: BookingStatus) -> &'static str {
    match s {
        BookingStatus::Confirmed => "confirmed",
        BookingStatus::Cancelled => "cancelled",
        BookingStatus::Completed => "completed",
    }
}

#[function_component(Calendar)]
pub fn calendar() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let labels = session.labels().clone();
    let org_zone = session.me.organization.time_zone.clone();
    let location = use_location();
    let navigator = use_navigator();
    let query: CalendarQuery = location
        .as_ref()
        .and_then(|l| l.query::<CalendarQuery>().ok())
        .unwrap_or_default();
    let zone = query.zone.clone().unwrap_or_else(|| org_zone.clone());
    let monday = monday_of(query.week.unwrap_or_else(|| today_in(&zone)));
    let bookings = use_state(|| Load::<Vec<Booking>>::Loading);
    let providers = use_state(Vec::<Provider>::new);
    let reload = use_state(|| 0u32);
    let reason = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    {
        let providers = providers.clone();
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                if let Ok(page) = api::providers().await {
                    providers.set(page.items);
                }
            });
        });
    }
    {
        let bookings = bookings.clone();
        let (zone, provider) = (zone.clone(), query.provider);
        use_effect_with((monday, zone, provider, *reload), move |(monday, zone, provider, _)| {
            let from = from_wall_clock(monday.and_time(NaiveTime::MIN), zone);
            let to = from_wall_clock((*monday + Days::new(7)).and_time(NaiveTime::MIN), zone);
            let provider = *provider;
            yew::platform::spawn_local(async move {
                bookings.set(
                    match api::bookings(&from.to_rfc3339(), &to.to_rfc3339(), provider).await {
                        Ok(items) => Load::Loaded(items),
                        Err(e) => Load::Failed(e),
                    },
                );
            });
        });
    }
    let go = {
        let (navigator, query) = (navigator.clone(), query.clone());
        move |change: QueryChange| {
            let (navigator, query) = (navigator.clone(), query.clone());
            Callback::from(move |value: String| {
                let mut next = query.clone();
                change(&mut next, value);
                if let Some(n) = &navigator {
                    let _ = n.push_with_query(&Route::Calendar, &next);
                }
            })
        }
    };
    let click = |cb: Callback<String>| cb.reform(|_: MouseEvent| String::new());
    let on_select = |cb: Callback<String>| cb.reform(|e: Event| e.target_unchecked_into::<HtmlSelectElement>().value());
    let previous = click(go(Box::new(move |q, _| q.week = Some(monday - Days::new(7)))));
    let next = click(go(Box::new(move |q, _| q.week = Some(monday + Days::new(7)))));
    let this_week = click(go(Box::new(|q, _| q.week = None)));
    let on_provider = on_select(go(Box::new(|q, v| {
        q.provider = v.parse().ok();
        q.booking = None;
    })));
    let on_zone = on_select(go(Box::new(|q, v| q.zone = Some(v))));
    let open = |id: Uuid| click(go(Box::new(move |q, _| q.booking = Some(id))));
    let close = click(go(Box::new(|q, _| q.booking = None)));
    let cancel = |id: Uuid| {
        let (reason, error, reload) = (reason.clone(), error.clone(), reload.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = CancelBooking {
                reason: Some((*reason).clone()).filter(|r| !r.trim().is_empty()),
            };
            let (reason, error, reload) = (reason.clone(), error.clone(), reload.clone());
            yew::platform::spawn_local(async move {
                match api::cancel_booking(id, &input).await {
                    Ok(_) => {
                        error.set(None);
                        reason.set(String::new());
                        reload.set(*reload + 1);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let done = {
        let (reload, error) = (reload.clone(), error.clone());
        Callback::from(move |_: ()| {
            error.set(None);
            reload.set(*reload + 1);
        })
    };
    let complete = |id: Uuid| {
        let (error, done) = (error.clone(), done.clone());
        Callback::from(move |_: MouseEvent| {
            let (error, done) = (error.clone(), done.clone());
            yew::platform::spawn_local(async move {
                match api::complete_booking(id).await {
                    Ok(_) => done.emit(()),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    // The grid's positions are CSS variables set after each render (see `apply_css_vars`).
    let week_ref = use_node_ref();
    {
        let week_ref = week_ref.clone();
        use_effect(move || {
            if let Some(week) = week_ref.cast::<web_sys::HtmlElement>() {
                cohort_ui::state::apply_css_vars(&week);
            }
        });
    }
    let zones: Vec<String> = time_zones(&zone);
    let days: Vec<NaiveDate> = (0..7).map(|d| monday + Days::new(d)).collect();
    let time = |b: &Booking| {
        format!(
            "{}–{}",
            wall_clock(&b.starts_at, &zone).format("%H:%M"),
            wall_clock(&b.ends_at, &zone).format("%H:%M")
        )
    };
    let selected = match (&*bookings, query.booking) {
        (Load::Loaded(items), Some(id)) => items.iter().find(|b| b.id == id).cloned(),
        _ => None,
    };
    html! {
        <>
            <div class="bar">
                <h1>{ "Calendar" }</h1>
                <Link<Route> to={Route::Book} classes="button">{ "Book" }</Link<Route>>
            </div>
            <div class="actions calendar-controls">
                <button type="button" class="secondary" onclick={previous} aria-label="Previous week">{ "← Previous" }</button>
                <button type="button" class="secondary" onclick={this_week}>{ "This week" }</button>
                <button type="button" class="secondary" onclick={next} aria-label="Next week">{ "Next →" }</button>
                <strong id="week-label">{ format!("{} – {}", monday.format("%-d %b %Y"), (monday + Days::new(6)).format("%-d %b %Y")) }</strong>
                <label for="calendar-provider">{ labels.provider_singular.clone() }</label>
                <select id="calendar-provider" onchange={on_provider}>
                    <option value="" selected={query.provider.is_none()}>{ format!("All {}", labels.provider_plural.to_lowercase()) }</option>
                    { for providers.iter().map(|p| html! {
                        <option value={p.id.to_string()} selected={query.provider == Some(p.id)}>{ p.name.clone() }</option>
                    }) }
                </select>
                <label for="calendar-zone">{ "Time zone" }</label>
                <select id="calendar-zone" onchange={on_zone}>
                    { for zones.iter().map(|z| html! { <option value={z.clone()} selected={*z == zone}>{ z.clone() }</option> }) }
                </select>
            </div>
            if let Some(b) = &selected {
                <section class="card stack" id="booking-details" aria-label="Booking">
                    <div class="bar">
                        <h2>{ format!("{} with {}", b.service.name, b.provider.name) }</h2>
                        <button type="button" class="secondary" onclick={close}>{ "Close" }</button>
                    </div>
                    <dl class="details">
                        <dt>{ "When" }</dt><dd>{ format!("{} {} ({zone})", wall_clock(&b.starts_at, &zone).format("%A %-d %B %Y"), time(b)) }</dd>
                        <dt>{ "Student" }</dt><dd>{ format!("{} ({})", b.student.name, b.student.email) }</dd>
                        <dt>{ labels.provider_singular.clone() }</dt><dd>{ format!("{} ({})", b.provider.name, b.provider.email) }</dd>
                        <dt>{ "Format" }</dt><dd>{ format_name(b.format) }</dd>
                        <dt>{ "Location" }</dt><dd>{ b.location.clone() }</dd>
                        <dt>{ "Status" }</dt><dd id="booking-status">{ status_name(b.status) }</dd>
                        if let Some(r) = &b.cancel_reason { <dt>{ "Reason" }</dt><dd>{ r.clone() }</dd> }
                        { for b.answers.iter().map(|a| html! { <><dt>{ a.question.clone() }</dt><dd>{ a.answer.clone() }</dd></> }) }
                    </dl>
                    if b.status == BookingStatus::Confirmed && session.me.person.is_admin {
                        <Reschedule key={b.id.to_string()} booking={b.clone()} zone={zone.clone()} ondone={done.clone()} />
                        if b.starts_at <= now() {
                            <div class="actions"><button type="button" class="secondary" onclick={complete(b.id)}>{ "Mark completed" }</button></div>
                        }
                        <form class="inline" onsubmit={cancel(b.id)} aria-label="Cancel booking">
                            if let Some(e) = &*error { <p class="error" role="alert">{ e.under("reason").unwrap_or_else(|| e.message()) }</p> }
                            <label for="cancel-reason">{ "Reason (sent to both)" }</label>
                            <input id="cancel-reason" value={(*reason).clone()}
                                oninput={let r = reason.clone(); Callback::from(move |e: InputEvent| r.set(e.target_unchecked_into::<HtmlInputElement>().value()))} />
                            <button type="submit" class="danger">{ "Cancel booking" }</button>
                        </form>
                    }
                </section>
            }
            {
                bookings.view(|items| {
                        let (first, last) = hours_shown(items.iter().map(|b| span(b, &zone)));
                        html! {
                            <div class="week hours" id="week" ref={week_ref.clone()} data-vars={format!("--hours: {}", last - first)}>
                                <div class="gutter" aria-hidden="true">
                                    <h3>{ "\u{a0}" }</h3>
                                    <div class="day-body">
                                        { for (first..last).map(|h| html! {
                                            <span data-vars={format!("--at: {}", h - first)}>{ format!("{h:02}:00") }</span>
                                        }) }
                                    </div>
                                </div>
                                { for days.iter().map(|day| {
                                    let mut of_day: Vec<&Booking> = items.iter().filter(|b| wall_clock(&b.starts_at, &zone).date() == *day).collect();
                                    of_day.sort_by_key(|b| b.starts_at);
                                    let (lane, lanes) = lanes(&of_day.iter().map(|b| span(b, &zone)).collect::<Vec<_>>());
                                    html! {
                                        <section class="day" aria-label={day.format("%A %-d %B").to_string()} id={format!("day-{day}")}>
                                            <h3>{ day.format("%a %-d %b").to_string() }</h3>
                                            <div class="day-body">
                                                { for of_day.iter().zip(lane).map(|(b, lane)| {
                                                    let (top, height) = placed(span(b, &zone), first);
                                                    // The name is the visible text, in its order (WCAG 2.5.3).
                                                    let label = format!("{} {} with {} {} {}", time(b), b.student.name, b.provider.name, b.service.name, status_name(b.status));
                                                    html! {
                                                        <button key={b.id.to_string()} type="button" class={classes!("booking", status_name(b.status))} onclick={open(b.id)}
                                                            data-vars={format!("--top: {top}; --height: {height}; --lane: {lane}; --lanes: {lanes}")}
                                                            title={label.clone()} aria-label={label}>
                                                            <strong>{ time(b) }</strong>
                                                            <span>{ b.student.name.clone() }</span>
                                                            <span>{ format!("with {}", b.provider.name) }</span>
                                                            <span>{ b.service.name.clone() }</span>
                                                            <span class="status">{ status_name(b.status) }</span>
                                                        </button>
                                                    }
                                                }) }
                                            </div>
                                        </section>
                                    }
                                }) }
                            </div>
                        }
                    })
            }
        </>
    }
}

/// The admin's booking flow, one choice after another.
#[function_component(Book)]
pub fn book() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let labels = session.labels().clone();
    let org_zone = session.me.organization.time_zone.clone();
    let navigator = use_navigator();
    let services = use_state(Vec::<Service>::new);
    let settings = use_state(|| None::<BookingSettings>);
    let service = use_state(|| None::<Uuid>);
    let format = use_state(|| None::<AppointmentFormat>);
    let zone = use_state(|| org_zone.clone());
    let day = use_state(|| today_in(&org_zone).to_string());
    let slots = use_state(|| Load::<SlotList>::Loading);
    let slot = use_state(|| None::<Slot>);
    let provider = use_state(|| None::<Provider>);
    let location = use_state(String::new);
    let answers = use_state(std::collections::BTreeMap::<String, String>::new);
    let student = use_state(|| None::<Person>);
    let error = use_state(|| None::<ApiError>);
    // Bumped when a booking fails (the slot may have just been taken): the slots load again.
    let slots_reload = use_state(|| 0u32);
    {
        let (services, settings) = (services.clone(), settings.clone());
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                if let Ok(page) = api::services().await {
                    services.set(page.items);
                }
                if let Ok(s) = api::booking_settings().await {
                    settings.set(Some(s));
                }
            });
        });
    }
    // Slots follow the service, the day and the zone.
    {
        let (slots, slot, provider) = (slots.clone(), slot.clone(), provider.clone());
        use_effect_with(
            ((*service), (*day).clone(), (*zone).clone(), *slots_reload),
            move |(service, day, zone, _)| {
                slot.set(None);
                provider.set(None);
                if let Some(service) = *service {
                    slots.set(Load::Loading);
                    let (day, zone) = (day.clone(), zone.clone());
                    yew::platform::spawn_local(async move {
                        slots.set(match api::slots(service, &day, &day, &zone, None).await {
                            Ok(list) => Load::Loaded(list),
                            Err(e) => Load::Failed(e),
                        });
                    });
                }
            },
        );
    }
    let chosen = services.iter().find(|s| Some(s.id) == *service).cloned();
    let formats: Vec<AppointmentFormat> = chosen
        .as_ref()
        .map(|s| {
            s.formats
                .iter()
                .copied()
                .filter(|f| {
                    settings
                        .as_ref()
                        .is_none_or(|st| st.formats.iter().any(|x| x.format == *f && x.enabled))
                })
                .collect()
        })
        .unwrap_or_default();
    let questions = settings
        .as_ref()
        .and_then(|s| {
            s.formats
                .iter()
                .find(|f| Some(f.format) == *format)
                .map(|f| f.questions.clone())
        })
        .unwrap_or_default();
    let places: Vec<String> = match (&chosen, *format) {
        (Some(s), Some(f)) => s
            .locations
            .iter()
            .chain(provider.as_ref().map(|p| p.locations.iter()).into_iter().flatten())
            .filter(|l| l.format == f)
            .map(|l| l.name.clone())
            .collect(),
        _ => Vec::new(),
    };
    let on_service = {
        let (service, format) = (service.clone(), format.clone());
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            service.set(v.parse().ok());
            format.set(None);
        })
    };
    let on_format = {
        let (format, answers, location) = (format.clone(), answers.clone(), location.clone());
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            format.set((!v.is_empty()).then(|| format_of(&v)));
            answers.set(Default::default());
            location.set(String::new());
        })
    };
    let on_day = {
        let day = day.clone();
        Callback::from(move |e: InputEvent| day.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_zone = {
        let zone = zone.clone();
        Callback::from(move |e: Event| zone.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let choose_provider = |id: Uuid| {
        let (provider, location) = (provider.clone(), location.clone());
        Callback::from(move |_: MouseEvent| {
            let (provider, location) = (provider.clone(), location.clone());
            yew::platform::spawn_local(async move {
                if let Ok(p) = api::provider(id).await {
                    location.set(String::new());
                    provider.set(Some(p));
                }
            });
        })
    };
    // `only`: the one person free then, if just one is.
    let choose_slot = |s: Slot, only: Option<Uuid>| {
        let (slot, provider, location) = (slot.clone(), provider.clone(), location.clone());
        Callback::from(move |_: MouseEvent| {
            provider.set(None);
            location.set(String::new());
            // One free person: they are the choice.
            if let Some(only) = only {
                let (provider, location) = (provider.clone(), location.clone());
                yew::platform::spawn_local(async move {
                    if let Ok(p) = api::provider(only).await {
                        location.set(String::new());
                        provider.set(Some(p));
                    }
                });
            }
            slot.set(Some(s.clone()));
        })
    };
    let on_location = {
        let location = location.clone();
        Callback::from(move |e: Event| location.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_pick = {
        let student = student.clone();
        Callback::from(move |p: Person| student.set(Some(p)))
    };
    let onsubmit = {
        let (service, format, slot, provider, location, answers, student, error) = (
            service.clone(),
            format.clone(),
            slot.clone(),
            provider.clone(),
            location.clone(),
            answers.clone(),
            student.clone(),
            error.clone(),
        );
        let (navigator, zone, slots_reload) = (navigator.clone(), zone.clone(), slots_reload.clone());
        let default_place = places.first().cloned();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (Some(service), Some(format), Some(slot), Some(provider), Some(student)) = (
                *service,
                *format,
                (*slot).clone(),
                (*provider).clone(),
                (*student).clone(),
            ) else {
                return;
            };
            let input = CreateBooking {
                service_id: service,
                provider_id: provider.id,
                starts_at: slot.starts_at,
                format,
                location: Some((*location).clone())
                    .filter(|l| !l.is_empty())
                    .or(default_place.clone()),
                answers: (*answers).clone(),
                student_id: Some(student.id),
            };
            let (error, navigator, zone, slots_reload) =
                (error.clone(), navigator.clone(), (*zone).clone(), slots_reload.clone());
            yew::platform::spawn_local(async move {
                match api::create_booking(&input).await {
                    Ok(b) => {
                        if let Some(n) = navigator {
                            let _ = n.push_with_query(
                                &Route::Calendar,
                                &CalendarQuery {
                                    week: Some(wall_clock(&b.starts_at, &zone).date()),
                                    provider: None,
                                    zone: Some(zone),
                                    booking: Some(b.id),
                                },
                            );
                        }
                    }
                    Err(e) => {
                        // A slot just taken (409) or no longer free (named at starts_at): show what is free now.
                        let stale = matches!(&e, ApiError::Problem(p)
                            if p.status == 409 || p.errors.iter().any(|f| f.field == "starts_at"));
                        if stale {
                            slots_reload.set(*slots_reload + 1);
                        }
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let field = |name: &str| (*error).as_ref().and_then(|e| e.under(name));
    let ready = service.is_some() && format.is_some() && slot.is_some() && provider.is_some() && student.is_some();
    html! {
        <>
            <p><Link<Route> to={Route::Calendar}>{ "← Calendar" }</Link<Route>></p>
            <h1>{ "Book an appointment" }</h1>
            <form class="card stack" {onsubmit} novalidate=true aria-label="Book">
                if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
                <div class="field">
                    <label for="book-service">{ labels.class_singular.clone() }</label>
                    <select id="book-service" onchange={on_service}>
                        <option value="" selected={service.is_none()}>{ "Choose…" }</option>
                        { for services.iter().map(|s| html! {
                            <option value={s.id.to_string()} selected={Some(s.id) == *service}>{
                                if s.course_number.is_empty() { s.name.clone() } else { format!("{} ({})", s.name, s.course_number) }
                            }</option>
                        }) }
                    </select>
                    if let Some(m) = field("service_id") { <p class="field-error">{ m }</p> }
                </div>
                if chosen.is_some() {
                    <div class="field">
                        <label for="book-format">{ "Format" }</label>
                        <select id="book-format" onchange={on_format}>
                            <option value="" selected={format.is_none()}>{ "Choose…" }</option>
                            { for formats.iter().map(|f| html! {
                                <option value={format_key(*f)} selected={Some(*f) == *format}>{ format_name(*f) }</option>
                            }) }
                        </select>
                        if let Some(m) = field("format") { <p class="field-error">{ m }</p> }
                    </div>
                    <div class="grid2">
                        <div class="field">
                            <label for="book-day">{ "Day" }</label>
                            <input type="date" id="book-day" value={(*day).clone()} oninput={on_day} />
                        </div>
                        <div class="field">
                            <label for="book-zone">{ "Times shown in" }</label>
                            <select id="book-zone" onchange={on_zone}>
                                { for time_zones(&zone).iter().map(|z| html! { <option value={z.clone()} selected={*z == *zone}>{ z.clone() }</option> }) }
                            </select>
                        </div>
                    </div>
                    <fieldset id="book-slots">
                        <legend>{ "Time" }</legend>
                        {
                            match &*slots {
                                Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                                Load::Failed(e) => html! { <p class="error" role="alert">{ e.under("from").or_else(|| e.under("to")).unwrap_or_else(|| e.message()) }</p> },
                                Load::Loaded(list) if list.items.is_empty() => html! { <p class="empty">{ "No free times on this day." }</p> },
                                Load::Loaded(list) => html! {
                                    <div class="slots">
                                        { for list.items.iter().map(|s| {
                                            let at = s.starts_at.format("%H:%M").to_string();
                                            let picked = slot.as_ref().is_some_and(|x| x.starts_at == s.starts_at);
                                            html! {
                                                <button key={s.starts_at.to_rfc3339()} type="button" class={classes!("slot", picked.then_some("picked"))}
                                                    aria-pressed={picked.to_string()} aria-label={format!("Slot {at}")} onclick={choose_slot(s.clone(), only_one(list, s))}>
                                                    { at }<small>{ format!(" · {} free", s.providers.len()) }</small>
                                                </button>
                                            }
                                        }) }
                                    </div>
                                },
                            }
                        }
                        if let Some(m) = field("starts_at") { <p class="field-error">{ m }</p> }
                    </fieldset>
                }
                if let (Some(s), Load::Loaded(list)) = (&*slot, &*slots) {
                    <fieldset id="book-providers">
                        <legend>{ format!("{} free at {}", labels.provider_plural, s.starts_at.format("%H:%M")) }</legend>
                        { for list.free_at(s).map(|p| {
                            let picked = provider.as_ref().is_some_and(|x| x.id == p.id);
                            html! {
                                <div class={classes!("provider-choice", picked.then_some("picked"))}>
                                    if let Some(url) = &p.photo_url { <img src={url.clone()} alt="" class="avatar" /> }
                                    <button type="button" class="secondary" aria-pressed={picked.to_string()}
                                        aria-label={format!("Choose {}", p.name)} onclick={choose_provider(p.id)}>{ p.name.clone() }</button>
                                    <p class="hint">{ p.bio.clone() }</p>
                                </div>
                            }
                        }) }
                        if let Some(m) = field("provider_id") { <p class="field-error">{ m }</p> }
                    </fieldset>
                }
                if provider.is_some() && format.is_some() {
                    <div class="field">
                        <label for="book-location">{ "Location" }</label>
                        <select id="book-location" onchange={on_location}>
                            { for places.iter().map(|l| html! { <option value={l.clone()} selected={*l == *location}>{ l.clone() }</option> }) }
                        </select>
                        if let Some(m) = field("location") { <p class="field-error">{ m }</p> }
                    </div>
                    { for questions.iter().map(|q| {
                        let id = q.id.clone();
                        let answers2 = answers.clone();
                        let oninput = Callback::from(move |e: InputEvent| {
                            let mut next = (*answers2).clone();
                            next.insert(id.clone(), e.target_unchecked_into::<HtmlInputElement>().value());
                            answers2.set(next);
                        });
                        html! {
                            <div class="field">
                                <label for={format!("book-answer-{}", q.id)}>{ format!("{}{}", q.text, if q.required { " (required)" } else { "" }) }</label>
                                <input id={format!("book-answer-{}", q.id)} value={answers.get(&q.id).cloned().unwrap_or_default()} {oninput} />
                                if let Some(m) = field(&format!("answers.{}", q.id)) { <p class="field-error" id={format!("book-answer-{}-error", q.id)}>{ m }</p> }
                            </div>
                        }
                    }) }
                    <PersonPicker id="book-student" label="Student" onpick={on_pick} />
                    if let Some(p) = &*student { <p id="book-student-chosen">{ format!("Student: {} ({})", p.name, p.email) }</p> }
                    if let Some(m) = field("student_id") { <p class="field-error">{ m }</p> }
                }
                <div class="actions"><button type="submit" disabled={!ready}>{ "Book" }</button></div>
            </form>
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32, minute: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day)
            .unwrap()
            .and_hms_opt(hour, minute, 0)
            .unwrap()
    }

    #[test]
    fn overlapping_bookings_sit_side_by_side_and_a_freed_lane_is_reused() {
        let day = [
            (at(7, 9, 0), at(7, 10, 0)),
            (at(7, 9, 30), at(7, 10, 30)),
            (at(7, 9, 45), at(7, 11, 0)),
            // Starts as the first ends: takes its lane.
            (at(7, 10, 0), at(7, 10, 15)),
            (at(7, 12, 0), at(7, 13, 0)),
        ];
        assert_eq!(lanes(&day), (vec![0, 1, 2, 0, 0], 3));
        assert_eq!(lanes(&[]), (vec![], 1));
    }

    #[test]
    fn the_grid_widens_to_every_booking_and_to_midnight_for_one_ending_the_next_day() {
        assert_eq!(hours_shown([]), (8, 18));
        assert_eq!(
            hours_shown([(at(7, 7, 30), at(7, 8, 0)), (at(7, 18, 0), at(7, 18, 1))]),
            (7, 19)
        );
        assert_eq!(hours_shown([(at(7, 23, 0), at(8, 0, 30))]), (8, 24));
    }

    #[test]
    fn a_booking_is_placed_from_the_first_hour_and_is_tall_enough_to_click() {
        // 09:30–10:15 in a grid from 08:00: 1.5 hours down, 45 minutes tall.
        assert_eq!(placed((at(7, 9, 30), at(7, 10, 15)), 8), (72, 36));
        // Five minutes would be 4 px: 20 at least.
        assert_eq!(placed((at(7, 9, 0), at(7, 9, 5)), 8), (48, 20));
        // Past midnight: cut at the end of the day.
        assert_eq!(placed((at(7, 23, 0), at(8, 1, 0)), 8), (15 * 48, 48));
    }
}
