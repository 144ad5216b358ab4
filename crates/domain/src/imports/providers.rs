//! The Tutors CSV: the organisation's providers, one per row, keyed by email. The person is found
//! by email or created (their name is required then); they become a provider, or keep being one
//! with the row's bio and photo; their certifications become exactly the services the `services`
//! cell lists (`;` between services, each written as [`super::catalogue`] says; blank: none).
//! A column the file leaves out changes nothing: a file of `email` and `services` only sets
//! certifications, and keeps bios and photos.

use std::collections::HashMap;

use super::{split_list, Column, Row, RowError};
use crate::people::{parse_person_name, parse_photo_url, Email};

pub const EMAIL: usize = 0;
pub const NAME: usize = 1;
pub const BIO: usize = 2;
pub const PHOTO_URL: usize = 3;
pub const SERVICES: usize = 4;

/// At most this many services listed for one provider.
pub const MAX_SERVICES: usize = 1000;
/// A provider's bio, as `PATCH /providers/{id}` takes it.
pub const MAX_BIO: usize = 2000;

pub const COLUMNS: &[Column] = &[
    Column {
        name: "email",
        aliases: &["email address", "e-mail", "mail", "tutor email", "provider email"],
        required: true,
        example: "talia.k@example.org",
    },
    Column {
        name: "name",
        aliases: &["full name", "tutor", "provider", "tutor name", "provider name"],
        required: false,
        example: "Talia K",
    },
    Column {
        name: "bio",
        aliases: &["biography", "about"],
        required: false,
        example: "Third-year chemistry student; ask me about lab reports.",
    },
    Column {
        name: "photo url",
        aliases: &["photo", "picture", "image", "image url", "picture url"],
        required: false,
        example: "https://example.org/photos/talia.jpg",
    },
    Column {
        name: "services",
        aliases: &[
            "certifications",
            "courses",
            "certified services",
            "certified in",
            "classes",
        ],
        required: false,
        example: "All available Peer Mentoring; Chemistry (CHEM 101)",
    },
];

/// A valid row. Each `Option` is `None` when the file has no such column (the provider keeps
/// what they have); `name` is also `None` for a blank cell (an existing person keeps theirs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderLine {
    pub line: u64,
    pub email: Email,
    pub name: Option<String>,
    pub bio: Option<String>,
    pub photo_url: Option<Option<String>>,
    /// The services as the cell writes them, to be looked up in the organisation's catalogue.
    pub services: Option<Vec<String>>,
}

/// Reads rows, refusing a second row for the same email.
#[derive(Default)]
pub struct Reader {
    seen: HashMap<Email, u64>,
}

