//! CSV imports: reading the files admins save from their spreadsheets, and the kinds of file
//! Cohort takes in. Everything here is pure: the API hands in the uploaded bytes and gets typed
//! rows or problems naming the line, the column and the value.
//!
//! Real files come from Excel, LibreOffice, Numbers and Google Sheets: UTF-8 with or without a
//! byte-order mark, CRLF line ends, quoted fields holding commas and line breaks, `;` as the
//! delimiter where the decimal separator is a comma (and Excel's `sep=;` first line), trailing
//! empty columns, headers in any case and spacing. Another encoding is refused with the words
//! an admin needs to save the file again. Parsing is the `csv` crate's, streaming, one record
//! at a time.

pub mod catalogue;
pub mod enrollments;
pub mod participants;
pub mod providers;
pub mod services;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::Invalid;

/// How many data rows one file may hold, unless configured otherwise.
pub const DEFAULT_MAX_ROWS: usize = 200_000;
/// The same on SQLite, where a file is applied in one transaction holding the only writer: every
/// other write of every organisation (a login's refresh token too) waits for it. Applying takes
/// about 35 ms per 1,000 rows (SQLite alone needs 21 ms, see `docs/benchmarks.md`), so this keeps
/// that wait under a second; a larger file is split, each part still applied whole or not at all.
pub const DEFAULT_MAX_ROWS_SQLITE: usize = 25_000;
/// How many bytes one upload may have, unless configured otherwise.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

const SAVE_AS_UTF8: &str = "Save it again as UTF-8: in Excel \"CSV UTF-8 (Comma delimited)\", in LibreOffice \
     Calc \"Text CSV\" with the character set \"Unicode (UTF-8)\", in Numbers Export To CSV with \"Unicode (UTF-8)\"";

/// Why a whole file was refused, before any row was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("The file is empty: it needs a header row naming the columns.")]
    Empty,
    #[error("The file is encoded as UTF-16, not UTF-8. {SAVE_AS_UTF8}.")]
    Utf16,
    #[error(
        "Line {line} is not valid UTF-8 (the file looks like Latin-1 or Windows-1252, which Excel uses for \"CSV (Comma delimited)\"). {SAVE_AS_UTF8}."
    )]
    NotUtf8 { line: u64 },
    #[error("The file has more than {max} data rows; split it into several files.")]
    TooManyRows { max: usize },
}

/// A problem with one cell (or one line) of the file. `line` is the line where the record
/// starts, as a text editor counts; `row` is the spreadsheet's row number (the header is row 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub row: u64,
    /// The column's name as the template spells it (or as the file spells an extra column).
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

impl RowError {
    pub fn new(line: u64, row: u64, column: Option<&str>, value: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            line,
            row,
            column: column.map(str::to_owned),
            value: value.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// One column a kind of file understands.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The name the template writes.
    pub name: &'static str,
    /// Other headers admins use for it; matched like `name`, ignoring case, spaces, `_` and `-`.
    pub aliases: &'static [&'static str],
    pub required: bool,
    /// The template's example value.
    pub example: &'static str,
}

/// What a file's header says: where each known column is, and the extra columns.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Per known column (in the kind's order), its index in the file.
    known: Vec<Option<usize>>,
    /// Extra columns (profile attributes): index and header as written (trimmed).
    extras: Vec<(usize, String)>,
    /// How many leading cells have a header; values beyond them are errors.
    width: usize,
}

impl Layout {
    /// The extra columns' headers, in file order.
    pub fn extra_names(&self) -> impl Iterator<Item = &str> {
        self.extras.iter().map(|(_, n)| n.as_str())
    }
}

/// Header cells compare without case, spaces, `_`, `-` or `.`: `E-mail`, `Email Address` and
/// `email_address` are one header.
pub fn normalise_header(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Checks the encoding and drops a UTF-8 byte-order mark.
pub fn decode(bytes: &[u8]) -> Result<&str, FileError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(FileError::Utf16);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    // UTF-16 without a mark: every other byte of ASCII text is NUL.
    if bytes.iter().take(64).filter(|b| **b == 0).count() >= 4 {
        return Err(FileError::Utf16);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| FileError::NotUtf8 {
        line: bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64 + 1,
    })?;
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    Ok(text)
}

