//! Auto-pair for admin-led programs: the scoring rules (criteria with weights and hard
//! constraints), then a proposal to inspect, lock or remove pairs from, re-run and confirm.
//! Nothing is paired and nobody is emailed before "Confirm".

use cohort_api_types::{
    AdjustProposedPair, AutoPairProposal, AutoPairRules, ConfirmAutoPair, Criterion, CriterionRule, CriterionSource,
    Program, ProposedPair, ProposedPairAction, RunAutoPair,
};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::Route;
use cohort_ui::components::field::{SelectField, TextField};
use cohort_ui::state::Load;

#[derive(Properties, PartialEq)]
pub struct AutoPairProps {
    pub id: Uuid,
}

#[function_component(AutoPairPage)]
pub fn auto_pair_page(props: &AutoPairProps) -> Html {
    let id = props.id;
    let program = use_state(|| Load::<Program>::Loading);
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
    html! {
        <>
            <div class="bar">
                <h1>{ "Auto-pair" }</h1>
                <Link<Route> to={Route::ProgramPairing { id }}>{ "Back to pairing" }</Link<Route>>
            </div>
            if let Load::Loaded(p) = &*program {
                <p class="hint">{ format!("Pairs every unpaired mentee of {} at once, with the best total score the rules allow. Set the program to \"Admins pair\" first.", p.name) }</p>
            }
            <RulesSection program={id} />
            <ProposalSection program={id} />
        </>
    }
}

#[derive(Properties, PartialEq)]
struct SectionProps {
    program: Uuid,
}

const SOURCES: [(CriterionSource, &str, &str); 2] = [
    (CriterionSource::Attribute, "attribute", "Profile attribute"),
    (CriterionSource::Answer, "answer", "Questionnaire answer"),
];

const RULES: [(CriterionRule, &str, &str); 4] = [
    (CriterionRule::Similar, "similar", "Similar (points)"),
    (CriterionRule::Different, "different", "Different (points)"),
    (CriterionRule::MustMatch, "must_match", "Must match"),
    (CriterionRule::MustDiffer, "must_differ", "Must differ"),
];

