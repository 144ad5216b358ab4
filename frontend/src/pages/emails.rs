//! The emails Cohort sends: the list, and an editor with a live preview.

use cohort_api_types::{EmailTemplate, PreviewEmail, RenderedEmail, UpdateEmailTemplate};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::Route;
use cohort_ui::components::field::{TextArea, TextField};
use cohort_ui::state::{use_load, Load};

#[function_component(Emails)]
pub fn emails() -> Html {
    let list = use_load((), |_| async move { api::email_templates().await.map(|l| l.items) });
    html! {
        <>
            <h1>{ "Emails" }</h1>
            <p>{ "Every email Cohort sends, in your organisation's words. Placeholders such as {{ recipient.first_name }} are filled in for each recipient." }</p>
            {
                list.view(|items| html! {
                        <table class="list">
                            <thead><tr><th scope="col">{ "Email" }</th><th scope="col">{ "Sent when" }</th><th scope="col">{ "Wording" }</th></tr></thead>
                            <tbody>
                                { for items.iter().map(|t| html! {
                                    <tr>
                                        <td><Link<Route> to={Route::Email { key: t.key.clone() }}>{ t.name.clone() }</Link<Route>></td>
                                        <td>{ t.description.clone() }</td>
                                        <td>{ if t.customized { "Yours" } else { "Default" } }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    })
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct EmailProps {
    pub key_name: AttrValue,
}

#[function_component(EmailEditor)]
pub fn email_editor(props: &EmailProps) -> Html {
    let key = props.key_name.to_string();
    let template = use_state(|| Load::<EmailTemplate>::Loading);
    let subject = use_state(String::new);
    let html_part = use_state(String::new);
    let text = use_state(String::new);
    let preview = use_state(|| None::<RenderedEmail>);
    let error = use_state(|| None::<ApiError>);
    let message = use_state(|| None::<String>);
    {
        let (template, subject, html_part, text) = (template.clone(), subject.clone(), html_part.clone(), text.clone());
        use_effect_with(key.clone(), move |key| {
            let key = key.clone();
            yew::platform::spawn_local(async move {
                match api::email_template(&key).await {
                    Ok(t) => {
                        subject.set(t.subject.clone());
                        html_part.set(t.html.clone());
                        text.set(t.text.clone());
                        template.set(Load::Loaded(t));
                    }
                    Err(e) => template.set(Load::Failed(e)),
                }
            });
        });
    }
    // Live preview: re-rendered by the server whenever a part changes. Answers can arrive out
    // of order while someone types; only the answer to the latest request is shown.
    let latest = use_mut_ref(|| 0u64);
    {
        let (preview, error, latest) = (preview.clone(), error.clone(), latest.clone());
        let parts = ((*subject).clone(), (*html_part).clone(), (*text).clone());
        let loaded = matches!(*template, Load::Loaded(_));
        let key = key.clone();
        use_effect_with((parts, loaded), move |((subject, html, text), loaded)| {
            if *loaded {
                let input = PreviewEmail {
                    subject: Some(subject.clone()),
                    html: Some(html.clone()),
                    text: Some(text.clone()),
                };
                *latest.borrow_mut() += 1;
                let request = *latest.borrow();
                yew::platform::spawn_local(async move {
                    let answer = api::preview_email(&key, &input).await;
                    if *latest.borrow() != request {
                        return;
                    }
                    match answer {
                        Ok(rendered) => {
                            preview.set(Some(rendered));
                            error.set(None);
                        }
                        Err(e) => error.set(Some(e)),
                    }
                });
            }
        });
    }
    let set = |state: &UseStateHandle<String>| {
        let (state, message) = (state.clone(), message.clone());
        Callback::from(move |v: String| {
            state.set(v);
            message.set(None);
        })
    };
    let onsubmit = {
        let (subject, html_part, text, error, message, template, key) = (
            subject.clone(),
            html_part.clone(),
            text.clone(),
            error.clone(),
            message.clone(),
            template.clone(),
            key.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = UpdateEmailTemplate {
                subject: (*subject).clone(),
                html: (*html_part).clone(),
                text: (*text).clone(),
            };
            let (error, message, template, key) = (error.clone(), message.clone(), template.clone(), key.clone());
            yew::platform::spawn_local(async move {
                match api::save_email_template(&key, &input).await {
                    Ok(t) => {
                        template.set(Load::Loaded(t));
                        message.set(Some("Saved.".into()));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let reset = {
        let (key, message, template, subject, html_part, text) = (
            key.clone(),
            message.clone(),
            template.clone(),
            subject.clone(),
            html_part.clone(),
            text.clone(),
        );
        Callback::from(move |_| {
            if !gloo_dialogs::confirm("Go back to the default wording? Your version will be lost.") {
                return;
            }
            let (key, message, template, subject, html_part, text) = (
                key.clone(),
                message.clone(),
                template.clone(),
                subject.clone(),
                html_part.clone(),
                text.clone(),
            );
            yew::platform::spawn_local(async move {
                if api::reset_email_template(&key).await.is_ok() {
                    if let Ok(t) = api::email_template(&key).await {
                        subject.set(t.subject.clone());
                        html_part.set(t.html.clone());
                        text.set(t.text.clone());
                        template.set(Load::Loaded(t));
                        message.set(Some("Back to the default.".into()));
                    }
                }
            });
        })
    };
    let send_test = {
        let (key, message, error) = (key.clone(), message.clone(), error.clone());
        Callback::from(move |_| {
            let (key, message, error) = (key.clone(), message.clone(), error.clone());
            yew::platform::spawn_local(async move {
                match api::send_test_email(&key).await {
                    Ok(q) => message.set(Some(format!("A test email is on its way to {}.", q.to))),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let field = |f: &str| (*error).as_ref().and_then(|e| e.field(f));
    template.view(|t| html! {
            <>
                <h1>{ t.name.clone() }</h1>
                <p>{ t.description.clone() }</p>
                <div class="two-columns">
                    <form class="card stack" {onsubmit} novalidate=true aria-label="Email wording">
                        if let Some(m) = &*message { <p class="ok" role="status">{ m }</p> }
                        <TextField id="email-subject" label="Subject" value={(*subject).clone()} oninput={set(&subject)} error={field("subject")} />
                        <TextArea id="email-html" label="HTML body" value={(*html_part).clone()} oninput={set(&html_part)} error={field("html")} />
                        <TextArea id="email-text" label="Plain-text body" value={(*text).clone()} oninput={set(&text)} error={field("text")} />
                        <p class="hint">{ format!("Placeholders: {}", t.placeholders.iter().map(|p| format!("{{{{ {p} }}}}")).collect::<Vec<_>>().join(", ")) }</p>
                        <div class="actions">
                            <button type="submit">{ "Save" }</button>
                            <button type="button" class="secondary" onclick={send_test}>{ "Send me a test" }</button>
                            if t.customized { <button type="button" class="danger" onclick={reset}>{ "Use the default" }</button> }
                        </div>
                    </form>
                    <section class="card stack" aria-labelledby="preview-heading" aria-live="polite">
                        <h2 id="preview-heading">{ "Preview" }</h2>
                        if let Some(p) = &*preview {
                            <p><strong>{ "Subject: " }</strong><span id="preview-subject">{ p.subject.clone() }</span></p>
                            <pre class="preview" id="preview-text">{ p.text.clone() }</pre>
                        }
                    </section>
                </div>
            </>
        })
}
