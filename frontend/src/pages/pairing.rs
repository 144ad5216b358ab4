//! A program's pairing: settings and the on/off switch, unpaired mentees in three tabs with
//! "invite all" (count and email shown before anything is sent), requests, and active pairings
//! that an admin can end.

use cohort_api_types::{
    AvailableMentor, EndPairing, HealthWeek, InvitationPreview, InviteMentees, MentorRequest, Pairing, PairingHealth,
    PairingHealthStatus, PairingProcess, PairingSettings, Program, RequestStatus, SetMentorCapacity, UnpairedMentee,
    UpdatePairingSettings,
};
use uuid::Uuid;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::Route;
use cohort_ui::components::field::{SelectField, TextField};
use cohort_ui::state::{local_time, Load, Session};

#[derive(Properties, PartialEq)]
pub struct PairingProps {
    pub id: Uuid,
}

#[function_component(PairingPage)]
pub fn pairing_page(props: &PairingProps) -> Html {
    let id = props.id;
    let program = use_state(|| Load::<Program>::Loading);
    let reload = use_state(|| 0u32);
    {
        let program = program.clone();
        use_effect_with(id, move |id| {
            let id = *id;
            yew::platform::spawn_local(async move {
                program.set(match api::program(id).await {
                    Ok(p) => Load::Loaded(p),
                    Err(e) => Load::Failed(e),
                });
            });
        });
    }
    let changed = {
        let reload = reload.clone();
        Callback::from(move |_| reload.set(*reload + 1))
    };
    html! {
        <>
            <div class="bar">
                <h1>{ "Pairing" }</h1>
                <Link<Route> to={Route::ProgramAutoPair { id }}>{ "Auto-pair" }</Link<Route>>
                if let Load::Loaded(p) = &*program {
                    <Link<Route> to={Route::Program { id: p.id }}>{ format!("Back to {}", p.name) }</Link<Route>>
                }
            </div>
            <Settings program={id} />
            <Unpaired program={id} reload={*reload} on_change={changed.clone()} />
            <Requests program={id} reload={*reload} />
            <Pairings program={id} reload={*reload} on_change={changed} />
            <Mentors program={id} reload={*reload} />
            <HealthSection program={id} reload={*reload} />
        </>
    }
}

#[derive(Properties, PartialEq)]
struct SectionProps {
    program: Uuid,
    #[prop_or_default]
    reload: u32,
    #[prop_or_default]
    on_change: Callback<()>,
}

const PROCESSES: [(PairingProcess, &str); 3] = [
    (PairingProcess::UserLedWithApproval, "Mentees request, mentors approve"),
    (PairingProcess::UserLed, "Mentees choose their mentor"),
    (PairingProcess::AdminLed, "Admins pair"),
];

fn process_value(p: PairingProcess) -> &'static str {
    match p {
        PairingProcess::UserLedWithApproval => "user_led_with_approval",
        PairingProcess::UserLed => "user_led",
        PairingProcess::AdminLed => "admin_led",
    }
}

