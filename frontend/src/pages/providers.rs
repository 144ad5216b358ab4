//! Providers (called by the organisation's word for them): the list, making a person a
//! provider, a provider's bio, photo, certifications and locations, and removing one.

use cohort_api_types::{Location, Person, Provider, ProviderInput, Service};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::components::person_picker::PersonPicker;
use crate::pages::services::{format_key, format_of, LocationsEditor};
use crate::Route;
use cohort_ui::components::field::{TextArea, TextField};
use cohort_ui::state::{use_load, Load, Session};

#[function_component(Providers)]
pub fn providers() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let labels = session.labels().clone();
    let reload = use_state(|| 0u32);
    let error = use_state(|| None::<ApiError>);
    let message = use_state(|| None::<String>);
    let list = use_load(
        *reload,
        |_| async move { api::providers().await.map(|page| page.items) },
    );
    let onpick = {
        let (reload, error, message) = (reload.clone(), error.clone(), message.clone());
        let singular = labels.provider_singular.clone();
        Callback::from(move |p: Person| {
            let (reload, error, message, singular) = (reload.clone(), error.clone(), message.clone(), singular.clone());
            let input = ProviderInput {
                person_id: Some(p.id),
                ..Default::default()
            };
            yew::platform::spawn_local(async move {
                match api::create_provider(&input).await {
                    Ok(_) => {
                        error.set(None);
                        message.set(Some(format!("{} is now a {}.", p.name, singular.to_lowercase())));
                        reload.set(*reload + 1);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    html! {
        <>
            <h1>{ labels.provider_plural.clone() }</h1>
            if let Some(m) = &*message { <p class="ok" role="status">{ m }</p> }
            if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
            {
                match &*list {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(items) if items.is_empty() => html! { <p class="empty">{ format!("No {} yet.", labels.provider_plural.to_lowercase()) }</p> },
                    Load::Loaded(items) => html! {
                        <table class="list" id="providers">
                            <thead><tr>
                                <th scope="col">{ "Name" }</th><th scope="col">{ "Time zone" }</th>
                                <th scope="col">{ labels.class_plural.clone() }</th><th scope="col"><span class="sr-only">{ "Actions" }</span></th>
                            </tr></thead>
                            <tbody>
                                { for items.iter().map(|p| html! {
                                    <tr key={p.id.to_string()}>
                                        <td><Link<Route> to={Route::Provider { id: p.id }}>{ p.name.clone() }</Link<Route>><br /><small>{ p.email.clone() }</small></td>
                                        <td>{ p.time_zone.clone() }</td>
                                        <td>{ p.services.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", ") }</td>
                                        <td><Link<Route> to={Route::ProviderAvailability { id: p.id }}>{ format!("Availability of {}", p.name) }</Link<Route>></td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    },
                }
            }
            <div class="card">
                <PersonPicker id="new-provider" label={format!("Make a person a {}", labels.provider_singular.to_lowercase())} {onpick} />
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct ProviderPageProps {
    pub id: Uuid,
}

#[derive(Clone, PartialEq, Default)]
struct Form {
    bio: String,
    photo_url: String,
    service_ids: Vec<Uuid>,
    locations: Vec<(String, String)>,
}

#[function_component(ProviderPage)]
pub fn provider_page(props: &ProviderPageProps) -> Html {
    let id = props.id;
    let session = use_context::<Session>().expect("inside the shell");
    let labels = session.labels().clone();
    let navigator = use_navigator();
    let provider = use_state(|| Load::<Provider>::Loading);
    let services = use_state(Vec::<Service>::new);
    let form = use_state(Form::default);
    let error = use_state(|| None::<ApiError>);
    let message = use_state(|| None::<String>);
    {
        let (provider, services, form) = (provider.clone(), services.clone(), form.clone());
        use_effect_with(id, move |id| {
            let id = *id;
            yew::platform::spawn_local(async move {
                if let Ok(page) = api::services().await {
                    services.set(page.items);
                }
                match api::provider(id).await {
                    Ok(p) => {
                        form.set(Form {
                            bio: p.bio.clone(),
                            photo_url: p.photo_url.clone().unwrap_or_default(),
                            service_ids: p.services.iter().map(|s| s.id).collect(),
                            locations: p
                                .locations
                                .iter()
                                .map(|l| (l.name.clone(), format_key(l.format).to_owned()))
                                .collect(),
                        });
                        provider.set(Load::Loaded(p));
                    }
                    Err(e) => provider.set(Load::Failed(e)),
                }
            });
        });
    }
    let set = |apply: fn(&mut Form, String)| {
        let form = form.clone();
        Callback::from(move |value: String| {
            let mut next = (*form).clone();
            apply(&mut next, value);
            form.set(next);
        })
    };
    let toggle = |service: Uuid| {
        let form = form.clone();
        Callback::from(move |_| {
            let mut next = (*form).clone();
            if next.service_ids.contains(&service) {
                next.service_ids.retain(|s| *s != service);
            } else {
                next.service_ids.push(service);
            }
            form.set(next);
        })
    };
    let on_locations = {
        let form = form.clone();
        Callback::from(move |locations| {
            let mut next = (*form).clone();
            next.locations = locations;
            form.set(next);
        })
    };
    let onsubmit = {
        let (form, error, message, provider) = (form.clone(), error.clone(), message.clone(), provider.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = ProviderInput {
                person_id: None,
                bio: Some(form.bio.clone()),
                photo_url: Some(form.photo_url.clone()),
                service_ids: Some(form.service_ids.clone()),
                locations: Some(
                    form.locations
                        .iter()
                        .map(|(name, f)| Location {
                            name: name.clone(),
                            format: format_of(f),
                        })
                        .collect(),
                ),
            };
            let (error, message, provider) = (error.clone(), message.clone(), provider.clone());
            yew::platform::spawn_local(async move {
                match api::update_provider(id, &input).await {
                    Ok(p) => {
                        error.set(None);
                        message.set(Some("Saved.".into()));
                        provider.set(Load::Loaded(p));
                    }
                    Err(e) => {
                        message.set(None);
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let remove = {
        let (navigator, error) = (navigator.clone(), error.clone());
        let word = labels.provider_plural.to_lowercase();
        Callback::from(move |_| {
            if !gloo_dialogs::confirm(&format!(
                "Remove this person from the {word}? Their upcoming bookings must be cancelled first."
            )) {
                return;
            }
            let (navigator, error) = (navigator.clone(), error.clone());
            yew::platform::spawn_local(async move {
                match api::delete_provider(id).await {
                    Ok(()) => {
                        if let Some(n) = navigator {
                            n.push(&Route::Providers);
                        }
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let field = |name: &str| (*error).as_ref().and_then(|e| e.field(name));
    provider.view(|p| html! {
            <>
                <p><Link<Route> to={Route::Providers}>{ format!("← All {}", labels.provider_plural.to_lowercase()) }</Link<Route>></p>
                <div class="bar">
                    <h1>{ p.name.clone() }</h1>
                    if let Some(url) = &p.photo_url { <img src={url.clone()} alt={format!("Photo of {}", p.name)} class="avatar large" /> }
                </div>
                <p>{ format!("{} · {} · ", p.email, p.time_zone) }
                    <Link<Route> to={Route::ProviderAvailability { id }}>{ "Weekly availability" }</Link<Route>></p>
                if let Some(m) = &*message { <p class="ok" role="status">{ m }</p> }
                <form class="card stack" {onsubmit} novalidate=true aria-label={labels.provider_singular.clone()}>
                    if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
                    <TextArea id="provider-bio" label="Bio" value={form.bio.clone()}
                        hint={AttrValue::from("Students see it when they choose among the free people.")}
                        oninput={set(|f, v| f.bio = v)} error={field("bio")} />
                    <TextField id="provider-photo" label="Photo URL" kind="url" value={form.photo_url.clone()}
                        oninput={set(|f, v| f.photo_url = v)} error={field("photo_url")} />
                    <fieldset id="provider-services">
                        <legend>{ format!("Certified in these {}", labels.class_plural.to_lowercase()) }</legend>
                        if let Some(e) = field("service_ids") { <p class="field-error">{ e }</p> }
                        { for services.iter().map(|s| html! {
                            <div class="check">
                                <input type="checkbox" id={format!("certify-{}", s.id)} checked={form.service_ids.contains(&s.id)} onchange={toggle(s.id)} />
                                <label for={format!("certify-{}", s.id)}>{ s.name.clone() }</label>
                            </div>
                        }) }
                    </fieldset>
                    <LocationsEditor id="provider-locations" locations={form.locations.clone()} onchange={on_locations}
                        error={(*error).clone()} />
                    <div class="actions">
                        <button type="submit">{ "Save" }</button>
                        <button type="button" class="danger" onclick={remove}>{ format!("Remove {}", labels.provider_singular.to_lowercase()) }</button>
                    </div>
                </form>
            </>
        })
}
