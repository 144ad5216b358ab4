//! How a cell names one of the organisation's services (in the Tutors CSV's `services` list and
//! the Course Enrollment CSV's `service` column).
//!
//! A service is known by its name and course number, so a cell writes `Name (Course number)`:
//! `Chemistry (CHEM 101)`. The name alone is enough when it is unambiguous: it names the service
//! of that name without a course number, or else the only service of that name. `Name ()` names
//! the one without a course number explicitly, which exports write when the name itself ends in
//! parentheses (`Peer Mentoring (online) ()`). Names match exactly, else ignoring case. A service
//! whose name holds `;` cannot be listed in a `services` cell (`;` separates the list's items).

use std::collections::HashMap;

/// What a cell says, split into the name and the course number in its last parentheses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceReference<'a> {
    /// The whole cell, trimmed: also tried as a name, when no service has the split name and number.
    pub text: &'a str,
    pub name: &'a str,
    /// The text inside the trailing parentheses (`Some("")` for `()`), if the cell ends with some.
    pub course_number: Option<&'a str>,
}

impl<'a> ServiceReference<'a> {
    pub fn parse(cell: &'a str) -> Self {
        let text = cell.trim();
        let whole = Self {
            text,
            name: text,
            course_number: None,
        };
        let Some(inner_end) = text.strip_suffix(')').map(str::len) else {
            return whole;
        };
        // The `(` that balances the final `)`, so a course number may hold parentheses itself.
        let mut depth = 0usize;
        for (i, c) in text[..inner_end].char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' if depth == 0 => {
                    let name = text[..i].trim_end();
                    if name.is_empty() {
                        return whole;
                    }
                    return Self {
                        text,
                        name,
                        course_number: Some(text[i + 1..inner_end].trim()),
                    };
                }
                '(' => depth -= 1,
                _ => {}
            }
        }
        whole
    }
}

/// How exports write a service so that [`Catalogue::resolve`] finds it again.
pub fn reference(name: &str, course_number: &str) -> String {
    match (course_number.is_empty(), name.ends_with(')')) {
        (false, _) => format!("{name} ({course_number})"),
        (true, true) => format!("{name} ()"),
        (true, false) => name.to_owned(),
    }
}

/// The organisation's services, looked up by what cells say.
pub struct Catalogue<Id> {
    services: Vec<(Id, String, String)>,
    /// Indexes by (name, course number) and by name, exact and lowercased.
    by_pair: HashMap<(String, String), Vec<usize>>,
    by_pair_folded: HashMap<(String, String), Vec<usize>>,
    by_name: HashMap<String, Vec<usize>>,
    by_name_folded: HashMap<String, Vec<usize>>,
}

impl<Id: Clone> Catalogue<Id> {
    /// From (id, name, course number) of every service of the organisation.
    pub fn new(services: impl IntoIterator<Item = (Id, String, String)>) -> Self {
        let services: Vec<_> = services.into_iter().collect();
        let mut catalogue = Self {
            services: Vec::new(),
            by_pair: HashMap::new(),
            by_pair_folded: HashMap::new(),
            by_name: HashMap::new(),
            by_name_folded: HashMap::new(),
        };
        for (i, (_, name, number)) in services.iter().enumerate() {
            let (folded_name, folded_number) = (name.to_lowercase(), number.to_lowercase());
            catalogue
                .by_pair
                .entry((name.clone(), number.clone()))
                .or_default()
                .push(i);
            catalogue
                .by_pair_folded
                .entry((folded_name.clone(), folded_number))
                .or_default()
                .push(i);
            catalogue.by_name.entry(name.clone()).or_default().push(i);
            catalogue.by_name_folded.entry(folded_name).or_default().push(i);
        }
        catalogue.services = services;
        catalogue
    }

    /// The service a cell names, or why it names none (a message for the row's problem).
    pub fn resolve(&self, cell: &str) -> Result<Id, String> {
        let said = ServiceReference::parse(cell);
        if said.text.is_empty() {
            return Err(
                "names no service: write the service's name, with its course number in parentheses \
                        when several services share the name"
                    .into(),
            );
        }
        if let Some(number) = said.course_number {
            let exact = self.by_pair.get(&(said.name.to_owned(), number.to_owned()));
            let folded = || {
                self.by_pair_folded
                    .get(&(said.name.to_lowercase(), number.to_lowercase()))
            };
            if let Some(found) = one(exact).or_else(|| one(folded())) {
                return Ok(self.services[found].0.clone());
            }
        }
        let named = self
            .by_name
            .get(said.text)
            .filter(|v| !v.is_empty())
            .or_else(|| self.by_name_folded.get(&said.text.to_lowercase()));
        let named: &[usize] = named.map(Vec::as_slice).unwrap_or(&[]);
        let general: Vec<usize> = named
            .iter()
            .copied()
            .filter(|i| self.services[*i].2.is_empty())
            .collect();
        match (named, general.as_slice()) {
            ([only], _) | (_, [only]) => Ok(self.services[*only].0.clone()),
            ([], _) => Err(match said.course_number {
                Some(number) if !number.is_empty() => format!(
                    "no service of this organisation is named \"{}\" with the course number \"{number}\"",
                    said.name
                ),
                _ => "no service of this organisation has this name".to_owned(),
            }),
            (several, _) => {
                let options: Vec<String> = several
                    .iter()
                    .map(|i| {
                        let (_, name, number) = &self.services[*i];
                        format!("\"{}\"", reference(name, number))
                    })
                    .collect();
                Err(format!(
                    "several services have this name; add the course number: {}",
                    options.join(" or ")
                ))
            }
        }
    }
}