fn options<T>(list: &[(T, &str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(_, v, t)| ((*v).to_owned(), (*t).to_owned()))
        .collect()
}

fn value_of<T: PartialEq + Copy>(list: &[(T, &'static str, &str)], x: T) -> &'static str {
    list.iter().find(|(y, _, _)| *y == x).map(|(_, v, _)| *v).unwrap_or("")
}

fn parse<T: Copy>(list: &[(T, &str, &str)], v: &str) -> Option<T> {
    list.iter().find(|(_, value, _)| *value == v).map(|(x, _, _)| *x)
}

#[function_component(RulesSection)]
fn rules_section(props: &SectionProps) -> Html {
    let program = props.program;
    let draft = use_state(|| None::<AutoPairRules>);
    let error = use_state(|| None::<ApiError>);
    let message = use_state(|| None::<String>);
    {
        let (draft, error) = (draft.clone(), error.clone());
        use_effect_with(program, move |program| {
            let program = *program;
            yew::platform::spawn_local(async move {
                match api::auto_pair_rules(program).await {
                    Ok(r) => draft.set(Some(r)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    let Some(rules) = (*draft).clone() else {
        return match &*error {
            Some(e) => html! { <p class="error" role="alert">{ e.message() }</p> },
            None => html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
        };
    };
    let edit = |n: usize, f: fn(&mut Criterion, String)| {
        let draft = draft.clone();
        Callback::from(move |v: String| {
            if let Some(mut r) = (*draft).clone() {
                f(&mut r.criteria[n], v);
                draft.set(Some(r));
            }
        })
    };
    let add = {
        let draft = draft.clone();
        Callback::from(move |_| {
            if let Some(mut r) = (*draft).clone() {
                r.criteria.push(Criterion {
                    key: String::new(),
                    source: CriterionSource::Attribute,
                    rule: CriterionRule::Similar,
                    weight: 10,
                });
                draft.set(Some(r));
            }
        })
    };
    let onsubmit = {
        let (draft, error, message) = (draft.clone(), error.clone(), message.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(r) = (*draft).clone() else { return };
            let (draft, error, message) = (draft.clone(), error.clone(), message.clone());
            yew::platform::spawn_local(async move {
                match api::save_auto_pair_rules(program, &r).await {
                    Ok(saved) => {
                        error.set(None);
                        message.set(Some("Rules saved. Run auto-pair to see their effect.".into()));
                        draft.set(Some(saved));
                    }
                    Err(e) => {
                        message.set(None);
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let field = |f: &str| (*error).as_ref().and_then(|e| e.field(f));
    html! {
        <form class="card stack" aria-label="Rules" {onsubmit} novalidate=true>
            <h2>{ "Rules" }</h2>
            if rules.criteria.is_empty() {
                <p class="empty">{ "No criteria: every allowed pair scores 0." }</p>
            }
            { for rules.criteria.iter().enumerate().map(|(n, c)| html! {
                <fieldset class="row" aria-label={format!("Criterion {}", n + 1)}>
                    <TextField id={format!("criterion-{n}-key")} label="Attribute or question" value={c.key.clone()}
                        oninput={edit(n, |c, v| c.key = v)} error={field(&format!("criteria[{n}].key"))} />
                    <SelectField id={format!("criterion-{n}-source")} label="From" value={value_of(&SOURCES, c.source)}
                        options={options(&SOURCES)}
                        onchange={edit(n, |c, v| if let Some(s) = parse(&SOURCES, &v) { c.source = s })} />
                    <SelectField id={format!("criterion-{n}-rule")} label="Rule" value={value_of(&RULES, c.rule)}
                        options={options(&RULES)}
                        onchange={edit(n, |c, v| if let Some(r) = parse(&RULES, &v) { c.rule = r })} />
                    if matches!(c.rule, CriterionRule::Similar | CriterionRule::Different) {
                        <TextField id={format!("criterion-{n}-weight")} label="Weight (0–100)" kind="number" value={c.weight.to_string()}
                            oninput={edit(n, |c, v| c.weight = v.parse().unwrap_or(0))} error={field(&format!("criteria[{n}].weight"))} />
                    }
                    <button type="button" class="secondary" aria-label={format!("Remove criterion {}", n + 1)}
                        onclick={let d = draft.clone(); Callback::from(move |_| if let Some(mut r) = (*d).clone() { r.criteria.remove(n); d.set(Some(r)); })}>
                        { "Remove" }
                    </button>
                </fieldset>
            }) }
            <TextField id="manager-attribute" label="Manager attribute (holds the manager's email; nobody is paired within their reporting line)"
                value={rules.manager_attribute.clone().unwrap_or_default()}
                oninput={let d = draft.clone(); Callback::from(move |v: String| if let Some(mut r) = (*d).clone() {
                    r.manager_attribute = Some(v).filter(|v| !v.trim().is_empty());
                    d.set(Some(r));
                })}
                error={field("manager_attribute")} />
            if !rules.excluded_pairs.is_empty() {
                <p class="hint">{ format!("{} excluded pairs.", rules.excluded_pairs.len()) }</p>
            }
            if let Some(m) = &*message { <p class="success" role="status">{ m }</p> }
            if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
            <div class="actions">
                <button type="button" class="secondary" onclick={add}>{ "Add criterion" }</button>
                <button type="submit">{ "Save rules" }</button>
            </div>
        </form>
    }
}

fn reasons(pair: &ProposedPair) -> String {
    if pair.reasons.is_empty() {
        return "—".into();
    }
    pair.reasons
        .iter()
        .map(|r| {
            if r.shared.is_empty() {
                format!("{} +{}", r.key, r.points)
            } else {
                format!("{}: {} +{}", r.key, r.shared.join(", "), r.points)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[function_component(ProposalSection)]
fn proposal_section(props: &SectionProps) -> Html {
    let program = props.program;
    let proposal = use_state(|| None::<AutoPairProposal>);
    let error = use_state(|| None::<ApiError>);
    let message = use_state(|| None::<String>);
    let busy = use_state(|| false);
    {
        let proposal = proposal.clone();
        use_effect_with(program, move |program| {
            let program = *program;
            yew::platform::spawn_local(async move {
                // No proposal waiting is the usual start, not an error.
                if let Ok(p) = api::auto_pair_proposal(program).await {
                    proposal.set(Some(p));
                }
            });
        });
    }
    // Every call returns the new proposal (or none) and clears the other messages.
    let finish = {
        let (proposal, error, message, busy) = (proposal.clone(), error.clone(), message.clone(), busy.clone());
        move |result: Result<Option<AutoPairProposal>, ApiError>, done: Option<String>| {
            busy.set(false);
            match result {
                Ok(p) => {
                    proposal.set(p);
                    error.set(None);
                    message.set(done);
                }
                Err(e) => {
                    message.set(None);
                    error.set(Some(e));
                }
            }
        }
    };
    let run = {
        let (finish, busy) = (finish.clone(), busy.clone());
        Callback::from(move |_| {
            busy.set(true);
            let finish = finish.clone();
            yew::platform::spawn_local(async move {
                let result = api::run_auto_pair(
                    program,
                    &RunAutoPair {
                        keep_locked: Some(true),
                    },
                )
                .await;
                finish(result.map(Some), None);
            });
        })
    };
    let adjust = {
        let (finish, busy) = (finish.clone(), busy.clone());
        move |mentee: Uuid, action: ProposedPairAction| {
            let (finish, busy) = (finish.clone(), busy.clone());
            Callback::from(move |_| {
                busy.set(true);
                let finish = finish.clone();
                yew::platform::spawn_local(async move {
                    let result = api::adjust_proposed_pair(program, mentee, &AdjustProposedPair { action }).await;
                    finish(result.map(Some), None);
                });
            })
        }
    };
    let discard = {
        let finish = finish.clone();
        Callback::from(move |_| {
            let finish = finish.clone();
            yew::platform::spawn_local(async move {
                let result = api::discard_auto_pair(program).await;
                finish(result.map(|_| None), Some("Proposal discarded.".into()));
            });
        })
    };
    let confirm = {
        let (finish, proposal, busy) = (finish.clone(), proposal.clone(), busy.clone());
        Callback::from(move |_| {
            let Some(p) = (*proposal).clone() else { return };
            busy.set(true);
            let finish = finish.clone();
            yew::platform::spawn_local(async move {
                match api::confirm_auto_pair(program, &ConfirmAutoPair { proposal_id: p.id }).await {
                    Ok(done) => finish(
                        Ok(None),
                        Some(format!(
                            "{} pairings created; each person gets the \"Mentorship assignment\" email.",
                            done.pairings_created
                        )),
                    ),
                    Err(e) => finish(Err(e), None),
                }
            });
        })
    };
    html! {
        <section class="card stack" aria-label="Proposal">
            <h2>{ "Proposal" }</h2>
            if let Some(m) = &*message { <p class="success" role="status">{ m }</p> }
            if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
            <div class="actions">
                <button onclick={run} disabled={*busy}>{ if proposal.is_some() { "Re-run auto-pair" } else { "Run auto-pair" } }</button>
            </div>
            {
                match &*proposal {
                    None => html! { <p class="empty">{ "No proposal yet. Nothing is paired until you confirm one." }</p> },
                    Some(p) => html! {
                        <>
                            <p class="summary">
                                { format!("{} of {} unpaired mentees paired, total score {}.", p.pairs.len(), p.mentees_considered, p.total_score) }
                                if p.certificate.verified {
                                    <span class="badge ok" title={format!("Dual prices check out: primal {} = dual {}", p.certificate.primal, p.certificate.dual)}>{ " Optimal (certificate verified)" }</span>
                                }
                            </p>
                            if !p.pairs.is_empty() {
                                <table class="list" aria-label="Proposed pairs">
                                    <thead><tr><th scope="col">{ "Mentee" }</th><th scope="col">{ "Mentor" }</th><th scope="col">{ "Score" }</th><th scope="col">{ "Why" }</th><th scope="col"><span class="visually-hidden">{ "Actions" }</span></th></tr></thead>
                                    <tbody>
                                        { for p.pairs.iter().map(|pair| html! {
                                            <tr class={classes!(pair.locked.then_some("locked"))}>
                                                <td>{ pair.mentee_name.clone() }</td>
                                                <td>{ pair.mentor_name.clone() }{ if pair.locked { " 🔒" } else { "" } }</td>
                                                <td>{ pair.score }</td>
                                                <td>{ reasons(pair) }</td>
                                                <td class="actions">
                                                    if pair.locked {
                                                        <button class="secondary" disabled={*busy} aria-label={format!("Unlock {}", pair.mentee_name)}
                                                            onclick={adjust(pair.mentee_id, ProposedPairAction::Unlock)}>{ "Unlock" }</button>
                                                    } else {
                                                        <button class="secondary" disabled={*busy} aria-label={format!("Lock {}", pair.mentee_name)}
                                                            onclick={adjust(pair.mentee_id, ProposedPairAction::Lock)}>{ "Lock" }</button>
                                                    }
                                                    <button class="danger" disabled={*busy} aria-label={format!("Remove {} and {}", pair.mentee_name, pair.mentor_name)}
                                                        onclick={adjust(pair.mentee_id, ProposedPairAction::Remove)}>{ "Remove" }</button>
                                                </td>
                                            </tr>
                                        }) }
                                    </tbody>
                                </table>
                            }
                            if !p.unpaired.is_empty() {
                                <p aria-label="Left unpaired">{ format!("Left unpaired (no allowed mentor with room): {}", p.unpaired.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")) }</p>
                            }
                            <div class="actions">
                                <button onclick={confirm} disabled={*busy || p.pairs.is_empty()}>{ format!("Confirm {} pairings", p.pairs.len()) }</button>
                                <button class="secondary" onclick={discard}>{ "Discard" }</button>
                            </div>
                            <p class="hint">{ format!("Confirming emails \"Mentorship assignment\" to {} people and nothing else.", p.pairs.len() * 2) }</p>
                        </>
                    },
                }
            }
        </section>
    }
}
