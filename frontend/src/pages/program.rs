//! One program: edit it, publish or archive it, and manage its participants.

use cohort_api_types::{
    AddParticipant, AddParticipants, InvitePeople, Participant, ParticipantRole, Person, Program, ProgramStatus,
    UpdateProgram,
};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::pages::programs::status_text;
use crate::Route;
use cohort_ui::components::field::{SelectField, TextArea, TextField};
use cohort_ui::state::{local_time, role_label, time_zones, Load, Session};

#[derive(Properties, PartialEq)]
pub struct ProgramProps {
    pub id: Uuid,
}

#[function_component(ProgramPage)]
pub fn program_page(props: &ProgramProps) -> Html {
    let program = use_state(|| Load::<Program>::Loading);
    {
        let program = program.clone();
        use_effect_with(props.id, move |id| {
            let id = *id;
            yew::platform::spawn_local(async move {
                program.set(match api::program(id).await {
                    Ok(p) => Load::Loaded(p),
                    Err(e) => Load::Failed(e),
                });
            });
        });
    }
    let on_saved = {
        let program = program.clone();
        Callback::from(move |p: Program| program.set(Load::Loaded(p)))
    };
    program.view(|p| html! {
            <>
                <div class="bar">
                    <h1>{ p.name.clone() }</h1>
                    <span class={classes!("badge", status_text(p.status).to_lowercase())}>{ status_text(p.status) }</span>
                    <Link<Route> to={Route::ProgramSteps { id: p.id }}>{ "Steps" }</Link<Route>>
                    <Link<Route> to={Route::ProgramPairing { id: p.id }}>{ "Pairing" }</Link<Route>>
                </div>
                <ProgramForm program={p.clone()} on_saved={on_saved.clone()} />
                <Participants program={p.id} on_change={on_saved} />
            </>
        })
}

#[derive(Properties, PartialEq)]
struct FormProps {
    program: Program,
    on_saved: Callback<Program>,
}

