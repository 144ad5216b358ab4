//! Organisation settings: name, time zone, holidays, labels.

use chrono::NaiveDate;
use cohort_api_types::{Labels, UpdateOrganization};
use yew::prelude::*;

use crate::api::{self, ApiError};
use cohort_ui::components::field::{SelectField, TextArea, TextField};
use cohort_ui::state::{time_zones, Session};

#[derive(Clone, PartialEq, Default)]
struct Form {
    name: String,
    time_zone: String,
    holidays: String,
    labels: [String; 4],
}

#[function_component(Settings)]
pub fn settings() -> Html {
    let session = use_context::<Session>().expect("inside the shell");
    let org = &session.me.organization;
    let form = {
        let org = org.clone();
        use_state(move || Form {
            name: org.name.clone(),
            time_zone: org.time_zone.clone(),
            holidays: org
                .holidays
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            labels: [
                org.labels.provider_singular.clone(),
                org.labels.provider_plural.clone(),
                org.labels.class_singular.clone(),
                org.labels.class_plural.clone(),
            ],
        })
    };
    let error = use_state(|| None::<ApiError>);
    let holiday_error = use_state(|| None::<String>);
    let saved = use_state(|| false);
    let busy = use_state(|| false);

    let set = |apply: fn(&mut Form, String)| {
        let (form, saved) = (form.clone(), saved.clone());
        Callback::from(move |value: String| {
            let mut next = (*form).clone();
            apply(&mut next, value);
            form.set(next);
            saved.set(false);
        })
    };
    let onsubmit = {
        let (form, error, holiday_error, saved, busy) = (
            form.clone(),
            error.clone(),
            holiday_error.clone(),
            saved.clone(),
            busy.clone(),
        );
        let set_organization = session.set_organization.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut holidays = Vec::new();
            for line in form.holidays.lines().map(str::trim).filter(|l| !l.is_empty()) {
                match line.parse::<NaiveDate>() {
                    Ok(day) => holidays.push(day),
                    Err(_) => {
                        holiday_error.set(Some(format!("\"{line}\" is not a date such as 2026-12-25")));
                        return;
                    }
                }
            }
            holiday_error.set(None);
            let [ps, pp, cs, cp] = form.labels.clone();
            let changes = UpdateOrganization {
                name: Some(form.name.clone()),
                time_zone: Some(form.time_zone.clone()),
                holidays: Some(holidays),
                labels: Some(Labels {
                    provider_singular: ps,
                    provider_plural: pp,
                    class_singular: cs,
                    class_plural: cp,
                }),
                audit_retention_days: None,
                ..Default::default()
            };
            let (error, saved, busy, set_organization) =
                (error.clone(), saved.clone(), busy.clone(), set_organization.clone());
            busy.set(true);
            yew::platform::spawn_local(async move {
                match api::update_organization(&changes).await {
                    Ok(org) => {
                        error.set(None);
                        saved.set(true);
                        set_organization.emit(org);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let field = |name: &str| (*error).as_ref().and_then(|e| e.field(name));
    let zones: Vec<(String, String)> = time_zones(&form.time_zone)
        .into_iter()
        .map(|z| (z.clone(), z))
        .collect();
    html! {
        <>
            <h1>{ "Organisation settings" }</h1>
            <form class="card stack" {onsubmit} novalidate=true>
                if let Some(e) = &*error { <p class="error" role="alert">{ e.message() }</p> }
                if *saved { <p class="ok" role="status">{ "Saved." }</p> }
                <TextField id="org-name" label="Name" value={form.name.clone()} required=true
                    oninput={set(|f, v| f.name = v)} error={field("name")} />
                <SelectField id="org-time-zone" label="Time zone" value={form.time_zone.clone()} options={zones}
                    onchange={set(|f, v| f.time_zone = v)} error={field("time_zone")} />
                <TextArea id="org-holidays" label="Holidays" value={form.holidays.clone()}
                    hint={AttrValue::from("One date per line (YYYY-MM-DD). Request expiry skips these days.")}
                    oninput={set(|f, v| f.holidays = v)}
                    error={(*holiday_error).clone().or_else(|| field("holidays"))} />
                <fieldset>
                    <legend>{ "Words your organisation uses" }</legend>
                    <div class="grid2">
                        <TextField id="label-provider-singular" label="Provider (one)" value={form.labels[0].clone()}
                            oninput={set(|f, v| f.labels[0] = v)} error={field("labels.provider_singular")} />
                        <TextField id="label-provider-plural" label="Providers (many)" value={form.labels[1].clone()}
                            oninput={set(|f, v| f.labels[1] = v)} error={field("labels.provider_plural")} />
                        <TextField id="label-class-singular" label="Class (one)" value={form.labels[2].clone()}
                            oninput={set(|f, v| f.labels[2] = v)} error={field("labels.class_singular")} />
                        <TextField id="label-class-plural" label="Classes (many)" value={form.labels[3].clone()}
                            oninput={set(|f, v| f.labels[3] = v)} error={field("labels.class_plural")} />
                    </div>
                </fieldset>
                <button type="submit" disabled={*busy}>{ if *busy { "Saving…" } else { "Save settings" } }</button>
            </form>
        </>
    }
}
