//! Import & export: pick a kind of file (and, for a program's participants, the program),
//! download its template, upload a file for a check (every problem by line and column, and what
//! would be created, updated or left alone), then apply it; and download exports of a program's
//! and the organisation's current data, bookings for a range of dates.

use cohort_api_types::{ImportAction, ImportReport, Program};
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError};
use cohort_ui::state::Load;

/// The kinds of file the page offers: (API name, what admins call it).
const IMPORT_KINDS: &[(&str, &str)] = &[
    ("participants", "Program participants"),
    ("services", "Courses (the organisation's services)"),
    ("providers", "Tutors (providers and their certifications)"),
    ("enrollments", "Course enrollments"),
];
/// Exports of the selected program's data.
const PROGRAM_EXPORTS: &[(&str, &str)] = &[
    ("participants", "Participants"),
    ("pairings", "Active pairings"),
    ("step-completions", "Step completions"),
];
/// Exports of the organisation's booking data (bookings have their own range of dates).
const ORGANIZATION_EXPORTS: &[(&str, &str)] = &[
    ("services", "Courses"),
    ("providers", "Tutors"),
    ("enrollments", "Course enrollments"),
];

/// Whether a kind of file belongs to a program (the others to the organisation).
fn needs_program(kind: &str) -> bool {
    kind == "participants"
}

fn hint(kind: &str) -> &'static str {
    match kind {
        "services" => {
            "Save the spreadsheet as CSV (UTF-8). Columns: name, course number (blank for a general \
            topic), description. Rows are matched by name and course number. The file is checked whole first; \
            applying it writes every row or none."
        }
        "providers" => {
            "Save the spreadsheet as CSV (UTF-8). Columns: email, name (needed for people new to the \
            organisation), bio, photo url (https), services. Services are separated by ; and written as \
            Name (Course number), e.g. Chemistry (CHEM 101); the name alone will do when no other service \
            shares it. Each tutor's certifications become exactly the services listed; a column left out \
            changes nothing. The file is checked whole first; applying it writes every row or none."
        }
        "enrollments" => {
            "Save the spreadsheet as CSV (UTF-8). Columns: email (a person of the organisation), service \
            (Name (Course number), e.g. Chemistry (CHEM 101); the name alone when no other service shares it). \
            Enrollments are only added: those the file leaves out stay. The file is checked whole first; \
            applying it writes every row or none."
        }
        _ => {
            "Save the spreadsheet as CSV (UTF-8). Columns: email, name, role (mentor or mentee); every other \
            column is a profile attribute (a; b for a list). The file is checked whole first; applying it \
            writes every row or none."
        }
    }
}

fn action_text(action: ImportAction) -> &'static str {
    match action {
        ImportAction::Create => "create",
        ImportAction::Update => "update",
        ImportAction::Unchanged => "unchanged",
    }
}

#[derive(Clone, PartialEq)]
enum Upload {
    Idle,
    Working,
    Checked(ImportReport),
    Applied(ImportReport),
    Failed(ApiError),
}

