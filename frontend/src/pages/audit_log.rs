//! The audit log: every admin write, newest first, filtered by action, object, source or actor.

use cohort_api_types::AuditEntry;
use yew::prelude::*;

use crate::api::{self, ApiError, AuditFilter};
use cohort_ui::components::field::{SelectField, TextField};
use cohort_ui::state::{local_time, Session};

#[derive(Clone, PartialEq, Default)]
struct Listing {
    items: Vec<AuditEntry>,
    next: Option<String>,
    loading: bool,
    error: Option<ApiError>,
}

fn source_text(source: &str) -> &'static str {
    match source {
        "dashboard" => "Dashboard",
        "api_key" => "API",
        _ => "System",
    }
}

/// `{"name": "Spring"}` → `name: "Spring"`, one field per line.
fn fields(value: &Option<serde_json::Value>) -> Html {
    match value {
        Some(serde_json::Value::Object(map)) if !map.is_empty() => html! {
            <ul class="changes">
                { for map.iter().map(|(k, v)| html! { <li><code>{ k.clone() }</code>{ format!(": {v}") }</li> }) }
            </ul>
        },
        Some(serde_json::Value::Object(_)) | None => html! { <span class="muted">{ "—" }</span> },
        Some(other) => html! { <code>{ other.to_string() }</code> },
    }
}

#[function_component(AuditLog)]
pub fn audit_log() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let draft = use_state(AuditFilter::default);
    let applied = use_state(AuditFilter::default);
    let listing = use_state(|| Listing {
        loading: true,
        ..Default::default()
    });
    let load = {
        let listing = listing.clone();
        move |filter: AuditFilter, cursor: Option<String>, mut kept: Vec<AuditEntry>| {
            let listing = listing.clone();
            listing.set(Listing {
                items: kept.clone(),
                loading: true,
                ..Default::default()
            });
            yew::platform::spawn_local(async move {
                match api::audit_log(&filter, cursor.as_deref()).await {
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
        use_effect_with((*applied).clone(), move |filter| load(filter.clone(), None, Vec::new()));
    }
    let more = {
        let (load, listing, applied) = (load.clone(), listing.clone(), applied.clone());
        Callback::from(move |_| load((*applied).clone(), listing.next.clone(), listing.items.clone()))
    };
    let set = |f: fn(&mut AuditFilter, String)| {
        let draft = draft.clone();
        Callback::from(move |value: String| {
            let mut next = (*draft).clone();
            f(&mut next, value);
            draft.set(next);
        })
    };
    let apply = {
        let (draft, applied) = (draft.clone(), applied.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            applied.set((*draft).clone());
        })
    };
    let clear = {
        let (draft, applied) = (draft.clone(), applied.clone());
        Callback::from(move |_| {
            draft.set(AuditFilter::default());
            applied.set(AuditFilter::default());
        })
    };
    let sources = [
        ("", "Any"),
        ("dashboard", "Dashboard"),
        ("api_key", "API"),
        ("system", "System"),
    ]
    .map(|(v, t)| (v.to_owned(), t.to_owned()))
    .to_vec();
    let zone = session.me.organization.time_zone.clone();
    html! {
        <>
            <h1>{ "Audit log" }</h1>
            <p class="hint">{ format!(
                "Every change made by an admin, an API key or Cohort itself. Entries are kept {} days.",
                session.me.organization.audit_retention_days
            ) }</p>
            <form class="filters" onsubmit={apply} aria-label="Filter the audit log">
                <TextField id="audit-action" label="Action" value={draft.action.clone()}
                    oninput={set(|f, v| f.action = v)} hint="e.g. program.updated, or program. for every program change" />
                <TextField id="audit-object-type" label="Object type" value={draft.object_type.clone()}
                    oninput={set(|f, v| f.object_type = v)} />
                <TextField id="audit-object-id" label="Object id" value={draft.object_id.clone()}
                    oninput={set(|f, v| f.object_id = v)} />
                <TextField id="audit-actor" label="Actor (person id)" value={draft.actor.clone()}
                    oninput={set(|f, v| f.actor = v)} />
                <SelectField id="audit-source" label="Source" value={draft.source.clone()} options={sources}
                    onchange={set(|f, v| f.source = v)} />
                <div class="actions">
                    <button type="submit" id="audit-apply">{ "Filter" }</button>
                    <button type="button" class="secondary" onclick={clear}>{ "Clear" }</button>
                </div>
            </form>
            if let Some(e) = &listing.error { <p class="error" role="alert">{ e.message() }</p> }
            if listing.items.is_empty() && !listing.loading && listing.error.is_none() {
                <p class="empty">{ "No entries match." }</p>
            }
            if !listing.items.is_empty() {
                <table class="list audit">
                    <thead><tr>
                        <th scope="col">{ "When" }</th>
                        <th scope="col">{ "Source" }</th>
                        <th scope="col">{ "Action" }</th>
                        <th scope="col">{ "Object" }</th>
                        <th scope="col">{ "Before" }</th>
                        <th scope="col">{ "After" }</th>
                    </tr></thead>
                    <tbody>
                        { for listing.items.iter().map(|e| html! {
                            <tr class="audit-entry">
                                <td>{ local_time(&e.occurred_at, &zone) }</td>
                                <td>{ source_text(&e.source) }</td>
                                <td><code class="action">{ e.action.clone() }</code></td>
                                <td>{ format!("{} {}", e.object_type, e.object_id) }</td>
                                <td>{ fields(&e.before) }</td>
                                <td>{ fields(&e.after) }</td>
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
