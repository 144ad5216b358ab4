//! A provider's (peer mentor's) own page: their week's schedule, the bookings they give, week by
//! week in their own zone; and their weekly availability with date overrides and time off.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use cohort_api_types::{Booking, BookingStatus};
use cohort_ui::api;
use cohort_ui::components::availability::AvailabilityEditor;
use cohort_ui::state::{from_wall_clock, today_in, use_load, wall_clock, Session};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::shell::Shell;
use crate::Route;

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(day.weekday().num_days_from_monday().into())
}

/// The Schedule page (`/me/schedule`).
#[function_component(SchedulePage)]
pub fn schedule_page() -> Html {
    html! { <Shell narrow=true><Schedule /></Shell> }
}

#[function_component(Schedule)]
fn schedule() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let labels = session.labels().clone();
    let zone = session.zone();
    let Some(provider) = session.me.provider_id else {
        return html! {
            <>
                <h1>{ "My schedule" }</h1>
                <p class="empty card">{ format!("You are not a {} here, so you have no schedule. To meet one, ", labels.provider_singular.to_lowercase()) }
                    <Link<Route> to={Route::Book}>{ "book an appointment" }</Link<Route>>{ "." }</p>
            </>
        };
    };
    html! {
        <>
            <h1>{ "My schedule" }</h1>
            <Week {provider} zone={zone.clone()} />
            <MyAvailability {provider} {zone} />
        </>
    }
}

#[derive(Properties, PartialEq)]
struct MyAvailabilityProps {
    provider: Uuid,
    zone: String,
}

/// The provider's own weekly windows, date overrides and time off.
#[function_component(MyAvailability)]
fn my_availability(props: &MyAvailabilityProps) -> Html {
    let provider = props.provider;
    let availability = use_load(provider, |p| api::availability(*p));
    html! {
        <section class="card" aria-labelledby="my-availability">
            <h2 id="my-availability">{ "My availability" }</h2>
            <p class="hint">{ format!("Times are in your own time zone ({}); students see them in theirs.", props.zone) }</p>
            { availability.view(|a| html! { <AvailabilityEditor {provider} availability={a.clone()} /> }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct WeekProps {
    provider: Uuid,
    zone: String,
}

/// One week (Monday to Sunday in the provider's zone) of the bookings they give.
#[function_component(Week)]
fn week(props: &WeekProps) -> Html {
    let monday = use_state(|| monday_of(today_in(&props.zone)));
    let data = use_load(
        (*monday, props.provider, props.zone.clone()),
        |(monday, provider, zone)| {
            let from = from_wall_clock(monday.and_time(NaiveTime::MIN), zone);
            let to = from_wall_clock((*monday + Days::new(7)).and_time(NaiveTime::MIN), zone);
            let provider = *provider;
            async move {
                let fmt = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                let mut list = api::bookings(&fmt(from), &fmt(to), Some(provider)).await?;
                list.retain(|b| b.provider.id == provider);
                list.sort_by_key(|b| b.starts_at);
                Ok(list)
            }
        },
    );
    let shift = |days: i64| {
        let monday = monday.clone();
        Callback::from(move |_: MouseEvent| {
            monday.set(if days >= 0 {
                *monday + Days::new(days as u64)
            } else {
                *monday - Days::new(days.unsigned_abs())
            })
        })
    };
    let this_week = {
        let (monday, zone) = (monday.clone(), props.zone.clone());
        Callback::from(move |_: MouseEvent| monday.set(monday_of(today_in(&zone))))
    };
    let zone = props.zone.clone();
    let body = data.view(|list: &Vec<Booking>| {
        if list.is_empty() {
            return html! { <p class="empty">{ "No bookings this week." }</p> };
        }
        let mut days: BTreeMap<NaiveDate, Vec<&Booking>> = BTreeMap::new();
        for b in list {
            days.entry(wall_clock(&b.starts_at, &zone).date()).or_default().push(b);
        }
        html! {
            { for days.iter().map(|(day, bookings)| html! {
                <div key={day.to_string()} class="schedule-day">
                    <h3>{ day.format("%A %-d %B").to_string() }</h3>
                    <ul class="bookings">
                        { for bookings.iter().map(|b| {
                            let times = format!(
                                "{}–{}",
                                wall_clock(&b.starts_at, &zone).format("%H:%M"),
                                wall_clock(&b.ends_at, &zone).format("%H:%M")
                            );
                            let cancelled = b.status == BookingStatus::Cancelled;
                            html! {
                                <li key={b.id.to_string()} class={classes!("booking", cancelled.then_some("cancelled"))}>
                                    <span class="when">{ times }</span>{ " " }
                                    <Link<Route> to={Route::ParticipantBooking { id: b.id }}>{ format!("{} with {}", b.service.name, b.student.name) }</Link<Route>>
                                    <br />
                                    <small>{ format!("{}{}", b.location, if cancelled { " · Cancelled" } else { "" }) }</small>
                                </li>
                            }
                        }) }
                    </ul>
                </div>
            }) }
        }
    });
    html! {
        <section class="card" aria-labelledby="my-week">
            <h2 id="my-week">{ format!("Week of {} ({})", monday.format("%-d %B %Y"), props.zone) }</h2>
            <div class="row">
                <button type="button" class="secondary" onclick={shift(-7)}>{ "Previous week" }</button>
                <button type="button" class="secondary" onclick={this_week}>{ "This week" }</button>
                <button type="button" class="secondary" onclick={shift(7)}>{ "Next week" }</button>
            </div>
            { body }
        </section>
    }
}