#[function_component(Settings)]
fn settings(props: &SectionProps) -> Html {
    let program = props.program;
    let saved = use_state(|| Load::<PairingSettings>::Loading);
    let draft = use_state(|| None::<PairingSettings>);
    let error = use_state(|| None::<ApiError>);
    let message = use_state(|| None::<String>);
    {
        let (saved, draft) = (saved.clone(), draft.clone());
        use_effect_with(program, move |program| {
            let program = *program;
            yew::platform::spawn_local(async move {
                match api::pairing_settings(program).await {
                    Ok(s) => {
                        draft.set(Some(s.clone()));
                        saved.set(Load::Loaded(s));
                    }
                    Err(e) => saved.set(Load::Failed(e)),
                }
            });
        });
    }
    let Some(d) = (*draft).clone() else {
        return match &*saved {
            Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
            _ => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
        };
    };
    let edit = |f: fn(&mut PairingSettings, String)| {
        let draft = draft.clone();
        Callback::from(move |v: String| {
            if let Some(mut d) = (*draft).clone() {
                f(&mut d, v);
                draft.set(Some(d));
            }
        })
    };
    let toggle = |f: fn(&mut PairingSettings, bool)| {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            if let Some(mut d) = (*draft).clone() {
                f(&mut d, e.target_unchecked_into::<HtmlInputElement>().checked());
                draft.set(Some(d));
            }
        })
    };
    let onsubmit = {
        let (draft, error, message, saved) = (draft.clone(), error.clone(), message.clone(), saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(d) = (*draft).clone() else { return };
            let changes = UpdatePairingSettings {
                process: Some(d.process),
                mentor_capacity: Some(d.mentor_capacity),
                request_expiry_days: Some(d.request_expiry_days),
                remind_before_expiry: Some(d.remind_before_expiry),
                unresponsive_days: Some(d.unresponsive_days),
                enabled: Some(d.enabled),
                checklist_done: Some(d.checklist.iter().filter(|i| i.done).map(|i| i.key.clone()).collect()),
            };
            let (error, message, saved) = (error.clone(), message.clone(), saved.clone());
            yew::platform::spawn_local(async move {
                match api::update_pairing_settings(program, &changes).await {
                    Ok(s) => {
                        error.set(None);
                        message.set(Some(
                            if s.enabled {
                                "Saved. Pairing is on."
                            } else {
                                "Saved. Pairing is off."
                            }
                            .into(),
                        ));
                        saved.set(Load::Loaded(s));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let field = |f: &str| (*error).as_ref().and_then(|e| e.field(f));
    let options: Vec<(String, String)> = PROCESSES
        .iter()
        .map(|(p, text)| (process_value(*p).to_owned(), (*text).to_owned()))
        .collect();
    html! {
        <form class="card stack" {onsubmit} novalidate=true aria-label="Pairing settings">
            <h2>{ "Settings" }</h2>
            if let Some(text) = &*message { <p class="ok" role="status">{ text.clone() }</p> }
            <fieldset class="stack">
                <legend>{ "Launch checklist" }</legend>
                { for d.checklist.iter().enumerate().map(|(i, item)| {
                    let id = format!("checklist-{}", item.key);
                    let draft = draft.clone();
                    let onchange = Callback::from(move |e: Event| {
                        if let Some(mut d) = (*draft).clone() {
                            d.checklist[i].done = e.target_unchecked_into::<HtmlInputElement>().checked();
                            draft.set(Some(d));
                        }
                    });
                    html! {
                        <div class="field checkbox">
                            <input id={id.clone()} type="checkbox" checked={item.done} {onchange} />
                            <label for={id}>{ item.label.clone() }</label>
                        </div>
                    }
                }) }
            </fieldset>
            <div class="field checkbox">
                <input id="pairing-enabled" type="checkbox" checked={d.enabled} onchange={toggle(|d, v| d.enabled = v)} />
                <label for="pairing-enabled">{ "Pairing is on (turning it on sends nothing by itself)" }</label>
            </div>
            <SelectField id="pairing-process" label="How people are paired" value={process_value(d.process)} {options}
                onchange={edit(|d, v| d.process = PROCESSES.iter().find(|(p, _)| process_value(*p) == v).map(|(p, _)| *p).unwrap_or(d.process))} />
            <div class="row">
                <TextField id="pairing-capacity" label="Mentees per mentor" kind="number" value={d.mentor_capacity.to_string()}
                    oninput={edit(|d, v| d.mentor_capacity = v.parse().unwrap_or(0))} error={field("mentor_capacity")} />
                <TextField id="pairing-expiry" label="Business days to answer a request" kind="number" value={d.request_expiry_days.to_string()}
                    oninput={edit(|d, v| d.request_expiry_days = v.parse().unwrap_or(0))} error={field("request_expiry_days")} />
            </div>
            <div class="field checkbox">
                <input id="pairing-remind" type="checkbox" checked={d.remind_before_expiry} onchange={toggle(|d, v| d.remind_before_expiry = v)} />
                <label for="pairing-remind">{ "Remind the mentor one business day before a request expires" }</label>
            </div>
            <div class="actions"><button type="submit">{ "Save settings" }</button></div>
        </form>
    }
}

const TABS: [(&str, &str); 3] = [
    ("not_invited", "Not invited"),
    ("invited", "Invited"),
    ("requested", "Requested"),
];

#[function_component(Unpaired)]
fn unpaired(props: &SectionProps) -> Html {
    let program = props.program;
    let tab = use_state(|| "not_invited");
    let list = use_state(|| Load::<Vec<UnpairedMentee>>::Loading);
    let preview = use_state(|| None::<InvitationPreview>);
    let message = use_state(|| None::<String>);
    // Selected mentees (person id → participant id), for the bulk actions.
    let selected = use_state(std::collections::BTreeMap::<Uuid, Uuid>::new);
    {
        let (list, selected) = (list.clone(), selected.clone());
        use_effect_with((program, *tab, props.reload), move |(program, tab, _)| {
            let (program, tab) = (*program, *tab);
            selected.set(Default::default());
            yew::platform::spawn_local(async move {
                list.set(match api::unpaired(program, tab).await {
                    Ok(page) => Load::Loaded(page.items),
                    Err(e) => Load::Failed(e),
                });
            });
        });
    }
    let invite_all = {
        let (preview, message) = (preview.clone(), message.clone());
        Callback::from(move |_| {
            let (preview, message) = (preview.clone(), message.clone());
            yew::platform::spawn_local(async move {
                match api::preview_invitations(program, &InviteMentees::default()).await {
                    Ok(p) => preview.set(Some(p)),
                    Err(e) => message.set(Some(e.message())),
                }
            });
        })
    };
    let send = {
        let (preview, message, on_change) = (preview.clone(), message.clone(), props.on_change.clone());
        Callback::from(move |_| {
            let (preview, message, on_change) = (preview.clone(), message.clone(), on_change.clone());
            yew::platform::spawn_local(async move {
                match api::send_invitations(program, &InviteMentees::default()).await {
                    Ok(sent) => {
                        message.set(Some(format!("Sent {} invitations.", sent.sent)));
                        preview.set(None);
                        on_change.emit(());
                    }
                    Err(e) => message.set(Some(e.message())),
                }
            });
        })
    };
    // Invite (or remind: the same email again, past the cooldown) the selected mentees.
    let invite_selected = {
        let (selected, message, on_change) = (selected.clone(), message.clone(), props.on_change.clone());
        Callback::from(move |_| {
            let input = InviteMentees {
                mentee_ids: Some(selected.keys().copied().collect()),
            };
            let (message, on_change) = (message.clone(), on_change.clone());
            yew::platform::spawn_local(async move {
                match api::send_invitations(program, &input).await {
                    Ok(sent) => {
                        message.set(Some(if sent.skipped_recently_invited > 0 {
                            format!(
                                "Sent {} invitations; {} were invited in the last day and are skipped.",
                                sent.sent, sent.skipped_recently_invited
                            )
                        } else {
                            format!("Sent {} invitations.", sent.sent)
                        }));
                        on_change.emit(());
                    }
                    Err(e) => message.set(Some(e.message())),
                }
            });
        })
    };
    let remove_selected = {
        let (selected, message, on_change) = (selected.clone(), message.clone(), props.on_change.clone());
        Callback::from(move |_| {
            let participants: Vec<Uuid> = selected.values().copied().collect();
            let (message, on_change) = (message.clone(), on_change.clone());
            yew::platform::spawn_local(async move {
                let mut removed = 0;
                for participant in &participants {
                    match api::remove_participant(program, *participant).await {
                        Ok(()) => removed += 1,
                        Err(e) => {
                            message.set(Some(e.message()));
                            break;
                        }
                    }
                }
                if removed == participants.len() {
                    message.set(Some(format!("Removed {removed} mentees from the program.")));
                }
                on_change.emit(());
            });
        })
    };
    let toggle = |m: &UnpairedMentee| {
        let (selected, person, participant) = (selected.clone(), m.person_id, m.participant_id);
        Callback::from(move |e: Event| {
            let mut now = (*selected).clone();
            if e.target_unchecked_into::<HtmlInputElement>().checked() {
                now.insert(person, participant);
            } else {
                now.remove(&person);
            }
            selected.set(now);
        })
    };
    let toggle_all = {
        let (selected, list) = (selected.clone(), list.clone());
        Callback::from(move |e: Event| {
            let on = e.target_unchecked_into::<HtmlInputElement>().checked();
            selected.set(match (&*list, on) {
                (Load::Loaded(items), true) => items.iter().map(|m| (m.person_id, m.participant_id)).collect(),
                _ => Default::default(),
            });
        })
    };
    let count = selected.len();
    html! {
        <section class="card stack" aria-label="Unpaired mentees">
            <div class="bar">
                <h2>{ "Unpaired mentees" }</h2>
                <button onclick={invite_all}>{ "Invite all" }</button>
            </div>
            if let Some(text) = &*message { <p class="ok" role="status">{ text.clone() }</p> }
            if let Some(p) = &*preview {
                <div class="card confirm" role="alertdialog" aria-label="Invite all">
                    <p>{ format!("{} invitations will go out.", p.would_send) }
                        if p.skipped_recently_invited > 0 { { format!(" {} were invited in the last day and are skipped.", p.skipped_recently_invited) } }</p>
                    if let Some(email) = &p.email {
                        <p><strong>{ email.subject.clone() }</strong></p>
                        <pre class="email-preview">{ email.text.clone() }</pre>
                    }
                    <div class="actions">
                        <button disabled={p.would_send == 0} onclick={send}>{ "Send invitations" }</button>
                        <button class="secondary" onclick={let p = preview.clone(); Callback::from(move |_| p.set(None))}>{ "Cancel" }</button>
                    </div>
                </div>
            }
            <div class="tabs" role="tablist">
                { for TABS.iter().map(|(value, text)| html! {
                    <button role="tab" class={classes!((*tab == *value).then_some("active"))} aria-selected={(*tab == *value).to_string()}
                        onclick={let (t, v) = (tab.clone(), *value); Callback::from(move |_| t.set(v))}>{ *text }</button>
                }) }
            </div>
            {
                match &*list {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(items) if items.is_empty() => html! { <p class="empty">{ "Nobody here." }</p> },
                    Load::Loaded(items) => html! {
                        <>
                            <div class="actions" role="toolbar" aria-label="With the selected mentees">
                                <span>{ format!("{count} selected") }</span>
                                <button class="secondary" disabled={count == 0} onclick={invite_selected}>
                                    { if *tab == "not_invited" { "Invite selected" } else { "Remind selected" } }
                                </button>
                                <button class="danger" disabled={count == 0} onclick={remove_selected}>{ "Remove selected from program" }</button>
                            </div>
                            <table class="list" aria-label="Mentees">
                                <thead><tr>
                                    <th scope="col"><input type="checkbox" aria-label="Select all" checked={count > 0 && count == items.len()} onchange={toggle_all} /></th>
                                    <th scope="col">{ "Mentee" }</th><th scope="col">{ "Email" }</th><th scope="col">{ "Requested" }</th>
                                </tr></thead>
                                <tbody>
                                    { for items.iter().map(|m| html! {
                                        <tr>
                                            <td><input type="checkbox" aria-label={format!("Select {}", m.name)} checked={selected.contains_key(&m.person_id)} onchange={toggle(m)} /></td>
                                            <td>{ m.name.clone() }</td><td>{ m.email.clone() }</td><td>{ m.requested_mentor.clone().unwrap_or_default() }</td>
                                        </tr>
                                    }) }
                                </tbody>
                            </table>
                        </>
                    },
                }
            }
        </section>
    }
}

fn status_text(s: RequestStatus) -> &'static str {
    match s {
        RequestStatus::Open => "Waiting",
        RequestStatus::Approved => "Approved",
        RequestStatus::Declined => "Declined",
        RequestStatus::Expired => "Expired",
        RequestStatus::Withdrawn => "Withdrawn",
    }
}

#[function_component(Requests)]
fn requests(props: &SectionProps) -> Html {
    let program = props.program;
    let session = use_context::<Session>().expect("inside the shell");
    let zone = session.me.organization.time_zone.clone();
    let list = use_state(|| Load::<Vec<MentorRequest>>::Loading);
    {
        let list = list.clone();
        use_effect_with((program, props.reload), move |(program, _)| {
            let program = *program;
            yew::platform::spawn_local(async move {
                list.set(match api::mentor_requests(program).await {
                    Ok(page) => Load::Loaded(page.items),
                    Err(e) => Load::Failed(e),
                });
            });
        });
    }
    html! {
        <section class="card stack" aria-label="Requests">
            <h2>{ "Requests" }</h2>
            {
                match &*list {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(items) if items.is_empty() => html! { <p class="empty">{ "No requests yet." }</p> },
                    Load::Loaded(items) => html! {
                        <table class="list">
                            <thead><tr><th scope="col">{ "Mentee" }</th><th scope="col">{ "Mentor" }</th><th scope="col">{ "State" }</th><th scope="col">{ "Expires" }</th></tr></thead>
                            <tbody>
                                { for items.iter().map(|r| html! {
                                    <tr>
                                        <td>{ r.mentee_name.clone() }</td><td>{ r.mentor_name.clone() }</td>
                                        <td>{ status_text(r.status) }</td>
                                        <td>{ r.expires_at.filter(|_| r.status == RequestStatus::Open).map(|t| local_time(&t, &zone)).unwrap_or_default() }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    },
                }
            }
        </section>
    }
}

#[function_component(Pairings)]
fn pairings(props: &SectionProps) -> Html {
    let program = props.program;
    let session = use_context::<Session>().expect("inside the shell");
    let zone = session.me.organization.time_zone.clone();
    let list = use_state(|| Load::<Vec<Pairing>>::Loading);
    let ending = use_state(|| None::<Pairing>);
    let reason = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    {
        let list = list.clone();
        use_effect_with((program, props.reload), move |(program, _)| {
            let program = *program;
            yew::platform::spawn_local(async move {
                list.set(match api::pairings(program).await {
                    Ok(page) => Load::Loaded(page.items),
                    Err(e) => Load::Failed(e),
                });
            });
        });
    }
    let end = {
        let (ending, reason, error, on_change) =
            (ending.clone(), reason.clone(), error.clone(), props.on_change.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(p) = (*ending).clone() else { return };
            let input = EndPairing {
                reason: (*reason).clone(),
            };
            let (ending, reason, error, on_change) = (ending.clone(), reason.clone(), error.clone(), on_change.clone());
            yew::platform::spawn_local(async move {
                match api::end_pairing(p.program_id, p.id, &input).await {
                    Ok(_) => {
                        ending.set(None);
                        reason.set(String::new());
                        error.set(None);
                        on_change.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    html! {
        <section class="card stack" aria-label="Active pairings">
            <h2>{ "Active pairings" }</h2>
            if let Some(p) = &*ending {
                <form class="card confirm stack" onsubmit={end} novalidate=true aria-label="End pairing">
                    <p>{ format!("End the pairing of {} and {}? The mentor's place frees up.", p.mentee_name, p.mentor_name) }</p>
                    <TextField id="end-reason" label="Reason" value={(*reason).clone()}
                        oninput={let r = reason.clone(); Callback::from(move |v| r.set(v))}
                        error={(*error).as_ref().and_then(|e| e.field("reason"))} />
                    <div class="actions">
                        <button type="submit" class="danger">{ "End pairing" }</button>
                        <button type="button" class="secondary" onclick={let e = ending.clone(); Callback::from(move |_| e.set(None))}>{ "Keep it" }</button>
                    </div>
                </form>
            }
            {
                match &*list {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(items) if items.is_empty() => html! { <p class="empty">{ "No active pairings." }</p> },
                    Load::Loaded(items) => html! {
                        <table class="list" aria-label="Pairings">
                            <thead><tr><th scope="col">{ "Mentee" }</th><th scope="col">{ "Mentor" }</th><th scope="col">{ "Since" }</th><th scope="col"><span class="visually-hidden">{ "Actions" }</span></th></tr></thead>
                            <tbody>
                                { for items.iter().map(|p| html! {
                                    <tr>
                                        <td>{ p.mentee_name.clone() }</td><td>{ p.mentor_name.clone() }</td>
                                        <td>{ local_time(&p.created_at, &zone) }</td>
                                        <td class="actions"><button class="danger" aria-label={format!("End {} and {}", p.mentee_name, p.mentor_name)}
                                            onclick={let (e, p) = (ending.clone(), p.clone()); Callback::from(move |_| e.set(Some(p.clone())))}>{ "End" }</button></td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    },
                }
            }
        </section>
    }
}

/// Active pairings at the end of each week, as SVG bars (started and ended in each bar's title).
fn weekly_chart(weeks: &[HealthWeek]) -> Html {
    const WIDTH: f64 = 480.0;
    const HEIGHT: f64 = 140.0;
    const TOP: f64 = 16.0;
    let most = weeks.iter().map(|w| w.active_pairings).max().unwrap_or(0).max(1) as f64;
    let slot = WIDTH / weeks.len().max(1) as f64;
    html! {
        <figure class="chart">
            <svg viewBox={format!("0 0 {WIDTH} {}", HEIGHT + 18.0)} role="img" aria-label="Active pairings per week">
                { for weeks.iter().enumerate().map(|(i, w)| {
                    let h = (HEIGHT - TOP) * w.active_pairings as f64 / most;
                    let x = i as f64 * slot + slot * 0.15;
                    let title = format!("Week of {}: {} active, {} started, {} ended; {} requests, {} expired; {} sessions",
                        w.week_start.format("%-d %b"), w.active_pairings, w.pairings_started, w.pairings_ended,
                        w.requests_made, w.requests_expired, w.sessions_completed);
                    html! {
                        <g>
                            <title>{ title }</title>
                            <rect x={format!("{x:.1}")} y={format!("{:.1}", HEIGHT - h)} width={format!("{:.1}", slot * 0.7)}
                                height={format!("{h:.1}")} class="bar" />
                            <text x={format!("{:.1}", x + slot * 0.35)} y={format!("{:.1}", HEIGHT - h - 3.0)} text-anchor="middle" class="value">
                                { w.active_pairings }
                            </text>
                            <text x={format!("{:.1}", x + slot * 0.35)} y={format!("{:.1}", HEIGHT + 14.0)} text-anchor="middle" class="label">
                                { w.week_start.format("%-d %b").to_string() }
                            </text>
                        </g>
                    }
                }) }
            </svg>
            <figcaption>{ "Active pairings at the end of each week (weeks start on Monday)" }</figcaption>
        </figure>
    }
}

fn health_text(s: PairingHealthStatus) -> &'static str {
    match s {
        PairingHealthStatus::TooEarly => "Too early to tell",
        PairingHealthStatus::OnTrack => "On track",
        PairingHealthStatus::NeedsCheckIn => "Needs a check-in",
    }
}

#[function_component(HealthSection)]
fn health_section(props: &SectionProps) -> Html {
    let program = props.program;
    let session = use_context::<Session>().expect("inside the shell");
    let zone = session.me.organization.time_zone.clone();
    let health = use_state(|| Load::<PairingHealth>::Loading);
    {
        let health = health.clone();
        use_effect_with((program, props.reload), move |(program, _)| {
            let program = *program;
            yew::platform::spawn_local(async move {
                health.set(match api::pairing_health(program).await {
                    Ok(h) => Load::Loaded(h),
                    Err(e) => Load::Failed(e),
                });
            });
        });
    }
    html! {
        <section class="card stack" aria-label="Health">
            <h2>{ "Health" }</h2>
            {
                health.view(|h| html! {
                        <>
                            <dl class="counts">
                                <dt>{ "Active pairings" }</dt><dd>{ h.active_pairings }</dd>
                                <dt>{ "On track" }</dt><dd>{ h.on_track }</dd>
                                <dt>{ "Need a check-in" }</dt><dd>{ h.needs_check_in }</dd>
                                <dt>{ "Too early to tell" }</dt><dd>{ h.too_early }</dd>
                                <dt>{ "Open requests" }</dt><dd>{ h.open_requests }</dd>
                                <dt>{ "Expired requests" }</dt><dd>{ h.expired_requests }</dd>
                                <dt>{ "Mentors at capacity" }</dt><dd>{ h.mentors_at_capacity }</dd>
                                <dt>{ "Sessions completed" }</dt><dd>{ h.sessions_completed }</dd>
                            </dl>
                            { weekly_chart(&h.weekly) }
                            if !h.pairings.is_empty() {
                                <table class="list" aria-label="Pairing health">
                                    <thead><tr><th scope="col">{ "Pair" }</th><th scope="col">{ "Health" }</th><th scope="col">{ "Last activity" }</th><th scope="col">{ "Sessions" }</th></tr></thead>
                                    <tbody>
                                        { for h.pairings.iter().map(|p| html! {
                                            <tr>
                                                <td>{ format!("{} & {}", p.mentee_name, p.mentor_name) }</td>
                                                <td>{ health_text(p.status) }</td>
                                                <td>{ p.last_activity_at.map(|t| local_time(&t, &zone)).unwrap_or_else(|| "None yet".into()) }</td>
                                                <td>{ p.sessions_completed }</td>
                                            </tr>
                                        }) }
                                    </tbody>
                                </table>
                            }
                        </>
                    })
            }
        </section>
    }
}

/// Every mentor with their load; an admin sets a mentor's own capacity or clears it (the
/// program's then applies).
#[function_component(Mentors)]
fn mentors(props: &SectionProps) -> Html {
    let program = props.program;
    let list = use_state(|| Load::<Vec<AvailableMentor>>::Loading);
    let drafts = use_state(std::collections::HashMap::<Uuid, String>::new);
    let message = use_state(|| None::<String>);
    let error = use_state(|| None::<(Uuid, ApiError)>);
    let reload = use_state(|| 0u32);
    {
        let list = list.clone();
        use_effect_with((program, props.reload, *reload), move |(program, _, _)| {
            let program = *program;
            yew::platform::spawn_local(async move {
                list.set(match api::all_mentors(program).await {
                    Ok(l) => Load::Loaded(l.items),
                    Err(e) => Load::Failed(e),
                });
            });
        });
    }
    let save = |m: &AvailableMentor| {
        let (drafts, message, error, reload) = (drafts.clone(), message.clone(), error.clone(), reload.clone());
        let (mentor, name, current) = (m.person_id, m.name.clone(), m.own_capacity);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let text = drafts
                .get(&mentor)
                .cloned()
                .unwrap_or_else(|| current.map(|c| c.to_string()).unwrap_or_default());
            let capacity = match text.trim() {
                "" => None,
                t => match t.parse() {
                    Ok(c) => Some(c),
                    Err(_) => {
                        message.set(Some(format!(
                            "{name}: a capacity is a whole number, or empty for the program's."
                        )));
                        return;
                    }
                },
            };
            let (message, error, reload, name) = (message.clone(), error.clone(), reload.clone(), name.clone());
            yew::platform::spawn_local(async move {
                match api::set_mentor_capacity(program, mentor, &SetMentorCapacity { capacity }).await {
                    Ok(c) => {
                        error.set(None);
                        message.set(Some(format!("{name} takes up to {} mentees.", c.capacity)));
                        reload.set(*reload + 1);
                    }
                    Err(e) => {
                        message.set(None);
                        error.set(Some((mentor, e)));
                    }
                }
            });
        })
    };
    html! {
        <section class="card stack" aria-label="Mentors">
            <h2>{ "Mentors" }</h2>
            if let Some(m) = &*message { <p class="ok" role="status">{ m }</p> }
            {
                match &*list {
                    Load::Loading => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
                    Load::Failed(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
                    Load::Loaded(items) if items.is_empty() => html! { <p class="empty">{ "No mentors yet." }</p> },
                    Load::Loaded(items) => html! {
                        <table class="list" aria-label="Mentors">
                            <thead><tr><th scope="col">{ "Mentor" }</th><th scope="col">{ "Mentees" }</th><th scope="col">{ "Own capacity" }</th></tr></thead>
                            <tbody>
                                { for items.iter().map(|m| {
                                    let id = format!("capacity-{}", m.person_id);
                                    let value = drafts.get(&m.person_id).cloned()
                                        .unwrap_or_else(|| m.own_capacity.map(|c| c.to_string()).unwrap_or_default());
                                    let field_error = (*error).as_ref().filter(|(who, _)| *who == m.person_id)
                                        .and_then(|(_, e)| e.field("capacity"));
                                    html! {
                                        <tr>
                                            <td>{ m.name.clone() }</td>
                                            <td>{ format!("{} of {}", m.active_pairings, m.capacity) }</td>
                                            <td>
                                                <form class="inline" onsubmit={save(m)} novalidate=true>
                                                    <TextField id={id} label={format!("Capacity of {}", m.name)} kind="number" value={value}
                                                        hint={AttrValue::from("Empty: the program's")}
                                                        oninput={let (d, who) = (drafts.clone(), m.person_id); Callback::from(move |v: String| {
                                                            let mut now = (*d).clone();
                                                            now.insert(who, v);
                                                            d.set(now);
                                                        })}
                                                        error={field_error} />
                                                    <button type="submit" class="secondary">{ "Set" }</button>
                                                </form>
                                            </td>
                                        </tr>
                                    }
                                }) }
                            </tbody>
                        </table>
                    },
                }
            }
        </section>
    }
}
