//! Services (the organisation's word for classes): the list with counts, the form that creates
//! or edits one with its rules, formats and locations, delete, and a service's enrollments.

use cohort_api_types::{
    AppointmentFormat, BookingPerson, EnrollPeople, Location, MinimumNotice, NoticeUnit, Person, Service, ServiceInput,
};
use uuid::Uuid;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::components::person_picker::PersonPicker;
use crate::Route;
use cohort_ui::components::field::{SelectField, TextArea, TextField};
use cohort_ui::state::{use_load, Load, Session};

pub fn format_name(f: AppointmentFormat) -> &'static str {
    match f {
        AppointmentFormat::InPerson => "In person",
        AppointmentFormat::Virtual => "Virtual",
    }
}

pub fn format_key(f: AppointmentFormat) -> &'static str {
    match f {
        AppointmentFormat::InPerson => "in_person",
        AppointmentFormat::Virtual => "virtual",
    }
}

pub fn format_of(key: &str) -> AppointmentFormat {
    if key == "virtual" {
        AppointmentFormat::Virtual
    } else {
        AppointmentFormat::InPerson
    }
}

pub const FORMATS: [AppointmentFormat; 2] = [AppointmentFormat::InPerson, AppointmentFormat::Virtual];

#[function_component(Services)]
pub fn services() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let labels = session.labels().clone();
    let reload = use_state(|| 0u32);
    let saved = use_state(|| None::<String>);
    let list = use_load(*reload, |_| async move { api::services().await.map(|page| page.items) });
    let onsaved = {
        let (reload, saved) = (reload.clone(), saved.clone());
        Callback::from(move |s: Service| {
            saved.set(Some(format!("Created “{}”.", s.name)));
            reload.set(*reload + 1);
        })
    };
    html! {
        <>
            <h1>{ labels.class_plural.clone() }</h1>
            <p class="hint">{ format!("What students book: a service of one {} or one that every certified {} gives.",
                labels.provider_singular.to_lowercase(), labels.provider_singular.to_lowercase()) }</p>
            {
                match &*list {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(items) if items.is_empty() => html! { <p class="empty">{ format!("No {} yet.", labels.class_plural.to_lowercase()) }</p> },
                    Load::Loaded(items) => html! {
                        <table class="list" id="services">
                            <thead><tr>
                                <th scope="col">{ "Name" }</th><th scope="col">{ "Course number" }</th>
                                <th scope="col">{ "Duration" }</th><th scope="col">{ labels.provider_plural.clone() }</th>
                                <th scope="col">{ "Enrollments" }</th><th scope="col">{ "Formats" }</th>
                            </tr></thead>
                            <tbody>
                                { for items.iter().map(|s| html! {
                                    <tr key={s.id.to_string()}>
                                        <td><Link<Route> to={Route::Service { id: s.id }}>{ s.name.clone() }</Link<Route>></td>
                                        <td>{ s.course_number.clone() }</td>
                                        <td>{ format!("{} min", s.duration_minutes) }</td>
                                        <td>{ s.provider_count }</td>
                                        <td>{ if s.enrollment_count == 0 { "Open to all".to_owned() } else { s.enrollment_count.to_string() } }</td>
                                        <td>{ s.formats.iter().map(|f| format_name(*f)).collect::<Vec<_>>().join(", ") }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    },
                }
            }
            <h2>{ format!("New {}", labels.class_singular.to_lowercase()) }</h2>
            if let Some(m) = &*saved { <p class="ok" role="status">{ m }</p> }
            <ServiceForm service={None::<Service>} {onsaved} />
        </>
    }
}

#[derive(Clone, PartialEq, Default)]
struct Form {
    name: String,
    course_number: String,
    description: String,
    duration: String,
    buffer_before: String,
    buffer_after: String,
    notice: String,
    notice_unit: String,
    horizon: String,
    interval: String,
    late_cancel: String,
    waitlist: bool,
    formats: Vec<AppointmentFormat>,
    locations: Vec<(String, String)>,
}

impl Form {
    fn of(s: Option<&Service>) -> Self {
        match s {
            Some(s) => Self {
                name: s.name.clone(),
                course_number: s.course_number.clone(),
                description: s.description.clone(),
                duration: s.duration_minutes.to_string(),
                buffer_before: s.buffer_before_minutes.to_string(),
                buffer_after: s.buffer_after_minutes.to_string(),
                notice: s.minimum_notice.amount.to_string(),
                notice_unit: match s.minimum_notice.unit {
                    NoticeUnit::Hours => "hours".into(),
                    NoticeUnit::Days => "days".into(),
                },
                horizon: s.horizon_days.to_string(),
                interval: s.interval_minutes.to_string(),
                late_cancel: s.late_cancel_hours.to_string(),
                waitlist: s.waitlist,
                formats: s.formats.clone(),
                locations: s
                    .locations
                    .iter()
                    .map(|l| (l.name.clone(), format_key(l.format).to_owned()))
                    .collect(),
            },
            None => Self {
                duration: "30".into(),
                buffer_before: "0".into(),
                buffer_after: "0".into(),
                notice: "2".into(),
                notice_unit: "hours".into(),
                horizon: "28".into(),
                interval: "30".into(),
                late_cancel: "24".into(),
                formats: FORMATS.to_vec(),
                ..Self::default()
            },
        }
    }

    /// The request, or the fields that are not whole numbers.
    fn input(&self) -> Result<ServiceInput, Vec<(&'static str, String)>> {
        let mut bad = Vec::new();
        let mut number = |field: &'static str, text: &str| match text.trim().parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                bad.push((field, "must be a whole number".to_owned()));
                None
            }
        };
        let input = ServiceInput {
            name: Some(self.name.clone()),
            course_number: Some(self.course_number.clone()),
            description: Some(self.description.clone()),
            duration_minutes: number("duration_minutes", &self.duration),
            buffer_before_minutes: number("buffer_before_minutes", &self.buffer_before),
            buffer_after_minutes: number("buffer_after_minutes", &self.buffer_after),
            minimum_notice: number("minimum_notice.amount", &self.notice).map(|amount| MinimumNotice {
                amount,
                unit: if self.notice_unit == "days" {
                    NoticeUnit::Days
                } else {
                    NoticeUnit::Hours
                },
            }),
            horizon_days: number("horizon_days", &self.horizon),
            interval_minutes: number("interval_minutes", &self.interval),
            late_cancel_hours: number("late_cancel_hours", &self.late_cancel),
            waitlist: Some(self.waitlist),
            formats: Some(self.formats.clone()),
            locations: Some(
                self.locations
                    .iter()
                    .map(|(name, f)| Location {
                        name: name.clone(),
                        format: format_of(f),
                    })
                    .collect(),
            ),
        };
        if bad.is_empty() {
            Ok(input)
        } else {
            Err(bad)
        }
    }
}