#[function_component(ImportsPage)]
pub fn imports_page() -> Html {
    let programs = use_state(|| Load::<Vec<Program>>::Loading);
    let program = use_state(|| None::<Uuid>);
    let kind = use_state(|| IMPORT_KINDS[0].0.to_owned());
    let file = use_state(|| None::<web_sys::File>);
    // Read at click time: a click right after choosing a file may come before the re-render.
    let file_input = use_node_ref();
    let upload = use_state(|| Upload::Idle);
    let message = use_state(|| None::<String>);
    let today = cohort_ui::state::now().date_naive();
    let bookings_from = use_state(|| today);
    let bookings_to = use_state(|| today + chrono::Days::new(30));
    {
        let (programs, program) = (programs.clone(), program.clone());
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                match api::programs(None, None).await {
                    Ok(page) => {
                        program.set(page.items.first().map(|p| p.id));
                        programs.set(Load::Loaded(page.items));
                    }
                    Err(e) => programs.set(Load::Failed(e)),
                }
            });
        });
    }
    let on_program = {
        let (program, upload) = (program.clone(), upload.clone());
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            program.set(select.value().parse().ok());
            upload.set(Upload::Idle);
        })
    };
    let on_kind = {
        let (kind, upload) = (kind.clone(), upload.clone());
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            kind.set(select.value());
            upload.set(Upload::Idle);
        })
    };
    let on_file = {
        let (file, upload) = (file.clone(), upload.clone());
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            file.set(input.files().and_then(|files| files.get(0)));
            upload.set(Upload::Idle);
        })
    };
    let invite = use_state(|| false);
    let send = {
        let (kind, program, file_input, upload) = (kind.clone(), program.clone(), file_input.clone(), upload.clone());
        let invite = *invite && needs_program(&kind);
        move |dry_run: bool| {
            let (kind, program, file_input, upload) = ((*kind).clone(), *program, file_input.clone(), upload.clone());
            Callback::from(move |_: MouseEvent| {
                let chosen = file_input
                    .cast::<web_sys::HtmlInputElement>()
                    .and_then(|input| input.files())
                    .and_then(|files| files.get(0));
                let Some(file) = chosen else {
                    return;
                };
                let program = if needs_program(&kind) {
                    let Some(program) = program else {
                        return;
                    };
                    Some(program)
                } else {
                    None
                };
                let (kind, upload) = (kind.clone(), upload.clone());
                upload.set(Upload::Working);
                yew::platform::spawn_local(async move {
                    upload.set(match api::import_file(&kind, program, &file, dry_run, invite).await {
                        Ok(report) if dry_run => Upload::Checked(report),
                        Ok(report) => Upload::Applied(report),
                        Err(e) => Upload::Failed(e),
                    });
                });
            })
        }
    };
    let download = {
        let message = message.clone();
        move |path: String, filename: String| {
            let message = message.clone();
            Callback::from(move |_: MouseEvent| {
                let (path, filename, message) = (path.clone(), filename.clone(), message.clone());
                yew::platform::spawn_local(async move {
                    match api::download(&path, &filename).await {
                        Ok(()) => message.set(Some(format!("Downloaded {filename}."))),
                        Err(e) => message.set(Some(e.message())),
                    }
                });
            })
        }
    };

    let programs_list = match &*programs {
        Load::Loading => return html! { <p class="loading" aria-busy="true">{ "Loading…" }</p> },
        Load::Failed(e) => return html! { <p class="error" role="alert">{ e.message() }</p> },
        Load::Loaded(list) => list.clone(),
    };
    let program_name = programs_list
        .iter()
        .find(|p| Some(p.id) == *program)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let for_program = needs_program(&kind);
    let ready = (program.is_some() || !for_program) && file.is_some() && *upload != Upload::Working;
    let can_apply = matches!(&*upload, Upload::Checked(r) if r.valid);
    let target = if for_program {
        program_name.clone()
    } else {
        "the organisation".to_owned()
    };
    let on_date = |state: UseStateHandle<chrono::NaiveDate>| {
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            if let Ok(date) = input.value().parse() {
                state.set(date);
            }
        })
    };
    let bookings_path = api::bookings_export_path(*bookings_from, *bookings_to);
    let bookings_file = format!("bookings-{}-to-{}.csv", *bookings_from, *bookings_to);
    html! {
        <section class="imports">
            <h1>{ "Import & export" }</h1>
            if programs_list.is_empty() {
                <p class="hint">{ "Program participants need a program: create one first." }</p>
            } else {
                <div class="form-row">
                    <label for="import-program">{ "Program" }</label>
                    <select id="import-program" onchange={on_program}>
                        { for programs_list.iter().map(|p| html! {
                            <option value={p.id.to_string()} selected={Some(p.id) == *program}>{ &p.name }</option>
                        }) }
                    </select>
                </div>
            }
            <h2>{ "Import" }</h2>
            <div class="form-row">
                <label for="import-kind">{ "File" }</label>
                <select id="import-kind" onchange={on_kind}>
                    { for IMPORT_KINDS.iter().map(|(value, text)| html! {
                        <option value={*value} selected={*value == *kind}>{ *text }</option>
                    }) }
                </select>
                <button type="button" class="secondary" id="download-template"
                    onclick={download(api::import_template_path(&kind), format!("{}-template.csv", *kind))}>
                    { "Download template" }
                </button>
            </div>
            <p class="hint">{ hint(&kind) }</p>
            <div class="form-row">
                <label for="import-file">{ "CSV file" }</label>
                <input type="file" id="import-file" ref={file_input} accept=".csv,.tsv,.txt,text/csv" onchange={on_file} />
                <button type="button" id="check-file" disabled={!ready} onclick={send(true)}>{ "Check file" }</button>
            </div>
            if for_program {
                <div class="form-row">
                    <input type="checkbox" id="import-invite" checked={*invite}
                        onchange={let invite = invite.clone(); Callback::from(move |_| invite.set(!*invite))} />
                    <label for="import-invite">{ "Invite the new people to set a password (an email with a link valid 7 days)" }</label>
                </div>
            }
            { report_view(&upload, can_apply, send(false), &target) }
            <h2>{ "Export" }</h2>
            <div class="form-row exports">
                { for PROGRAM_EXPORTS.iter().map(|(value, text)| {
                    let path = program.map(|p| api::export_path(value, Some(p))).unwrap_or_default();
                    html! {
                        <button type="button" class="secondary" id={format!("export-{value}")}
                            disabled={program.is_none()}
                            onclick={download(path, format!("{value}.csv"))}>
                            { format!("{text} CSV") }
                        </button>
                    }
                }) }
                { for ORGANIZATION_EXPORTS.iter().map(|(value, text)| html! {
                    <button type="button" class="secondary" id={format!("export-{value}")}
                        onclick={download(api::export_path(value, None), format!("{value}.csv"))}>
                        { format!("{text} CSV") }
                    </button>
                }) }
            </div>
            <div class="form-row exports">
                <label for="bookings-from">{ "Bookings from" }</label>
                <input type="date" id="bookings-from" value={bookings_from.to_string()}
                    onchange={on_date(bookings_from.clone())} />
                <label for="bookings-to">{ "to" }</label>
                <input type="date" id="bookings-to" value={bookings_to.to_string()}
                    onchange={on_date(bookings_to.clone())} />
                <button type="button" class="secondary" id="export-bookings"
                    onclick={download(bookings_path, bookings_file)}>
                    { "Bookings CSV" }
                </button>
            </div>
            <p class="hint">{ "Bookings starting on these dates (both included) in the organisation's time zone, with their times in it." }</p>
            if let Some(message) = &*message {
                <p class="hint" role="status">{ message }</p>
            }
        </section>
    }
}

