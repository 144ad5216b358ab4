//! A program's steps: the list with delivery and completion counts, a form whose fields follow
//! the publish type (a date-time in the program's zone, or a trigger with its delay), and delete
//! with confirmation.

use chrono::{NaiveDate, NaiveDateTime};
use cohort_api_types::{
    ActionType, DelayUnit, Program, PublishType, Step, StepDelay, StepInput, StepTrigger, ViewerType,
};
use uuid::Uuid;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::Route;
use cohort_ui::components::field::{SelectField, TextArea, TextField};
use cohort_ui::state::{local_time, Load};

/// The wire name of an enum value (snake_case), for select values.
fn name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

const VIEWERS: [(ViewerType, &str); 3] = [
    (ViewerType::All, "Everyone"),
    (ViewerType::Mentee, "Mentees"),
    (ViewerType::Mentor, "Mentors"),
];
const ACTIONS: [(ActionType, &str); 6] = [
    (ActionType::GoToLearning, "Go to learning"),
    (ActionType::ScheduleMeeting, "Schedule a meeting"),
    (ActionType::SetGoal, "Set a goal"),
    (ActionType::TakeSurvey, "Take a survey"),
    (ActionType::SendMessage, "Send a message"),
    (ActionType::OpenLink, "Open a link"),
];
const PUBLISH: [(PublishType, &str); 3] = [
    (PublishType::Instant, "Instant: when you save it"),
    (PublishType::Scheduled, "Scheduled: at a date and time"),
    (PublishType::Triggered, "Triggered: after a participant does something"),
];
const TRIGGERS: [(StepTrigger, &str); 4] = [
    (StepTrigger::JoinedProgram, "Joined the program"),
    (StepTrigger::FirstMatch, "First match"),
    (StepTrigger::FirstUnresponsiveMatch, "First unresponsive match"),
    (StepTrigger::FirstSessionCompleted, "First session completed"),
];
const UNITS: [(DelayUnit, &str); 3] = [
    (DelayUnit::Minutes, "minutes"),
    (DelayUnit::Hours, "hours"),
    (DelayUnit::Days, "days"),
];

