//! Booking an appointment, Penji's flow: format → what I may book → a provider or "all
//! available" → a week of free times in my own zone → (for a generic service) who is free then,
//! with their bios → where to meet → the topic questions → confirm; then the booking, linked.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use cohort_api_types::{
    AppointmentFormat, Booking, BookingSettings, CreateBooking, Provider, ProviderPage, Service, ServicePage, Slot,
    SlotList,
};
use cohort_ui::api::{self, ApiError};
use cohort_ui::state::{local_time, today_in, use_load, Load, Session};
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::shell::Shell;
use crate::Route;

/// The services the caller may book in `format`.
async fn bookable_services(format: AppointmentFormat) -> Result<Vec<Service>, ApiError> {
    let key = format_key(format);
    api::all_pages(|cursor| async move {
        let page: ServicePage = api::get(&api::with_cursor(
            format!("/api/v1/services?bookable=true&format={key}&limit=200"),
            &cursor,
        ))
        .await?;
        Ok((page.items, page.next_cursor))
    })
    .await
}

/// The providers certified in `service`.
async fn providers_of(service: Uuid) -> Result<Vec<Provider>, ApiError> {
    api::all_pages(|cursor| async move {
        let page: ProviderPage = api::get(&api::with_cursor(
            format!("/api/v1/providers?service_id={service}&limit=200"),
            &cursor,
        ))
        .await?;
        Ok((page.items, page.next_cursor))
    })
    .await
}

pub fn format_key(f: AppointmentFormat) -> &'static str {
    match f {
        AppointmentFormat::InPerson => "in_person",
        AppointmentFormat::Virtual => "virtual",
    }
}

pub fn format_name(f: AppointmentFormat) -> &'static str {
    match f {
        AppointmentFormat::InPerson => "In person",
        AppointmentFormat::Virtual => "Virtual",
    }
}

/// Who the student books with: one provider, or whoever is free at the chosen time.
#[derive(Clone, Copy, PartialEq)]
enum Who {
    All,
    One(Uuid),
}

/// The Book page (`/me/book`).
#[function_component(BookPage)]
pub fn book_page() -> Html {
    html! { <Shell narrow=true><Book /></Shell> }
}

