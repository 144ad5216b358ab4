//! A provider's availability, as an admin edits it: the shared editor (`cohort_ui`), which
//! providers also use for their own in the participant app.

use cohort_ui::components::availability::AvailabilityEditor;
use cohort_ui::state::{use_load, Session};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::Route;

#[derive(Properties, PartialEq)]
pub struct AvailabilityProps {
    pub id: Uuid,
}

#[function_component(AvailabilityPage)]
pub fn availability_page(props: &AvailabilityProps) -> Html {
    let id = props.id;
    let session = use_context::<Session>().expect("inside the shell");
    let provider_word = session.labels().provider_singular.to_lowercase();
    let data = use_load(id, |id| {
        let id = *id;
        async move { Ok((api::provider(id).await?, api::availability(id).await?)) }
    });
    data.view(|(provider, availability)| {
        html! {
            <>
                <p><Link<Route> to={Route::Provider { id }}>{ format!("← {}", provider.name) }</Link<Route>></p>
                <h1>{ format!("Availability of {}", provider.name) }</h1>
                <p class="hint">{ format!("Times are in the {provider_word}'s own time zone; students see them in theirs.") }</p>
                <AvailabilityEditor provider={id} availability={availability.clone()} />
            </>
        }
    })
}
