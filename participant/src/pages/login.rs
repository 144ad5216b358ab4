use cohort_api_types::LoginRequest;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::Route;
use cohort_ui::api;

#[function_component(Login)]
pub fn login() -> Html {
    let navigator = use_navigator();
    let email = use_node_ref();
    let password = use_node_ref();
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);

    let onsubmit = {
        let (email, password, error, busy) = (email.clone(), password.clone(), error.clone(), busy.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let value = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let request = LoginRequest {
                email: value(&email),
                password: value(&password),
                organization: None,
            };
            let (error, busy, navigator) = (error.clone(), busy.clone(), navigator.clone());
            busy.set(true);
            yew::platform::spawn_local(async move {
                match api::login(&request).await {
                    Ok(_) => crate::pages::account::land(navigator),
                    Err(e) => {
                        error.set(Some(e.message()));
                        busy.set(false);
                    }
                }
            });
        })
    };

    html! {
        <main class="page narrow">
            <h1>{ "Cohort" }</h1>
            <form class="card" {onsubmit} aria-describedby="login-error">
                <h2>{ "Log in" }</h2>
                <label for="email">{ "Email" }</label>
                <input id="email" type="email" autocomplete="username" required=true ref={email} />
                <label for="password">{ "Password" }</label>
                <input id="password" type="password" autocomplete="current-password" required=true ref={password} />
                if let Some(message) = &*error {
                    <p id="login-error" class="error" role="alert">{ message }</p>
                }
                <button type="submit" disabled={*busy}>{ if *busy { "Logging in…" } else { "Log in" } }</button>
                <p><Link<Route> to={Route::ForgotPassword}>{ "Forgot your password?" }</Link<Route>></p>
            </form>
        </main>
    }
}
