//! The participants file of a program: one row per person and role. The email is the natural
//! key (a person is found by it, or created without a password); the name is required for
//! people Cohort does not know yet; columns besides these are profile attributes.

use std::collections::HashMap;

use super::{Column, Row, RowError};
use crate::people::{check_attribute_text, parse_attribute_key, parse_person_name, Email, MAX_ATTRIBUTES};
use crate::programs::ParticipantRole;

pub const EMAIL: usize = 0;
pub const NAME: usize = 1;
pub const ROLE: usize = 2;

pub const COLUMNS: &[Column] = &[
    Column {
        name: "email",
        aliases: &["email address", "e-mail", "mail"],
        required: true,
        example: "talia.k@example.org",
    },
    Column {
        name: "name",
        aliases: &["full name", "person", "participant"],
        required: false,
        example: "Talia K",
    },
    Column {
        name: "role",
        aliases: &["program role", "type"],
        required: true,
        example: "mentor",
    },
];

pub const EXAMPLE_ATTRIBUTES: &[(&str, &str)] = &[("department", "Chemistry"), ("languages", "English; Spanish")];

/// A valid row. `name` is `None` when the cell is blank (an existing person keeps theirs);
/// each attribute is `None` when its cell is blank (the person's attribute is removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantLine {
    pub line: u64,
    pub email: Email,
    pub name: Option<String>,
    pub role: ParticipantRole,
    pub attributes: Vec<(String, Option<String>)>,
}

/// Reads rows one at a time, remembering what earlier rows said so a file cannot name the same
/// person and role twice, or one person under two names. What it keeps per email is small (two
/// line numbers and a hash of the name): this is the one part of an import that grows with the file.
#[derive(Default)]
pub struct Reader {
    seen: HashMap<Email, Seen>,
}

#[derive(Default)]
struct Seen {
    /// The lines that named the person as mentor and as mentee (0: none yet).
    mentor: u64,
    mentee: u64,
    /// The first line that gave a name, and the name's hash.
    name: Option<(u64, u64)>,
}

fn hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

