//! Automations: the list with an on/off switch and counts, a builder that reads like the
//! sentence it builds ("When … in … , … , wait … , if … , then …"), and each one's run history.

use cohort_api_types::{
    ActionState, AttributeValue, Automation, AutomationAction, AutomationActionType, AutomationCondition,
    AutomationInput, AutomationRun, Badge, ConditionOperator, DelayUnit, Frequency, LeftOutEvent, Program, RunOutcome,
    StepDelay,
};
use uuid::Uuid;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::Route;
use cohort_ui::components::field::{SelectField, TextField};
use cohort_ui::state::{local_time, use_load, Load, Session};

#[function_component(Automations)]
pub fn automations() -> Html {
    let reload = use_state(|| 0u32);
    let error = use_state(|| None::<ApiError>);
    let list = use_load(
        *reload,
        |_| async move { api::automations().await.map(|page| page.items) },
    );
    let toggle = |a: &Automation| {
        let (id, active, reload, error) = (a.id, !a.active, reload.clone(), error.clone());
        Callback::from(move |_: Event| {
            let (reload, error) = (reload.clone(), error.clone());
            yew::platform::spawn_local(async move {
                match api::set_automation_active(id, active).await {
                    Ok(_) => reload.set(*reload + 1),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    html! {
        <>
            <div class="bar">
                <h1>{ "Automations" }</h1>
                <Link<Route> to={Route::NewAutomation} classes="button">{ "New automation" }</Link<Route>>
            </div>
            if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
            <LeftOut />
            {
                match &*list {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(items) if items.is_empty() => html! {
                        <p class="empty">{ "No automations yet: \"when this happens, do that\" for your programs." }</p>
                    },
                    Load::Loaded(items) => html! {
                        <table class="list" aria-label="Automations">
                            <thead><tr>
                                <th scope="col">{ "Name" }</th><th scope="col">{ "When" }</th><th scope="col">{ "Active" }</th>
                                <th scope="col">{ "Runs" }</th><th scope="col">{ "Actions done" }</th>
                                <th scope="col">{ "Failed" }</th><th scope="col">{ "Pending" }</th>
                            </tr></thead>
                            <tbody>
                                { for items.iter().map(|a| html! {
                                    <tr>
                                        <td><Link<Route> to={Route::Automation { id: a.id }}>{ a.name.clone() }</Link<Route>></td>
                                        <td>{ trigger_text(&a.trigger) }</td>
                                        <td><input type="checkbox" role="switch" aria-label={format!("{} active", a.name)}
                                            checked={a.active} onchange={toggle(a)} /></td>
                                        <td>{ a.counts.runs }</td><td>{ a.counts.actions_done }</td>
                                        <td>{ a.counts.actions_failed }</td><td>{ a.counts.actions_pending }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    },
                }
            }
        </>
    }
}

/// The events the automations left out (matching each failed every time it was tried alone),
/// with why, and a button that gives them back to the matchers once the cause is mended.
/// Nothing when there are none.
#[function_component(LeftOut)]
fn left_out() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let zone = session.me.organization.time_zone.clone();
    let items = use_state(Vec::<LeftOutEvent>::new);
    let reload = use_state(|| 0u32);
    let status = use_state(|| None::<String>);
    {
        let items = items.clone();
        use_effect_with(*reload, move |_| {
            yew::platform::spawn_local(async move {
                if let Ok(page) = api::left_out_events().await {
                    items.set(page.items);
                }
            });
        });
    }
    let match_again = {
        let (reload, status) = (reload.clone(), status.clone());
        Callback::from(move |_: MouseEvent| {
            let (reload, status) = (reload.clone(), status.clone());
            yew::platform::spawn_local(async move {
                status.set(Some(match api::match_left_out_again().await {
                    Ok(r) if r.requeued == 1 => "1 event meets the automations again.".to_owned(),
                    Ok(r) => format!("{} events meet the automations again.", r.requeued),
                    Err(e) => e.message(),
                }));
                reload.set(*reload + 1);
            });
        })
    };
    if items.is_empty() {
        return html! { if let Some(s) = &*status { <p role="status">{ s.clone() }</p> } };
    }
    html! {
        <section class="card stack" id="left-out" aria-label="Events left out">
            <h2>{ match items.len() { 1 => "1 event could not be matched".to_owned(), n => format!("{n} events could not be matched") } }</h2>
            <p>{ "Matching each of these failed every time it was tried, so the automations no longer take them; \
                  the others go on. Mend the cause (often an email template or a webhook), then match them again." }</p>
            <table class="list" aria-label="Left-out events">
                <thead><tr>
                    <th scope="col">{ "Event" }</th><th scope="col">{ "When" }</th>
                    <th scope="col">{ "Attempts" }</th><th scope="col">{ "Last error" }</th>
                </tr></thead>
                <tbody>
                    { for items.iter().map(|l| html! {
                        <tr key={l.event.id.to_string()}>
                            <td>{ trigger_text(&l.event.event_type) }</td>
                            <td>{ local_time(&l.event.occurred_at, &zone) }</td>
                            <td>{ l.attempts }</td>
                            <td>{ l.last_error.clone() }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
            <div class="actions">
                <button type="button" onclick={match_again}>{ "Match them again" }</button>
            </div>
        </section>
    }
}

const TRIGGERS: [(&str, &str); 12] = [
    ("participant.joined", "someone joins a program"),
    ("step.completed", "someone completes a step"),
    ("step.missed", "someone misses a step"),
    ("payment.paid", "someone pays for a program"),
    ("pairing.created", "a pairing is made"),
    ("pairing.ended", "a pairing ends"),
    ("pairing.unresponsive", "a pairing goes quiet"),
    ("request.declined", "a mentor declines a request"),
    ("request.expired", "a request expires"),
    ("booking.created", "someone books a session"),
    ("booking.cancelled", "a booked session is cancelled"),
    ("booking.completed", "a booked session takes place"),
];

fn trigger_text(t: &str) -> String {
    TRIGGERS
        .iter()
        .find(|(v, _)| *v == t)
        .map_or_else(|| format!("{t} happens"), |(_, text)| (*text).to_owned())
}

const FREQUENCIES: [(Frequency, &str, &str); 3] = [
    (Frequency::EveryTime, "every_time", "every time"),
    (Frequency::OncePerContact, "once_per_contact", "once per person"),
    (
        Frequency::OncePerContactPer24h,
        "once_per_contact_per_24h",
        "at most once a day per person",
    ),
];

const OPERATORS: [(ConditionOperator, &str, &str); 6] = [
    (ConditionOperator::Is, "is", "is"),
    (ConditionOperator::IsNot, "is_not", "is not"),
    (ConditionOperator::Contains, "contains", "contains"),
    (ConditionOperator::GreaterThan, "greater_than", "is more than"),
    (ConditionOperator::LessThan, "less_than", "is less than"),
    (ConditionOperator::In, "in", "is one of (comma-separated)"),
];

const ACTIONS: [(AutomationActionType, &str, &str); 6] = [
    (AutomationActionType::SendEmail, "send_email", "send the email"),
    (
        AutomationActionType::SendNotification,
        "send_notification",
        "send a notification",
    ),
    (
        AutomationActionType::SendChatMessage,
        "send_chat_message",
        "send a chat message",
    ),
    (AutomationActionType::AwardBadge, "award_badge", "award the badge"),
    (AutomationActionType::DeliverStep, "deliver_step", "deliver the step"),
    (AutomationActionType::CallWebhook, "call_webhook", "call the webhook"),
];

const UNITS: [(DelayUnit, &str, &str); 3] = [
    (DelayUnit::Minutes, "minutes", "minutes"),
    (DelayUnit::Hours, "hours", "hours"),
    (DelayUnit::Days, "days", "days"),
];

fn value<T: PartialEq + Copy>(list: &[(T, &'static str, &str)], x: T) -> &'static str {
    list.iter().find(|(y, _, _)| *y == x).map_or("", |(_, v, _)| *v)
}

fn parse<T: Copy>(list: &[(T, &str, &str)], v: &str) -> Option<T> {
    list.iter().find(|(_, value, _)| *value == v).map(|(x, _, _)| *x)
}

fn options<T>(list: &[(T, &str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(_, v, t)| ((*v).to_owned(), (*t).to_owned()))
        .collect()
}

fn blank() -> AutomationInput {
    AutomationInput {
        name: String::new(),
        trigger: "participant.joined".into(),
        program_ids: None,
        frequency: Frequency::EveryTime,
        delay: None,
        conditions: Vec::new(),
        actions: vec![action(AutomationActionType::SendNotification)],
        active: Some(false),
    }
}

fn action(t: AutomationActionType) -> AutomationAction {
    AutomationAction {
        action_type: t,
        delay: None,
        template: None,
        text: None,
        badge_id: None,
        step_id: None,
        title: None,
        body: None,
        url: None,
    }
}

fn condition_text(v: &AttributeValue) -> String {
    match v {
        AttributeValue::Text(t) => t.clone(),
        AttributeValue::Number(n) => n.to_string(),
        AttributeValue::Flag(b) => b.to_string(),
        AttributeValue::List(items) => items.join(", "),
    }
}

/// What the admin typed, as the value the operator wants: a number for comparisons, a list
/// for "is one of", a text otherwise.
fn condition_value(op: ConditionOperator, text: &str) -> AttributeValue {
    match op {
        ConditionOperator::In => AttributeValue::List(
            text.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
        ConditionOperator::GreaterThan | ConditionOperator::LessThan => match text.trim().parse::<f64>() {
            Ok(n) => serde_json::Number::from_f64(n).map_or(AttributeValue::Text(text.into()), AttributeValue::Number),
            Err(_) => AttributeValue::Text(text.into()),
        },
        _ => AttributeValue::Text(text.into()),
    }
}

#[derive(Properties, PartialEq)]
pub struct BuilderProps {
    pub id: Option<Uuid>,
}

/// Edits a draft through `f`.
fn editor<T: 'static>(
    draft: &UseStateHandle<AutomationInput>,
    f: impl Fn(&mut AutomationInput, T) + 'static,
) -> Callback<T> {
    let draft = draft.clone();
    Callback::from(move |v: T| {
        let mut d = (*draft).clone();
        f(&mut d, v);
        draft.set(d);
    })
}

fn delay_fields(id: &str, delay: Option<StepDelay>, on: Callback<Option<StepDelay>>, error: Option<String>) -> Html {
    let amount = delay.map(|d| d.amount.to_string()).unwrap_or_default();
    let unit = delay.map_or(DelayUnit::Minutes, |d| d.unit);
    let set_amount = {
        let on = on.clone();
        Callback::from(move |v: String| {
            on.emit(match v.trim() {
                "" | "0" => None,
                t => t.parse().ok().map(|amount| StepDelay { amount, unit }),
            })
        })
    };
    let set_unit = Callback::from(move |v: String| {
        if let (Some(d), Some(unit)) = (delay, parse(&UNITS, &v)) {
            on.emit(Some(StepDelay { amount: d.amount, unit }));
        }
    });
    html! {
        <div class="row">
            <TextField id={format!("{id}-amount")} label="wait" kind="number" value={amount} oninput={set_amount} {error}
                hint={AttrValue::from("empty: at once")} />
            <SelectField id={format!("{id}-unit")} label="unit" value={value(&UNITS, unit)} options={options(&UNITS)} onchange={set_unit} />
        </div>
    }
}

#[function_component(Builder)]
pub fn builder(props: &BuilderProps) -> Html {
    let navigator = use_navigator().expect("inside the router");
    let draft = use_state(blank);
    let loaded = use_state(|| props.id.is_none());
    let programs = use_state(Vec::<Program>::new);
    let badges = use_state(Vec::<Badge>::new);
    let error = use_state(|| None::<ApiError>);
    let message = use_state(|| None::<String>);
    let history = use_state(|| 0u32);
    {
        let (draft, loaded, programs, badges, error) = (
            draft.clone(),
            loaded.clone(),
            programs.clone(),
            badges.clone(),
            error.clone(),
        );
        use_effect_with(props.id, move |id| {
            let id = *id;
            yew::platform::spawn_local(async move {
                if let Ok(page) = api::programs(None, None).await {
                    programs.set(page.items);
                }
                if let Ok(list) = api::badges().await {
                    badges.set(list.items);
                }
                if let Some(id) = id {
                    match api::automation(id).await {
                        Ok(a) => {
                            draft.set(AutomationInput {
                                name: a.name,
                                trigger: a.trigger,
                                program_ids: a.program_ids,
                                frequency: a.frequency,
                                delay: a.delay,
                                conditions: a.conditions,
                                actions: a.actions,
                                active: Some(a.active),
                            });
                            loaded.set(true);
                        }
                        Err(e) => error.set(Some(e)),
                    }
                }
            });
        });
    }
    if !*loaded {
        return match &*error {
            Some(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
            None => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
        };
    }
    let d = (*draft).clone();
    let field = |f: &str| (*error).as_ref().and_then(|e| e.field(f));
    let onsubmit = {
        let (draft, error, message, history, navigator, id) = (
            draft.clone(),
            error.clone(),
            message.clone(),
            history.clone(),
            navigator.clone(),
            props.id,
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = (*draft).clone();
            let (error, message, history, navigator) =
                (error.clone(), message.clone(), history.clone(), navigator.clone());
            yew::platform::spawn_local(async move {
                let saved = match id {
                    Some(id) => api::update_automation(id, &input).await,
                    None => api::create_automation(&input).await,
                };
                match saved {
                    Ok(a) => {
                        error.set(None);
                        message.set(Some(format!("Saved (version {}).", a.version)));
                        history.set(*history + 1);
                        if id.is_none() {
                            navigator.push(&Route::Automation { id: a.id });
                        }
                    }
                    Err(e) => {
                        message.set(None);
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let triggers: Vec<(String, String)> = TRIGGERS
        .iter()
        .map(|(v, t)| ((*v).to_owned(), (*t).to_owned()))
        .chain((!TRIGGERS.iter().any(|(v, _)| *v == d.trigger)).then(|| (d.trigger.clone(), d.trigger.clone())))
        .collect();
    let scope_all = d.program_ids.is_none();
    html! {
        <>
            <div class="bar">
                <h1>{ if props.id.is_some() { "Automation" } else { "New automation" } }</h1>
                <Link<Route> to={Route::Automations}>{ "All automations" }</Link<Route>>
            </div>
            <form class="card stack sentence" aria-label="Automation" {onsubmit} novalidate=true>
                <TextField id="automation-name" label="Name" value={d.name.clone()} error={field("name")}
                    oninput={editor(&draft, |d, v: String| d.name = v)} />
                <SelectField id="automation-trigger" label="When" value={d.trigger.clone()} options={triggers} error={field("trigger")}
                    onchange={editor(&draft, |d, v: String| d.trigger = v)} />
                <fieldset aria-label="Programs">
                    <legend>{ "in" }</legend>
                    <label><input type="checkbox" id="automation-all-programs" checked={scope_all}
                        onchange={editor(&draft, |d, e: Event| {
                            let all = e.target_unchecked_into::<HtmlInputElement>().checked();
                            d.program_ids = if all { None } else { Some(Vec::new()) };
                        })} />{ " any program" }</label>
                    if !scope_all {
                        { for programs.iter().map(|p| {
                            let id = p.id;
                            let checked = d.program_ids.as_ref().is_some_and(|ids| ids.contains(&id));
                            html! {
                                <label><input type="checkbox" aria-label={format!("Program {}", p.name)} {checked}
                                    onchange={editor(&draft, move |d, e: Event| {
                                        let on = e.target_unchecked_into::<HtmlInputElement>().checked();
                                        let ids = d.program_ids.get_or_insert_with(Vec::new);
                                        ids.retain(|x| *x != id);
                                        if on { ids.push(id); }
                                    })} />{ format!(" {}", p.name) }</label>
                            }
                        }) }
                        if let Some(e) = field("program_ids").or_else(|| field("program_ids[0]")) { <p class="field-error">{ e }</p> }
                    }
                </fieldset>
                <SelectField id="automation-frequency" label="run it" value={value(&FREQUENCIES, d.frequency)} options={options(&FREQUENCIES)}
                    onchange={editor(&draft, |d, v: String| if let Some(f) = parse(&FREQUENCIES, &v) { d.frequency = f })} />
                { delay_fields("automation-delay", d.delay, editor(&draft, |d, v| d.delay = v), field("delay")) }
                <fieldset aria-label="Conditions">
                    <legend>{ "if" }</legend>
                    if d.conditions.is_empty() { <p class="hint">{ "No conditions: every matching event counts." }</p> }
                    { for d.conditions.iter().enumerate().map(|(n, c)| html! {
                        <div class="row" aria-label={format!("Condition {}", n + 1)}>
                            <TextField id={format!("condition-{n}-field")} label="field" value={c.field.clone()}
                                hint={AttrValue::from("event.…, participant.…, program.name")} error={field(&format!("conditions[{n}].field"))}
                                oninput={editor(&draft, move |d, v: String| d.conditions[n].field = v)} />
                            <SelectField id={format!("condition-{n}-operator")} label="" value={value(&OPERATORS, c.operator)} options={options(&OPERATORS)}
                                onchange={editor(&draft, move |d, v: String| if let Some(o) = parse(&OPERATORS, &v) {
                                    let text = condition_text(&d.conditions[n].value);
                                    d.conditions[n].operator = o;
                                    d.conditions[n].value = condition_value(o, &text);
                                })} />
                            <TextField id={format!("condition-{n}-value")} label="value" value={condition_text(&c.value)} error={field(&format!("conditions[{n}].value"))}
                                oninput={editor(&draft, move |d, v: String| { let o = d.conditions[n].operator; d.conditions[n].value = condition_value(o, &v); })} />
                            <button type="button" class="secondary" aria-label={format!("Remove condition {}", n + 1)}
                                onclick={editor(&draft, move |d, _: MouseEvent| { d.conditions.remove(n); })}>{ "Remove" }</button>
                        </div>
                    }) }
                    <button type="button" class="secondary" onclick={editor(&draft, |d, _: MouseEvent| d.conditions.push(AutomationCondition {
                        field: "participant.".into(), operator: ConditionOperator::Is, value: AttributeValue::Text(String::new()) }))}>
                        { "Add condition" }</button>
                </fieldset>
                <fieldset aria-label="Actions">
                    <legend>{ "then" }</legend>
                    if let Some(e) = field("actions") { <p class="field-error">{ e }</p> }
                    { for d.actions.iter().enumerate().map(|(n, a)| action_fields(n, a, &draft, &badges, &error)) }
                    <button type="button" class="secondary" onclick={editor(&draft, |d, _: MouseEvent| d.actions.push(action(AutomationActionType::SendNotification)))}>
                        { "Add action" }</button>
                </fieldset>
                <label><input type="checkbox" id="automation-active" checked={d.active.unwrap_or(false)}
                    onchange={editor(&draft, |d, e: Event| d.active = Some(e.target_unchecked_into::<HtmlInputElement>().checked()))} />
                    { " Active" }</label>
                if let Some(m) = &*message { <p class="ok" role="status">{ m }</p> }
                if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
                <div class="actions">
                    <button type="submit">{ "Save automation" }</button>
                    if let Some(id) = props.id {
                        <button type="button" class="danger" onclick={{
                            let (navigator, error) = (navigator.clone(), error.clone());
                            Callback::from(move |_| {
                                if !gloo_dialogs::confirm("Delete this automation, its history and its pending actions?") {
                                    return;
                                }
                                let (navigator, error) = (navigator.clone(), error.clone());
                                yew::platform::spawn_local(async move {
                                    match api::delete_automation(id).await {
                                        Ok(()) => navigator.push(&Route::Automations),
                                        Err(e) => error.set(Some(e)),
                                    }
                                });
                            })
                        }}>{ "Delete" }</button>
                    }
                </div>
            </form>
            if let Some(id) = props.id { <History {id} reload={*history} /> }
        </>
    }
}

fn action_fields(
    n: usize,
    a: &AutomationAction,
    draft: &UseStateHandle<AutomationInput>,
    badges: &[Badge],
    error: &Option<ApiError>,
) -> Html {
    let field = |f: &str| error.as_ref().and_then(|e| e.field(&format!("actions[{n}].{f}")));
    let text = |name: &'static str,
                label: &'static str,
                current: &Option<String>,
                set: fn(&mut AutomationAction, Option<String>)| {
        html! {
            <TextField id={format!("action-{n}-{name}")} label={label} value={current.clone().unwrap_or_default()} error={field(name)}
                oninput={editor(draft, move |d, v: String| set(&mut d.actions[n], Some(v).filter(|v| !v.is_empty())))} />
        }
    };
    let badge_options: Vec<(String, String)> = std::iter::once((String::new(), "choose a badge".to_owned()))
        .chain(badges.iter().map(|b| (b.id.to_string(), b.name.clone())))
        .collect();
    html! {
        <div class="card stack" aria-label={format!("Action {}", n + 1)}>
            { delay_fields(&format!("action-{n}-delay"), a.delay, editor(draft, move |d, v| d.actions[n].delay = v), field("delay")) }
            <SelectField id={format!("action-{n}-type")} label="then" value={value(&ACTIONS, a.action_type)} options={options(&ACTIONS)}
                onchange={editor(draft, move |d, v: String| if let Some(t) = parse(&ACTIONS, &v) { d.actions[n] = AutomationAction { delay: d.actions[n].delay, ..action(t) } })} />
            {
                match a.action_type {
                    AutomationActionType::SendEmail => text("template", "email template (key)", &a.template, |a, v| a.template = v),
                    AutomationActionType::SendNotification => html! { <>
                        { text("title", "title", &a.title, |a, v| a.title = v) }
                        { text("body", "text", &a.body, |a, v| a.body = v) }
                    </> },
                    AutomationActionType::SendChatMessage => text("text", "message", &a.text, |a, v| a.text = v),
                    AutomationActionType::CallWebhook => text("url", "URL", &a.url, |a, v| a.url = v),
                    AutomationActionType::DeliverStep => html! {
                        <TextField id={format!("action-{n}-step_id")} label="step id" value={a.step_id.map(|s| s.to_string()).unwrap_or_default()} error={field("step_id")}
                            oninput={editor(draft, move |d, v: String| d.actions[n].step_id = v.trim().parse().ok())} />
                    },
                    AutomationActionType::AwardBadge => html! {
                        <SelectField id={format!("action-{n}-badge_id")} label="badge" value={a.badge_id.map(|b| b.to_string()).unwrap_or_default()}
                            options={badge_options} error={field("badge_id")}
                            onchange={editor(draft, move |d, v: String| d.actions[n].badge_id = v.parse().ok())} />
                    },
                }
            }
            <button type="button" class="secondary" aria-label={format!("Remove action {}", n + 1)}
                onclick={editor(draft, move |d, _: MouseEvent| { d.actions.remove(n); })}>{ "Remove" }</button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct HistoryProps {
    id: Uuid,
    reload: u32,
}

fn outcome_text(o: RunOutcome) -> &'static str {
    match o {
        RunOutcome::Ran => "ran",
        RunOutcome::ConditionsNotMet => "conditions not met",
        RunOutcome::FrequencyLimited => "frequency limit",
    }
}

fn state_text(s: ActionState) -> &'static str {
    match s {
        ActionState::Waiting => "waiting",
        ActionState::Scheduled => "scheduled",
        ActionState::Done => "done",
        ActionState::Failed => "failed",
        ActionState::Skipped => "skipped",
    }
}

/// The newest runs; refreshes every few seconds while the page is open.
#[function_component(History)]
fn history(props: &HistoryProps) -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let zone = session.me.organization.time_zone.clone();
    let runs = use_state(|| Load::<Vec<AutomationRun>>::Loading);
    let tick = use_state(|| 0u32);
    {
        let (runs, tick) = (runs.clone(), tick.clone());
        use_effect_with((props.id, props.reload, *tick), move |(id, _, n)| {
            let (id, n) = (*id, *n);
            yew::platform::spawn_local(async move {
                runs.set(match api::automation_runs(id).await {
                    Ok(page) => Load::Loaded(page.items),
                    Err(e) => Load::Failed(e),
                });
                yew::platform::time::sleep(std::time::Duration::from_secs(2)).await;
                tick.set(n + 1);
            });
        });
    }
    html! {
        <section class="card stack" aria-label="Run history">
            <h2>{ "Run history" }</h2>
            {
                match &*runs {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(items) if items.is_empty() => html! { <p class="empty">{ "No runs yet." }</p> },
                    Load::Loaded(items) => html! {
                        <table class="list" aria-label="Runs">
                            <thead><tr><th scope="col">{ "When" }</th><th scope="col">{ "Event" }</th><th scope="col">{ "Outcome" }</th>
                                <th scope="col">{ "Conditions" }</th><th scope="col">{ "Actions" }</th></tr></thead>
                            <tbody>
                                { for items.iter().map(|r| html! {
                                    <tr>
                                        <td>{ local_time(&r.event.occurred_at, &zone) }</td>
                                        <td>{ r.event.event_type.clone() }</td>
                                        <td>{ outcome_text(r.outcome) }</td>
                                        <td>{ r.conditions.iter().map(|c| format!("{} {}", c.field, if c.holds { "✓" } else { "✗" })).collect::<Vec<_>>().join(", ") }</td>
                                        <td>{ r.actions.iter().map(|a| {
                                            let mut s = format!("{}: {}", a.position + 1, state_text(a.state));
                                            if let Some(why) = &a.reason { s.push_str(&format!(" ({why})")); }
                                            s
                                        }).collect::<Vec<_>>().join("; ") }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    },
                }
            }
        </section>
    }
}