#[function_component(Book)]
fn book() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let labels = session.labels().clone();
    let zone = session.zone();
    let settings = use_load((), |_| api::booking_settings());
    let format = use_state(|| None::<AppointmentFormat>);
    let service = use_state(|| None::<Service>);
    let who = use_state(|| None::<Who>);
    let week = use_state(|| today_in(&zone));
    let slot = use_state(|| None::<Slot>);
    let provider = use_state(|| None::<Uuid>);
    let location = use_state(String::new);
    let answers = use_state(BTreeMap::<String, String>::new);
    let error = use_state(|| None::<ApiError>);
    let booked = use_state(|| None::<Booking>);
    // Bumped when a booking fails because the time was just taken: the slots load again.
    let reload = use_state(|| 0u32);

    let services = use_load(*format, |f| {
        let f = *f;
        async move {
            match f {
                Some(f) => bookable_services(f).await,
                None => Ok(Vec::new()),
            }
        }
    });
    let providers = use_load(service.as_ref().map(|s| s.id), |s| {
        let s = *s;
        async move {
            match s {
                Some(s) => providers_of(s).await,
                None => Ok(Vec::new()),
            }
        }
    });
    let slots = {
        let deps = (service.as_ref().map(|s| s.id), *who, *week, zone.clone(), *reload);
        use_load(deps, |(service, who, week, zone, _)| {
            let (service, who, week, zone) = (*service, *who, *week, zone.clone());
            async move {
                match (service, who) {
                    (Some(service), Some(who)) => {
                        let to = week + Days::new(6);
                        let only = match who {
                            Who::One(id) => Some(id),
                            Who::All => None,
                        };
                        api::slots(service, &week.to_string(), &to.to_string(), &zone, only)
                            .await
                            .map(Some)
                    }
                    _ => Ok(None),
                }
            }
        })
    };
    // The chosen provider's own places, offered besides the service's.
    let chosen_provider = use_load(*provider, |p| {
        let p = *p;
        async move {
            match p {
                Some(p) => api::provider(p).await.map(Some),
                None => Ok(None),
            }
        }
    });

    let reset_from = {
        let (slot, provider, location, answers, error) = (
            slot.clone(),
            provider.clone(),
            location.clone(),
            answers.clone(),
            error.clone(),
        );
        move || {
            slot.set(None);
            provider.set(None);
            location.set(String::new());
            answers.set(BTreeMap::new());
            error.set(None);
        }
    };
    let on_format = {
        let (format, service, who, reset) = (format.clone(), service.clone(), who.clone(), reset_from.clone());
        Callback::from(move |f: AppointmentFormat| {
            format.set(Some(f));
            service.set(None);
            who.set(None);
            reset();
        })
    };
    let on_service = {
        let (service, who, reset) = (service.clone(), who.clone(), reset_from.clone());
        Callback::from(move |s: Service| {
            service.set(Some(s));
            who.set(None);
            reset();
        })
    };
    let on_who = {
        let (who, reset) = (who.clone(), reset_from.clone());
        Callback::from(move |w: Who| {
            who.set(Some(w));
            reset();
        })
    };
    let move_week = |days: i64| {
        let (week, reset, zone) = (week.clone(), reset_from.clone(), zone.clone());
        Callback::from(move |_: MouseEvent| {
            let today = today_in(&zone);
            let next = if days >= 0 {
                *week + Days::new(days as u64)
            } else {
                (*week - Days::new(days.unsigned_abs())).max(today)
            };
            week.set(next);
            reset();
        })
    };
    let on_slot = {
        let (slot, provider, location, who) = (slot.clone(), provider.clone(), location.clone(), who.clone());
        Callback::from(move |(s, only): (Slot, Option<Uuid>)| {
            location.set(String::new());
            // Booking with one provider, or one free: they are the choice.
            provider.set(match *who {
                Some(Who::One(id)) => Some(id),
                _ => only,
            });
            slot.set(Some(s));
        })
    };
    let on_provider = {
        let (provider, location) = (provider.clone(), location.clone());
        Callback::from(move |id: Uuid| {
            location.set(String::new());
            provider.set(Some(id));
        })
    };
    let on_location = {
        let location = location.clone();
        Callback::from(move |e: Event| location.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };

    if let Some(b) = &*booked {
        return html! {
            <section class="card" aria-labelledby="booked">
                <h1 id="booked">{ "Booked" }</h1>
                <p role="status" class="ok">{ format!("Your appointment is booked; {} and you get an email with a calendar entry.", b.provider.name) }</p>
                <dl>
                    <dt>{ labels.class_singular.clone() }</dt><dd>{ &b.service.name }</dd>
                    <dt>{ "When" }</dt><dd id="booked-when">{ local_time(&b.starts_at, &zone) }</dd>
                    <dt>{ labels.provider_singular.clone() }</dt><dd>{ &b.provider.name }</dd>
                    <dt>{ "Where" }</dt><dd>{ &b.location }</dd>
                </dl>
                <p><Link<Route> to={Route::ParticipantBooking { id: b.id }}>{ "See this booking" }</Link<Route>></p>
                <p><Link<Route> to={Route::MyBookings}>{ "All my bookings" }</Link<Route>></p>
            </section>
        };
    }

    let settings_view = settings.view(|st: &BookingSettings| {
        let enabled: Vec<AppointmentFormat> = st.formats.iter().filter(|f| f.enabled).map(|f| f.format).collect();
        if enabled.is_empty() {
            return html! { <p class="empty">{ "Booking is not open at the moment." }</p> };
        }
        let questions = st
            .formats
            .iter()
            .find(|f| Some(f.format) == *format)
            .map(|f| f.questions.clone())
            .unwrap_or_default();
        html! {
            <>
                <fieldset id="book-format">
                    <legend>{ "1. How would you like to meet?" }</legend>
                    <div class="row">
                        { for enabled.iter().map(|f| {
                            let picked = Some(*f) == *format;
                            let f = *f;
                            html! {
                                <button type="button" class={classes!("secondary", picked.then_some("picked"))} aria-pressed={picked.to_string()}
                                    onclick={on_format.reform(move |_: MouseEvent| f)}>{ format_name(f) }</button>
                            }
                        }) }
                    </div>
                </fieldset>
                if format.is_some() {
                    <fieldset id="book-service">
                        <legend>{ format!("2. What would you like to book? ({})", labels.class_singular) }</legend>
                        { services.view(|list: &Vec<Service>| if list.is_empty() {
                            html! { <p class="empty">{ format!("There is nothing you may book in this format: no {} is open to you.", labels.class_singular.to_lowercase()) }</p> }
                        } else {
                            html! {
                                <ul class="choices">
                                    { for list.iter().map(|s| {
                                        let picked = service.as_ref().is_some_and(|x| x.id == s.id);
                                        let name = if s.course_number.is_empty() { s.name.clone() } else { format!("{} ({})", s.name, s.course_number) };
                                        let chosen = s.clone();
                                        html! {
                                            <li key={s.id.to_string()}>
                                                <button type="button" class={classes!("secondary", picked.then_some("picked"))} aria-pressed={picked.to_string()}
                                                    onclick={on_service.reform(move |_: MouseEvent| chosen.clone())}>{ name }</button>
                                                if !s.description.is_empty() { <p class="hint">{ &s.description }</p> }
                                                <p class="hint">{ format!("{} minutes", s.duration_minutes) }</p>
                                            </li>
                                        }
                                    }) }
                                </ul>
                            }
                        }) }
                    </fieldset>
                }
                if service.is_some() {
                    <fieldset id="book-who">
                        <legend>{ format!("3. Who with? ({})", labels.provider_singular) }</legend>
                        { providers.view(|list: &Vec<Provider>| html! {
                            <ul class="choices">
                                <li key="all">
                                    <button type="button" class={classes!("secondary", (*who == Some(Who::All)).then_some("picked"))}
                                        aria-pressed={(*who == Some(Who::All)).to_string()} onclick={on_who.reform(|_: MouseEvent| Who::All)}>
                                        { format!("All available {}", labels.provider_plural.to_lowercase()) }</button>
                                </li>
                                { for list.iter().map(|p| {
                                    let id = p.id;
                                    let picked = *who == Some(Who::One(id));
                                    html! {
                                        <li key={id.to_string()}>
                                            <button type="button" class={classes!("secondary", picked.then_some("picked"))} aria-pressed={picked.to_string()}
                                                onclick={on_who.reform(move |_: MouseEvent| Who::One(id))}>{ p.name.clone() }</button>
                                            if !p.bio.is_empty() { <p class="hint">{ &p.bio }</p> }
                                        </li>
                                    }
                                }) }
                            </ul>
                        }) }
                    </fieldset>
                }
                if who.is_some() {
                    <fieldset id="book-slots">
                        <legend>{ format!("4. When? (times in {zone})") }</legend>
                        <div class="row">
                            <button type="button" class="secondary" onclick={move_week(-7)} disabled={*week <= today_in(&zone)}>{ "Earlier" }</button>
                            <span>{ format!("{} – {}", week.format("%-d %b"), (*week + Days::new(6)).format("%-d %b %Y")) }</span>
                            <button type="button" class="secondary" onclick={move_week(7)}>{ "Later" }</button>
                        </div>
                        { slots.view(|list: &Option<SlotList>| match list {
                            None => html! {},
                            Some(list) if list.items.is_empty() => html! { <p class="empty">{ "No free times this week. Try a later week." }</p> },
                            Some(list) => week_of_slots(list, slot.as_ref(), &on_slot),
                        }) }
                    </fieldset>
                }
                if let (Some(s), Load::Loaded(Some(list)), Some(Who::All)) = (&*slot, &*slots, *who) {
                    <fieldset id="book-providers">
                        <legend>{ format!("{} free at {}", labels.provider_plural, s.starts_at.format("%H:%M")) }</legend>
                        { for list.free_at(s).map(|p| {
                            let picked = *provider == Some(p.id);
                            let id = p.id;
                            html! {
                                <div class={classes!("provider-choice", picked.then_some("picked"))}>
                                    if let Some(url) = &p.photo_url { <img src={url.clone()} alt="" class="avatar" /> }
                                    <button type="button" class="secondary" aria-pressed={picked.to_string()}
                                        aria-label={format!("Choose {}", p.name)} onclick={on_provider.reform(move |_: MouseEvent| id)}>{ p.name.clone() }</button>
                                    <p class="hint">{ p.bio.clone() }</p>
                                </div>
                            }
                        }) }
                    </fieldset>
                }
                if let (Some(s), Some(p), Some(f), Some(svc)) = (&*slot, *provider, *format, &*service) {
                    { confirm_form(ConfirmArgs {
                        service: svc,
                        provider: p,
                        provider_details: &chosen_provider,
                        slot: s,
                        format: f,
                        questions: &questions,
                        location: &location,
                        on_location: &on_location,
                        answers: &answers,
                        error: &error,
                        booked: &booked,
                        reload: &reload,
                        zone: &zone,
                    }) }
                }
            </>
        }
    });
    html! {
        <>
            <h1>{ "Book an appointment" }</h1>
            <p><Link<Route> to={Route::MyBookings}>{ "My bookings" }</Link<Route>></p>
            <div class="card stack">{ settings_view }</div>
        </>
    }
}

