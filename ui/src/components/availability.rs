//! A provider's weekly availability editor: their time zone, windows per weekday, date overrides
//! and time off, as admins edit them in the dashboard and providers their own in the participant
//! app. The server's field errors (`weekly[3].end`, `overrides[0].windows[1]`, …) are shown next
//! to the window they name.

use chrono::{NaiveDate, NaiveDateTime};
use cohort_api_types::{Availability, DateOverride, TimeOff, TimeWindow, Weekday, WeeklyWindow};
use uuid::Uuid;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::field::SelectField;
use crate::state::{from_wall_clock, time_zones, wall_clock};

const WEEKDAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Monday, "monday", "Monday"),
    (Weekday::Tuesday, "tuesday", "Tuesday"),
    (Weekday::Wednesday, "wednesday", "Wednesday"),
    (Weekday::Thursday, "thursday", "Thursday"),
    (Weekday::Friday, "friday", "Friday"),
    (Weekday::Saturday, "saturday", "Saturday"),
    (Weekday::Sunday, "sunday", "Sunday"),
];

type Window = (String, String);

#[derive(Clone, PartialEq, Default)]
struct Override {
    date: String,
    unavailable: bool,
    windows: Vec<Window>,
}

#[derive(Clone, PartialEq, Default)]
struct Editor {
    zone: String,
    weekly: [Vec<Window>; 7],
    overrides: Vec<Override>,
    /// From, to (`YYYY-MM-DDTHH:MM` in the provider's zone) and reason.
    time_off: Vec<(String, String, String)>,
}

const LOCAL: &str = "%Y-%m-%dT%H:%M";

/// A change to the editor, given the input's value.
type Change = Box<dyn Fn(&mut Editor, String)>;

/// What saving sends: the request, the (weekday, window) of each weekly entry in order, and the
/// fields the browser already knows are wrong.
struct Request {
    availability: Availability,
    weekly_at: Vec<(usize, usize)>,
    local_errors: Vec<(String, String)>,
}

impl Editor {
    fn of(a: &Availability) -> Self {
        let mut weekly: [Vec<Window>; 7] = Default::default();
        for w in &a.weekly {
            if let Some(day) = WEEKDAYS.iter().position(|(d, _, _)| *d == w.weekday) {
                weekly[day].push((w.start.clone(), w.end.clone()));
            }
        }
        Self {
            zone: a.time_zone.clone(),
            weekly,
            overrides: a
                .overrides
                .iter()
                .map(|o| Override {
                    date: o.date.to_string(),
                    unavailable: o.windows.is_empty(),
                    windows: o.windows.iter().map(|w| (w.start.clone(), w.end.clone())).collect(),
                })
                .collect(),
            time_off: a
                .time_off
                .iter()
                .map(|t| {
                    (
                        wall_clock(&t.starts_at, &a.time_zone).format(LOCAL).to_string(),
                        wall_clock(&t.ends_at, &a.time_zone).format(LOCAL).to_string(),
                        t.reason.clone(),
                    )
                })
                .collect(),
        }
    }

