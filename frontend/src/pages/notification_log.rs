//! Every in-app notification the organisation's people received, newest first.

use cohort_api_types::LoggedNotification;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::state::{local_time, Session};

#[function_component(NotificationLog)]
pub fn notification_log() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let items = use_state(Vec::<LoggedNotification>::new);
    let next = use_state(|| None::<String>);
    let loading = use_state(|| true);
    let error = use_state(|| None::<ApiError>);
    let load = {
        let (items, next, loading, error) = (items.clone(), next.clone(), loading.clone(), error.clone());
        move |cursor: Option<String>| {
            let (items, next, loading, error) = (items.clone(), next.clone(), loading.clone(), error.clone());
            loading.set(true);
            yew::platform::spawn_local(async move {
                match api::notification_log(cursor.as_deref()).await {
                    Ok(page) => {
                        let mut all = if cursor.is_some() { (*items).clone() } else { Vec::new() };
                        all.extend(page.items);
                        items.set(all);
                        next.set(page.next_cursor);
                    }
                    Err(e) => error.set(Some(e)),
                }
                loading.set(false);
            });
        }
    };
    {
        let load = load.clone();
        use_effect_with((), move |_| load(None));
    }
    let more = {
        let next = next.clone();
        Callback::from(move |_| load((*next).clone()))
    };
    html! {
        <>
            <h1>{ "Notification log" }</h1>
            if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
            if items.is_empty() && !*loading { <p class="empty">{ "No notifications sent yet." }</p> }
            if !items.is_empty() {
                <table class="list">
                    <thead><tr><th scope="col">{ "When" }</th><th scope="col">{ "To" }</th><th scope="col">{ "Title" }</th><th scope="col">{ "Read" }</th></tr></thead>
                    <tbody>
                        { for items.iter().map(|n| html! {
                            <tr>
                                <td>{ local_time(&n.notification.created_at, &session.me.organization.time_zone) }</td>
                                <td>{ n.person_name.clone() }</td>
                                <td>{ n.notification.title.clone() }</td>
                                <td>{ if n.notification.read_at.is_some() { "Yes" } else { "No" } }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
            if *loading { <p class="loading" aria-busy="true">{ "Loading…" }</p> }
            if next.is_some() && !*loading { <button type="button" class="secondary" onclick={more}>{ "Load more" }</button> }
        </>
    }
}
