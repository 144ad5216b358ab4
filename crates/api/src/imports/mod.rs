//! CSV in and out: templates, uploads validated whole (a dry run reports every problem and what
//! would change; the real upload applies every row or none, in one transaction), and exports
//! (written page by page, see [`crate::downloads`]).
//!
//! The file rules (encodings, delimiters, headers, row parsing) live in
//! `cohort_domain::imports`; this module reads the body, finds what the file is about (its
//! target: a program, later the organisation's booking setup), and hands each kind's rows to
//! that kind's module, which plans and writes them in batches.

pub mod enrollments;
pub mod exports;
pub mod participants;
pub mod providers;
pub mod services;

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use cohort_api_types::{
    ExportQuery, FieldError, ImportAction, ImportPreviewRow, ImportProblem, ImportQuery, ImportReport, Problem,
};
use cohort_domain::imports::{CsvFile, FileError, ImportKind, Row, RowError};
use diesel::Connection;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::programs::repo::ProgramRow;
use crate::{programs, AppState};

/// How large an upload may be (`COHORT_IMPORT_MAX_BYTES`, `COHORT_IMPORT_MAX_ROWS`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_rows: usize,
}

/// Rows are planned and written this many at a time: memory follows the batch, not the file,
/// and each batch is a few multi-row statements.
pub const BATCH: usize = 1000;
/// Problems listed in a report; `error_count` counts them all.
pub const MAX_LISTED_ERRORS: usize = 1000;
/// Rows shown in a report's preview.
pub const MAX_PREVIEW: usize = 100;

/// What a file is about.
pub enum Target {
    /// A program's participants; `invite`: the people the file creates are invited to set a password.
    Program {
        program: ProgramRow,
        invite: bool,
    },
    Organization,
}

/// Whether the rows are only checked against the database or also written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    DryRun,
    Apply,
}

fn import_kind(name: &str) -> Result<ImportKind, ApiError> {
    ImportKind::parse(name).ok_or_else(|| {
        let kinds: Vec<&str> = ImportKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::BadRequest(format!(
            "invalid path parameter: no import kind \"{name}\"; the kinds are {}",
            kinds.join(", ")
        ))
    })
}

fn required_program(program_id: Option<Uuid>, kind: &str) -> Result<Uuid, ApiError> {
    program_id
        .ok_or_else(|| ApiError::BadRequest(format!("invalid query parameter: program_id is required for {kind}")))
}

/// Finds the file's target in the caller's organisation (another organisation's is a 404).
async fn resolve(state: &AppState, org: Uuid, kind: ImportKind, query: &ImportQuery) -> Result<Target, ApiError> {
    match kind {
        ImportKind::Participants => {
            let id = required_program(query.program_id, kind.as_str())?;
            let program = state.db.read(move |conn| programs::repo::get(conn, org, id)).await?;
            if program.status == cohort_domain::programs::ProgramStatus::Archived.as_str() {
                return Err(ApiError::Conflict(
                    "The program is archived; publish it again to add participants.".into(),
                ));
            }
            Ok(Target::Program {
                program,
                invite: query.invite.unwrap_or(false),
            })
        }
        ImportKind::Services | ImportKind::Providers | ImportKind::Enrollments if query.invite.is_some() => Err(
            ApiError::BadRequest("invalid query parameter: invite applies to participants only".into()),
        ),
        ImportKind::Services | ImportKind::Providers | ImportKind::Enrollments => Ok(Target::Organization),
    }
}

/// An import that creates or updates this many rows refreshes the statistics of the tables it
/// wrote before it commits ([`crate::db::analyze`]; a few hundred milliseconds at 100,000 rows).
const ANALYZE_FROM: u64 = 1000;

/// The tables an import of `kind` writes.
fn written(kind: ImportKind) -> &'static [&'static str] {
    match kind {
        ImportKind::Participants => &["people", "participants", "events"],
        ImportKind::Services => &["services"],
        ImportKind::Providers => &["people", "providers", "certifications"],
        ImportKind::Enrollments => &["enrollments"],
    }
}

/// A dry run of `run`, in one read transaction, so that each batch's look-ups can be planned for
/// their parameters (see [`crate::db::planned_for_their_parameters`]): right after a large import,
/// a prepared lookup's generic plan scanned the whole table for each batch (143 s for a
/// 100,000-row file).
fn dry_run(
    conn: &mut DbConn,
    kind: ImportKind,
    org: Uuid,
    target: &Target,
    bytes: &[u8],
    max_rows: usize,
) -> Result<ImportReport, ApiError> {
    conn.transaction(|conn| run(kind, Some(conn), org, target, bytes, max_rows, Mode::DryRun))
}