impl Reader {
    pub fn read(&mut self, row: &Row<'_>) -> Result<ParticipantLine, Vec<RowError>> {
        let mut problems = Vec::new();
        let raw_email = row.get(EMAIL);
        let email = match Email::parse(raw_email) {
            Ok(e) => Some(e),
            Err(e) => {
                problems.push(row.error(Some("email"), Some(raw_email), e.0));
                None
            }
        };
        let raw_role = row.get(ROLE);
        let role = ParticipantRole::parse(&raw_role.to_lowercase());
        if role.is_none() {
            let message = if raw_role.is_empty() {
                "must not be empty: mentor or mentee"
            } else {
                "must be mentor or mentee"
            };
            problems.push(row.error(Some("role"), Some(raw_role), message));
        }
        let raw_name = row.get(NAME);
        let name = if raw_name.is_empty() {
            None
        } else {
            match parse_person_name(raw_name) {
                Ok(n) => Some(n),
                Err(e) => {
                    problems.push(row.error(Some("name"), Some(raw_name), e.0));
                    None
                }
            }
        };
        let mut attributes = Vec::new();
        for (key, value) in row.extras() {
            if let Err(e) = parse_attribute_key(key) {
                problems.push(row.error(Some(key), Some(value), e.0));
                continue;
            }
            if let Err(e) = check_attribute_text(value) {
                problems.push(row.error(Some(key), Some(value), e.0));
                continue;
            }
            attributes.push((key.to_owned(), (!value.is_empty()).then(|| value.to_owned())));
        }
        if attributes.len() > MAX_ATTRIBUTES {
            problems.push(row.error(
                None,
                None,
                format!("at most {MAX_ATTRIBUTES} profile attribute columns"),
            ));
        }
        let (Some(email), Some(role)) = (email, role) else {
            return Err(problems);
        };
        let seen = self.seen.entry(email.clone()).or_default();
        let first = match role {
            ParticipantRole::Mentor => seen.mentor,
            ParticipantRole::Mentee => seen.mentee,
        };
        if first != 0 {
            problems.push(row.error(
                Some("email"),
                Some(raw_email),
                format!("this person appears as {} on line {first} already", role.as_str()),
            ));
        }
        if let Some(name) = &name {
            match seen.name {
                Some((line, other)) if other != hash(name) => problems.push(row.error(
                    Some("name"),
                    Some(raw_name),
                    format!("line {line} gives this email another name"),
                )),
                Some(_) => {}
                None if problems.is_empty() => seen.name = Some((row.line, hash(name))),
                None => {}
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        match role {
            ParticipantRole::Mentor => seen.mentor = row.line,
            ParticipantRole::Mentee => seen.mentee = row.line,
        }
        Ok(ParticipantLine {
            line: row.line,
            email,
            name,
            role,
            attributes,
        })
    }
}

/// A person Cohort does not know yet needs a name.
pub fn name_for_new_person(line: &ParticipantLine, row: u64) -> Result<&str, RowError> {
    line.name.as_deref().ok_or_else(|| {
        RowError::new(
            line.line,
            row,
            Some("name"),
            Some(""),
            "must not be empty for a person who is new to the organisation",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::CsvFile;
    use super::*;
    use proptest::prelude::*;

    fn read(text: &str) -> Vec<Result<ParticipantLine, Vec<RowError>>> {
        let (mut file, problems) = CsvFile::open(text, COLUMNS, true, 1000).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let mut reader = Reader::default();
        let mut out = Vec::new();
        while let Some(next) = file.next() {
            out.push(match next.unwrap() {
                Ok(row) => reader.read(&row),
                Err(e) => Err(vec![e]),
            });
        }
        out
    }

    #[test]
    fn good_rows_become_typed_lines() {
        let lines = read("Email,Name,Role,Department,Languages\r\n Talia.K@Example.org ,Talia K,Mentor,Chemistry,\r\n");
        let line = lines[0].clone().unwrap();
        assert_eq!(line.email.as_str(), "talia.k@example.org");
        assert_eq!(line.role, ParticipantRole::Mentor);
        assert_eq!(line.name.as_deref(), Some("Talia K"));
        assert_eq!(
            line.attributes,
            vec![
                ("Department".into(), Some("Chemistry".into())),
                ("Languages".into(), None)
            ]
        );
    }

    #[test]
    fn bad_cells_name_their_column_and_value() {
        let lines = read("email,name,role\nnot-an-email,A,coach\n");
        let problems = lines[0].clone().unwrap_err();
        let cells: Vec<_> = problems
            .iter()
            .map(|p| (p.line, p.column.as_deref().unwrap(), p.value.as_deref().unwrap()))
            .collect();
        assert_eq!(cells, [(2, "email", "not-an-email"), (2, "role", "coach")]);
    }

    #[test]
    fn repeats_and_conflicting_names_are_refused() {
        let lines = read("email,name,role\na@b.org,A,mentor\na@b.org,Other,mentee\nA@B.org,,mentor\n");
        assert!(lines[0].is_ok());
        assert!(lines[1].clone().unwrap_err()[0]
            .message
            .contains("line 2 gives this email another name"));
        assert!(lines[2].clone().unwrap_err()[0].message.contains("line 2"));
    }

    #[test]
    fn new_people_need_a_name() {
        let line = read("email,role\na@b.org,mentee\n")[0].clone().unwrap();
        assert_eq!(
            name_for_new_person(&line, 2).unwrap_err().column.as_deref(),
            Some("name")
        );
    }

    proptest! {
        #[test]
        fn any_row_is_a_line_or_problems_never_a_panic(
            email in "\\PC{0,30}", name in "\\PC{0,130}", role in "\\PC{0,10}", attribute in "\\PC{0,600}"
        ) {
            let mut out = csv::Writer::from_writer(Vec::new());
            out.write_record(["email", "name", "role", "notes"]).unwrap();
            out.write_record([&email, &name, &role, &attribute]).unwrap();
            let bytes = out.into_inner().unwrap();
            for result in read(std::str::from_utf8(&bytes).unwrap()) {
                match result {
                    Ok(line) => {
                        prop_assert_eq!(line.email.as_str(), email.trim().to_lowercase());
                        prop_assert!(["mentor", "mentee"].contains(&role.trim().to_lowercase().as_str()));
                    }
                    Err(problems) => {
                        prop_assert!(!problems.is_empty());
                        prop_assert!(problems.iter().all(|p| p.line >= 2 && !p.message.is_empty()));
                    }
                }
            }
        }
    }
}
