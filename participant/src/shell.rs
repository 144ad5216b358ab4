//! The frame of every participant page behind the login: the navigation (with the unread
//! notifications on it), the session context, and the way back to the login page when the
//! session ends. On a phone the links fold into a menu.

use cohort_api_types::NotificationPage;
use cohort_ui::api::{self, ApiError};
use cohort_ui::state::{log_out, use_me, Load, Session};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::Route;

#[derive(Properties, PartialEq)]
pub struct ShellProps {
    pub children: Html,
    /// A narrow column, for pages of one form or one thing.
    #[prop_or_default]
    pub narrow: bool,
}

/// How many of the caller's notifications are unread.
async fn unread() -> Result<i64, ApiError> {
    let page: NotificationPage = api::get("/api/v1/notifications?limit=1").await?;
    Ok(page.unread_count)
}

#[function_component(Shell)]
pub fn shell(props: &ShellProps) -> Html {
    let me = use_me();
    let logout = log_out();
    let unread_count = use_state(|| 0i64);
    {
        let unread_count = unread_count.clone();
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move { unread_count.set(unread().await.unwrap_or(0)) });
        });
    }
    let session = match &*me {
        Load::Loaded(found) => Some(Session {
            me: found.clone(),
            set_organization: Callback::noop(),
        }),
        _ => None,
    };
    let menu_open = use_state(|| false);
    let toggle_menu = {
        let menu_open = menu_open.clone();
        Callback::from(move |_| menu_open.set(!*menu_open))
    };
    let menu_open = *menu_open;
    let admin = session.as_ref().is_some_and(|s| s.me.person.is_admin);
    // Only providers give appointments, so only they have a schedule.
    let provider = session.as_ref().is_some_and(|s| s.me.provider_id.is_some());
    let notifications = if *unread_count > 0 {
        format!("Notifications ({})", *unread_count)
    } else {
        "Notifications".to_owned()
    };
    html! {
        <>
            <header class="top">
                <Link<Route> to={Route::Participant} classes="brand">{ "Cohort" }</Link<Route>>
                // On a phone the links fold into a menu; the unread count stays on its button.
                <button type="button" class="secondary menu-toggle" aria-controls="main-menu"
                    aria-expanded={menu_open.to_string()} onclick={toggle_menu}>
                    { if *unread_count > 0 { format!("Menu ({} new)", *unread_count) } else { "Menu".to_owned() } }
                </button>
                <div id="main-menu" class={classes!("menu", menu_open.then_some("open"))}>
                    <nav aria-label="Main">
                        <Link<Route> to={Route::Participant}>{ "Home" }</Link<Route>>
                        <Link<Route> to={Route::Steps}>{ "Steps" }</Link<Route>>
                        <Link<Route> to={Route::Requests}>{ "Mentoring" }</Link<Route>>
                        <Link<Route> to={Route::Chat}>{ "Chat" }</Link<Route>>
                        <Link<Route> to={Route::Book}>{ "Book" }</Link<Route>>
                        <Link<Route> to={Route::MyBookings}>{ "My bookings" }</Link<Route>>
                        if provider {
                            <Link<Route> to={Route::Schedule}>{ "Schedule" }</Link<Route>>
                        }
                        <Link<Route> to={Route::Notifications}>{ notifications }</Link<Route>>
                        <Link<Route> to={Route::Profile}>{ "Profile" }</Link<Route>>
                    </nav>
                    <div class="who">
                        if let Some(s) = &session {
                            <span>{ &s.me.person.name }</span>
                        }
                        // An admin who also takes part switches between the two apps.
                        if admin {
                            <a href="/programs">{ "Admin dashboard" }</a>
                        }
                        <button type="button" class="secondary" onclick={logout}>{ "Log out" }</button>
                    </div>
                </div>
            </header>
            <main class={classes!("page", props.narrow.then_some("column"))} id="main">
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