/// The delimiter, from Excel's `sep=` line if there is one (the text after it is returned), else
/// from the header line: whichever of `,`, `;` and tab occurs most outside quotes (`,` on a tie).
pub fn detect_delimiter(text: &str) -> (u8, &str) {
    let first = text.split(['\n', '\r']).next().unwrap_or("");
    if let Some(sep) = first
        .trim()
        .strip_prefix("sep=")
        .or_else(|| first.trim().strip_prefix("\"sep="))
    {
        let sep = sep.trim_end_matches('"');
        if let [d @ (b',' | b';' | b'\t' | b'|')] = sep.as_bytes() {
            let rest = &text[first.len()..];
            return (*d, rest.trim_start_matches(['\r', '\n']));
        }
    }
    let (mut quoted, mut counts) = (false, [0usize; 3]);
    for c in first.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let delimiter = if counts[1] > counts[0] && counts[1] >= counts[2] {
        b';'
    } else if counts[2] > counts[0] && counts[2] > counts[1] {
        b'\t'
    } else {
        b','
    };
    (delimiter, text)
}

/// Reads a decoded file record by record against a kind's columns.
pub struct CsvFile<'a> {
    reader: csv::Reader<&'a [u8]>,
    /// What the reader reads, for counting lines: the csv crate's own count is off by one
    /// after CRLF line ends.
    text: &'a [u8],
    /// Lines before `text` (Excel's `sep=` line).
    lines_before: u64,
    /// Where the last record started, and its line.
    last: (usize, u64),
    record: csv::StringRecord,
    layout: Layout,
    max_rows: usize,
    rows: usize,
    done: bool,
}

fn cell(raw: &str) -> &str {
    crate::spreadsheet::unescape_cell(raw.trim())
}

/// One data record, with its cells looked up by the kind's columns.
pub struct Row<'r> {
    pub line: u64,
    pub row: u64,
    record: &'r csv::StringRecord,
    layout: &'r Layout,
}

impl<'r> Row<'r> {
    /// The trimmed cell of the kind's column `index` (empty when the file lacks the column),
    /// without the apostrophe an export put before a formula-like value.
    pub fn get(&self, index: usize) -> &'r str {
        self.layout.known[index]
            .and_then(|i| self.record.get(i))
            .map(cell)
            .unwrap_or("")
    }

    /// Whether the file has the kind's column `index` (a blank cell of a present column is a value).
    pub fn has(&self, index: usize) -> bool {
        self.layout.known[index].is_some()
    }

    /// The extra columns' headers and trimmed cells.
    pub fn extras(&self) -> impl Iterator<Item = (&'r str, &'r str)> + 'r {
        let record = self.record;
        self.layout
            .extras
            .iter()
            .map(move |(i, name)| (name.as_str(), record.get(*i).map(cell).unwrap_or("")))
    }

    pub fn error(&self, column: Option<&str>, value: Option<&str>, message: impl Into<String>) -> RowError {
        RowError::new(self.line, self.row, column, value, message)
    }
}

