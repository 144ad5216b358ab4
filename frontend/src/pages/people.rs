//! The organisation's people, and one person's page: their data export and erasure.

use cohort_api_types::Person;
use uuid::Uuid;
use wasm_bindgen::JsCast;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::Route;
use cohort_ui::components::field::TextField;
use cohort_ui::state::{local_time, Load, Session};

#[function_component(People)]
pub fn people() -> Html {
    let q = use_state(String::new);
    let page = use_state(|| Load::<(Vec<Person>, Option<String>)>::Loading);
    {
        let page = page.clone();
        use_effect_with((*q).clone(), move |q| {
            let (page, q) = (page.clone(), q.clone());
            yew::platform::spawn_local(async move {
                match api::people_page(&q, None).await {
                    Ok(found) => page.set(Load::Loaded((found.items, found.next_cursor))),
                    Err(e) => page.set(Load::Failed(e)),
                }
            });
        });
    }
    let more = {
        let (page, q) = (page.clone(), q.clone());
        Callback::from(move |_| {
            let (page, q) = (page.clone(), (*q).clone());
            let Load::Loaded((mut items, Some(cursor))) = (*page).clone() else {
                return;
            };
            yew::platform::spawn_local(async move {
                match api::people_page(&q, Some(&cursor)).await {
                    Ok(found) => {
                        items.extend(found.items);
                        page.set(Load::Loaded((items, found.next_cursor)));
                    }
                    Err(e) => page.set(Load::Failed(e)),
                }
            });
        })
    };
    let on_q = {
        let q = q.clone();
        Callback::from(move |value: String| q.set(value))
    };
    html! {
        <>
            <h1>{ "People" }</h1>
            <div class="filters">
                <TextField id="people-search" label="Search by name or email" value={(*q).clone()} oninput={on_q} />
            </div>
            {
                match &*page {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded((items, next)) => html! {
                        <>
                            if items.is_empty() { <p class="empty">{ "No one matches." }</p> }
                            else {
                                <table class="list">
                                    <thead><tr><th scope="col">{ "Name" }</th><th scope="col">{ "Email" }</th><th scope="col">{ "Admin" }</th></tr></thead>
                                    <tbody>
                                        { for items.iter().map(|p| html! {
                                            <tr>
                                                <td><Link<Route> to={Route::Person { id: p.id }}>{ p.name.clone() }</Link<Route>></td>
                                                <td>{ p.email.clone() }</td>
                                                <td>{ if p.is_admin { "Yes" } else { "" } }</td>
                                            </tr>
                                        }) }
                                    </tbody>
                                </table>
                            }
                            if next.is_some() { <button type="button" class="secondary" onclick={more}>{ "Load more" }</button> }
                        </>
                    },
                }
            }
        </>
    }
}

/// Saves `text` as a file the browser downloads.
fn download(file_name: &str, text: &str) -> Option<()> {
    let document = web_sys::window()?.document()?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a").ok()?.dyn_into().ok()?;
    let encoded: String = js_sys::encode_uri_component(text).into();
    link.set_href(&format!("data:application/json;charset=utf-8,{encoded}"));
    link.set_download(file_name);
    link.click();
    Some(())
}

#[derive(Properties, PartialEq)]
pub struct PersonProps {
    pub id: Uuid,
}

