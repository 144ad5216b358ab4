use cohort_api_types::Me;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::Route;

#[derive(Clone, PartialEq)]
enum Load<T> {
    Loading,
    Loaded(T),
    Failed(ApiError),
}

#[function_component(Home)]
pub fn home() -> Html {
    let navigator = use_navigator();
    let me = use_state(|| Load::<Me>::Loading);
    {
        let (me, navigator) = (me.clone(), navigator.clone());
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                match api::me().await {
                    Ok(found) => me.set(Load::Loaded(found)),
                    Err(ApiError::SessionEnded) => {
                        if let Some(navigator) = navigator {
                            navigator.replace(&Route::Login);
                        }
                    }
                    Err(e) => me.set(Load::Failed(e)),
                }
            });
        });
    }
    let logout = Callback::from(move |_| {
        let navigator = navigator.clone();
        yew::platform::spawn_local(async move {
            api::logout().await;
            if let Some(navigator) = navigator {
                navigator.replace(&Route::Login);
            }
        });
    });

    html! {
        <main class="page">
            <header class="bar">
                <h1>{ "Cohort" }</h1>
                <button type="button" onclick={logout}>{ "Log out" }</button>
            </header>
            {
                match &*me {
                    Load::Loading => html! { <p aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(me) => html! {
                        <section class="card">
                            <h2>{ format!("Welcome, {}", me.person.name) }</h2>
                            <p>{ format!("{} · {}", me.organization.name, me.organization.time_zone) }</p>
                            <p>{ format!("Your organisation calls providers “{}” and classes “{}”.",
                                me.organization.labels.provider_plural, me.organization.labels.class_plural) }</p>
                        </section>
                    },
                }
            }
        </main>
    }
}
