//! Every in-app notification the organisation's people received, newest first, and the
//! deliveries that ran out of attempts.

use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError};
use cohort_ui::paging::use_pages;
use cohort_ui::state::{local_time, Session};

#[function_component(NotificationLog)]
pub fn notification_log() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let list = use_pages(|cursor| async move {
        api::notification_log(cursor.as_deref())
            .await
            .map(|p| (p.items, p.next_cursor))
    });
    html! {
        <>
            <h1>{ "Notification log" }</h1>
            if let Some(e) = &list.error { <p class="error" role="alert">{ e.message() }</p> }
            if list.items.is_empty() && !list.loading { <p class="empty">{ "No notifications sent yet." }</p> }
            if !list.items.is_empty() {
                <table class="list">
                    <thead><tr><th scope="col">{ "When" }</th><th scope="col">{ "To" }</th><th scope="col">{ "Title" }</th><th scope="col">{ "Read" }</th></tr></thead>
                    <tbody>
                        { for list.items.iter().map(|n| html! {
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
            if list.loading { <p class="loading" aria-busy="true">{ "Loading…" }</p> }
            if let Some(more) = list.more { <button type="button" class="secondary" onclick={more}>{ "Load more" }</button> }
            <DeadJobs />
        </>
    }
}

/// Deliveries that ran out of attempts (an email the relay refused for a day, a webhook nobody
/// answered), each with its last error and a button that queues it again.
#[function_component(DeadJobs)]
fn dead_jobs() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let list = use_pages(|cursor| async move {
        api::dead_jobs(cursor.as_deref())
            .await
            .map(|p| (p.items, p.next_cursor))
    });
    let message = use_state(|| None::<String>);
    let failed = use_state(|| None::<ApiError>);
    let retry = |id: Uuid| {
        let (reload, message, failed) = (list.reload.clone(), message.clone(), failed.clone());
        Callback::from(move |_| {
            let (reload, message, failed) = (reload.clone(), message.clone(), failed.clone());
            yew::platform::spawn_local(async move {
                match api::retry_job(id).await {
                    Ok(_) => message.set(Some("Queued again with all its attempts.".into())),
                    Err(e) => failed.set(Some(e)),
                }
                reload.emit(());
            });
        })
    };
    let zone = &session.me.organization.time_zone;
    html! {
        <section aria-labelledby="dead-jobs">
            <h2 id="dead-jobs">{ "Deliveries that gave up" }</h2>
            if let Some(m) = &*message { <p class="ok" role="status">{ m }</p> }
            if let Some(e) = failed.as_ref().or(list.error.as_ref()) { <p class="error" role="alert">{ e.message() }</p> }
            if list.items.is_empty() && !list.loading { <p class="empty">{ "None: everything sent so far went out or is still being tried." }</p> }
            if !list.items.is_empty() {
                <table class="list">
                    <thead><tr><th scope="col">{ "Gave up" }</th><th scope="col">{ "What" }</th><th scope="col">{ "Attempts" }</th><th scope="col">{ "Last error" }</th><th scope="col"><span class="sr-only">{ "Actions" }</span></th></tr></thead>
                    <tbody>
                        { for list.items.iter().map(|j| html! {
                            <tr class="dead-job">
                                <td>{ j.finished_at.as_ref().map(|t| local_time(t, zone)).unwrap_or_default() }</td>
                                <td>{ job_kind(&j.kind) }</td>
                                <td>{ j.attempts }</td>
                                <td class="dead-job-error">{ j.last_error.clone().unwrap_or_default() }</td>
                                <td><button type="button" class="secondary" onclick={retry(j.id)}>{ "Retry" }</button></td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
            if let Some(more) = list.more { <button type="button" class="secondary" onclick={more}>{ "Load more" }</button> }
        </section>
    }
}

/// What a job does, in the admin's words.
fn job_kind(kind: &str) -> String {
    match kind {
        "email" => "Email".into(),
        "webhook" => "Webhook delivery".into(),
        "automation.action" => "Automation action".into(),
        "step.deliver" | "step.publish" | "step.due" => "Program step".into(),
        other => other.to_owned(),
    }
}