impl<'a> CsvFile<'a> {
    /// Opens the decoded text: finds the delimiter and matches the header row against `columns`.
    /// Header problems (a required column missing, an unknown or repeated one) come back with
    /// the file; a file with header problems yields no rows.
    pub fn open(
        text: &'a str,
        columns: &[Column],
        extras_allowed: bool,
        max_rows: usize,
    ) -> Result<(Self, Vec<RowError>), FileError> {
        let (delimiter, rest) = detect_delimiter(text);
        let lines_before = text[..text.len() - rest.len()].matches('\n').count() as u64;
        let text = rest;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut header = csv::StringRecord::new();
        // Blank lines before the header are skipped by the reader.
        let read = reader.read_record(&mut header).map_err(|_| FileError::Empty)?;
        if !read || header.iter().all(|h| h.trim().is_empty()) {
            return Err(FileError::Empty);
        }
        let mut problems = Vec::new();
        let width = header
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.trim().is_empty())
            .last()
            .map_or(0, |(i, _)| i + 1);
        let mut known = vec![None; columns.len()];
        let mut extras = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, raw) in header.iter().enumerate().take(width) {
            let name = raw.trim();
            let key = normalise_header(name);
            if key.is_empty() {
                problems.push(RowError::new(
                    0,
                    1,
                    None,
                    Some(raw),
                    format!("column {} has no header; name it or delete the column", i + 1),
                ));
                continue;
            }
            if let Some(first) = seen.insert(key.clone(), i) {
                problems.push(RowError::new(
                    0,
                    1,
                    Some(name),
                    Some(raw),
                    format!("this header appears twice (columns {} and {})", first + 1, i + 1),
                ));
                continue;
            }
            let matched = columns
                .iter()
                .position(|c| normalise_header(c.name) == key || c.aliases.iter().any(|a| normalise_header(a) == key));
            match matched {
                Some(c) => known[c] = Some(i),
                None if extras_allowed => extras.push((i, name.to_owned())),
                None => {
                    let expected: Vec<&str> = columns.iter().map(|c| c.name).collect();
                    problems.push(RowError::new(
                        0,
                        1,
                        Some(name),
                        Some(raw),
                        format!("unknown column; the columns are {}", expected.join(", ")),
                    ));
                }
            }
        }
        for (c, column) in columns.iter().enumerate() {
            if column.required && known[c].is_none() {
                problems.push(RowError::new(
                    0,
                    1,
                    Some(column.name),
                    None,
                    format!("the header row has no \"{}\" column", column.name),
                ));
            }
        }
        let mut file = Self {
            reader,
            text: text.as_bytes(),
            lines_before,
            last: (0, 1),
            record: csv::StringRecord::new(),
            layout: Layout { known, extras, width },
            max_rows,
            rows: 0,
            done: false,
        };
        let line = file.line_at(header.position().map_or(0, |p| p.byte()));
        for p in &mut problems {
            p.line = line;
        }
        file.done = !problems.is_empty();
        Ok((file, problems))
    }

    /// The line (counting from 1, and the `sep=` line) of the record starting at `byte`.
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = (byte as usize).min(self.text.len());
        // A record's position may point at the line end that closed the previous one.
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        let (from, line) = self.last;
        let line = if start >= from {
            line + self.text[from..start].iter().filter(|b| **b == b'\n').count() as u64
        } else {
            1 + self.text[..start].iter().filter(|b| **b == b'\n').count() as u64
        };
        self.last = (start, line);
        line + self.lines_before
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The next data record that has any value (blank lines and rows of empty cells are skipped),
    /// or the problem with it. Over the row limit the whole file is refused.
    #[allow(clippy::should_implement_trait)] // rows borrow the reader: not an `Iterator`
    pub fn next(&mut self) -> Option<Result<Result<Row<'_>, RowError>, FileError>> {
        loop {
            if self.done {
                return None;
            }
            match self.reader.read_record(&mut self.record) {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) => {
                    if self.record.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    self.rows += 1;
                    if self.rows > self.max_rows {
                        self.done = true;
                        return Some(Err(FileError::TooManyRows { max: self.max_rows }));
                    }
                    let line = self.line_at(self.record.position().map_or(0, |p| p.byte()));
                    let row = self.rows as u64 + 1;
                    let overflow = self
                        .record
                        .iter()
                        .enumerate()
                        .skip(self.layout.width)
                        .find(|(_, c)| !c.trim().is_empty());
                    if let Some((i, value)) = overflow {
                        return Some(Ok(Err(RowError::new(
                            line,
                            row,
                            None,
                            Some(value),
                            format!(
                                "column {} has a value but no header (is a delimiter missing quotes?)",
                                i + 1
                            ),
                        ))));
                    }
                    return Some(Ok(Ok(Row {
                        line,
                        row,
                        record: &self.record,
                        layout: &self.layout,
                    })));
                }
                Err(e) => {
                    let line = self.line_at(e.position().map_or(0, |p| p.byte()));
                    self.rows += 1;
                    let row = self.rows as u64 + 1;
                    // Only UTF-8 errors are possible after `decode`; refuse the record, read on.
                    return Some(Ok(Err(RowError::new(
                        line,
                        row,
                        None,
                        None,
                        format!("unreadable row: {e}"),
                    ))));
                }
            }
        }
    }
}

/// The kinds of file Cohort imports. Each has its columns here and its row rules in a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportKind {
    /// A program's participants: email, name, role, and profile attributes as extra columns.
    Participants,
    /// The organisation's services ("Courses CSV"): name, course number, description.
    Services,
    /// The organisation's providers with their certifications ("Tutors CSV").
    Providers,
    /// Students enrolled in services ("Course Enrollment CSV").
    Enrollments,
}