    fn request(&self) -> Request {
        let mut weekly = Vec::new();
        let mut at = Vec::new();
        for (day, windows) in self.weekly.iter().enumerate() {
            for (k, (start, end)) in windows.iter().enumerate() {
                weekly.push(WeeklyWindow {
                    weekday: WEEKDAYS[day].0,
                    start: start.trim().to_owned(),
                    end: end.trim().to_owned(),
                });
                at.push((day, k));
            }
        }
        let mut bad = Vec::new();
        let mut overrides = Vec::new();
        for (i, o) in self.overrides.iter().enumerate() {
            match o.date.parse::<NaiveDate>() {
                Ok(date) => overrides.push(DateOverride {
                    date,
                    windows: if o.unavailable {
                        Vec::new()
                    } else {
                        o.windows
                            .iter()
                            .map(|(s, e)| TimeWindow {
                                start: s.trim().to_owned(),
                                end: e.trim().to_owned(),
                            })
                            .collect()
                    },
                }),
                Err(_) => bad.push((format!("overrides[{i}]"), "needs a date".to_owned())),
            }
        }
        let mut time_off = Vec::new();
        for (i, (from, to, reason)) in self.time_off.iter().enumerate() {
            let parse = |t: &str| NaiveDateTime::parse_from_str(t, LOCAL).ok();
            match (parse(from), parse(to)) {
                (Some(from), Some(to)) => time_off.push(TimeOff {
                    starts_at: from_wall_clock(from, &self.zone),
                    ends_at: from_wall_clock(to, &self.zone),
                    reason: reason.clone(),
                }),
                _ => bad.push((format!("time_off[{i}]"), "needs a start and an end".to_owned())),
            }
        }
        Request {
            availability: Availability {
                time_zone: self.zone.clone(),
                weekly,
                overrides,
                time_off,
            },
            weekly_at: at,
            local_errors: bad,
        }
    }
}

/// Every message about `path` itself or its fields (`path.start`, `path.end`).
fn messages(error: &Option<ApiError>, local: &[(String, String)], path: &str) -> Option<String> {
    let mut found: Vec<String> = local
        .iter()
        .filter(|(f, _)| f == path)
        .map(|(_, m)| m.clone())
        .collect();
    if let Some(ApiError::Problem(p)) = error {
        for e in &p.errors {
            if e.field == path {
                found.push(e.message.clone());
            } else if let Some(child) = e.field.strip_prefix(path).and_then(|rest| rest.strip_prefix('.')) {
                found.push(format!("{child} {}", e.message));
            }
        }
    }
    (!found.is_empty()).then(|| found.join("; "))
}

/// The server names a bad window of an override at the override ("window 1: ends before …"):
/// `Some(k)` picks the messages about window `k` (without the prefix), `None` the others.
fn override_messages(
    error: &Option<ApiError>,
    local: &[(String, String)],
    i: usize,
    k: Option<usize>,
) -> Option<String> {
    let all = messages(error, local, &format!("overrides[{i}]"))?;
    let window_of = |m: &str| {
        let rest = m.strip_prefix("window ")?;
        let (n, text) = rest.split_once(": ")?;
        Some((n.parse::<usize>().ok()?, text.to_owned()))
    };
    let picked: Vec<String> = all
        .split("; ")
        .filter_map(|m| match (window_of(m), k) {
            (Some((n, text)), Some(k)) if n == k => Some(text),
            // A window's own fields are shown at the window.
            (None, None) if !m.starts_with("windows[") => Some(m.to_owned()),
            _ => None,
        })
        .collect();
    let own = k.and_then(|k| messages(error, local, &format!("overrides[{i}].windows[{k}]")));
    let found: Vec<String> = picked.into_iter().chain(own).collect();
    (!found.is_empty()).then(|| found.join("; "))
}

#[derive(Properties, PartialEq)]
pub struct AvailabilityEditorProps {
    /// The provider's (person's) id.
    pub provider: Uuid,
    /// Their availability as last read.
    pub availability: Availability,
}

