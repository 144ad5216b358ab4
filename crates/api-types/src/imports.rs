//! CSV imports and exports: what an upload reports, and the query parameters.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where an import goes and whether it is only a check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `true`: validate the whole file and report what would happen, writing nothing.
    /// `false` (the default): apply every row, or none when any row is invalid.
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// The program, for `participants`.
    #[serde(default)]
    pub program_id: Option<Uuid>,
    /// `true`, for `participants`: the people the file creates get an email inviting them to set a
    /// password (a one-time link valid 7 days).
    #[serde(default)]
    pub invite: Option<bool>,
}

/// Which data an export holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// The program, for `participants`, `pairings` and `step-completions`.
    #[serde(default)]
    pub program_id: Option<Uuid>,
    /// For `bookings` (required): the first local date of the range.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// For `bookings` (required): the last local date of the range, included.
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// For `bookings`: the zone of the dates and of the times written (an IANA name); the
    /// organisation's when left out.
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// What an import does (or would do) with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    Create,
    Update,
    Unchanged,
}

/// A problem with one cell, one row, or the header of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "line": 3, "row": 3, "column": "role", "value": "coach", "message": "must be mentor or mentee"
})))]
pub struct ImportProblem {
    /// The line of the file where the record starts (as a text editor counts).
    pub line: u64,
    /// The spreadsheet row (the header is row 1); differs from `line` after cells with line breaks.
    pub row: u64,
    /// The column, as the template names it; absent for problems with a whole row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The cell's value as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub message: String,
}

/// One row of the preview: what happens to it, and its cells in `columns` order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportPreviewRow {
    pub line: u64,
    pub action: ImportAction,
    pub values: Vec<String>,
}

/// What an upload did, or (dry run) would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "kind": "participants", "dry_run": true, "applied": false, "valid": false,
    "rows": 3, "created": 1, "updated": 0, "unchanged": 1, "people_created": 1,
    "error_count": 1,
    "errors": [{"line": 3, "row": 3, "column": "role", "value": "coach", "message": "must be mentor or mentee"}],
    "columns": ["email", "name", "role", "department"],
    "preview": [
        {"line": 2, "action": "create", "values": ["talia.k@example.org", "Talia K", "mentor", "Chemistry"]},
        {"line": 4, "action": "unchanged", "values": ["amara.n@example.org", "Amara N", "mentee", "Biology"]}
    ]
})))]
pub struct ImportReport {
    pub kind: String,
    pub dry_run: bool,
    /// Whether the rows were written (never when `valid` is false).
    pub applied: bool,
    /// Whether the file has no problems.
    pub valid: bool,
    /// Data rows read (blank rows are skipped).
    pub rows: u64,
    /// Rows that create an object (or would).
    pub created: u64,
    /// Rows that change an existing object (or would).
    pub updated: u64,
    /// Rows that match what is stored already.
    pub unchanged: u64,
    /// People who are new to the organisation (participants files).
    #[serde(default)]
    pub people_created: u64,
    /// All problems found; `errors` lists the first 1,000.
    pub error_count: u64,
    pub errors: Vec<ImportProblem>,
    /// The columns of `preview` rows: the kind's columns, then the file's extra columns.
    pub columns: Vec<String>,
    /// The first 100 valid rows created or updated, then unchanged ones up to 100 in all.
    pub preview: Vec<ImportPreviewRow>,
}