impl ImportKind {
    pub const ALL: [ImportKind; 4] = [Self::Participants, Self::Services, Self::Providers, Self::Enrollments];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Participants => "participants",
            Self::Services => "services",
            Self::Providers => "providers",
            Self::Enrollments => "enrollments",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Self::Participants => participants::COLUMNS,
            Self::Services => services::COLUMNS,
            Self::Providers => providers::COLUMNS,
            Self::Enrollments => enrollments::COLUMNS,
        }
    }

    /// Whether columns besides the kind's own are taken (as profile attributes), and the
    /// template's examples of them.
    pub fn extra_columns(self) -> Option<&'static [(&'static str, &'static str)]> {
        match self {
            Self::Participants => Some(participants::EXAMPLE_ATTRIBUTES),
            Self::Services | Self::Providers | Self::Enrollments => None,
        }
    }

    /// The template: the header row and one example row.
    pub fn template(self) -> Vec<u8> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let extras = self.extra_columns().unwrap_or(&[]);
        let header: Vec<&str> = self
            .columns()
            .iter()
            .map(|c| c.name)
            .chain(extras.iter().map(|(n, _)| *n))
            .collect();
        let example: Vec<&str> = self
            .columns()
            .iter()
            .map(|c| c.example)
            .chain(extras.iter().map(|(_, v)| *v))
            .collect();
        // Writing to a Vec cannot fail.
        out.write_record(&header).expect("write to memory");
        out.write_record(&example).expect("write to memory");
        out.into_inner().expect("write to memory")
    }
}

/// The kinds of file Cohort exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportKind {
    /// A program's active participants, in the import's columns (a round trip changes nothing).
    Participants,
    /// A program's active pairings.
    Pairings,
    /// Each step delivered to each participant of a program, with its times in the program's zone.
    StepCompletions,
    /// The organisation's services, in the import's columns.
    Services,
    /// The organisation's providers and their certifications, in the import's columns.
    Providers,
    /// Every enrollment of the organisation, in the import's columns.
    Enrollments,
    /// Bookings starting within a range of dates, with their times in a chosen zone.
    Bookings,
}

