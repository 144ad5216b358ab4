//! Webhooks: endpoints, their signing secret (shown once), the delivery log, test events.

use cohort_api_types::{CreateWebhook, UpdateWebhook, WebhookDelivery, WebhookEndpoint};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::Route;
use cohort_ui::components::field::TextField;
use cohort_ui::state::{use_load, Load};

#[function_component(Webhooks)]
pub fn webhooks() -> Html {
    let reload = use_state(|| 0u32);
    let url = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    let secret = use_state(|| None::<String>);
    let list = use_load(*reload, |_| async move { api::webhooks().await.map(|l| l.items) });
    let onsubmit = {
        let (url, error, secret, reload) = (url.clone(), error.clone(), secret.clone(), reload.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = CreateWebhook {
                url: (*url).clone(),
                description: String::new(),
                event_types: Vec::new(),
            };
            let (error, secret, reload, url) = (error.clone(), secret.clone(), reload.clone(), url.clone());
            yew::platform::spawn_local(async move {
                match api::create_webhook(&input).await {
                    Ok(created) => {
                        secret.set(Some(created.secret));
                        error.set(None);
                        url.set(String::new());
                        reload.set(*reload + 1);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let field = |f: &str| (*error).as_ref().and_then(|e| e.field(f));
    html! {
        <>
            <h1>{ "Webhooks" }</h1>
            <p>{ "Cohort signs every delivery as Standard Webhooks describes, so your integration can verify it with a standard library." }</p>
            <form class="card stack" {onsubmit} novalidate=true aria-label="New endpoint">
                if let Some(e) = &*error { if field("url").is_none() { <p class="error" role="alert">{ e.message() }</p> } }
                <TextField id="webhook-url" label="Endpoint URL" value={(*url).clone()} kind="url"
                    oninput={let u = url.clone(); Callback::from(move |v| u.set(v))} error={field("url")} />
                <div class="actions"><button type="submit">{ "Add endpoint" }</button></div>
                if let Some(s) = &*secret {
                    <p class="ok" role="status">{ "Signing secret (shown once): " }<code id="webhook-secret">{ s.clone() }</code></p>
                }
            </form>
            {
                match &*list {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(items) if items.is_empty() => html! { <p class="empty">{ "No endpoints yet." }</p> },
                    Load::Loaded(items) => html! {
                        <table class="list">
                            <thead><tr><th scope="col">{ "Endpoint" }</th><th scope="col">{ "Events" }</th><th scope="col">{ "State" }</th></tr></thead>
                            <tbody>
                                { for items.iter().map(|w| html! {
                                    <tr>
                                        <td><Link<Route> to={Route::Webhook { id: w.id }}>{ w.url.clone() }</Link<Route>></td>
                                        <td>{ if w.event_types.is_empty() { "All".to_owned() } else { w.event_types.join(", ") } }</td>
                                        <td>{ if w.enabled { "On".to_owned() } else { format!("Off — {}", w.disabled_reason.clone().unwrap_or_default()) } }</td>
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

#[derive(Properties, PartialEq)]
pub struct WebhookProps {
    pub id: Uuid,
}

#[function_component(WebhookPage)]
pub fn webhook_page(props: &WebhookProps) -> Html {
    let id = props.id;
    let navigator = use_navigator();
    let endpoint = use_state(|| Load::<WebhookEndpoint>::Loading);
    let deliveries = use_state(Vec::<WebhookDelivery>::new);
    let reload = use_state(|| 0u32);
    let message = use_state(|| None::<String>);
    {
        let (endpoint, deliveries) = (endpoint.clone(), deliveries.clone());
        use_effect_with((id, *reload), move |(id, _)| {
            let id = *id;
            yew::platform::spawn_local(async move {
                endpoint.set(match api::webhook(id).await {
                    Ok(w) => Load::Loaded(w),
                    Err(e) => Load::Failed(e),
                });
                if let Ok(page) = api::webhook_deliveries(id, None).await {
                    deliveries.set(page.items);
                }
            });
        });
    }
    let refresh = {
        let reload = reload.clone();
        Callback::from(move |_| reload.set(*reload + 1))
    };
    let send_test = {
        let (message, reload) = (message.clone(), reload.clone());
        Callback::from(move |_| {
            let (message, reload) = (message.clone(), reload.clone());
            yew::platform::spawn_local(async move {
                match api::send_test_event(id).await {
                    Ok(d) => message.set(Some(format!("Test event queued ({}).", d.webhook_id))),
                    Err(e) => message.set(Some(e.message())),
                }
                reload.set(*reload + 1);
            });
        })
    };
    let toggle = |enabled: bool| {
        let reload = reload.clone();
        Callback::from(move |_| {
            let reload = reload.clone();
            yew::platform::spawn_local(async move {
                let _ = api::update_webhook(
                    id,
                    &UpdateWebhook {
                        enabled: Some(enabled),
                        ..Default::default()
                    },
                )
                .await;
                reload.set(*reload + 1);
            });
        })
    };
    let remove = Callback::from(move |_| {
        if !gloo_dialogs::confirm("Delete this endpoint and its delivery log?") {
            return;
        }
        let navigator = navigator.clone();
        yew::platform::spawn_local(async move {
            if api::delete_webhook(id).await.is_ok() {
                if let Some(n) = navigator {
                    n.push(&Route::Webhooks);
                }
            }
        });
    });
    let redeliver = |delivery: Uuid| {
        let (reload, message) = (reload.clone(), message.clone());
        Callback::from(move |_| {
            let (reload, message) = (reload.clone(), message.clone());
            yew::platform::spawn_local(async move {
                if api::redeliver(id, delivery).await.is_ok() {
                    message.set(Some("Queued again.".into()));
                }
                reload.set(*reload + 1);
            });
        })
    };
    endpoint.view(|w| html! {
            <>
                <h1>{ w.url.clone() }</h1>
                <p>{ if w.enabled { "Deliveries are on.".to_owned() } else { format!("Off: {}", w.disabled_reason.clone().unwrap_or_else(|| "turned off by an admin".into())) } }</p>
                if let Some(m) = &*message { <p class="ok" role="status">{ m }</p> }
                <div class="actions">
                    <button type="button" onclick={send_test}>{ "Send test event" }</button>
                    <button type="button" class="secondary" onclick={refresh}>{ "Refresh" }</button>
                    if w.enabled { <button type="button" class="secondary" onclick={toggle(false)}>{ "Turn off" }</button> }
                    else { <button type="button" class="secondary" onclick={toggle(true)}>{ "Turn on" }</button> }
                    <button type="button" class="danger" onclick={remove}>{ "Delete" }</button>
                </div>
                <h2>{ "Delivery log" }</h2>
                if deliveries.is_empty() { <p class="empty">{ "Nothing sent yet." }</p> }
                else {
                    <table class="list">
                        <thead><tr><th scope="col">{ "Event" }</th><th scope="col">{ "Status" }</th><th scope="col">{ "Attempts" }</th><th scope="col">{ "Answer" }</th><th scope="col"><span class="sr-only">{ "Actions" }</span></th></tr></thead>
                        <tbody>
                            { for deliveries.iter().map(|d| html! {
                                <tr>
                                    <td>{ d.event_type.clone() }</td>
                                    <td class={classes!("delivery-status", d.status.clone())}>{ d.status.clone() }</td>
                                    <td>{ d.attempts }</td>
                                    <td>{ d.last_status_code.map(|c| c.to_string()).or_else(|| d.last_error.clone()).unwrap_or_default() }</td>
                                    <td><button type="button" class="secondary" onclick={redeliver(d.id)}>{ "Send again" }</button></td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                }
            </>
        })
}