/// A week of free times, one day under another, in the zone they were asked in.
fn week_of_slots(list: &SlotList, picked: Option<&Slot>, on_slot: &Callback<(Slot, Option<Uuid>)>) -> Html {
    let mut days: BTreeMap<NaiveDate, Vec<&Slot>> = BTreeMap::new();
    for s in &list.items {
        days.entry(s.starts_at.date_naive()).or_default().push(s);
    }
    html! {
        <div class="stack">
            { for days.iter().map(|(day, slots)| html! {
                <div key={day.to_string()}>
                    <h3>{ day.format("%A %-d %B").to_string() }</h3>
                    <div class="slots">
                        { for slots.iter().map(|s| {
                            let at = s.starts_at.format("%H:%M").to_string();
                            let chosen = picked.is_some_and(|x| x.starts_at == s.starts_at);
                            let only = match s.providers.as_slice() {
                                [one] => list.providers.get(*one as usize).map(|p| p.id),
                                _ => None,
                            };
                            let slot = (*s).clone();
                            html! {
                                <button key={s.starts_at.to_rfc3339()} type="button" class={classes!("slot", chosen.then_some("picked"))}
                                    aria-pressed={chosen.to_string()} aria-label={format!("{} {at}", day.format("%A %-d %B"))}
                                    onclick={on_slot.reform(move |_: MouseEvent| (slot.clone(), only))}>{ at }</button>
                            }
                        }) }
                    </div>
                </div>
            }) }
        </div>
    }
}