/// Edits a provider's availability and saves it (admins, and the provider themself).
#[function_component(AvailabilityEditor)]
pub fn availability_editor(props: &AvailabilityEditorProps) -> Html {
    let id = props.provider;
    let editor = use_state(|| Editor::of(&props.availability));
    // The weekly positions of the last request, to place the server's `weekly[i]` errors.
    let sent = use_state(Vec::<(usize, usize)>::new);
    let error = use_state(|| None::<ApiError>);
    let local = use_state(Vec::<(String, String)>::new);
    let saved = use_state(|| false);
    let edit = {
        let (editor, saved) = (editor.clone(), saved.clone());
        move |apply: Change| {
            let (editor, saved) = (editor.clone(), saved.clone());
            Callback::from(move |value: String| {
                let mut next = (*editor).clone();
                apply(&mut next, value);
                editor.set(next);
                saved.set(false);
            })
        }
    };
    let text = |cb: Callback<String>| cb.reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
    let click = |cb: Callback<String>| cb.reform(|_: MouseEvent| String::new());
    let onsubmit = {
        let (editor, sent, error, local, saved) = (
            editor.clone(),
            sent.clone(),
            error.clone(),
            local.clone(),
            saved.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Request {
                availability: request,
                weekly_at: at,
                local_errors: bad,
            } = editor.request();
            sent.set(at);
            if !bad.is_empty() {
                local.set(bad);
                error.set(None);
                return;
            }
            local.set(Vec::new());
            let (editor, error, saved) = (editor.clone(), error.clone(), saved.clone());
            yew::platform::spawn_local(async move {
                match api::set_availability(id, &request).await {
                    Ok(a) => {
                        editor.set(Editor::of(&a));
                        error.set(None);
                        saved.set(true);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let zones: Vec<(String, String)> = time_zones(&editor.zone).into_iter().map(|z| (z.clone(), z)).collect();
    let weekly_error = |day: usize, k: usize| {
        sent.iter()
            .position(|p| *p == (day, k))
            .and_then(|i| messages(&error, &local, &format!("weekly[{i}]")))
    };
    let window_row = |prefix: String,
                      label: String,
                      (start, end): &Window,
                      on_start: Callback<String>,
                      on_end: Callback<String>,
                      remove: Callback<String>,
                      problem: Option<String>| {
        html! {
            <div class={classes!("window", problem.as_ref().map(|_| "invalid"))}>
                <input id={format!("{prefix}-start")} aria-label={format!("{label} start")} value={start.clone()}
                    placeholder="09:00" size="5" oninput={text(on_start)} aria-invalid={problem.is_some().to_string()} />
                <span>{ "–" }</span>
                <input id={format!("{prefix}-end")} aria-label={format!("{label} end")} value={end.clone()}
                    placeholder="17:00" size="5" oninput={text(on_end)} aria-invalid={problem.is_some().to_string()} />
                <button type="button" class="secondary" aria-label={format!("Remove {label}")} onclick={click(remove)}>{ "Remove" }</button>
                if let Some(m) = problem { <p class="field-error" id={format!("{prefix}-error")}>{ m }</p> }
            </div>
        }
    };
    html! {
        <>
            <form class="card stack" {onsubmit} novalidate=true aria-label="Availability">
                if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
                if !local.is_empty() { <p class="error" role="alert">{ "Please correct the fields marked below." }</p> }
                if *saved { <p class="ok" role="status">{ "Availability saved." }</p> }
                <SelectField id="availability-zone" label="Time zone" value={editor.zone.clone()} options={zones}
                    onchange={edit(Box::new(|e, v| e.zone = v))} error={messages(&error, &local, "time_zone")} />
                <fieldset>
                    <legend>{ "Every week" }</legend>
                    { for WEEKDAYS.iter().enumerate().map(|(day, (_, key, name))| html! {
                        <div class="weekday" id={format!("weekly-{key}")}>
                            <h3>{ *name }</h3>
                            if editor.weekly[day].is_empty() { <p class="empty">{ "Unavailable" }</p> }
                            { for editor.weekly[day].iter().enumerate().map(|(k, w)| window_row(
                                format!("weekly-{key}-{k}"),
                                format!("window {} on {name}", k + 1),
                                w,
                                edit(Box::new(move |e, v| e.weekly[day][k].0 = v)),
                                edit(Box::new(move |e, v| e.weekly[day][k].1 = v)),
                                edit(Box::new(move |e, _| { e.weekly[day].remove(k); })),
                                weekly_error(day, k),
                            )) }
                            <button type="button" class="secondary" aria-label={format!("Add window on {name}")}
                                onclick={click(edit(Box::new(move |e, _| e.weekly[day].push(("09:00".into(), "17:00".into())))))}>{ "Add window" }</button>
                        </div>
                    }) }
                </fieldset>
                <fieldset id="overrides">
                    <legend>{ "Date overrides" }</legend>
                    <p class="hint">{ "On these dates the windows below replace the weekly ones." }</p>
                    { for editor.overrides.iter().enumerate().map(|(i, o)| html! {
                        <div class="override">
                            <input type="date" id={format!("override-{i}-date")} aria-label={format!("Override {} date", i + 1)} value={o.date.clone()}
                                oninput={text(edit(Box::new(move |e, v| e.overrides[i].date = v)))} />
                            <label class="check"><input type="checkbox" id={format!("override-{i}-unavailable")} checked={o.unavailable}
                                onchange={edit(Box::new(move |e, _| e.overrides[i].unavailable = !e.overrides[i].unavailable)).reform(|_: Event| String::new())} />
                                { "Unavailable all day" }</label>
                            if let Some(m) = override_messages(&error, &local, i, None) { <p class="field-error" id={format!("override-{i}-error")}>{ m }</p> }
                            if !o.unavailable {
                                { for o.windows.iter().enumerate().map(|(k, w)| window_row(
                                    format!("override-{i}-{k}"),
                                    format!("window {} of override {}", k + 1, i + 1),
                                    w,
                                    edit(Box::new(move |e, v| e.overrides[i].windows[k].0 = v)),
                                    edit(Box::new(move |e, v| e.overrides[i].windows[k].1 = v)),
                                    edit(Box::new(move |e, _| { e.overrides[i].windows.remove(k); })),
                                    override_messages(&error, &local, i, Some(k)),
                                )) }
                                <button type="button" class="secondary" aria-label={format!("Add window to override {}", i + 1)}
                                    onclick={click(edit(Box::new(move |e, _| e.overrides[i].windows.push(("09:00".into(), "12:00".into())))))}>{ "Add window" }</button>
                            }
                            <button type="button" class="secondary" aria-label={format!("Remove override {}", i + 1)}
                                onclick={click(edit(Box::new(move |e, _| { e.overrides.remove(i); })))}>{ "Remove override" }</button>
                        </div>
                    }) }
                    <button type="button" class="secondary" onclick={click(edit(Box::new(|e, _| e.overrides.push(Override { unavailable: true, ..Override::default() }))))}>{ "Add date override" }</button>
                </fieldset>
                <fieldset id="time-off">
                    <legend>{ "Time off" }</legend>
                    { for editor.time_off.iter().enumerate().map(|(i, (from, to, reason))| html! {
                        <div class="override">
                            <label for={format!("time-off-{i}-from")}>{ "From" }</label>
                            <input type="datetime-local" id={format!("time-off-{i}-from")} value={from.clone()}
                                oninput={text(edit(Box::new(move |e, v| e.time_off[i].0 = v)))} />
                            <label for={format!("time-off-{i}-to")}>{ "To" }</label>
                            <input type="datetime-local" id={format!("time-off-{i}-to")} value={to.clone()}
                                oninput={text(edit(Box::new(move |e, v| e.time_off[i].1 = v)))} />
                            <input id={format!("time-off-{i}-reason")} aria-label={format!("Time off {} reason", i + 1)} value={reason.clone()}
                                placeholder="Reason" oninput={text(edit(Box::new(move |e, v| e.time_off[i].2 = v)))} />
                            <button type="button" class="secondary" aria-label={format!("Remove time off {}", i + 1)}
                                onclick={click(edit(Box::new(move |e, _| { e.time_off.remove(i); })))}>{ "Remove" }</button>
                            if let Some(m) = messages(&error, &local, &format!("time_off[{i}]")) { <p class="field-error" id={format!("time-off-{i}-error")}>{ m }</p> }
                        </div>
                    }) }
                    <button type="button" class="secondary" onclick={click(edit(Box::new(|e, _| e.time_off.push(Default::default()))))}>{ "Add time off" }</button>
                </fieldset>
                <div class="actions"><button type="submit">{ "Save availability" }</button></div>
            </form>
        </>
    }
}