fn one(found: Option<&Vec<usize>>) -> Option<usize> {
    match found.map(Vec::as_slice) {
        Some([only]) => Some(*only),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn catalogue() -> Catalogue<u32> {
        Catalogue::new(
            [
                (1, "All available Peer Mentoring", ""),
                (2, "Chemistry", "CHEM 101"),
                (3, "Chemistry", "CHEM 201"),
                (4, "Biology", "BIO 1"),
                (5, "Study skills (online)", ""),
                (6, "Study skills", "online"),
                (7, "Statistics", ""),
                (8, "Statistics", "STAT 2"),
                (9, "Lab (wet)", "L (1)"),
            ]
            .map(|(id, name, number)| (id, name.to_owned(), number.to_owned())),
        )
    }

    #[test]
    fn cells_split_at_their_last_balanced_parentheses() {
        let r = ServiceReference::parse(" Chemistry (CHEM 101) ");
        assert_eq!((r.name, r.course_number), ("Chemistry", Some("CHEM 101")));
        let r = ServiceReference::parse("Lab (wet) (L (1))");
        assert_eq!((r.name, r.course_number), ("Lab (wet)", Some("L (1)")));
        assert_eq!(ServiceReference::parse("Chemistry ()").course_number, Some(""));
        assert_eq!(ServiceReference::parse("(CHEM 101)").course_number, None);
        assert_eq!(ServiceReference::parse("Chemistry").course_number, None);
        assert_eq!(ServiceReference::parse("x)").course_number, None);
    }

    #[test]
    fn names_course_numbers_and_their_absence() {
        let c = catalogue();
        assert_eq!(c.resolve("Chemistry (CHEM 101)"), Ok(2));
        assert_eq!(c.resolve("chemistry (chem 201)"), Ok(3));
        assert_eq!(c.resolve("Biology"), Ok(4), "the only Biology");
        assert_eq!(c.resolve("all available peer mentoring"), Ok(1));
        // The general Statistics, not the numbered one.
        assert_eq!(c.resolve("Statistics"), Ok(7));
        assert_eq!(c.resolve("Statistics (STAT 2)"), Ok(8));
        // A name ending in parentheses: the split pair first, the whole name when written with `()`.
        assert_eq!(c.resolve("Study skills (online)"), Ok(6));
        assert_eq!(c.resolve("Study skills (online) ()"), Ok(5));
        assert_eq!(c.resolve("Lab (wet) (L (1))"), Ok(9));
    }

    #[test]
    fn unknown_and_ambiguous_cells_say_why() {
        let c = catalogue();
        let e = c.resolve("Chemistry").unwrap_err();
        assert!(
            e.contains("\"Chemistry (CHEM 101)\" or \"Chemistry (CHEM 201)\""),
            "{e}"
        );
        let e = c.resolve("Chemistry (CHEM 999)").unwrap_err();
        assert!(e.contains("course number \"CHEM 999\""), "{e}");
        assert!(c.resolve("Physics").unwrap_err().contains("no service"));
        assert!(c.resolve("  ").unwrap_err().contains("names no service"));
        assert!(Catalogue::<u32>::new([]).resolve("Biology").is_err());
    }

    proptest! {
        /// What exports write names the same service again, whatever the catalogue holds.
        #[test]
        fn references_round_trip(
            services in proptest::collection::btree_set(
                ("[A-Za-z][A-Za-z0-9 ]{0,6}[A-Za-z0-9]( \\([a-z]{1,3}\\))?", "([A-Z]{1,3}( ?[0-9]{1,3})?)?"),
                1..12,
            )
        ) {
            let services: Vec<(usize, String, String)> =
                services.into_iter().enumerate().map(|(i, (n, c))| (i, n, c)).collect();
            let catalogue = Catalogue::new(services.clone());
            for (id, name, number) in &services {
                let written = reference(name, number);
                // Only names that differ by case alone may be ambiguous; those are exact here.
                prop_assert_eq!(catalogue.resolve(&written), Ok(*id), "{}", written);
            }
        }
    }
}
