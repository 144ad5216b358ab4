//! The organisation's programs, with a status filter and "load more" paging.

use cohort_api_types::{Program, ProgramStatus};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::Route;
use cohort_ui::components::field::SelectField;
use cohort_ui::state::Session;

pub fn status_text(status: ProgramStatus) -> &'static str {
    match status {
        ProgramStatus::Draft => "Draft",
        ProgramStatus::Published => "Published",
        ProgramStatus::Archived => "Archived",
    }
}

#[derive(Clone, PartialEq, Default)]
struct Listing {
    items: Vec<Program>,
    next: Option<String>,
    loading: bool,
    error: Option<ApiError>,
}

#[function_component(Programs)]
pub fn programs() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let status = use_state(String::new);
    let listing = use_state(|| Listing {
        loading: true,
        ..Default::default()
    });
    let load = {
        let listing = listing.clone();
        move |status: String, cursor: Option<String>, mut kept: Vec<Program>| {
            let listing = listing.clone();
            listing.set(Listing {
                items: kept.clone(),
                loading: true,
                ..Default::default()
            });
            yew::platform::spawn_local(async move {
                let filter = (!status.is_empty()).then_some(status.as_str());
                match api::programs(filter, cursor.as_deref()).await {
                    Ok(page) => {
                        kept.extend(page.items);
                        listing.set(Listing {
                            items: kept,
                            next: page.next_cursor,
                            loading: false,
                            error: None,
                        });
                    }
                    Err(e) => listing.set(Listing {
                        items: kept,
                        loading: false,
                        error: Some(e),
                        ..Default::default()
                    }),
                }
            });
        }
    };
    {
        let load = load.clone();
        use_effect_with((*status).clone(), move |status| load(status.clone(), None, Vec::new()));
    }
    let more = {
        let (load, listing, status) = (load.clone(), listing.clone(), status.clone());
        Callback::from(move |_| load((*status).clone(), listing.next.clone(), listing.items.clone()))
    };
    let on_status = {
        let status = status.clone();
        Callback::from(move |value: String| status.set(value))
    };
    let labels = session.labels();
    let statuses = [
        ("", "All"),
        ("draft", "Draft"),
        ("published", "Published"),
        ("archived", "Archived"),
    ]
    .map(|(v, t)| (v.to_owned(), t.to_owned()))
    .to_vec();
    html! {
        <>
            <div class="bar">
                <h1>{ "Programs" }</h1>
                <Link<Route> to={Route::NewProgram} classes="button">{ "New program" }</Link<Route>>
            </div>
            <div class="filters">
                <SelectField id="status-filter" label="Status" value={(*status).clone()} options={statuses} onchange={on_status} />
            </div>
            if let Some(e) = &listing.error { <p class="error" role="alert">{ e.message() }</p> }
            if listing.items.is_empty() && !listing.loading && listing.error.is_none() {
                <p class="empty">{ "No programs yet. Create the first one with “New program”." }</p>
            }
            if !listing.items.is_empty() {
                <table class="list">
                    <thead><tr>
                        <th scope="col">{ "Program" }</th>
                        <th scope="col">{ "Status" }</th>
                        <th scope="col">{ labels.provider_plural.clone() }</th>
                        <th scope="col">{ "Mentees" }</th>
                        <th scope="col">{ "Time zone" }</th>
                    </tr></thead>
                    <tbody>
                        { for listing.items.iter().map(|p| html! {
                            <tr>
                                <td><Link<Route> to={Route::Program { id: p.id }}>{ p.name.clone() }</Link<Route>></td>
                                <td><span class={classes!("badge", status_text(p.status).to_lowercase())}>{ status_text(p.status) }</span></td>
                                <td>{ p.mentor_count }</td>
                                <td>{ p.mentee_count }</td>
                                <td>{ p.time_zone.clone() }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
            if listing.loading { <p class="loading" aria-busy="true">{ "Loading…" }</p> }
            if listing.next.is_some() && !listing.loading {
                <button type="button" class="secondary" onclick={more}>{ "Load more" }</button>
            }
        </>
    }
}
