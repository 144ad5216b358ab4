//! The caller's profile (name, bio, photo, time zone) and password.

use cohort_api_types::{ChangePassword, Person, UpdateMe};
use cohort_ui::api::{self, ApiError};
use cohort_ui::components::field::{SelectField, TextArea, TextField};
use cohort_ui::state::{time_zones, Session};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::shell::Shell;

#[function_component(Profile)]
pub fn profile() -> Html {
    html! { <Shell narrow=true><ProfileForms /></Shell> }
}

#[function_component(ProfileForms)]
fn profile_forms() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    html! {
        <>
            <h1>{ "My profile" }</h1>
            <ProfileForm person={session.me.person.clone()} organization_zone={session.me.organization.time_zone.clone()} />
            <ChangePasswordForm />
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ProfileProps {
    person: Person,
    /// Applies when the person chose no zone of their own.
    organization_zone: String,
}

/// The person's own name, bio, photo and time zone; each field shows its own error.
#[function_component(ProfileForm)]
fn profile_form(props: &ProfileProps) -> Html {
    let p = &props.person;
    let name = use_state(|| p.name.clone());
    let bio = use_state(|| p.bio.clone());
    let photo_url = use_state(|| p.photo_url.clone().unwrap_or_default());
    // Empty: the organisation's zone.
    let time_zone = use_state(|| p.time_zone.clone().unwrap_or_default());
    let outcome = use_state(|| None::<Result<(), ApiError>>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (name, bio, photo_url, time_zone) = (name.clone(), bio.clone(), photo_url.clone(), time_zone.clone());
        let (outcome, busy) = (outcome.clone(), busy.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let or_null = |s: &str| Some(Some(s.trim().to_owned()).filter(|s| !s.is_empty()));
            let changes = UpdateMe {
                name: Some((*name).clone()),
                bio: Some((*bio).clone()),
                photo_url: or_null(&photo_url),
                time_zone: or_null(&time_zone),
                attributes: None,
            };
            let (name, outcome, busy) = (name.clone(), outcome.clone(), busy.clone());
            busy.set(true);
            yew::platform::spawn_local(async move {
                let result = api::update_me(&changes).await;
                if let Ok(person) = &result {
                    name.set(person.name.clone());
                }
                outcome.set(Some(result.map(drop)));
                busy.set(false);
            });
        })
    };
    let error = |f: &str| match &*outcome {
        Some(Err(e)) => e.field(f),
        _ => None,
    };
    let set = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    let mut zones: Vec<(String, String)> = vec![(
        String::new(),
        format!("The organisation's ({})", props.organization_zone),
    )];
    zones.extend(time_zones(&time_zone).into_iter().map(|z| (z.clone(), z)));
    let message = match &*outcome {
        None => html! {},
        Some(Ok(())) => html! { <p class="ok" role="status">{ "Your profile is saved." }</p> },
        Some(Err(e)) => html! { <p class="error" role="alert">{ e.message() }</p> },
    };
    html! {
        <form class="card stack" {onsubmit} aria-labelledby="profile-heading" novalidate=true>
            <h2 id="profile-heading">{ "Profile" }</h2>
            <TextField id="profile-name" label="Name" value={(*name).clone()} oninput={set(&name)}
                error={error("name")} required=true />
            <TextArea id="profile-bio" label="Bio" value={(*bio).clone()} oninput={set(&bio)} error={error("bio")} />
            <TextField id="profile-photo" label="Photo address" kind="url" value={(*photo_url).clone()}
                oninput={set(&photo_url)} error={error("photo_url")}
                hint={AttrValue::Static("An https:// link to a picture of you; leave empty for none.")} />
            <SelectField id="profile-time-zone" label="Time zone" value={(*time_zone).clone()} options={zones}
                onchange={set(&time_zone)} error={error("time_zone")} />
            { message }
            <button type="submit" disabled={*busy}>{ if *busy { "Saving…" } else { "Save profile" } }</button>
        </form>
    }
}

/// Changes the password; other devices are logged out.
#[function_component(ChangePasswordForm)]
fn change_password_form() -> Html {
    let (current, new) = (use_node_ref(), use_node_ref());
    let outcome = use_state(|| None::<Result<(), ApiError>>);
    let onsubmit = {
        let (current, new, outcome) = (current.clone(), new.clone(), outcome.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let value = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let request = ChangePassword {
                current_password: value(&current),
                new_password: value(&new),
            };
            let outcome = outcome.clone();
            yew::platform::spawn_local(async move { outcome.set(Some(api::change_password(&request).await)) });
        })
    };
    let message = match &*outcome {
        None => html! {},
        Some(Ok(())) => html! { <p role="status">{ "Your password is changed; other devices are logged out." }</p> },
        Some(Err(e)) => {
            let text = e
                .field("current_password")
                .map(|m| format!("Current password {m}."))
                .or_else(|| e.field("new_password").map(|m| format!("New password {m}.")))
                .unwrap_or_else(|| e.message());
            html! { <p class="error" role="alert">{ text }</p> }
        }
    };
    html! {
        <form class="card" {onsubmit} aria-labelledby="password-heading">
            <h2 id="password-heading">{ "Password" }</h2>
            <label for="current-password">{ "Current password" }</label>
            <input id="current-password" type="password" autocomplete="current-password" required=true ref={current} />
            <label for="changed-password">{ "New password" }</label>
            <input id="changed-password" type="password" autocomplete="new-password" required=true minlength="10" ref={new} />
            { message }
            <button type="submit">{ "Change password" }</button>
        </form>
    }
}