fn options<T: Copy + serde::Serialize>(items: &[(T, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(v, text)| (name(*v), (*text).to_owned())).collect()
}

fn label<T: Copy + PartialEq>(items: &[(T, &'static str)], value: T) -> &'static str {
    items.iter().find(|(v, _)| *v == value).map(|(_, t)| *t).unwrap_or("")
}

/// The form's fields as typed: text until it is sent.
#[derive(Clone, PartialEq)]
struct Draft {
    title: String,
    description: String,
    viewer: ViewerType,
    action: ActionType,
    link: String,
    publish: PublishType,
    scheduled: String,
    trigger: StepTrigger,
    delay_amount: String,
    delay_unit: DelayUnit,
    include_existing: bool,
    due_date: String,
}

impl Default for Draft {
    fn default() -> Self {
        Self {
            title: String::new(),
            description: String::new(),
            viewer: ViewerType::All,
            action: ActionType::GoToLearning,
            link: String::new(),
            publish: PublishType::Instant,
            scheduled: String::new(),
            trigger: StepTrigger::JoinedProgram,
            delay_amount: "0".into(),
            delay_unit: DelayUnit::Days,
            include_existing: false,
            due_date: String::new(),
        }
    }
}

impl Draft {
    fn of(step: &Step) -> Self {
        Self {
            title: step.title.clone(),
            description: step.description.clone(),
            viewer: step.viewer_type,
            action: step.action_type,
            link: step.link_url.clone().unwrap_or_default(),
            publish: step.publish_type,
            scheduled: step
                .scheduled_for
                .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default(),
            trigger: step.trigger.unwrap_or(StepTrigger::JoinedProgram),
            delay_amount: step.delay.map(|d| d.amount.to_string()).unwrap_or_else(|| "0".into()),
            delay_unit: step.delay.map(|d| d.unit).unwrap_or(DelayUnit::Days),
            include_existing: step.include_existing,
            due_date: step.due_date.map(|d| d.to_string()).unwrap_or_default(),
        }
    }

    /// The request, or the field the browser's input could not give a value for.
    fn input(&self) -> Result<StepInput, (&'static str, String)> {
        let scheduled = self.publish == PublishType::Scheduled;
        let triggered = self.publish == PublishType::Triggered;
        let scheduled_for = match (scheduled, self.scheduled.trim()) {
            (true, "") | (false, _) => None,
            (true, text) => Some(
                NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                    .map_err(|_| ("scheduled_for", "pick a date and a time".to_owned()))?,
            ),
        };
        let due_date = match self.due_date.trim() {
            "" => None,
            text => {
                Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| ("due_date", "pick a date".to_owned()))?)
            }
        };
        let delay = if triggered {
            let amount = self
                .delay_amount
                .trim()
                .parse()
                .map_err(|_| ("delay.amount", "a whole number, 0 or more".to_owned()))?;
            Some(StepDelay {
                amount,
                unit: self.delay_unit,
            })
        } else {
            None
        };
        Ok(StepInput {
            title: self.title.clone(),
            description: self.description.clone(),
            viewer_type: self.viewer,
            action_type: self.action,
            link_url: (self.action == ActionType::OpenLink).then(|| self.link.trim().to_owned()),
            publish_type: self.publish,
            scheduled_for,
            trigger: triggered.then_some(self.trigger),
            delay,
            include_existing: triggered && self.include_existing,
            due_date,
        })
    }
}

fn publish_text(step: &Step) -> String {
    match step.publish_type {
        PublishType::Instant => "Instant".to_owned(),
        PublishType::Scheduled => match step.publish_at {
            Some(at) => format!("Scheduled: {}", local_time(&at, &step.time_zone)),
            None => "Scheduled".to_owned(),
        },
        PublishType::Triggered => {
            let trigger = step.trigger.map(|t| label(&TRIGGERS, t)).unwrap_or("");
            match step.delay {
                Some(d) if d.amount > 0 => {
                    format!("{trigger}, after {} {}", d.amount, label(&UNITS, d.unit))
                }
                _ => format!("{trigger}, at once"),
            }
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct StepsProps {
    pub id: Uuid,
}

#[function_component(StepsPage)]
pub fn steps_page(props: &StepsProps) -> Html {
    let id = props.id;
    let program = use_state(|| Load::<Program>::Loading);
    let steps = use_state(|| Load::<Vec<Step>>::Loading);
    let reload = use_state(|| 0u32);
    // None: the form creates a step; Some: it edits that one.
    let editing = use_state(|| None::<Step>);
    let confirming = use_state(|| None::<Step>);
    let message = use_state(|| None::<String>);
    {
        let (program, steps) = (program.clone(), steps.clone());
        use_effect_with((id, *reload), move |(id, _)| {
            let id = *id;
            yew::platform::spawn_local(async move {
                program.set(match api::program(id).await {
                    Ok(p) => Load::Loaded(p),
                    Err(e) => Load::Failed(e),
                });
                // A program has few steps; follow the pages to show all of them.
                let mut all = Vec::new();
                let mut cursor = None::<String>;
                loop {
                    match api::steps(id, cursor.as_deref()).await {
                        Ok(page) => {
                            all.extend(page.items);
                            cursor = page.next_cursor;
                            if cursor.is_none() {
                                steps.set(Load::Loaded(all));
                                break;
                            }
                        }
                        Err(e) => {
                            steps.set(Load::Failed(e));
                            break;
                        }
                    }
                }
            });
        });
    }
    let on_saved = {
        let (reload, editing, message) = (reload.clone(), editing.clone(), message.clone());
        Callback::from(move |step: Step| {
            message.set(Some(format!("Saved “{}”.", step.title)));
            editing.set(None);
            reload.set(*reload + 1);
        })
    };
    let on_cancel = {
        let editing = editing.clone();
        Callback::from(move |_| editing.set(None))
    };
    let delete = {
        let (confirming, reload, message) = (confirming.clone(), reload.clone(), message.clone());
        Callback::from(move |step: Step| {
            let (confirming, reload, message) = (confirming.clone(), reload.clone(), message.clone());
            yew::platform::spawn_local(async move {
                match api::delete_step(step.program_id, step.id).await {
                    Ok(()) => message.set(Some(format!("Deleted “{}”.", step.title))),
                    Err(e) => message.set(Some(e.message())),
                }
                confirming.set(None);
                reload.set(*reload + 1);
            });
        })
    };
    let time_zone = match &*program {
        Load::Loaded(p) => p.time_zone.clone(),
        _ => String::new(),
    };
    html! {
        <>
            <div class="bar">
                <h1>{ "Steps" }</h1>
                if let Load::Loaded(p) = &*program {
                    <Link<Route> to={Route::Program { id: p.id }}>{ format!("Back to {}", p.name) }</Link<Route>>
                }
            </div>
            if let Some(text) = &*message { <p class="ok" role="status">{ text.clone() }</p> }
            if let Some(step) = &*confirming {
                <div class="card confirm" role="alertdialog" aria-label="Delete step">
                    <p>{ format!("Delete “{}”? It leaves the feed of all {} participants who have it.", step.title, step.counts.delivered) }</p>
                    <div class="actions">
                        <button class="danger" onclick={let (d, s) = (delete.clone(), step.clone()); Callback::from(move |_| d.emit(s.clone()))}>{ "Delete step" }</button>
                        <button class="secondary" onclick={let c = confirming.clone(); Callback::from(move |_| c.set(None))}>{ "Keep it" }</button>
                    </div>
                </div>
            }
            {
                match &*steps {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(items) if items.is_empty() => html! { <p class="empty">{ "No steps yet." }</p> },
                    Load::Loaded(items) => html! {
                        <table class="list" aria-label="Steps">
                            <thead><tr>
                                <th scope="col">{ "Step" }</th><th scope="col">{ "For" }</th><th scope="col">{ "Published" }</th>
                                <th scope="col">{ "Delivered" }</th><th scope="col">{ "Opened" }</th><th scope="col">{ "Completed" }</th>
                                <th scope="col">{ "Missed" }</th><th scope="col"><span class="visually-hidden">{ "Actions" }</span></th>
                            </tr></thead>
                            <tbody>
                                { for items.iter().map(|s| html! {
                                    <tr>
                                        <td>{ s.title.clone() }<br /><small>{ label(&ACTIONS, s.action_type) }</small></td>
                                        <td>{ label(&VIEWERS, s.viewer_type) }</td>
                                        <td>{ publish_text(s) }</td>
                                        <td>{ s.counts.delivered }</td>
                                        <td>{ s.counts.opened }</td>
                                        <td>{ s.counts.completed }</td>
                                        <td>{ s.counts.missed }</td>
                                        <td class="actions">
                                            <button class="secondary" aria-label={format!("Edit {}", s.title)}
                                                onclick={let (e, s) = (editing.clone(), s.clone()); Callback::from(move |_| e.set(Some(s.clone())))}>{ "Edit" }</button>
                                            <button class="danger" aria-label={format!("Delete {}", s.title)}
                                                onclick={let (c, s) = (confirming.clone(), s.clone()); Callback::from(move |_| c.set(Some(s.clone())))}>{ "Delete" }</button>
                                        </td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    },
                }
            }
            <StepForm key={(*editing).as_ref().map(|s| s.id.to_string()).unwrap_or_default()}
                program={id} {time_zone} step={(*editing).clone()} {on_saved} {on_cancel} />
        </>
    }
}

#[derive(Properties, PartialEq)]
struct FormProps {
    program: Uuid,
    time_zone: String,
    step: Option<Step>,
    on_saved: Callback<Step>,
    on_cancel: Callback<()>,
}

#[function_component(StepForm)]
fn step_form(props: &FormProps) -> Html {
    let draft = use_state(|| props.step.as_ref().map(Draft::of).unwrap_or_default());
    let error = use_state(|| None::<ApiError>);
    let local_error = use_state(|| None::<(&'static str, String)>);
    let busy = use_state(|| false);
    let set = |f: fn(&mut Draft, String)| {
        let draft = draft.clone();
        Callback::from(move |v: String| {
            let mut d = (*draft).clone();
            f(&mut d, v);
            draft.set(d);
        })
    };
    let onsubmit = {
        let (draft, error, local_error, busy) = (draft.clone(), error.clone(), local_error.clone(), busy.clone());
        let (program, step, on_saved) = (props.program, props.step.as_ref().map(|s| s.id), props.on_saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = match draft.input() {
                Ok(input) => input,
                Err(problem) => {
                    local_error.set(Some(problem));
                    return;
                }
            };
            local_error.set(None);
            busy.set(true);
            let (draft, error, busy, on_saved) = (draft.clone(), error.clone(), busy.clone(), on_saved.clone());
            yew::platform::spawn_local(async move {
                let result = match step {
                    Some(step) => api::update_step(program, step, &input).await,
                    None => api::create_step(program, &input).await,
                };
                busy.set(false);
                match result {
                    Ok(saved) => {
                        error.set(None);
                        draft.set(Draft::default());
                        on_saved.emit(saved);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let field = |f: &str| -> Option<String> {
        match &*local_error {
            Some((name, message)) if *name == f => Some(message.clone()),
            _ => (*error).as_ref().and_then(|e| e.field(f)),
        }
    };
    let known = [
        "title",
        "description",
        "viewer_type",
        "action_type",
        "link_url",
        "publish_type",
        "scheduled_for",
        "trigger",
        "delay",
        "delay.amount",
        "include_existing",
        "due_date",
    ];
    let general = (*error)
        .as_ref()
        .filter(|_| known.iter().all(|f| field(f).is_none()))
        .map(|e| e.message());
    let d = &*draft;
    let editing = props.step.is_some();
    let on_include = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            let mut d = (*draft).clone();
            d.include_existing = e.target_unchecked_into::<HtmlInputElement>().checked();
            draft.set(d);
        })
    };
    html! {
        <form class="card stack" {onsubmit} novalidate=true aria-label={if editing { "Edit step" } else { "New step" }}>
            <h2>{ if editing { "Edit step" } else { "New step" } }</h2>
            if let Some(message) = general { <p class="error" role="alert">{ message }</p> }
            <TextField id="step-title" label="Title" value={d.title.clone()} required=true
                oninput={set(|d, v| d.title = v)} error={field("title")} />
            <TextArea id="step-description" label="Description" value={d.description.clone()}
                oninput={set(|d, v| d.description = v)} error={field("description")} />
            <SelectField id="step-viewer" label="Who sees it" value={name(d.viewer)} options={options(&VIEWERS)}
                onchange={set(|d, v| d.viewer = parse(&v).unwrap_or(ViewerType::All))} error={field("viewer_type")} />
            <SelectField id="step-action" label="Action" value={name(d.action)} options={options(&ACTIONS)}
                onchange={set(|d, v| d.action = parse(&v).unwrap_or(ActionType::GoToLearning))} error={field("action_type")} />
            if d.action == ActionType::OpenLink {
                <TextField id="step-link" label="Link" kind="url" value={d.link.clone()}
                    oninput={set(|d, v| d.link = v)} error={field("link_url")} />
            }
            <SelectField id="step-publish" label="Publish" value={name(d.publish)} options={options(&PUBLISH)}
                onchange={set(|d, v| d.publish = parse(&v).unwrap_or(PublishType::Instant))} error={field("publish_type")} />
            if d.publish == PublishType::Scheduled {
                <TextField id="step-scheduled" label="Publish at" kind="datetime-local" value={d.scheduled.clone()}
                    hint={AttrValue::from(format!("In the program's time zone, {}", props.time_zone))}
                    oninput={set(|d, v| d.scheduled = v)} error={field("scheduled_for")} />
            }
            if d.publish == PublishType::Triggered {
                <SelectField id="step-trigger" label="When the participant…" value={name(d.trigger)} options={options(&TRIGGERS)}
                    onchange={set(|d, v| d.trigger = parse(&v).unwrap_or(StepTrigger::JoinedProgram))} error={field("trigger")} />
                <div class="row">
                    <TextField id="step-delay" label="Deliver after" kind="number" value={d.delay_amount.clone()}
                        oninput={set(|d, v| d.delay_amount = v)} error={field("delay.amount")} />
                    <SelectField id="step-delay-unit" label="Unit" value={name(d.delay_unit)} options={options(&UNITS)}
                        onchange={set(|d, v| d.delay_unit = parse(&v).unwrap_or(DelayUnit::Days))} />
                </div>
                <div class="field checkbox">
                    <input id="step-include-existing" type="checkbox" checked={d.include_existing} onchange={on_include} />
                    <label for="step-include-existing">{ "Also reach participants who were in the program before this step existed (off: only people who join from now on)" }</label>
                </div>
            }
            <TextField id="step-due" label="Due date (optional)" kind="date" value={d.due_date.clone()}
                oninput={set(|d, v| d.due_date = v)} error={field("due_date")} />
            <div class="actions">
                <button type="submit" disabled={*busy}>{ if editing { "Save step" } else { "Create step" } }</button>
                if editing {
                    <button type="button" class="secondary" onclick={props.on_cancel.reform(|_| ())}>{ "Cancel" }</button>
                }
            </div>
        </form>
    }
}
