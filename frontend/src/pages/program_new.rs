//! Creating a program (as a draft).

use cohort_api_types::CreateProgram;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::Route;
use cohort_ui::components::field::{SelectField, TextArea, TextField};
use cohort_ui::state::{time_zones, Session};

#[function_component(NewProgram)]
pub fn new_program() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let navigator = use_navigator();
    let name = use_state(String::new);
    let description = use_state(String::new);
    let time_zone = use_state(|| session.me.organization.time_zone.clone());
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (name, description, time_zone, error, busy) = (
            name.clone(),
            description.clone(),
            time_zone.clone(),
            error.clone(),
            busy.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = CreateProgram {
                name: (*name).clone(),
                description: (*description).clone(),
                time_zone: Some((*time_zone).clone()),
            };
            let (error, busy, navigator) = (error.clone(), busy.clone(), navigator.clone());
            busy.set(true);
            yew::platform::spawn_local(async move {
                match api::create_program(&input).await {
                    Ok(program) => {
                        if let Some(navigator) = navigator {
                            navigator.push(&Route::Program { id: program.id });
                        }
                    }
                    Err(e) => {
                        error.set(Some(e));
                        busy.set(false);
                    }
                }
            });
        })
    };
    let field = |f: &str| (*error).as_ref().and_then(|e| e.field(f));
    let set = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    let zones: Vec<(String, String)> = time_zones(&time_zone).into_iter().map(|z| (z.clone(), z)).collect();
    html! {
        <>
            <h1>{ "New program" }</h1>
            <form class="card stack" {onsubmit} novalidate=true>
                if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
                <TextField id="program-name" label="Name" value={(*name).clone()} oninput={set(&name)}
                    error={field("name")} required=true />
                <TextArea id="program-description" label="Description" value={(*description).clone()}
                    oninput={set(&description)} error={field("description")} />
                <SelectField id="program-time-zone" label="Time zone" value={(*time_zone).clone()} options={zones}
                    onchange={set(&time_zone)} error={field("time_zone")} />
                <div class="actions">
                    <button type="submit" disabled={*busy}>{ if *busy { "Creating…" } else { "Create program" } }</button>
                    <Link<Route> to={Route::Programs}>{ "Cancel" }</Link<Route>>
                </div>
            </form>
        </>
    }
}
