//! The Course Enrollment CSV: one row per student and service. The student is a person of the
//! organisation found by email (a file of enrollments creates nobody: an unknown email is a row
//! error); the service is written as [`super::catalogue`] says. Enrollments are only added: a row
//! that exists is left alone, and enrollments the file does not list stay (remove them on the
//! service's page).

use std::collections::HashMap;

use super::{Column, Row, RowError};
use crate::people::Email;

pub const EMAIL: usize = 0;
pub const SERVICE: usize = 1;

pub const COLUMNS: &[Column] = &[
    Column {
        name: "email",
        aliases: &["student email", "student", "email address", "e-mail", "mail"],
        required: true,
        example: "sam.lee@example.org",
    },
    Column {
        name: "service",
        aliases: &["course", "class", "service name", "course name"],
        required: true,
        example: "Chemistry (CHEM 101)",
    },
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentLine {
    pub line: u64,
    pub email: Email,
    /// The service as the cell writes it.
    pub service: String,
}

/// Reads rows, refusing a second row for the same student and service (as written; the API
/// refuses two spellings of one service once it has looked them up, with [`Repeats`]).
#[derive(Default)]
pub struct Reader {
    seen: Repeats<(Email, String)>,
}

impl Reader {
    pub fn read(&mut self, row: &Row<'_>) -> Result<EnrollmentLine, Vec<RowError>> {
        let mut problems = Vec::new();
        let raw_email = row.get(EMAIL);
        let email = Email::parse(raw_email)
            .map_err(|e| problems.push(row.error(Some("email"), Some(raw_email), e.0)))
            .ok();
        let service = row.get(SERVICE);
        if service.is_empty() {
            problems.push(row.error(Some("service"), Some(service), "must not be empty"));
        }
        let Some(email) = email else {
            return Err(problems);
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        if let Err(first) = self.seen.check((email.clone(), service.to_lowercase()), row.line) {
            return Err(vec![repeated(row.line, row.row, service, first)]);
        }
        Ok(EnrollmentLine {
            line: row.line,
            email,
            service: service.to_owned(),
        })
    }
}

/// The problem of a row that enrolls a student in a service an earlier line enrolled them in.
pub fn repeated(line: u64, row: u64, service: &str, first: u64) -> RowError {
    RowError::new(
        line,
        row,
        Some("service"),
        Some(service),
        format!("line {first} enrolls this student in this service already"),
    )
}

/// Remembers the first line of each key.
pub struct Repeats<K> {
    first: HashMap<K, u64>,
}

impl<K> Default for Repeats<K> {
    fn default() -> Self {
        Self { first: HashMap::new() }
    }
}

impl<K: std::hash::Hash + Eq> Repeats<K> {
    /// `Err(first line)` when an earlier line had `key`.
    pub fn check(&mut self, key: K, line: u64) -> Result<(), u64> {
        match self.first.get(&key) {
            Some(first) => Err(*first),
            None => {
                self.first.insert(key, line);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::CsvFile;
    use super::*;

    #[test]
    fn enrollment_files() {
        let text = "Student Email,Course\r\nSam@example.org,Chemistry (CHEM 101)\r\n\
                    sam@example.org,chemistry (chem 101)\r\nx,\r\nkim@example.org,Biology\r\n";
        let (mut file, problems) = CsvFile::open(text, COLUMNS, false, 10).unwrap();
        assert!(problems.is_empty());
        let mut reader = Reader::default();
        let mut out = Vec::new();
        while let Some(next) = file.next() {
            out.push(reader.read(&next.unwrap().unwrap()));
        }
        let sam = out[0].clone().unwrap();
        assert_eq!(
            (sam.email.as_str(), sam.service.as_str()),
            ("sam@example.org", "Chemistry (CHEM 101)")
        );
        let repeat = out[1].clone().unwrap_err();
        assert_eq!((repeat[0].line, repeat[0].column.as_deref()), (3, Some("service")));
        assert!(repeat[0].message.contains("line 2"));
        let columns: Vec<_> = out[2]
            .clone()
            .unwrap_err()
            .into_iter()
            .map(|p| p.column.unwrap())
            .collect();
        assert_eq!(columns, ["email", "service"]);
        assert!(out[3].is_ok());
    }

    #[test]
    fn both_columns_are_required() {
        let (_, problems) = CsvFile::open("email\na@b.org\n", COLUMNS, false, 10).unwrap();
        assert_eq!(problems[0].column.as_deref(), Some("service"));
    }
}