/// Reads the file against the target: checks every row, and with a connection plans (and in
/// `Mode::Apply` writes) them batch by batch.
pub fn run(
    kind: ImportKind,
    conn: Option<&mut DbConn>,
    org: Uuid,
    target: &Target,
    bytes: &[u8],
    max_rows: usize,
    mode: Mode,
) -> Result<ImportReport, ApiError> {
    let text = cohort_domain::imports::decode(bytes).map_err(file_error)?;
    match (kind, target) {
        (ImportKind::Participants, Target::Program { program, invite }) => {
            participants::run(conn, org, program, *invite, text, max_rows, mode)
        }
        (ImportKind::Services, _) => services::run(conn, org, text, max_rows, mode),
        (ImportKind::Providers, _) => providers::run(conn, org, text, max_rows, mode),
        (ImportKind::Enrollments, _) => enrollments::run(conn, org, text, max_rows, mode),
        (ImportKind::Participants, Target::Organization) => {
            Err(ApiError::Internal("participants need a program".into()))
        }
    }
}

pub fn file_error(e: FileError) -> ApiError {
    ApiError::field("file", e.to_string())
}

/// Reads every row of `file` into `report` (each problem by line and column) and hands what
/// `read` makes of the valid rows to `plan` in batches of [`BATCH`]. Without `plan` (no database:
/// the file alone is checked) valid rows are not kept.
pub fn in_batches<T>(
    file: &mut CsvFile<'_>,
    report: &mut Report,
    mut read: impl FnMut(&Row<'_>) -> Result<T, Vec<RowError>>,
    mut plan: Option<impl FnMut(&mut Vec<T>, &mut Report) -> Result<(), ApiError>>,
) -> Result<(), ApiError> {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(next) = file.next() {
        report.row_read();
        match next.map_err(file_error)? {
            Err(problem) => report.problem(problem),
            Ok(row) => match read(&row) {
                Ok(item) if plan.is_some() => batch.push(item),
                Ok(_) => {}
                Err(problems) => problems.into_iter().for_each(|p| report.problem(p)),
            },
        }
        if batch.len() >= BATCH {
            if let Some(plan) = plan.as_mut() {
                plan(&mut batch, report)?;
            }
        }
    }
    if let Some(plan) = plan.as_mut() {
        plan(&mut batch, report)?;
    }
    Ok(())
}

/// Collects a report as rows are read.
pub struct Report {
    report: ImportReport,
    changes: Vec<ImportPreviewRow>,
    unchanged: Vec<ImportPreviewRow>,
}

impl Report {
    pub fn new(kind: ImportKind, mode: Mode, columns: Vec<String>) -> Self {
        Self {
            report: ImportReport {
                kind: kind.as_str().to_owned(),
                dry_run: mode == Mode::DryRun,
                applied: false,
                valid: true,
                rows: 0,
                created: 0,
                updated: 0,
                unchanged: 0,
                people_created: 0,
                error_count: 0,
                errors: Vec::new(),
                columns,
                preview: Vec::new(),
            },
            changes: Vec::new(),
            unchanged: Vec::new(),
        }
    }

    pub fn row_read(&mut self) {
        self.report.rows += 1;
    }

    pub fn is_valid(&self) -> bool {
        self.report.error_count == 0
    }

    pub fn person_created(&mut self) {
        self.report.people_created += 1;
    }

    pub fn problem(&mut self, e: RowError) {
        self.report.error_count += 1;
        if self.report.errors.len() < MAX_LISTED_ERRORS {
            self.report.errors.push(ImportProblem {
                line: e.line,
                row: e.row,
                column: e.column,
                value: e.value,
                message: e.message,
            });
        }
    }

    /// Counts a valid row; `values` (its cells in `columns` order) is asked for only while the
    /// preview has room.
    pub fn outcome(&mut self, line: u64, action: ImportAction, values: impl FnOnce() -> Vec<String>) {
        let list = match action {
            ImportAction::Create => {
                self.report.created += 1;
                &mut self.changes
            }
            ImportAction::Update => {
                self.report.updated += 1;
                &mut self.changes
            }
            ImportAction::Unchanged => {
                self.report.unchanged += 1;
                &mut self.unchanged
            }
        };
        if list.len() < MAX_PREVIEW {
            list.push(ImportPreviewRow {
                line,
                action,
                values: values(),
            });
        }
    }

    pub fn finish(mut self, applied: bool) -> ImportReport {
        self.report.valid = self.report.error_count == 0;
        self.report.applied = applied && self.report.valid;
        // In file order: the database's problems (an unknown service) are found a batch later.
        self.report.errors.sort_by_key(|p| p.line);
        let room = MAX_PREVIEW.saturating_sub(self.changes.len());
        let mut preview = self.changes;
        preview.extend(self.unchanged.into_iter().take(room));
        preview.sort_by_key(|r| r.line);
        self.report.preview = preview;
        self.report
    }
}

/// A file with problems, refused by the real upload: a 422 naming each cell as `lines[L].column`.
fn rejected(report: &ImportReport) -> ApiError {
    let errors = report
        .errors
        .iter()
        .map(|p| {
            let field = match &p.column {
                Some(c) => format!("lines[{}].{c}", p.line),
                None => format!("lines[{}]", p.line),
            };
            let message = match &p.value {
                Some(v) if !v.is_empty() => format!("\"{v}\": {}", p.message),
                _ => p.message.clone(),
            };
            FieldError::new(field, message)
        })
        .collect();
    ApiError::Validation(errors)
}

/// The body is the file itself; forms and JSON are refused with a hint.
fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let refused = essence.starts_with("multipart/")
        || essence == "application/x-www-form-urlencoded"
        || essence == "application/json"
        || essence.ends_with("+json");
    if refused {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send the CSV file itself as the body, with Content-Type: text/csv, not \"{content_type}\""
        )));
    }
    Ok(())
}

