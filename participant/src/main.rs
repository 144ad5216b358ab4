//! Cohort's participant app: the pages of mentees, mentors, students and peer mentors, and the
//! pages every person reaches before logging in (log in, set or reset a password, answer a
//! request from an email). A Yew app compiled to wasm32 and served by the `cohort` binary for
//! the paths below; the admin dashboard is a separate download (`frontend`).

mod pages;
mod shell;

use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Clone, Routable, PartialEq)]
pub enum Route {
    #[at("/login")]
    Login,
    #[at("/forgot-password")]
    ForgotPassword,
    #[at("/reset-password")]
    ResetPassword,
    #[at("/welcome")]
    Welcome,
    #[at("/answer-request")]
    AnswerRequest,
    #[at("/me")]
    Participant,
    #[at("/me/programs/:id")]
    ParticipantProgram { id: Uuid },
    #[at("/me/programs/:id/steps")]
    ProgramSteps { id: Uuid },
    #[at("/me/steps")]
    Steps,
    #[at("/me/notifications")]
    Notifications,
    #[at("/me/profile")]
    Profile,
    #[at("/me/book")]
    Book,
    #[at("/me/bookings")]
    MyBookings,
    #[at("/me/bookings/:id")]
    ParticipantBooking { id: Uuid },
    #[at("/me/programs/:id/mentors")]
    FindMentor { id: Uuid },
    #[at("/me/requests")]
    Requests,
    #[at("/me/chat")]
    Chat,
    #[at("/me/chat/:id")]
    Conversation { id: Uuid },
    #[at("/me/schedule")]
    Schedule,
    #[not_found]
    #[at("/404")]
    NotFound,
}

fn switch(route: Route) -> Html {
    match route {
        Route::Login => html! { <pages::login::Login /> },
        Route::ForgotPassword => html! { <pages::account::ForgotPassword /> },
        Route::ResetPassword => html! { <pages::account::ResetPassword /> },
        Route::Welcome => html! { <pages::account::Welcome /> },
        Route::AnswerRequest => html! { <pages::answer_request::AnswerRequest /> },
        Route::Participant => html! { <pages::participant::ParticipantHome /> },
        Route::ParticipantProgram { id } => html! { <pages::participant::ParticipantHome program={Some(id)} /> },
        Route::ProgramSteps { id } => html! { <pages::steps::Steps program={Some(id)} /> },
        Route::Steps => html! { <pages::steps::Steps /> },
        Route::Notifications => html! { <pages::notifications::Notifications /> },
        Route::Profile => html! { <pages::profile::Profile /> },
        Route::FindMentor { id } => html! { <pages::mentoring::FindMentor program={id} /> },
        Route::Requests => html! { <pages::mentoring::Requests /> },
        Route::Chat => html! { <pages::chat::Chats /> },
        Route::Conversation { id } => html! { <pages::chat::ConversationPage {id} /> },
        Route::Book => html! { <pages::book::BookPage /> },
        Route::MyBookings => html! { <pages::bookings::MyBookingsPage /> },
        Route::ParticipantBooking { id } => html! { <pages::bookings::ParticipantBooking {id} /> },
        Route::Schedule => html! { <pages::schedule::SchedulePage /> },
        Route::NotFound => html! {
            <main class="page">
                <h1>{ "Page not found" }</h1>
                <Link<Route> to={Route::Participant}>{ "Back to your page" }</Link<Route>>
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
