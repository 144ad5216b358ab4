//! The pages people reach from an email before they can log in: "Set your password" from an
//! invitation, "Forgot your password?" and "Choose a new password" from a reset link.

use cohort_api_types::{PasswordResetRequest, SetPassword};
use serde::Deserialize;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::Route;
use cohort_ui::api::{self, ApiError};

#[derive(Deserialize, Default)]
struct TokenQuery {
    token: Option<String>,
}

/// The token of the link that opened the page.
#[hook]
fn use_link_token() -> Option<String> {
    use_location()
        .and_then(|l| l.query::<TokenQuery>().ok())
        .and_then(|q| q.token)
        .filter(|t| !t.is_empty())
}

/// After logging in: admins go to the dashboard (the other app), everyone else to their own page.
pub fn land(navigator: Option<Navigator>) {
    yew::platform::spawn_local(async move {
        if api::me().await.is_ok_and(|me| me.person.is_admin) {
            cohort_ui::open("/programs");
        } else if let Some(navigator) = navigator {
            navigator.replace(&Route::Participant);
        }
    });
}

/// What to say when a link does not work: the server's reason for a used or expired one
/// (410), a plain one for a link it does not know (404).
fn link_problem(e: &ApiError) -> Option<String> {
    match e {
        ApiError::Problem(p) if p.status == 410 => Some(e.message()),
        ApiError::Problem(p) if p.status == 404 => Some(
            "This link is not valid. Check that you opened the whole link \
                                                         from the email, or ask for a new one."
                .into(),
        ),
        _ => None,
    }
}

#[derive(Properties, PartialEq)]
struct SetPasswordFormProps {
    title: AttrValue,
    intro: AttrValue,
    button: AttrValue,
    /// Sends the token and the password; answers with the problem, if any.
    submit: Callback<(SetPassword, Callback<Option<ApiError>>)>,
}

/// A new password typed twice, sent with the link's token.
#[function_component(SetPasswordForm)]
fn set_password_form(props: &SetPasswordFormProps) -> Html {
    let token = use_link_token();
    let (password, repeat) = (use_node_ref(), use_node_ref());
    let error = use_state(|| None::<ApiError>);
    let mismatch = use_state(|| false);
    let busy = use_state(|| false);
    let Some(token) = token else {
        return html! {
            <main class="page narrow">
                <h1>{ props.title.clone() }</h1>
                <p class="error" role="alert">{ "This page needs the link from your email." }</p>
                <Link<Route> to={Route::ForgotPassword}>{ "Send me a new link" }</Link<Route>>
            </main>
        };
    };
    let onsubmit = {
        let (password, repeat, error, mismatch, busy, submit) = (
            password.clone(),
            repeat.clone(),
            error.clone(),
            mismatch.clone(),
            busy.clone(),
            props.submit.clone(),
        );
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let value = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let (first, second) = (value(&password), value(&repeat));
            mismatch.set(first != second);
            if first != second {
                return;
            }
            busy.set(true);
            let (error, busy) = (error.clone(), busy.clone());
            let done = Callback::from(move |problem: Option<ApiError>| {
                busy.set(false);
                error.set(problem);
            });
            submit.emit((
                SetPassword {
                    token: token.clone(),
                    password: first,
                },
                done,
            ));
        })
    };
    let gone = error.as_ref().and_then(link_problem);
    let field = error.as_ref().and_then(|e| e.field("password"));
    let other = match (&*error, &gone, &field) {
        (Some(e), None, None) => Some(e.message()),
        _ => None,
    };
    html! {
        <main class="page narrow">
            <h1>{ props.title.clone() }</h1>
            if let Some(message) = gone {
                <div class="card" role="alert">
                    <p class="error">{ message }</p>
                    <Link<Route> to={Route::ForgotPassword}>{ "Send me a new link" }</Link<Route>>
                </div>
            } else {
                <form class="card" {onsubmit}>
                    <p>{ props.intro.clone() }</p>
                    <label for="new-password">{ "New password" }</label>
                    <input id="new-password" type="password" autocomplete="new-password" required=true minlength="10"
                        aria-describedby="password-help" ref={password} />
                    <p id="password-help" class="hint">{ "At least 10 characters; not a common password." }</p>
                    if let Some(message) = field {
                        <p class="error" role="alert">{ format!("Password {message}.") }</p>
                    }
                    <label for="repeat-password">{ "Repeat the password" }</label>
                    <input id="repeat-password" type="password" autocomplete="new-password" required=true ref={repeat} />
                    if *mismatch {
                        <p class="error" role="alert">{ "The two passwords differ." }</p>
                    }
                    if let Some(message) = other {
                        <p class="error" role="alert">{ message }</p>
                    }
                    <button type="submit" disabled={*busy}>{ props.button.clone() }</button>
                </form>
            }
        </main>
    }
}

