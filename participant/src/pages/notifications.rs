//! The caller's notifications, newest first: unread ones marked, each read on opening it, or all
//! at once. A notification's link opens the page it is about.

use cohort_api_types::{Notification, NotificationPage};
use cohort_ui::api::{self, ApiError, Method};
use cohort_ui::paging::use_pages;
use cohort_ui::state::{local_time, Session};
use uuid::Uuid;
use yew::prelude::*;

use crate::shell::Shell;

async fn page(cursor: Option<String>) -> Result<(Vec<Notification>, Option<String>), ApiError> {
    let path = api::with_cursor("/api/v1/notifications?limit=50".to_owned(), &cursor);
    let page: NotificationPage = api::get(&path).await?;
    Ok((page.items, page.next_cursor))
}

async fn mark_read(id: Option<Uuid>) -> Result<(), ApiError> {
    let path = match id {
        Some(id) => format!("/api/v1/notifications/{id}/read"),
        None => "/api/v1/notifications/read-all".to_owned(),
    };
    api::write_empty(Method::POST, &path, &()).await
}

#[function_component(Notifications)]
pub fn notifications() -> Html {
    html! { <Shell narrow=true><NotificationList /></Shell> }
}

#[function_component(NotificationList)]
fn notification_list() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let zone = session.zone();
    let list = use_pages(page);
    let failed = use_state(|| None::<ApiError>);
    let read = |id: Option<Uuid>| {
        let (reload, failed) = (list.reload.clone(), failed.clone());
        Callback::from(move |_: MouseEvent| {
            let (reload, failed) = (reload.clone(), failed.clone());
            yew::platform::spawn_local(async move {
                match mark_read(id).await {
                    Ok(()) => reload.emit(()),
                    Err(e) => failed.set(Some(e)),
                }
            });
        })
    };
    // Marked read first, then opened: a page load would cut the request short.
    let open = |id: Uuid, link: String| {
        Callback::from(move |event: MouseEvent| {
            event.prevent_default();
            let link = link.clone();
            yew::platform::spawn_local(async move {
                let _ = mark_read(Some(id)).await;
                cohort_ui::open(&link);
            });
        })
    };
    let unread = list.items.iter().filter(|n| n.read_at.is_none()).count();
    html! {
        <>
            <h1>{ "Notifications" }</h1>
            if let Some(e) = list.error.as_ref().or(failed.as_ref()) {
                <p class="error" role="alert">{ e.message() }</p>
            }
            if list.items.is_empty() && !list.loading {
                <p class="empty">{ "Nothing yet: messages from your program team, new steps and pairings show here." }</p>
            }
            if unread > 0 {
                <div class="actions"><button type="button" class="secondary" onclick={read(None)}>{ "Mark all read" }</button></div>
            }
            <ul class="feed">
                { for list.items.iter().map(|n| html! {
                    <li key={n.id.to_string()} class={classes!("card", n.read_at.is_none().then_some("unread"))}>
                        <h2>
                            if n.read_at.is_none() { <span class="badge">{ "New" }</span>{ " " } }
                            { &n.title }
                        </h2>
                        <p class="meta">{ local_time(&n.created_at, &zone) }</p>
                        if !n.body.is_empty() { <p>{ &n.body }</p> }
                        <div class="actions">
                            if let Some(link) = n.link.as_ref().filter(|l| cohort_api_types::links::is_page(l)) {
                                <a href={link.clone()} onclick={open(n.id, link.clone())}>{ "Open" }</a>
                            }
                            if n.read_at.is_none() {
                                <button type="button" class="secondary" onclick={read(Some(n.id))}
                                    aria-label={format!("Mark read: {}", n.title)}>{ "Mark read" }</button>
                            }
                        </div>
                    </li>
                }) }
            </ul>
            if list.loading { <p class="loading" aria-busy="true">{ "Loading…" }</p> }
            if let Some(more) = list.more.clone() {
                <button type="button" class="secondary" onclick={more}>{ "Show older" }</button>
            }
        </>
    }
}
