//! Cohort's admin dashboard: a Yew app compiled to wasm32 and served by the
//! `cohort` binary. Logging in and the participants' pages are the participant app
//! (`participant`), a separate download. It speaks the API through `cohort-api-types`, the same
//! types the server's OpenAPI document is generated from.

mod api;
mod components;
mod pages;

use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use components::shell::Shell;

#[derive(Clone, Routable, PartialEq)]
pub enum Route {
    #[at("/")]
    Home,
    #[at("/programs")]
    Programs,
    #[at("/programs/new")]
    NewProgram,
    #[at("/programs/:id/pairing")]
    ProgramPairing { id: Uuid },
    #[at("/programs/:id/auto-pair")]
    ProgramAutoPair { id: Uuid },
    #[at("/programs/:id/steps")]
    ProgramSteps { id: Uuid },
    #[at("/programs/:id")]
    Program { id: Uuid },
    #[at("/automations")]
    Automations,
    #[at("/automations/new")]
    NewAutomation,
    #[at("/automations/:id")]
    Automation { id: Uuid },
    #[at("/services")]
    Services,
    #[at("/services/:id")]
    Service { id: Uuid },
    #[at("/providers")]
    Providers,
    #[at("/providers/:id/availability")]
    ProviderAvailability { id: Uuid },
    #[at("/providers/:id")]
    Provider { id: Uuid },
    #[at("/calendar")]
    Calendar,
    #[at("/calendar/book")]
    Book,
    #[at("/booking-settings")]
    BookingSettings,
    #[at("/settings")]
    Settings,
    #[at("/imports")]
    Imports,
    #[at("/emails")]
    Emails,
    #[at("/emails/:key")]
    Email { key: String },
    #[at("/webhooks")]
    Webhooks,
    #[at("/webhooks/:id")]
    Webhook { id: Uuid },
    #[at("/notifications")]
    Notifications,
    #[at("/people")]
    People,
    #[at("/people/:id")]
    Person { id: Uuid },
    #[at("/audit-log")]
    AuditLog,
    #[not_found]
    #[at("/404")]
    NotFound,
}

fn switch(route: Route) -> Html {
    match route {
        Route::Home => html! { <Redirect<Route> to={Route::Programs} /> },
        Route::Programs => html! { <Shell><pages::programs::Programs /></Shell> },
        Route::NewProgram => html! { <Shell><pages::program_new::NewProgram /></Shell> },
        Route::Program { id } => html! { <Shell><pages::program::ProgramPage {id} /></Shell> },
        Route::ProgramSteps { id } => html! { <Shell><pages::steps::StepsPage {id} /></Shell> },
        Route::ProgramPairing { id } => html! { <Shell><pages::pairing::PairingPage {id} /></Shell> },
        Route::ProgramAutoPair { id } => html! { <Shell><pages::auto_pair::AutoPairPage {id} /></Shell> },
        Route::Automations => html! { <Shell><pages::automations::Automations /></Shell> },
        Route::NewAutomation => html! { <Shell><pages::automations::Builder id={None::<Uuid>} /></Shell> },
        Route::Automation { id } => html! { <Shell><pages::automations::Builder id={Some(id)} /></Shell> },
        Route::Services => html! { <Shell><pages::services::Services /></Shell> },
        Route::Service { id } => html! { <Shell><pages::services::ServicePage {id} /></Shell> },
        Route::Providers => html! { <Shell><pages::providers::Providers /></Shell> },
        Route::Provider { id } => html! { <Shell><pages::providers::ProviderPage {id} /></Shell> },
        Route::ProviderAvailability { id } => html! { <Shell><pages::availability::AvailabilityPage {id} /></Shell> },
        Route::Calendar => html! { <Shell><pages::calendar::Calendar /></Shell> },
        Route::Book => html! { <Shell><pages::calendar::Book /></Shell> },
        Route::BookingSettings => html! { <Shell><pages::booking_settings::BookingSettingsPage /></Shell> },
        Route::Settings => html! { <Shell><pages::settings::Settings /></Shell> },
        Route::Imports => html! { <Shell><pages::imports::ImportsPage /></Shell> },
        Route::Emails => html! { <Shell><pages::emails::Emails /></Shell> },
        Route::Email { key } => html! { <Shell><pages::emails::EmailEditor key_name={key} /></Shell> },
        Route::Webhooks => html! { <Shell><pages::webhooks::Webhooks /></Shell> },
        Route::Webhook { id } => html! { <Shell><pages::webhooks::WebhookPage {id} /></Shell> },
        Route::Notifications => html! { <Shell><pages::notification_log::NotificationLog /></Shell> },
        Route::People => html! { <Shell><pages::people::People /></Shell> },
        Route::Person { id } => html! { <Shell><pages::people::PersonPage {id} /></Shell> },
        Route::AuditLog => html! { <Shell><pages::audit_log::AuditLog /></Shell> },
        Route::NotFound => html! {
            <main class="page">
                <h1>{ "Page not found" }</h1>
                <Link<Route> to={Route::Programs}>{ "Back to the programs" }</Link<Route>>
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