/// "Set your password": the page an invitation's link opens.
#[function_component(Welcome)]
pub fn welcome() -> Html {
    let navigator = use_navigator();
    let submit = Callback::from(move |(request, done): (SetPassword, Callback<Option<ApiError>>)| {
        let navigator = navigator.clone();
        yew::platform::spawn_local(async move {
            match api::accept_invitation(&request).await {
                Ok(_) => land(navigator),
                Err(e) => done.emit(Some(e)),
            }
        });
    });
    html! {
        <SetPasswordForm title="Set your password" button="Set password and log in" {submit}
            intro="Choose a password for your account. You will log in with your email address and this password." />
    }
}

/// "Choose a new password": the page a reset link opens.
#[function_component(ResetPassword)]
pub fn reset_password() -> Html {
    let navigator = use_navigator();
    let submit = Callback::from(move |(request, done): (SetPassword, Callback<Option<ApiError>>)| {
        let navigator = navigator.clone();
        yew::platform::spawn_local(async move {
            match api::confirm_password_reset(&request).await {
                Ok(_) => land(navigator),
                Err(e) => done.emit(Some(e)),
            }
        });
    });
    html! {
        <SetPasswordForm title="Choose a new password" button="Save password and log in" {submit}
            intro="Your new password replaces the old one, and every device logged in with the old one is logged out." />
    }
}

/// "Forgot your password?": asks for a reset link by email.
#[function_component(ForgotPassword)]
pub fn forgot_password() -> Html {
    let email = use_node_ref();
    let sent = use_state(|| None::<String>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (email, sent, error, busy) = (email.clone(), sent.clone(), error.clone(), busy.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let address = email.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let (sent, error, busy) = (sent.clone(), error.clone(), busy.clone());
            busy.set(true);
            yew::platform::spawn_local(async move {
                let request = PasswordResetRequest {
                    email: address,
                    organization: None,
                };
                match api::request_password_reset(&request).await {
                    Ok(accepted) => sent.set(Some(accepted.message)),
                    Err(e) => error.set(Some(e.message())),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <main class="page narrow">
            <h1>{ "Forgot your password?" }</h1>
            if let Some(message) = &*sent {
                <div class="card" role="status">
                    <p>{ message }</p>
                    <Link<Route> to={Route::Login}>{ "Back to the login" }</Link<Route>>
                </div>
            } else {
                <form class="card" {onsubmit}>
                    <p>{ "Type the email address you log in with; we will send you a link to choose a new password." }</p>
                    <label for="reset-email">{ "Email" }</label>
                    <input id="reset-email" type="email" autocomplete="username" required=true ref={email} />
                    if let Some(message) = &*error {
                        <p class="error" role="alert">{ message }</p>
                    }
                    <button type="submit" disabled={*busy}>{ "Send me a link" }</button>
                    <p><Link<Route> to={Route::Login}>{ "Back to the login" }</Link<Route>></p>
                </form>
            }
        </main>
    }
}