#[function_component(ProgramForm)]
fn program_form(props: &FormProps) -> Html {
    let p = &props.program;
    let name = use_state(|| p.name.clone());
    let description = use_state(|| p.description.clone());
    let time_zone = use_state(|| p.time_zone.clone());
    let error = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    let save = {
        let (error, saved, on_saved, id) = (error.clone(), saved.clone(), props.on_saved.clone(), p.id);
        move |changes: UpdateProgram| {
            let (error, saved, on_saved) = (error.clone(), saved.clone(), on_saved.clone());
            yew::platform::spawn_local(async move {
                match api::update_program(id, &changes).await {
                    Ok(program) => {
                        error.set(None);
                        saved.set(true);
                        on_saved.emit(program);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let onsubmit = {
        let (name, description, time_zone, save) = (name.clone(), description.clone(), time_zone.clone(), save.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            save(UpdateProgram {
                name: Some((*name).clone()),
                description: Some((*description).clone()),
                time_zone: Some((*time_zone).clone()),
                ..Default::default()
            });
        })
    };
    let status_button = |status: ProgramStatus, text: &'static str, question: Option<&'static str>| {
        let save = save.clone();
        let onclick = Callback::from(move |_| {
            if question.is_none_or(gloo_dialogs::confirm) {
                save(UpdateProgram {
                    status: Some(status),
                    ..Default::default()
                });
            }
        });
        html! { <button type="button" class="secondary" {onclick}>{ text }</button> }
    };
    let set = |state: &UseStateHandle<String>| {
        let (state, saved) = (state.clone(), saved.clone());
        Callback::from(move |v: String| {
            state.set(v);
            saved.set(false);
        })
    };
    let field = |f: &str| (*error).as_ref().and_then(|e| e.field(f));
    let zones: Vec<(String, String)> = time_zones(&time_zone).into_iter().map(|z| (z.clone(), z)).collect();
    html! {
        <form class="card stack" {onsubmit} novalidate=true aria-label="Program details">
            if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
            if *saved { <p class="ok" role="status">{ "Saved." }</p> }
            <TextField id="program-name" label="Name" value={(*name).clone()} oninput={set(&name)} error={field("name")} />
            <TextArea id="program-description" label="Description" value={(*description).clone()}
                oninput={set(&description)} error={field("description")} />
            <SelectField id="program-time-zone" label="Time zone" value={(*time_zone).clone()} options={zones}
                onchange={set(&time_zone)} error={field("time_zone")} />
            if let Some(message) = field("status") { <p class="field-error">{ message }</p> }
            <div class="actions">
                <button type="submit">{ "Save" }</button>
                if p.status != ProgramStatus::Published {
                    { status_button(ProgramStatus::Published, "Publish", None) }
                }
                if p.status != ProgramStatus::Archived {
                    { status_button(ProgramStatus::Archived, "Archive",
                        Some("Archive this program? Participants can no longer be added until it is published again.")) }
                }
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct ParticipantsProps {
    program: Uuid,
    /// Called with the program after a change, so its counts stay right.
    on_change: Callback<Program>,
}

#[derive(Clone, PartialEq, Default)]
struct Listing {
    items: Vec<Participant>,
    /// Cursors of the pages before this one (for "Previous"), and of the next.
    previous: Vec<Option<String>>,
    current: Option<String>,
    next: Option<String>,
    loading: bool,
    error: Option<ApiError>,
}

#[function_component(Participants)]
fn participants(props: &ParticipantsProps) -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let query = use_state(String::new);
    let search = use_state(String::new);
    let listing = use_state(|| Listing {
        loading: true,
        ..Default::default()
    });
    let reload = use_state(|| 0u32);
    let program = props.program;
    let fetch = {
        let listing = listing.clone();
        move |q: String, cursor: Option<String>, previous: Vec<Option<String>>| {
            let listing = listing.clone();
            listing.set(Listing {
                loading: true,
                previous: previous.clone(),
                ..(*listing).clone()
            });
            yew::platform::spawn_local(async move {
                match api::participants(program, &q, cursor.as_deref()).await {
                    Ok(page) => listing.set(Listing {
                        items: page.items,
                        previous,
                        current: cursor,
                        next: page.next_cursor,
                        loading: false,
                        error: None,
                    }),
                    Err(e) => listing.set(Listing {
                        loading: false,
                        error: Some(e),
                        ..Default::default()
                    }),
                }
            });
        }
    };
    {
        let fetch = fetch.clone();
        use_effect_with(((*search).clone(), *reload), move |(q, _)| {
            fetch(q.clone(), None, Vec::new())
        });
    }
    let changed = {
        let (reload, on_change) = (reload.clone(), props.on_change.clone());
        Callback::from(move |_| {
            reload.set(*reload + 1);
            let on_change = on_change.clone();
            yew::platform::spawn_local(async move {
                if let Ok(p) = api::program(program).await {
                    on_change.emit(p);
                }
            });
        })
    };
    let on_search = {
        let (query, search) = (query.clone(), search.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            search.set((*query).clone());
        })
    };
    let next = {
        let (fetch, listing, search) = (fetch.clone(), listing.clone(), search.clone());
        Callback::from(move |_| {
            let mut previous = listing.previous.clone();
            previous.push(listing.current.clone());
            fetch((*search).clone(), listing.next.clone(), previous);
        })
    };
    let prev = {
        let (fetch, listing, search) = (fetch.clone(), listing.clone(), search.clone());
        Callback::from(move |_| {
            let mut previous = listing.previous.clone();
            let cursor = previous.pop().flatten();
            fetch((*search).clone(), cursor, previous);
        })
    };
    let remove = |participant: &Participant| {
        let (id, name, changed, listing) = (
            participant.id,
            participant.name.clone(),
            changed.clone(),
            listing.clone(),
        );
        Callback::from(move |_| {
            if !gloo_dialogs::confirm(&format!("Remove {name} from this program?")) {
                return;
            }
            let (changed, listing) = (changed.clone(), listing.clone());
            yew::platform::spawn_local(async move {
                match api::remove_participant(program, id).await {
                    Ok(()) => changed.emit(()),
                    Err(e) => listing.set(Listing {
                        error: Some(e),
                        ..(*listing).clone()
                    }),
                }
            });
        })
    };
    let labels = session.labels().clone();
    html! {
        <section class="card stack" aria-labelledby="participants-heading">
            <h2 id="participants-heading">{ "Participants" }</h2>
            <form class="inline" onsubmit={on_search} role="search">
                <label for="participant-search">{ "Search by name or email" }</label>
                <input id="participant-search" type="search" value={(*query).clone()}
                    oninput={let q = query.clone(); Callback::from(move |e: InputEvent| q.set(e.target_unchecked_into::<web_sys::HtmlInputElement>().value()))} />
                <button type="submit" class="secondary">{ "Search" }</button>
            </form>
            if let Some(e) = &listing.error { <p class="error" role="alert">{ e.message() }</p> }
            if listing.items.is_empty() && !listing.loading && listing.error.is_none() {
                <p class="empty">{ if search.is_empty() { "Nobody takes part yet. Add people below." } else { "Nobody matches this search." } }</p>
            }
            if !listing.items.is_empty() {
                <table class="list">
                    <thead><tr>
                        <th scope="col">{ "Name" }</th><th scope="col">{ "Email" }</th>
                        <th scope="col">{ "Role" }</th><th scope="col">{ "Joined" }</th><th scope="col"><span class="sr-only">{ "Actions" }</span></th>
                    </tr></thead>
                    <tbody>
                        { for listing.items.iter().map(|p| html! {
                            <tr>
                                <td><Link<Route> to={Route::Person { id: p.person_id }}>{ p.name.clone() }</Link<Route>></td>
                                <td>{ p.email.clone() }</td>
                                <td>{ role_label(p.role, &labels) }</td>
                                <td>{ local_time(&p.joined_at, &session.me.organization.time_zone) }</td>
                                <td><button type="button" class="danger" onclick={remove(p)}
                                    aria-label={format!("Remove {}", p.name)}>{ "Remove" }</button></td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
            if listing.loading { <p class="loading" aria-busy="true">{ "Loading…" }</p> }
            <div class="actions">
                if !listing.previous.is_empty() { <button type="button" class="secondary" onclick={prev}>{ "Previous page" }</button> }
                if listing.next.is_some() { <button type="button" class="secondary" onclick={next}>{ "Next page" }</button> }
            </div>
            <AddPeople {program} on_added={changed} />
            <InviteToLogIn {program} reload={*reload} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct InviteProps {
    program: Uuid,
    /// Changes when participants change: the count is read again.
    reload: u32,
}

/// Invites the participants who have no password yet to set one, after saying how many.
#[function_component(InviteToLogIn)]
fn invite_to_log_in(props: &InviteProps) -> Html {
    let program = props.program;
    let sent = use_state(|| None::<Result<u32, ApiError>>);
    let preview = cohort_ui::state::use_load((program, props.reload, sent.is_some()), move |_| async move {
        let request = InvitePeople {
            person_ids: None,
            program_id: Some(program),
            preview: true,
        };
        api::invite_people(&request).await
    });
    let send = {
        let sent = sent.clone();
        Callback::from(move |_| {
            let sent = sent.clone();
            yew::platform::spawn_local(async move {
                let request = InvitePeople {
                    person_ids: None,
                    program_id: Some(program),
                    preview: false,
                };
                sent.set(Some(api::invite_people(&request).await.map(|done| done.invited)));
            });
        })
    };
    html! {
        <div class="stack" aria-labelledby="invite-heading">
            <h3 id="invite-heading">{ "Logging in" }</h3>
            { preview.view(|p| if p.invited == 0 {
                html! { <p id="invite-count">{ "Every participant can log in." }</p> }
            } else {
                html! {
                    <>
                        <p id="invite-count">{ format!("{} participants cannot log in yet: they have no password.", p.invited) }</p>
                        <button type="button" id="invite-participants" onclick={send.clone()}>
                            { format!("Invite {} to set a password", p.invited) }
                        </button>
                    </>
                }
            }) }
            { match &*sent {
                Some(Ok(n)) => html! { <p class="ok" role="status">{ format!("{n} invitations are on their way; each link works once, for 7 days.") }</p> },
                Some(Err(e)) => html! { <p class="error" role="alert">{ e.message() }</p> },
                None => html! {},
            } }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct AddProps {
    program: Uuid,
    on_added: Callback<()>,
}

/// Finds people of the organisation and adds the selected ones (one or many) in a role.
#[function_component(AddPeople)]
fn add_people(props: &AddProps) -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let query = use_state(String::new);
    let found = use_state(Vec::<Person>::new);
    let selected = use_state(Vec::<Uuid>::new);
    let role = use_state(|| "mentee".to_owned());
    let error = use_state(|| None::<ApiError>);
    let message = use_state(|| None::<String>);
    let program = props.program;
    let on_find = {
        let (query, found, error) = (query.clone(), found.clone(), error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (q, found, error) = ((*query).clone(), found.clone(), error.clone());
            yew::platform::spawn_local(async move {
                match api::people(&q).await {
                    Ok(page) => {
                        found.set(page.items);
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let toggle = |id: Uuid| {
        let selected = selected.clone();
        Callback::from(move |_| {
            let mut next = (*selected).clone();
            match next.iter().position(|s| *s == id) {
                Some(i) => {
                    next.remove(i);
                }
                None => next.push(id),
            }
            selected.set(next);
        })
    };
    let add = {
        let (selected, role, error, message, on_added) = (
            selected.clone(),
            role.clone(),
            error.clone(),
            message.clone(),
            props.on_added.clone(),
        );
        Callback::from(move |_| {
            let role = if *role == "mentor" {
                ParticipantRole::Mentor
            } else {
                ParticipantRole::Mentee
            };
            let entries: Vec<AddParticipant> = selected
                .iter()
                .map(|person_id| AddParticipant {
                    person_id: *person_id,
                    role,
                })
                .collect();
            let (selected, error, message, on_added) =
                (selected.clone(), error.clone(), message.clone(), on_added.clone());
            yew::platform::spawn_local(async move {
                let result = match entries.as_slice() {
                    [one] => api::add_participant(program, one).await.map(|_| 1),
                    _ => api::add_participants(program, &AddParticipants { participants: entries })
                        .await
                        .map(|a| a.added.len()),
                };
                match result {
                    Ok(n) => {
                        message.set(Some(format!("Added {n}.")));
                        error.set(None);
                        selected.set(Vec::new());
                        on_added.emit(());
                    }
                    Err(e) => {
                        message.set(None);
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let labels = session.labels();
    let roles = vec![
        ("mentee".to_owned(), "Mentee".to_owned()),
        ("mentor".to_owned(), labels.provider_singular.clone()),
    ];
    let on_role = {
        let role = role.clone();
        Callback::from(move |v: String| role.set(v))
    };
    html! {
        <div class="stack add-people">
            <h3>{ "Add people" }</h3>
            <form class="inline" onsubmit={on_find} role="search">
                <label for="person-search">{ "Find people" }</label>
                <input id="person-search" type="search" value={(*query).clone()} placeholder="name or email"
                    oninput={let q = query.clone(); Callback::from(move |e: InputEvent| q.set(e.target_unchecked_into::<web_sys::HtmlInputElement>().value()))} />
                <button type="submit" class="secondary">{ "Find" }</button>
            </form>
            if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
            if let Some(m) = &*message { <p class="ok" role="status">{ m }</p> }
            if !found.is_empty() {
                <fieldset>
                    <legend>{ "Select people" }</legend>
                    { for found.iter().map(|p| {
                        let id = format!("pick-{}", p.id);
                        html! {
                            <div class="check">
                                <input type="checkbox" id={id.clone()} checked={selected.contains(&p.id)} onchange={toggle(p.id)} />
                                <label for={id}>{ format!("{} <{}>", p.name, p.email) }</label>
                            </div>
                        }
                    }) }
                </fieldset>
                <SelectField id="add-role" label="Role" value={(*role).clone()} options={roles} onchange={on_role} />
                <button type="button" onclick={add} disabled={selected.is_empty()}>
                    { format!("Add {} selected", selected.len()) }
                </button>
            }
        </div>
    }
}