/// Editable locations: (name, format key) rows with add and remove.
#[derive(Properties, PartialEq)]
pub struct LocationsProps {
    pub id: AttrValue,
    pub locations: Vec<(String, String)>,
    pub onchange: Callback<Vec<(String, String)>>,
    /// The last save's problem: `locations` is shown above the rows, `locations[i].name` at row i.
    #[prop_or_default]
    pub error: Option<ApiError>,
}

#[function_component(LocationsEditor)]
pub fn locations_editor(props: &LocationsProps) -> Html {
    let change = |i: usize, name: bool| {
        let (locations, onchange) = (props.locations.clone(), props.onchange.clone());
        Callback::from(move |value: String| {
            let mut next = locations.clone();
            if name {
                next[i].0 = value;
            } else {
                next[i].1 = value;
            }
            onchange.emit(next);
        })
    };
    let add = {
        let (locations, onchange) = (props.locations.clone(), props.onchange.clone());
        Callback::from(move |_| {
            let mut next = locations.clone();
            next.push((String::new(), "in_person".into()));
            onchange.emit(next);
        })
    };
    html! {
        <fieldset id={props.id.clone()}>
            <legend>{ "Locations" }</legend>
            if let Some(e) = props.error.as_ref().and_then(|e| e.under("locations")) { <p class="field-error" id={format!("{}-error", props.id)}>{ e }</p> }
            { for props.locations.iter().enumerate().map(|(i, (name, format))| {
                let on_name = change(i, true).reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
                let on_format = change(i, false).reform(|e: Event| e.target_unchecked_into::<HtmlSelectElement>().value());
                let remove = {
                    let (locations, onchange) = (props.locations.clone(), props.onchange.clone());
                    Callback::from(move |_| {
                        let mut next = locations.clone();
                        next.remove(i);
                        onchange.emit(next);
                    })
                };
                html! {
                    <div class="row">
                        <input id={format!("{}-{i}-name", props.id)} aria-label={format!("Location {} name", i + 1)}
                            value={name.clone()} oninput={on_name} placeholder="Library room 2" />
                        <select id={format!("{}-{i}-format", props.id)} aria-label={format!("Location {} format", i + 1)} onchange={on_format}>
                            { for FORMATS.iter().map(|f| html! {
                                <option value={format_key(*f)} selected={format == format_key(*f)}>{ format_name(*f) }</option>
                            }) }
                        </select>
                        <button type="button" class="secondary" aria-label={format!("Remove location {}", i + 1)} onclick={remove}>{ "Remove" }</button>
                        if let Some(m) = props.error.as_ref().and_then(|e| e.under(&format!("locations[{i}]"))) {
                            <p class="field-error" id={format!("{}-{i}-error", props.id)}>{ m }</p>
                        }
                    </div>
                }
            }) }
            <button type="button" class="secondary" onclick={add}>{ "Add location" }</button>
        </fieldset>
    }
}