fn report_view(upload: &Upload, can_apply: bool, apply: Callback<MouseEvent>, program: &str) -> Html {
    match upload {
        Upload::Idle => html! {},
        Upload::Working => html! { <p class="loading" aria-busy="true">{ "Reading the file…" }</p> },
        Upload::Failed(ApiError::Problem(problem)) if !problem.errors.is_empty() => html! {
            <div class="error" role="alert" id="import-failed">
                <p>{ problem.detail.clone().unwrap_or_else(|| problem.title.clone()) }</p>
                <ul>{ for problem.errors.iter().map(|e| html! { <li>{ format!("{}: {}", e.field, e.message) }</li> }) }</ul>
            </div>
        },
        Upload::Failed(e) => html! { <p class="error" role="alert" id="import-failed">{ e.message() }</p> },
        Upload::Applied(report) => html! {
            <div class="success" role="status" id="import-applied">
                <p>{ format!(
                    "Imported into {program}: {} created, {} updated, {} unchanged ({} new people).",
                    report.created, report.updated, report.unchanged, report.people_created
                ) }</p>
            </div>
        },
        Upload::Checked(report) => {
            let summary = format!(
                "{} rows: {} to create, {} to update, {} unchanged; {} new people; {} problems.",
                report.rows,
                report.created,
                report.updated,
                report.unchanged,
                report.people_created,
                report.error_count
            );
            html! {
                <div class="import-report" id="import-report">
                    <p class="summary" id="import-summary">{ summary }</p>
                    if !report.errors.is_empty() {
                        <table class="list errors" id="import-errors">
                            <caption>{ "Fix these in the spreadsheet, save, and check the file again." }</caption>
                            <thead><tr><th>{ "Line" }</th><th>{ "Column" }</th><th>{ "Value" }</th><th>{ "Problem" }</th></tr></thead>
                            <tbody>
                                { for report.errors.iter().map(|e| html! {
                                    <tr class="error" data-line={e.line.to_string()} data-column={e.column.clone().unwrap_or_default()}>
                                        <td>{ e.line }</td>
                                        <td>{ e.column.clone().unwrap_or_else(|| "—".into()) }</td>
                                        <td><code>{ e.value.clone().unwrap_or_default() }</code></td>
                                        <td>{ &e.message }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                        if report.error_count > report.errors.len() as u64 {
                            <p class="hint">{ format!("The first {} of {} problems are listed.", report.errors.len(), report.error_count) }</p>
                        }
                    }
                    if !report.preview.is_empty() {
                        <table class="list preview" id="import-preview">
                            <caption>{ "Preview" }</caption>
                            <thead><tr>
                                <th>{ "Line" }</th><th>{ "Action" }</th>
                                { for report.columns.iter().map(|c| html! { <th>{ c }</th> }) }
                            </tr></thead>
                            <tbody>
                                { for report.preview.iter().map(|row| {
                                    let flagged: Vec<&str> = report
                                        .errors
                                        .iter()
                                        .filter(|e| e.line == row.line)
                                        .filter_map(|e| e.column.as_deref())
                                        .collect();
                                    html! {
                                        <tr class={classes!(action_text(row.action))}>
                                            <td>{ row.line }</td>
                                            <td>{ action_text(row.action) }</td>
                                            { for row.values.iter().zip(&report.columns).map(|(v, c)| html! {
                                                <td class={classes!(flagged.contains(&c.as_str()).then_some("error"))}>{ v }</td>
                                            }) }
                                        </tr>
                                    }
                                }) }
                            </tbody>
                        </table>
                    }
                    <button type="button" id="apply-import" disabled={!can_apply} onclick={apply}>
                        { if can_apply { format!("Apply {} rows", report.rows) } else { "Fix the problems to apply".to_owned() } }
                    </button>
                </div>
            }
        }
    }
}