impl ExportKind {
    pub const ALL: [ExportKind; 7] = [
        Self::Participants,
        Self::Pairings,
        Self::StepCompletions,
        Self::Services,
        Self::Providers,
        Self::Enrollments,
        Self::Bookings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Participants => "participants",
            Self::Pairings => "pairings",
            Self::StepCompletions => "step-completions",
            Self::Services => "services",
            Self::Providers => "providers",
            Self::Enrollments => "enrollments",
            Self::Bookings => "bookings",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the export is about one program (and needs its id).
    pub fn needs_program(self) -> bool {
        matches!(self, Self::Participants | Self::Pairings | Self::StepCompletions)
    }
}

/// The longest range of dates one bookings export covers.
pub const MAX_EXPORT_DAYS: i64 = 366;

/// A query parameter's name and what is wrong with it.
pub type InvalidParameter = (&'static str, Invalid);

/// The instants a range of local dates covers: from the start of `from` to the end of `to` (both
/// included) in `zone`; a midnight the clocks skip starts the day when they resume. `Err` names
/// the parameter at fault.
pub fn date_range(
    from: NaiveDate,
    to: NaiveDate,
    zone: Tz,
) -> Result<(DateTime<Utc>, DateTime<Utc>), InvalidParameter> {
    // Far from today a zone's offsets are guesses, and near chrono's limits its arithmetic fails.
    for (field, date) in [("from", from), ("to", to)] {
        if !(1900..=9999).contains(&chrono::Datelike::year(&date)) {
            return Err((field, Invalid::new("must be a date between the years 1900 and 9999")));
        }
    }
    let days = (to - from).num_days() + 1;
    if days < 1 {
        return Err(("to", Invalid::new("must not be before from")));
    }
    if days > MAX_EXPORT_DAYS {
        return Err((
            "to",
            Invalid(format!("the range may cover at most {MAX_EXPORT_DAYS} days")),
        ));
    }
    let start = |date: NaiveDate| crate::tenancy::instant_at_or_after(zone, date.and_time(chrono::NaiveTime::MIN));
    let end = to
        .succ_opt()
        .ok_or_else(|| ("to", Invalid::new("is too far in the future")))?;
    Ok((start(from), start(end)))
}

/// Profile attribute cells hold lists as `a; b; c`.
pub const LIST_SEPARATOR: char = ';';

pub fn split_list(cell: &str) -> Vec<String> {
    cell.split(LIST_SEPARATOR)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn join_list(items: &[String]) -> String {
    items.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COLUMNS: &[Column] = &[
        Column {
            name: "email",
            aliases: &["email address", "e-mail"],
            required: true,
            example: "a@b.org",
        },
        Column {
            name: "name",
            aliases: &[],
            required: false,
            example: "A",
        },
    ];

    /// Line, row, email, name and the extra columns of a row read.
    type Read = (u64, u64, String, String, Vec<(String, String)>);

    fn rows(text: &str) -> (Vec<Result<Read, RowError>>, Vec<RowError>) {
        let (mut file, problems) = CsvFile::open(text, COLUMNS, true, 100).unwrap();
        let mut out = Vec::new();
        while let Some(next) = file.next() {
            out.push(next.unwrap().map(|r| {
                (
                    r.line,
                    r.row,
                    r.get(0).to_owned(),
                    r.get(1).to_owned(),
                    r.extras().map(|(a, b)| (a.to_owned(), b.to_owned())).collect(),
                )
            }));
        }
        (out, problems)
    }

    #[test]
    fn encodings() {
        assert_eq!(decode(b"\xEF\xBB\xBFemail\n").unwrap(), "email\n");
        assert_eq!(decode(b"email\n").unwrap(), "email\n");
        assert_eq!(decode(b"\xFF\xFEe\x00m\x00"), Err(FileError::Utf16));
        assert_eq!(decode(b"e\x00m\x00a\x00i\x00l\x00"), Err(FileError::Utf16));
        assert_eq!(
            decode(b"email,name\na@b.org,Ren\xE9e\n"),
            Err(FileError::NotUtf8 { line: 2 })
        );
        assert_eq!(decode(b" \r\n"), Err(FileError::Empty));
        assert!(FileError::NotUtf8 { line: 2 }.to_string().contains("CSV UTF-8"));
    }

    #[test]
    fn delimiters() {
        assert_eq!(detect_delimiter("email;name\n").0, b';');
        assert_eq!(detect_delimiter("email,name\n").0, b',');
        assert_eq!(detect_delimiter("\"a;b\",name\n").0, b',');
        assert_eq!(detect_delimiter("email\tname\n").0, b'\t');
        assert_eq!(detect_delimiter("email\n").0, b',');
        assert_eq!(detect_delimiter("sep=;\r\nemail;name\r\n"), (b';', "email;name\r\n"));
    }

    #[test]
    fn headers_match_loosely() {
        assert_eq!(normalise_header(" E-Mail Address "), "emailaddress");
        let (rows, problems) = rows("E-Mail; NAME ;Department\r\nx@y.org;Xavier;Chemistry\r\n");
        assert!(problems.is_empty());
        let (_, _, email, name, extras) = rows[0].clone().unwrap();
        assert_eq!((email.as_str(), name.as_str()), ("x@y.org", "Xavier"));
        assert_eq!(extras, vec![("Department".to_owned(), "Chemistry".to_owned())]);
    }

    #[test]
    fn quoted_fields_crlf_trailing_columns_and_blank_lines() {
        let text = "email,name,,\r\n\"a@b.org\",\"Smith, Jane\r\nthe second\",,\r\n\r\n,,,\r\nc@d.org,C,,\r\n";
        let (rows, problems) = rows(text);
        assert!(problems.is_empty(), "{problems:?}");
        let rows: Vec<_> = rows.into_iter().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].3, "Smith, Jane\r\nthe second");
        assert_eq!((rows[0].0, rows[0].1), (2, 2));
        // The quoted line break moves the line, not the spreadsheet row.
        assert_eq!((rows[1].0, rows[1].1), (6, 3));
    }

    #[test]
    fn values_beyond_the_header_are_row_errors() {
        let (rows, _) = rows("email,name\na@b.org,A,oops\n");
        let e = rows[0].clone().unwrap_err();
        assert_eq!((e.line, e.value.as_deref()), (2, Some("oops")));
    }

    #[test]
    fn header_problems() {
        let (file, problems) = CsvFile::open("name,name,\n", COLUMNS, false, 10).unwrap();
        let messages: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(messages.iter().any(|m| m.contains("twice")), "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("no \"email\"")), "{messages:?}");
        assert!(file.done);
        let (_, problems) = CsvFile::open("email,colour\n", COLUMNS, false, 10).unwrap();
        assert_eq!(problems[0].column.as_deref(), Some("colour"));
        assert_eq!(CsvFile::open(",,\n", COLUMNS, true, 10).err(), Some(FileError::Empty));
    }

    #[test]
    fn row_limit() {
        let (mut file, _) = CsvFile::open("email\na@b.org\nc@d.org\n", COLUMNS, true, 1).unwrap();
        assert!(matches!(file.next(), Some(Ok(Ok(_)))));
        assert!(matches!(file.next(), Some(Err(FileError::TooManyRows { max: 1 }))));
        assert!(file.next().is_none());
    }

    #[test]
    fn templates_have_a_header_and_an_example() {
        for kind in ImportKind::ALL {
            let text = String::from_utf8(kind.template()).unwrap();
            let (mut file, problems) =
                CsvFile::open(&text, kind.columns(), kind.extra_columns().is_some(), 10).unwrap();
            assert!(problems.is_empty());
            assert!(matches!(file.next(), Some(Ok(Ok(_)))));
            assert!(file.next().is_none());
            assert_eq!(ImportKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn date_ranges_cover_whole_local_days() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let utc = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let ny: Tz = "America/New_York".parse().unwrap();
        // The day the clocks spring forward has 23 hours.
        assert_eq!(
            date_range(day("2027-03-14"), day("2027-03-14"), ny),
            Ok((utc("2027-03-14T05:00:00Z"), utc("2027-03-15T04:00:00Z")))
        );
        assert_eq!(
            date_range(day("2027-01-01"), day("2027-12-31"), chrono_tz::UTC),
            Ok((utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z")))
        );
        // A midnight skipped by the clocks (Santiago springs forward at 00:00): the day starts at 01:00.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        assert_eq!(
            date_range(day("2026-09-06"), day("2026-09-06"), santiago).unwrap().0,
            utc("2026-09-06T04:00:00Z")
        );
        assert_eq!(
            date_range(day("2027-01-02"), day("2027-01-01"), ny).unwrap_err().0,
            "to"
        );
        assert!(date_range(day("2027-01-01"), day("2028-01-02"), ny).is_err());
        assert!(
            date_range(day("2028-01-01"), day("2028-12-31"), ny).is_ok(),
            "a leap year fits"
        );
        assert_eq!(date_range(NaiveDate::MIN, NaiveDate::MIN, ny).unwrap_err().0, "from");
        assert_eq!(date_range(day("9999-12-31"), NaiveDate::MAX, ny).unwrap_err().0, "to");
        assert_eq!(ExportKind::parse("bookings"), Some(ExportKind::Bookings));
        assert!(!ExportKind::Bookings.needs_program() && ExportKind::Pairings.needs_program());
    }

    fn read_all(bytes: &[u8]) {
        let Ok(text) = decode(bytes) else { return };
        let Ok((mut file, _)) = CsvFile::open(text, COLUMNS, true, 50) else {
            return;
        };
        let mut n = 0;
        while let Some(next) = file.next() {
            if let Ok(Ok(row)) = next {
                let _ = (row.get(0), row.get(1), row.extras().count());
            }
            n += 1;
            assert!(n <= 10_000);
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            read_all(&bytes);
        }

        #[test]
        fn random_csv_shapes_never_panic(
            cells in proptest::collection::vec(proptest::collection::vec("[a-z@.\" ,;\r\n\t=-]{0,8}", 0..6), 0..30),
            delimiter in prop_oneof![Just(","), Just(";"), Just("\t")],
            bom in any::<bool>(),
        ) {
            let mut text = if bom { "\u{FEFF}".to_owned() } else { String::new() };
            for row in &cells {
                text.push_str(&row.join(delimiter));
                text.push_str("\r\n");
            }
            read_all(text.as_bytes());
        }

        #[test]
        fn written_files_read_back(values in proptest::collection::vec(("[a-z]{1,8}@[a-z]{1,8}\\.org", "\\PC{0,20}"), 1..20), semicolon in any::<bool>()) {
            let mut out = csv::WriterBuilder::new().delimiter(if semicolon { b';' } else { b',' }).from_writer(Vec::new());
            out.write_record(["Email", "Name"]).unwrap();
            for (email, name) in &values {
                out.write_record([email, name]).unwrap();
            }
            let bytes = out.into_inner().unwrap();
            let text = decode(&bytes).unwrap();
            let (mut file, problems) = CsvFile::open(text, COLUMNS, true, 100).unwrap();
            prop_assert!(problems.is_empty());
            let mut read = Vec::new();
            while let Some(next) = file.next() {
                if let Ok(row) = next.unwrap() {
                    read.push((row.get(0).to_owned(), row.get(1).to_owned()));
                }
            }
            // Rows whose name is blank after trimming still have an email, so none are skipped.
            // Cells are trimmed, and an apostrophe an export put before a formula is taken off.
            let expected: Vec<(String, String)> = values
                .iter()
                .map(|(e, n)| (e.clone(), crate::spreadsheet::unescape_cell(n.trim()).to_owned()))
                .collect();
            prop_assert_eq!(read, expected);
        }
    }
}