#[derive(Properties, PartialEq)]
pub struct ServiceFormProps {
    pub service: Option<Service>,
    pub onsaved: Callback<Service>,
}

#[function_component(ServiceForm)]
pub fn service_form(props: &ServiceFormProps) -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let word = session.labels().class_singular.to_lowercase();
    let form = {
        let s = props.service.clone();
        use_state(move || Form::of(s.as_ref()))
    };
    let error = use_state(|| None::<ApiError>);
    let local = use_state(Vec::<(&'static str, String)>::new);
    let busy = use_state(|| false);
    let set = |apply: fn(&mut Form, String)| {
        let form = form.clone();
        Callback::from(move |value: String| {
            let mut next = (*form).clone();
            apply(&mut next, value);
            form.set(next);
        })
    };
    let onsubmit = {
        let (form, error, local, busy) = (form.clone(), error.clone(), local.clone(), busy.clone());
        let (id, onsaved) = (props.service.as_ref().map(|s| s.id), props.onsaved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = match form.input() {
                Ok(input) => input,
                Err(bad) => {
                    local.set(bad);
                    return;
                }
            };
            local.set(Vec::new());
            let (form, error, busy, onsaved) = (form.clone(), error.clone(), busy.clone(), onsaved.clone());
            busy.set(true);
            yew::platform::spawn_local(async move {
                let result = match id {
                    Some(id) => api::update_service(id, &input).await,
                    None => api::create_service(&input).await,
                };
                match result {
                    Ok(s) => {
                        error.set(None);
                        if id.is_none() {
                            form.set(Form::of(None));
                        }
                        onsaved.emit(s);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let field = |name: &str| {
        local
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, m)| m.clone())
            .or_else(|| (*error).as_ref().and_then(|e| e.field(name)))
    };
    let toggle_format = |f: AppointmentFormat| {
        let form = form.clone();
        Callback::from(move |_| {
            let mut next = (*form).clone();
            if next.formats.contains(&f) {
                next.formats.retain(|x| *x != f);
            } else {
                next.formats.push(f);
            }
            form.set(next);
        })
    };
    let on_locations = {
        let form = form.clone();
        Callback::from(move |locations| {
            let mut next = (*form).clone();
            next.locations = locations;
            form.set(next);
        })
    };
    let on_waitlist = {
        let form = form.clone();
        Callback::from(move |_| {
            let mut next = (*form).clone();
            next.waitlist = !next.waitlist;
            form.set(next);
        })
    };
    let units = vec![
        ("hours".to_owned(), "hours".to_owned()),
        ("days".to_owned(), "calendar days".to_owned()),
    ];
    html! {
        <form class="card stack" {onsubmit} novalidate=true aria-label={word.clone()}>
            if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
            <div class="grid2">
                <TextField id="service-name" label="Name" value={form.name.clone()} required=true
                    oninput={set(|f, v| f.name = v)} error={field("name")} />
                <TextField id="service-course-number" label="Course number" value={form.course_number.clone()}
                    hint={AttrValue::from("Blank for a general topic.")}
                    oninput={set(|f, v| f.course_number = v)} error={field("course_number")} />
            </div>
            <TextArea id="service-description" label="Description" value={form.description.clone()}
                oninput={set(|f, v| f.description = v)} error={field("description")} />
            <div class="grid2">
                <TextField id="service-duration" label="Duration (minutes)" kind="number" value={form.duration.clone()}
                    oninput={set(|f, v| f.duration = v)} error={field("duration_minutes")} />
                <TextField id="service-interval" label="A slot starts every (minutes)" kind="number" value={form.interval.clone()}
                    oninput={set(|f, v| f.interval = v)} error={field("interval_minutes")} />
                <TextField id="service-buffer-before" label="Buffer before (minutes)" kind="number" value={form.buffer_before.clone()}
                    oninput={set(|f, v| f.buffer_before = v)} error={field("buffer_before_minutes")} />
                <TextField id="service-buffer-after" label="Buffer after (minutes)" kind="number" value={form.buffer_after.clone()}
                    oninput={set(|f, v| f.buffer_after = v)} error={field("buffer_after_minutes")} />
                <TextField id="service-notice" label="Minimum notice" kind="number" value={form.notice.clone()}
                    oninput={set(|f, v| f.notice = v)} error={field("minimum_notice.amount").or_else(|| field("minimum_notice"))} />
                <SelectField id="service-notice-unit" label="Notice in" value={form.notice_unit.clone()} options={units}
                    onchange={set(|f, v| f.notice_unit = v)} />
                <TextField id="service-horizon" label="Bookable up to (days ahead)" kind="number" value={form.horizon.clone()}
                    oninput={set(|f, v| f.horizon = v)} error={field("horizon_days")} />
                <TextField id="service-late-cancel" label="Late cancellation window (hours)" kind="number" value={form.late_cancel.clone()}
                    hint={AttrValue::from("Inside it only an admin may cancel.")}
                    oninput={set(|f, v| f.late_cancel = v)} error={field("late_cancel_hours")} />
            </div>
            <fieldset id="service-formats">
                <legend>{ "Formats" }</legend>
                if let Some(e) = field("formats") { <p class="field-error" id="service-formats-error">{ e }</p> }
                { for FORMATS.iter().map(|f| html! {
                    <div class="check">
                        <input type="checkbox" id={format!("service-format-{}", format_key(*f))}
                            checked={form.formats.contains(f)} onchange={toggle_format(*f)} />
                        <label for={format!("service-format-{}", format_key(*f))}>{ format_name(*f) }</label>
                    </div>
                }) }
            </fieldset>
            <div class="check">
                <input type="checkbox" id="service-waitlist" checked={form.waitlist} onchange={on_waitlist} />
                <label for="service-waitlist">{ "Keep a waitlist: when a slot frees up, the first student waiting is told" }</label>
            </div>
            <LocationsEditor id="service-locations" locations={form.locations.clone()} onchange={on_locations}
                error={(*error).clone()} />
            <div class="actions">
                <button type="submit" disabled={*busy}>{ if props.service.is_some() { format!("Save {word}") } else { format!("Create {word}") } }</button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
pub struct ServicePageProps {
    pub id: Uuid,
}

/// One service: its form, delete, and its enrollments.
#[function_component(ServicePage)]
pub fn service_page(props: &ServicePageProps) -> Html {
    let id = props.id;
    let session = use_context::<Session>().expect("inside the shell");
    let labels = session.labels().clone();
    let navigator = use_navigator();
    let service = use_state(|| Load::<Service>::Loading);
    let enrolled = use_state(Vec::<BookingPerson>::new);
    let reload = use_state(|| 0u32);
    let message = use_state(|| None::<String>);
    let error = use_state(|| None::<ApiError>);
    {
        let (service, enrolled) = (service.clone(), enrolled.clone());
        use_effect_with((id, *reload), move |(id, _)| {
            let id = *id;
            yew::platform::spawn_local(async move {
                service.set(match api::service(id).await {
                    Ok(s) => Load::Loaded(s),
                    Err(e) => Load::Failed(e),
                });
                if let Ok(people) = api::enrollments(id).await {
                    enrolled.set(people);
                }
            });
        });
    }
    let onsaved = {
        let (message, reload) = (message.clone(), reload.clone());
        Callback::from(move |s: Service| {
            message.set(Some(format!("Saved “{}”.", s.name)));
            reload.set(*reload + 1);
        })
    };
    let remove = {
        let (navigator, error) = (navigator.clone(), error.clone());
        Callback::from(move |_| {
            if !gloo_dialogs::confirm(
                "Delete it with its certifications and enrollments? One with upcoming bookings cannot be deleted.",
            ) {
                return;
            }
            let (navigator, error) = (navigator.clone(), error.clone());
            yew::platform::spawn_local(async move {
                match api::delete_service(id).await {
                    Ok(()) => {
                        if let Some(n) = navigator {
                            n.push(&Route::Services);
                        }
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let onpick = {
        let (reload, error, message) = (reload.clone(), error.clone(), message.clone());
        Callback::from(move |p: Person| {
            let (reload, error, message) = (reload.clone(), error.clone(), message.clone());
            yew::platform::spawn_local(async move {
                match api::enroll(id, &EnrollPeople { person_ids: vec![p.id] }).await {
                    Ok(()) => {
                        message.set(Some(format!("Enrolled {}.", p.name)));
                        error.set(None);
                        reload.set(*reload + 1);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let unenroll = |person: BookingPerson| {
        let (reload, message) = (reload.clone(), message.clone());
        Callback::from(move |_| {
            let (reload, message, person) = (reload.clone(), message.clone(), person.clone());
            yew::platform::spawn_local(async move {
                if api::unenroll(id, person.id).await.is_ok() {
                    message.set(Some(format!("Removed {}.", person.name)));
                }
                reload.set(*reload + 1);
            });
        })
    };
    service.view(|s| html! {
            <>
                <p><Link<Route> to={Route::Services}>{ format!("← All {}", labels.class_plural.to_lowercase()) }</Link<Route>></p>
                <h1>{ s.name.clone() }</h1>
                if let Some(m) = &*message { <p class="ok" role="status">{ m }</p> }
                if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
                <ServiceForm key={format!("{}-{}", s.id, s.updated_at)} service={Some(s.clone())} {onsaved} />
                <div class="actions"><button type="button" class="danger" onclick={remove}>{ format!("Delete {}", labels.class_singular.to_lowercase()) }</button></div>
                <h2>{ "Enrollments" }</h2>
                <p class="hint">{ format!("A {} with enrollments can be booked only by the students enrolled in it.", labels.class_singular.to_lowercase()) }</p>
                <PersonPicker id="enroll-person" label="Enroll a person" {onpick} />
                if enrolled.is_empty() { <p class="empty">{ "Nobody is enrolled: every student may book it." }</p> }
                else {
                    <table class="list" id="enrollments">
                        <thead><tr><th scope="col">{ "Name" }</th><th scope="col">{ "Email" }</th><th scope="col"><span class="sr-only">{ "Actions" }</span></th></tr></thead>
                        <tbody>
                            { for enrolled.iter().map(|p| html! {
                                <tr key={p.id.to_string()}>
                                    <td>{ p.name.clone() }</td><td>{ p.email.clone() }</td>
                                    <td><button type="button" class="secondary" aria-label={format!("Remove {}", p.name)} onclick={unenroll(p.clone())}>{ "Remove" }</button></td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                }
            </>
        })
}