#[function_component(PersonPage)]
pub fn person_page(props: &PersonProps) -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let id = props.id;
    let person = use_state(|| Load::<Person>::Loading);
    let confirming = use_state(|| false);
    let typed = use_state(String::new);
    let message = use_state(|| None::<String>);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let reload = {
        let person = person.clone();
        Callback::from(move |_: ()| {
            let person = person.clone();
            yew::platform::spawn_local(async move {
                person.set(match api::person(id).await {
                    Ok(p) => Load::Loaded(p),
                    Err(e) => Load::Failed(e),
                });
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with(id, move |_| reload.emit(()));
    }
    let export = {
        let (error, message) = (error.clone(), message.clone());
        Callback::from(move |_| {
            let (error, message) = (error.clone(), message.clone());
            yew::platform::spawn_local(async move {
                match api::export_person(id).await {
                    Ok(text) => {
                        download(&format!("person-{id}.json"), &text);
                        message.set(Some("The data export was downloaded.".into()));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let invite = {
        let (error, message, reload) = (error.clone(), message.clone(), reload.clone());
        Callback::from(move |_| {
            let (error, message, reload) = (error.clone(), message.clone(), reload.clone());
            yew::platform::spawn_local(async move {
                match api::invite_person(id).await {
                    Ok(_) => {
                        message.set(Some(
                            "The invitation is on its way; its link works once, for 7 days.".into(),
                        ));
                        error.set(None);
                        reload.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let Load::Loaded(p) = &*person else {
        return match &*person {
            Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
            _ => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
        };
    };
    let open = {
        let (confirming, typed) = (confirming.clone(), typed.clone());
        Callback::from(move |_| {
            typed.set(String::new());
            confirming.set(true);
        })
    };
    let cancel = {
        let confirming = confirming.clone();
        Callback::from(move |_| confirming.set(false))
    };
    let on_typed = {
        let typed = typed.clone();
        Callback::from(move |v: String| typed.set(v))
    };
    let erase = {
        let (typed, confirming, error, message, busy, reload) = (
            typed.clone(),
            confirming.clone(),
            error.clone(),
            message.clone(),
            busy.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (typed, confirming, error, message, busy, reload) = (
                typed.clone(),
                confirming.clone(),
                error.clone(),
                message.clone(),
                busy.clone(),
                reload.clone(),
            );
            busy.set(true);
            yew::platform::spawn_local(async move {
                match api::erase_person(id, &typed).await {
                    Ok(_) => {
                        confirming.set(false);
                        error.set(None);
                        message.set(Some("The person was erased.".into()));
                        reload.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let matches = typed.trim().eq_ignore_ascii_case(&p.email);
    let zone = session.me.organization.time_zone.clone();
    html! {
        <>
            <p><Link<Route> to={Route::People}>{ "← People" }</Link<Route>></p>
            <h1 id="person-name">{ p.name.clone() }</h1>
            <dl class="facts">
                <dt>{ "Email" }</dt><dd id="person-email">{ p.email.clone() }</dd>
                <dt>{ "Bio" }</dt><dd>{ p.bio.clone() }</dd>
                if let Some(url) = &p.photo_url {
                    <dt>{ "Photo" }</dt><dd><a href={url.clone()} rel="noopener noreferrer" target="_blank">{ url.clone() }</a></dd>
                }
                <dt>{ "Admin" }</dt><dd>{ if p.is_admin { "Yes" } else { "No" } }</dd>
                <dt>{ "Added" }</dt><dd>{ local_time(&p.created_at, &zone) }</dd>
            </dl>
            if let Some(m) = &*message { <p class="ok" role="status">{ m.clone() }</p> }
            if let Some(e) = &*error { <p class="error" role="alert">{ e.field("confirm").unwrap_or_else(|| e.message()) }</p> }
            <section aria-labelledby="access">
                <h2 id="access">{ "Access" }</h2>
                if p.can_log_in {
                    <p id="person-access">{ "Can log in. If they forget their password, “Forgot your password?” on the login page sends them a link." }</p>
                } else {
                    <p id="person-access">{ "Cannot log in yet: no password. An invitation emails them a link to set one." }</p>
                    <div class="actions">
                        <button type="button" id="invite-person" onclick={invite}>{ "Send an invitation" }</button>
                    </div>
                }
            </section>
            <section aria-labelledby="personal-data">
                <h2 id="personal-data">{ "Personal data" }</h2>
                <p>{ "Download everything Cohort holds about this person as a JSON file, or erase them: their name, \
                      email, profile, sessions, notifications and answers go, and records others need (pairings, \
                      requests) stay under the name “Erased person”. Erasure cannot be undone." }</p>
                <div class="actions">
                    <button type="button" id="export-person" class="secondary" onclick={export}>{ "Export data" }</button>
                    <button type="button" id="erase-person" class="danger" onclick={open}>{ "Erase…" }</button>
                </div>
            </section>
            if *confirming {
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="erase-title">
                    <form onsubmit={erase}>
                        <h2 id="erase-title">{ format!("Erase {}?", p.name) }</h2>
                        <p>{ "Type the person's email to confirm. This cannot be undone." }</p>
                        <TextField id="erase-confirm" label="Email" value={(*typed).clone()} oninput={on_typed} />
                        <div class="actions">
                            <button type="submit" id="erase-confirm-button" class="danger" disabled={!matches || *busy}>{ "Erase this person" }</button>
                            <button type="button" class="secondary" onclick={cancel}>{ "Cancel" }</button>
                        </div>
                    </form>
                </div>
            }
        </>
    }
}
