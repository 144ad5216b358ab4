//! The booking flow's settings: which formats are offered, the topic questions each asks, and
//! whether students may choose their own classes. The labels live on the organisation settings.

use cohort_api_types::{BookingSettings, FormatSettings, TopicQuestion, UpdateBookingSettings};
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::pages::services::{format_key, format_name, FORMATS};
use crate::Route;
use cohort_ui::state::{Load, Session};

#[derive(Clone, PartialEq, Default)]
struct Form {
    students_edit_classes: bool,
    formats: Vec<FormatSettings>,
}

impl Form {
    /// Every format appears, enabled or not, in a fixed order.
    fn of(s: &BookingSettings) -> Self {
        let formats = FORMATS
            .iter()
            .map(|f| {
                s.formats
                    .iter()
                    .find(|x| x.format == *f)
                    .cloned()
                    .unwrap_or(FormatSettings {
                        format: *f,
                        enabled: false,
                        questions: Vec::new(),
                    })
            })
            .collect();
        Self {
            students_edit_classes: s.students_edit_classes,
            formats,
        }
    }
}

/// A change to the form, given the input's value.
type Change = Box<dyn Fn(&mut Form, String)>;

#[function_component(BookingSettingsPage)]
pub fn booking_settings_page() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let labels = session.labels().clone();
    let loaded = use_state(|| Load::<()>::Loading);
    let form = use_state(Form::default);
    let error = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    {
        let (loaded, form) = (loaded.clone(), form.clone());
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                match api::booking_settings().await {
                    Ok(s) => {
                        form.set(Form::of(&s));
                        loaded.set(Load::Loaded(()));
                    }
                    Err(e) => loaded.set(Load::Failed(e)),
                }
            });
        });
    }
    let edit = {
        let (form, saved) = (form.clone(), saved.clone());
        move |apply: Change| {
            let (form, saved) = (form.clone(), saved.clone());
            Callback::from(move |value: String| {
                let mut next = (*form).clone();
                apply(&mut next, value);
                form.set(next);
                saved.set(false);
            })
        }
    };
    let text = |cb: Callback<String>| cb.reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
    let toggled = |cb: Callback<String>| cb.reform(|_: Event| String::new());
    let click = |cb: Callback<String>| cb.reform(|_: MouseEvent| String::new());
    let onsubmit = {
        let (form, error, saved) = (form.clone(), error.clone(), saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = UpdateBookingSettings {
                students_edit_classes: Some(form.students_edit_classes),
                formats: Some(form.formats.clone()),
            };
            let (form, error, saved) = (form.clone(), error.clone(), saved.clone());
            yew::platform::spawn_local(async move {
                match api::update_booking_settings(&input).await {
                    Ok(s) => {
                        form.set(Form::of(&s));
                        error.set(None);
                        saved.set(true);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let under = |path: String| (*error).as_ref().and_then(|e| e.under(&path));
    match &*loaded {
        Load::Loading => return html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
        Load::Failed(e) => return html! { <p class="error" role="alert">{ e.message() }</p> },
        Load::Loaded(()) => {}
    }
    html! {
        <>
            <h1>{ "Booking settings" }</h1>
            <p class="hint">{ format!("The words “{}” and “{}” are set on the ", labels.provider_plural, labels.class_plural) }
                <Link<Route> to={Route::Settings}>{ "organisation settings" }</Link<Route>>{ "." }</p>
            <form class="card stack" {onsubmit} novalidate=true aria-label="Booking settings">
                if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
                if *saved { <p class="ok" role="status">{ "Booking settings saved." }</p> }
                <div class="check">
                    <input type="checkbox" id="students-edit-classes" checked={form.students_edit_classes}
                        onchange={toggled(edit(Box::new(|f, _| f.students_edit_classes = !f.students_edit_classes)))} />
                    <label for="students-edit-classes">{ format!("Students may choose their own {}", labels.class_plural.to_lowercase()) }</label>
                </div>
                { for form.formats.iter().enumerate().map(|(i, f)| {
                    let key = format_key(f.format);
                    html! {
                        <fieldset id={format!("format-{key}")}>
                            <legend>{ format_name(f.format) }</legend>
                            <div class="check">
                                <input type="checkbox" id={format!("format-{key}-enabled")} checked={f.enabled}
                                    onchange={toggled(edit(Box::new(move |form, _| form.formats[i].enabled = !form.formats[i].enabled)))} />
                                <label for={format!("format-{key}-enabled")}>{ "Offered" }</label>
                            </div>
                            if let Some(m) = under(format!("formats[{i}].questions")) { <p class="field-error">{ m }</p> }
                            <h3>{ "Topic questions" }</h3>
                            if f.questions.is_empty() { <p class="empty">{ "No questions." }</p> }
                            { for f.questions.iter().enumerate().map(|(k, q)| {
                                let problem = under(format!("formats[{i}].questions[{k}]"));
                                html! {
                                    <div class={classes!("question", problem.as_ref().map(|_| "invalid"))}>
                                        <input id={format!("format-{key}-q{k}-id")} aria-label={format!("{} question {} id", format_name(f.format), k + 1)}
                                            value={q.id.clone()} placeholder="topic" size="12"
                                            oninput={text(edit(Box::new(move |form, v| form.formats[i].questions[k].id = v)))} />
                                        <input id={format!("format-{key}-q{k}-text")} aria-label={format!("{} question {} text", format_name(f.format), k + 1)}
                                            value={q.text.clone()} placeholder="What would you like to talk about?"
                                            oninput={text(edit(Box::new(move |form, v| form.formats[i].questions[k].text = v)))} />
                                        <label class="check"><input type="checkbox" id={format!("format-{key}-q{k}-required")} checked={q.required}
                                            onchange={toggled(edit(Box::new(move |form, _| form.formats[i].questions[k].required = !form.formats[i].questions[k].required)))} />
                                            { "Required" }</label>
                                        <button type="button" class="secondary" aria-label={format!("Remove {} question {}", format_name(f.format), k + 1)}
                                            onclick={click(edit(Box::new(move |form, _| { form.formats[i].questions.remove(k); })))}>{ "Remove" }</button>
                                        if let Some(m) = problem { <p class="field-error" id={format!("format-{key}-q{k}-error")}>{ m }</p> }
                                    </div>
                                }
                            }) }
                            <button type="button" class="secondary" aria-label={format!("Add question to {}", format_name(f.format))}
                                onclick={click(edit(Box::new(move |form, _| form.formats[i].questions.push(TopicQuestion { id: String::new(), text: String::new(), required: false }))))}>
                                { "Add question" }</button>
                        </fieldset>
                    }
                }) }
                <div class="actions"><button type="submit">{ "Save booking settings" }</button></div>
            </form>
        </>
    }
}
