//! Cohort's admin dashboard: a Yew app compiled to wasm32 and served by the
//! `cohort` binary. It speaks the API through `cohort-api-types`, the same
//! types the server's OpenAPI document is generated from.

mod api;
mod pages;

use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Clone, Routable, PartialEq)]
pub enum Route {
    #[at("/login")]
    Login,
    #[at("/")]
    Home,
    #[not_found]
    #[at("/404")]
    NotFound,
}

fn switch(route: Route) -> Html {
    match route {
        Route::Login => html! { <pages::login::Login /> },
        Route::Home => html! { <pages::home::Home /> },
        Route::NotFound => html! {
            <main class="page">
                <h1>{ "Page not found" }</h1>
                <Link<Route> to={Route::Home}>{ "Back to the dashboard" }</Link<Route>>
            </main>
        },
    }
}

#[function_component(App)]
fn app() -> Html {
    html! {
        <BrowserRouter>
            <Switch<Route> render={switch} />
        </BrowserRouter>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