impl Reader {
    pub fn read(&mut self, row: &Row<'_>) -> Result<ProviderLine, Vec<RowError>> {
        let mut problems = Vec::new();
        let raw_email = row.get(EMAIL);
        let email = Email::parse(raw_email)
            .map_err(|e| problems.push(row.error(Some("email"), Some(raw_email), e.0)))
            .ok();
        let raw_name = row.get(NAME);
        let name = if raw_name.is_empty() {
            None
        } else {
            parse_person_name(raw_name)
                .map_err(|e| problems.push(row.error(Some("name"), Some(raw_name), e.0)))
                .ok()
        };
        let raw_bio = row.get(BIO);
        let bio = match crate::bounded_text(raw_bio, 0, MAX_BIO) {
            Ok(bio) => row.has(BIO).then_some(bio),
            Err(e) => {
                problems.push(row.error(Some("bio"), Some(raw_bio), e.0));
                None
            }
        };
        let raw_photo = row.get(PHOTO_URL);
        let photo_url = match parse_photo_url(raw_photo) {
            Ok(url) => row.has(PHOTO_URL).then_some(url),
            Err(e) => {
                problems.push(row.error(Some("photo url"), Some(raw_photo), e.0));
                None
            }
        };
        let raw_services = row.get(SERVICES);
        let services = row.has(SERVICES).then(|| split_list(raw_services));
        if services.as_ref().is_some_and(|s| s.len() > MAX_SERVICES) {
            problems.push(row.error(
                Some("services"),
                None,
                format!("at most {MAX_SERVICES} services for one provider"),
            ));
        }
        let Some(email) = email else {
            return Err(problems);
        };
        if let Some(first) = self.seen.get(&email) {
            problems.push(row.error(
                Some("email"),
                Some(raw_email),
                format!("line {first} lists this provider already"),
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        self.seen.insert(email.clone(), row.line);
        Ok(ProviderLine {
            line: row.line,
            email,
            name,
            bio,
            photo_url,
            services,
        })
    }
}

/// A person Cohort does not know yet needs a name.
pub fn name_for_new_person(line: &ProviderLine, row: u64) -> Result<&str, RowError> {
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

    fn read(text: &str) -> Vec<Result<ProviderLine, Vec<RowError>>> {
        let (mut file, problems) = CsvFile::open(text, COLUMNS, false, 100).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let mut reader = Reader::default();
        let mut out = Vec::new();
        while let Some(next) = file.next() {
            out.push(reader.read(&next.unwrap().unwrap()));
        }
        out
    }

    #[test]
    fn tutors_files() {
        let lines = read(
            "Tutor Email;Tutor Name;Bio;Photo;Certifications\r\n\
             Talia.K@example.org;Talia K;Chemistry nerd;https://x.org/t.jpg;\"Chemistry (CHEM 101); All available Peer Mentoring ;\"\r\n\
             sam@example.org;;;;\r\n",
        );
        let talia = lines[0].clone().unwrap();
        assert_eq!(talia.email.as_str(), "talia.k@example.org");
        assert_eq!(talia.photo_url, Some(Some("https://x.org/t.jpg".into())));
        assert_eq!(
            talia.services,
            Some(vec![
                "Chemistry (CHEM 101)".into(),
                "All available Peer Mentoring".into()
            ])
        );
        // Blank cells of present columns: no name given, bio and photo cleared, no certifications.
        let sam = lines[1].clone().unwrap();
        assert_eq!(
            (sam.name, sam.bio, sam.photo_url, sam.services),
            (None, Some(String::new()), Some(None), Some(vec![]))
        );
    }

    #[test]
    fn missing_columns_change_nothing() {
        let line = read("email,services\na@b.org,Biology\n")[0].clone().unwrap();
        assert_eq!((line.bio, line.photo_url), (None, None));
        assert_eq!(line.services, Some(vec!["Biology".into()]));
        let line = read("email,bio\na@b.org,Hi\n")[0].clone().unwrap();
        assert_eq!(line.services, None);
    }

    #[test]
    fn bad_cells_and_repeats_are_named() {
        let lines =
            read("email,name,bio,photo url\nnope,A,,\nb@c.org,B,,http://x.org/p.png\nd@e.org,D,,\nD@E.org,D,,\n");
        let cells = |i: usize| -> Vec<(u64, String)> {
            lines[i]
                .clone()
                .unwrap_err()
                .into_iter()
                .map(|p| (p.line, p.column.unwrap()))
                .collect()
        };
        assert_eq!(cells(0), [(2, "email".to_owned())]);
        assert_eq!(cells(1), [(3, "photo url".to_owned())]);
        assert!(lines[2].is_ok());
        assert_eq!(cells(3), [(5, "email".to_owned())]);
        assert!(lines[3].clone().unwrap_err()[0].message.contains("line 4"));
    }

    #[test]
    fn new_people_need_a_name() {
        let line = read("email,services\na@b.org,Biology\n")[0].clone().unwrap();
        let problem = name_for_new_person(&line, 2).unwrap_err();
        assert_eq!((problem.line, problem.column.as_deref()), (2, Some("name")));
    }
}
