//! The Courses CSV: the organisation's services, one per row. The natural key is the name with the
//! course number (blank for a general topic, such as "All available Peer Mentoring"); a row for a
//! service that exists updates its description.

use std::collections::HashMap;

use super::{Column, Row, RowError};
use crate::bounded_text;

pub const NAME: usize = 0;
pub const COURSE_NUMBER: usize = 1;
pub const DESCRIPTION: usize = 2;

pub const COLUMNS: &[Column] = &[
    Column {
        name: "name",
        aliases: &["course", "course name", "service", "service name"],
        required: true,
        example: "Peer Mentoring with Talia K",
    },
    Column {
        name: "course number",
        aliases: &["course_number", "number", "course no", "course code", "code"],
        required: false,
        example: "CHEM 101",
    },
    Column {
        name: "description",
        aliases: &["details", "about"],
        required: false,
        example: "One-to-one peer mentoring with Talia.",
    },
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLine {
    pub line: u64,
    pub name: String,
    pub course_number: String,
    pub description: String,
}

/// Reads rows, refusing a second row for the same name and course number.
#[derive(Default)]
pub struct Reader {
    seen: HashMap<(String, String), u64>,
}

impl Reader {
    pub fn read(&mut self, row: &Row<'_>) -> Result<ServiceLine, Vec<RowError>> {
        let mut problems = Vec::new();
        let mut cell = |index: usize, column: &str, min: usize, max: usize| {
            let raw = row.get(index);
            bounded_text(raw, min, max)
                .map_err(|e| problems.push(row.error(Some(column), Some(raw), e.0)))
                .ok()
        };
        let name = cell(NAME, "name", 1, 120);
        let course_number = cell(COURSE_NUMBER, "course number", 0, 40);
        let description = cell(DESCRIPTION, "description", 0, 2000);
        let (Some(name), Some(course_number), Some(description)) = (name, course_number, description) else {
            return Err(problems);
        };
        let key = (name.clone(), course_number.clone());
        if let Some(first) = self.seen.get(&key) {
            return Err(vec![row.error(
                Some("name"),
                Some(&name),
                format!("line {first} names this service (and course number) already"),
            )]);
        }
        self.seen.insert(key, row.line);
        Ok(ServiceLine {
            line: row.line,
            name,
            course_number,
            description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::CsvFile;
    use super::*;

    #[test]
    fn courses_files() {
        let text = "Course,Course Number,Description\r\nAll available Peer Mentoring,,Anyone free\r\n\
                    Peer Mentoring with Talia K,CHEM 101,\r\n,X,\r\nAll available Peer Mentoring,,Again\r\n";
        let (mut file, problems) = CsvFile::open(text, COLUMNS, false, 10).unwrap();
        assert!(problems.is_empty());
        let mut reader = Reader::default();
        let mut out = Vec::new();
        while let Some(next) = file.next() {
            out.push(reader.read(&next.unwrap().unwrap()));
        }
        assert_eq!(out[0].clone().unwrap().course_number, "");
        assert_eq!(out[1].clone().unwrap().course_number, "CHEM 101");
        assert_eq!(out[2].clone().unwrap_err()[0].column.as_deref(), Some("name"));
        assert!(out[3].clone().unwrap_err()[0].message.contains("line 2"));
    }
}
