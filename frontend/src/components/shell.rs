//! The frame of every page behind the login: navigation, the session context,
//! and the way back to the login page when the session ends.

use cohort_api_types::Me;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::Route;
use cohort_ui::state::{log_out, use_me, Load, Session};

#[derive(Properties, PartialEq)]
pub struct ShellProps {
    pub children: Html,
}

#[function_component(Shell)]
pub fn shell(props: &ShellProps) -> Html {
    let me = use_me();
    let logout = log_out();
    let session = match &*me {
        Load::Loaded(found) => {
            let me_state = me.clone();
            let current = found.clone();
            Some(Session {
                me: found.clone(),
                set_organization: Callback::from(move |organization| {
                    me_state.set(Load::Loaded(Me {
                        organization,
                        ..current.clone()
                    }))
                }),
            })
        }
        _ => None,
    };
    // The organisation's words, once it is known.
    let (class_plural, provider_plural) = match &session {
        Some(s) => (s.labels().class_plural.clone(), s.labels().provider_plural.clone()),
        None => ("Services".to_owned(), "Providers".to_owned()),
    };
    html! {
        <>
            <header class="top">
                <nav aria-label="Main">
                    <Link<Route> to={Route::Programs} classes="brand">{ "Cohort" }</Link<Route>>
                    <Link<Route> to={Route::Programs}>{ "Programs" }</Link<Route>>
                    <Link<Route> to={Route::People}>{ "People" }</Link<Route>>
                    <span class="nav-group" role="group" aria-label="Booking">
                        <Link<Route> to={Route::Services}>{ class_plural }</Link<Route>>
                        <Link<Route> to={Route::Providers}>{ provider_plural }</Link<Route>>
                        <Link<Route> to={Route::Calendar}>{ "Calendar" }</Link<Route>>
                        <Link<Route> to={Route::BookingSettings}>{ "Booking settings" }</Link<Route>>
                    </span>
                    <Link<Route> to={Route::Automations}>{ "Automations" }</Link<Route>>
                    <Link<Route> to={Route::Emails}>{ "Emails" }</Link<Route>>
                    <Link<Route> to={Route::Webhooks}>{ "Webhooks" }</Link<Route>>
                    <Link<Route> to={Route::Imports}>{ "Import & export" }</Link<Route>>
                    <Link<Route> to={Route::Notifications}>{ "Notifications" }</Link<Route>>
                    <Link<Route> to={Route::AuditLog}>{ "Audit log" }</Link<Route>>
                    <Link<Route> to={Route::Settings}>{ "Settings" }</Link<Route>>
                </nav>
                <div class="who">
                    if let Some(s) = &session {
                        <span>{ format!("{} · {}", s.me.person.name, s.me.organization.name) }</span>
                        // An admin who also takes part in a program switches to their own pages.
                        if !s.me.memberships.is_empty() {
                            <a href="/me">{ "My programs" }</a>
                        }
                    }
                    <button type="button" class="secondary" onclick={logout}>{ "Log out" }</button>
                </div>
            </header>
            <main class="page" id="main">
                {
                    match (&*me, session) {
                        (Load::Failed(e), _) => html! { <p class="error" role="alert">{ e.message() }</p> },
                        (_, Some(session)) => html! {
                            <ContextProvider<Session> context={session}>{ props.children.clone() }</ContextProvider<Session>>
                        },
                        _ => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    }
                }
            </main>
        </>
    }
}