async fn read_body(req: &HttpRequest, payload: web::Payload, max_bytes: usize) -> Result<web::Bytes, ApiError> {
    let too_large = || ApiError::PayloadTooLarge(format!("the file may have at most {max_bytes} bytes"));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes as u64) {
        return Err(too_large());
    }
    match payload.to_bytes_limited(max_bytes).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(too_large()),
        Err(e) => Err(ApiError::BadRequest(format!("cannot read the body: {e}"))),
    }
}

const PARTICIPANTS_EXAMPLE: &str = "email,name,role,department,languages\r\n\
talia.k@example.org,Talia K,mentor,Chemistry,English; Spanish\r\n\
amara.n@example.org,Amara N,mentee,Biology,\r\n";

/// Uploads a CSV file: with `dry_run=true` checks it whole and reports every problem and what would
/// be created, updated or left alone; otherwise applies every row, or none when any row is invalid.
///
/// The body is the file (UTF-8, with or without a byte-order mark; `,` `;` or tab delimited,
/// detected from the header row; Excel's `sep=` line understood). Headers are matched ignoring
/// case, spaces, `_` and `-`. Rows are upserted by natural key, so uploading the same file again
/// changes nothing (every row `unchanged`).
///
/// `participants` (needs `program_id`): columns `email`, `name`, `role` (`mentor` or `mentee`);
/// every other column is a profile attribute (a blank cell removes it; `a; b` is a list). People
/// not yet in the organisation are created without a password; their name is required.
///
/// `services` (the Courses CSV): `name`, `course number` (blank for a general topic),
/// `description`; keyed by name and course number. New services get the booking defaults.
///
/// A cell naming a service writes `Name (Course number)`, e.g. `Chemistry (CHEM 101)`; the name
/// alone is enough for the service of that name without a course number, or the only service of
/// that name (`Name ()` names the one without a course number explicitly). Names match ignoring
/// case. A service of another organisation, or none, is a row error naming the cell.
///
/// `providers` (the Tutors CSV): `email`, `name`, `bio`, `photo url` (https), `services` (`;`
/// between services); keyed by email. The person is found or created (their name is required
/// then) and becomes a provider; their bio and photo are set, and their certifications become
/// exactly the services listed (a blank cell: none). A column the file leaves out changes nothing
/// (a file of `email` and `services` sets only certifications).
///
/// `enrollments` (the Course Enrollment CSV): `email` (a person of the organisation: nobody is
/// created), `service`. Enrollments are only added: a listed one that exists is `unchanged`, and
/// those the file leaves out stay.
#[utoipa::path(
    tag = "csv",
    params(
        ("kind" = String, Path, description = "What the file holds: `participants`, `services`, `providers` or `enrollments`", example = "participants"),
        ImportQuery,
    ),
    request_body(
        content = String,
        content_type = "text/csv",
        description = "The CSV file itself",
        example = json!(PARTICIPANTS_EXAMPLE),
    ),
    responses(
        (status = 200, description = "The report: with `dry_run`, what would happen (see `valid` and `errors`); otherwise what was written", body = ImportReport),
        (status = 400, description = "Unknown kind, or a missing `program_id`", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 409, description = "The program is archived", body = Problem),
        (status = 413, description = "The file is larger than `COHORT_IMPORT_MAX_BYTES` (10 MB by default)", body = Problem),
        (status = 415, description = "The body was sent as a form or JSON instead of the file", body = Problem),
        (status = 422, description = "Not UTF-8 (the message says how to save it), too many rows, or (not a dry run) invalid rows: `errors` names each as `lines[L].column`; nothing was written", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[post("/imports/{kind}")]
pub async fn import_file(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    kind: web::Path<String>,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<web::Json<ImportReport>, ApiError> {
    caller.require_admin()?;
    let kind = import_kind(&kind)?;
    let query = query.into_inner();
    let org = caller.org;
    let target = resolve(&state, org, kind, &query).await?;
    check_content_type(&req)?;
    let limits = state.imports;
    let bytes = read_body(&req, payload, limits.max_bytes).await?;
    if query.dry_run.unwrap_or(false) {
        let report = state
            .db
            .read(move |conn| dry_run(conn, kind, org, &target, &bytes, limits.max_rows))
            .await?;
        return Ok(web::Json(report));
    }
    // The whole file is checked before the writer's turn is taken: a bad file costs no lock.
    let checked_bytes = bytes.clone();
    let (checked, target) = web::block(move || {
        let report = run(kind, None, org, &target, &checked_bytes, limits.max_rows, Mode::Apply);
        (report, target)
    })
    .await?;
    let checked = checked?;
    if !checked.valid {
        // List every problem, those only the database shows (a new person without a name) too.
        let report = state
            .db
            .read(move |conn| dry_run(conn, kind, org, &target, &bytes, limits.max_rows))
            .await?;
        return Err(rejected(&report));
    }
    let actor = caller.actor();
    let report = state
        .db
        .write(move |conn| {
            let report = run(kind, Some(conn), org, &target, &bytes, limits.max_rows, Mode::Apply)?;
            // A problem only the database shows (a new person without a name): roll back.
            if !report.valid {
                return Err(rejected(&report));
            }
            let summary = serde_json::json!({
                "rows": report.rows, "created": report.created, "updated": report.updated,
                "unchanged": report.unchanged, "people_created": report.people_created,
            });
            crate::audit::record(
                conn,
                &actor,
                "import.applied",
                ("import", kind.as_str()),
                crate::audit::NONE,
                summary,
            )?;
            if report.created + report.updated >= ANALYZE_FROM {
                crate::db::analyze(conn, written(kind))?;
            }
            Ok(report)
        })
        .await?;
    tracing::info!(
        kind = kind.as_str(),
        rows = report.rows,
        created = report.created,
        updated = report.updated,
        "import applied"
    );
    Ok(web::Json(report))
}

/// The template of a kind of file: its header row and one example row.
#[utoipa::path(
    tag = "csv",
    params(("kind" = String, Path, description = "`participants`, `services`, `providers` or `enrollments`", example = "participants")),
    responses(
        (status = 200, description = "The template", content_type = "text/csv", body = String, example = json!("email,name,role,department,languages\ntalia.k@example.org,Talia K,mentor,Chemistry,English; Spanish\n")),
        (status = 400, description = "Unknown kind", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/imports/{kind}/template")]
pub async fn import_template(caller: Caller, kind: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let kind = import_kind(&kind)?;
    Ok(crate::downloads::csv_response(
        &format!("{}-template.csv", kind.as_str()),
        kind.template(),
    ))
}

/// Current data as CSV, written as it is read (1,000 rows at a time, so without a
/// `Content-Length`). Cells a spreadsheet would run as formulas (`=`, `+`, `-`, `@`) are
/// written as text, behind an apostrophe that imports remove again.
///
/// `participants` (`program_id`): the program's active participants in the import's columns, so
/// exporting, editing and uploading again round-trips. `pairings` (`program_id`): active pairings.
/// `step-completions` (`program_id`): each step delivered to each person, with the delivery,
/// opening, completion and miss times in the program's time zone. `services`: the Courses CSV.
/// `providers`: the Tutors CSV, `enrollments`: the Course Enrollment CSV (both in the import's
/// columns, so uploading the export changes nothing).
///
/// `bookings` (`from`, `to`: local dates, both included; `time_zone`: an IANA name, the
/// organisation's by default): the bookings starting in that range, any status, by start, with
/// `starts_at` and `ends_at` in that zone with their offset, the service (as imports name it),
/// provider and student (email and name), status, format, location and the booking's id. The range
/// may cover at most 366 days, within the years 1900 to 9999.
#[utoipa::path(
    tag = "csv",
    params(
        ("kind" = String, Path, description = "`participants`, `pairings`, `step-completions`, `services`, `providers`, `enrollments` or `bookings`", example = "participants"),
        ExportQuery,
    ),
    responses(
        (status = 200, description = "The file", content_type = "text/csv", body = String, example = json!(PARTICIPANTS_EXAMPLE)),
        (status = 400, description = "Unknown kind, a missing `program_id` (or `from` and `to` for bookings), or a malformed parameter", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such program in this organisation", body = Problem),
        (status = 422, description = "An unknown `time_zone`, or a range of dates that ends before it starts, covers more than 366 days or lies outside the years 1900 to 9999", body = Problem),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
#[get("/exports/{kind}")]
pub async fn export_file(
    state: web::Data<AppState>,
    caller: Caller,
    kind: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    exports::export(&state, caller.org, &kind, query.into_inner()).await
}