struct ConfirmArgs<'a> {
    service: &'a Service,
    provider: Uuid,
    provider_details: &'a Load<Option<Provider>>,
    slot: &'a Slot,
    format: AppointmentFormat,
    questions: &'a [cohort_api_types::TopicQuestion],
    location: &'a UseStateHandle<String>,
    on_location: &'a Callback<Event>,
    answers: &'a UseStateHandle<BTreeMap<String, String>>,
    error: &'a UseStateHandle<Option<ApiError>>,
    booked: &'a UseStateHandle<Option<Booking>>,
    reload: &'a UseStateHandle<u32>,
    zone: &'a str,
}

/// Where to meet, the topic questions, and the confirmation.
fn confirm_form(a: ConfirmArgs<'_>) -> Html {
    let own_places = match a.provider_details {
        Load::Loaded(Some(p)) if p.id == a.provider => p.locations.clone(),
        _ => Vec::new(),
    };
    let places: Vec<String> = a
        .service
        .locations
        .iter()
        .chain(own_places.iter())
        .filter(|l| l.format == a.format)
        .map(|l| l.name.clone())
        .collect();
    let field = |name: &str| a.error.as_ref().and_then(|e| e.under(name));
    let onsubmit = {
        let (error, booked, reload) = (a.error.clone(), a.booked.clone(), a.reload.clone());
        let input = CreateBooking {
            service_id: a.service.id,
            provider_id: a.provider,
            starts_at: a.slot.starts_at,
            format: a.format,
            location: Some((**a.location).clone())
                .filter(|l| !l.is_empty())
                .or_else(|| places.first().cloned()),
            answers: (**a.answers).clone(),
            student_id: None,
        };
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (error, booked, reload, input) = (error.clone(), booked.clone(), reload.clone(), input.clone());
            yew::platform::spawn_local(async move {
                match api::create_booking(&input).await {
                    Ok(b) => booked.set(Some(b)),
                    Err(e) => {
                        // Just taken (409) or no longer free (named at starts_at): show what is free now.
                        let stale = matches!(&e, ApiError::Problem(p)
                            if p.status == 409 || p.errors.iter().any(|f| f.field == "starts_at"));
                        if stale {
                            reload.set(*reload + 1);
                        }
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let with = match a.provider_details {
        Load::Loaded(Some(p)) => p.name.clone(),
        _ => String::new(),
    };
    html! {
        <form class="stack" {onsubmit} novalidate=true aria-label="Confirm the booking">
            if places.len() > 1 {
                <div class="field">
                    <label for="book-location">{ "5. Where?" }</label>
                    <select id="book-location" onchange={a.on_location.clone()}>
                        { for places.iter().map(|l| html! { <option value={l.clone()} selected={*l == **a.location}>{ l.clone() }</option> }) }
                    </select>
                    if let Some(m) = field("location") { <p class="field-error">{ m }</p> }
                </div>
            } else if let Some(place) = places.first() {
                <p>{ format!("5. Where: {place}") }</p>
            }
            if !a.questions.is_empty() {
                <fieldset id="book-questions">
                    <legend>{ "6. What would you like to talk about?" }</legend>
                    { for a.questions.iter().map(|q| {
                        let (id, answers) = (q.id.clone(), a.answers.clone());
                        let oninput = Callback::from(move |e: InputEvent| {
                            let mut next = (*answers).clone();
                            next.insert(id.clone(), e.target_unchecked_into::<HtmlInputElement>().value());
                            answers.set(next);
                        });
                        let problem = field(&format!("answers.{}", q.id));
                        html! {
                            <div class={classes!("field", problem.as_ref().map(|_| "invalid"))}>
                                <label for={format!("book-answer-{}", q.id)}>{ format!("{}{}", q.text, if q.required { " (required)" } else { "" }) }</label>
                                <input id={format!("book-answer-{}", q.id)} value={a.answers.get(&q.id).cloned().unwrap_or_default()} {oninput}
                                    required={q.required} aria-invalid={problem.is_some().to_string()}
                                    aria-describedby={problem.as_ref().map(|_| format!("book-answer-{}-error", q.id))} />
                                if let Some(m) = problem { <p class="field-error" id={format!("book-answer-{}-error", q.id)}>{ m }</p> }
                            </div>
                        }
                    }) }
                </fieldset>
            }
            <p id="book-summary">
                { format!("{} on {}{}", a.service.name, a.slot.starts_at.format("%A %-d %B at %H:%M"), if with.is_empty() { String::new() } else { format!(" with {with}") }) }
                { format!(" ({})", a.zone) }
            </p>
            if let Some(e) = &**a.error { <p class="error" role="alert">{ e.under("starts_at").unwrap_or_else(|| e.message()) }</p> }
            <div class="actions"><button type="submit">{ "Confirm booking" }</button></div>
        </form>
    }
}
