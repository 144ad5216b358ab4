//! Organisations: time zones, holidays, labels and slugs.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::{bounded_text, Invalid};

/// A stored zone name as a zone. Names are checked before they are stored, so a name that does not
/// parse (written before a check existed, or by hand) reads as UTC.
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// An IANA time zone name, checked against the tz database.
pub fn parse_time_zone(name: &str) -> Result<Tz, Invalid> {
    name.trim().parse::<Tz>().map_err(|_| {
        Invalid(format!(
            "unknown time zone \"{}\"; use an IANA name such as Europe/London",
            name.trim()
        ))
    })
}

/// The instant a wall-clock time in `zone` means, for times computed rather than typed (a delay
/// in days, a deadline): a time the clocks skip moves to the first instant after the gap; a time
/// that happens twice means the first.
pub fn instant_at_or_after(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Gaps are whole minutes and at most a few hours long.
            let mut probe = local;
            loop {
                probe += chrono::Duration::minutes(1);
                if let Some(t) = zone.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
        }
    }
}

/// Holidays are kept sorted and without repeats, so business-day arithmetic can binary-search them.
pub fn normalize_holidays(mut days: Vec<NaiveDate>) -> Result<Vec<NaiveDate>, Invalid> {
    const MAX_HOLIDAYS: usize = 1000;
    if days.len() > MAX_HOLIDAYS {
        return Err(Invalid(format!("at most {MAX_HOLIDAYS} holidays")));
    }
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

/// What an organisation calls its providers and classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    pub provider_singular: String,
    pub provider_plural: String,
    pub class_singular: String,
    pub class_plural: String,
}

impl Default for Labels {
    fn default() -> Self {
        Self {
            provider_singular: "Provider".into(),
            provider_plural: "Providers".into(),
            class_singular: "Class".into(),
            class_plural: "Classes".into(),
        }
    }
}

/// A label is a short word or phrase shown in menus and headings.
pub fn parse_label(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 1, 40)
}

/// A URL-friendly name derived from the organisation's name: lower-case ASCII letters, digits and dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "organization".to_owned()
    } else {
        slug.chars()
            .take(48)
            .collect::<String>()
            .trim_end_matches('-')
            .to_owned()
    }
}

pub fn parse_organization_name(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 1, 120)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_stored_zone_reads_as_itself_or_as_utc() {
        assert_eq!(zone("Europe/Berlin"), chrono_tz::Europe::Berlin);
        assert_eq!(zone("Mars/Olympus"), chrono_tz::UTC);
    }

    #[test]
    fn time_zones_are_checked_against_the_tz_database() {
        assert_eq!(parse_time_zone(" Europe/London ").unwrap(), chrono_tz::Europe::London);
        assert!(parse_time_zone("Mars/Olympus").unwrap_err().0.contains("Mars/Olympus"));
        assert!(parse_time_zone("").is_err());
    }

    #[test]
    fn holidays_are_sorted_and_unique() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let days = normalize_holidays(vec![d("2026-12-25"), d("2026-01-01"), d("2026-12-25")]).unwrap();
        assert_eq!(days, vec![d("2026-01-01"), d("2026-12-25")]);
    }

    #[test]
    fn labels_must_be_short_and_present() {
        assert_eq!(parse_label("  Peer Mentor ").unwrap(), "Peer Mentor");
        assert!(parse_label("   ").is_err());
        assert!(parse_label(&"x".repeat(41)).is_err());
    }

    #[test]
    fn slugs_read_like_the_name() {
        assert_eq!(slugify("Peer Mentoring Demo"), "peer-mentoring-demo");
        assert_eq!(slugify("  Études & Co.  "), "tudes-co");
        assert_eq!(slugify("!!!"), "organization");
    }

    proptest! {
        #[test]
        fn slugs_are_always_url_safe(name in "\\PC{0,80}") {
            let slug = slugify(&name);
            prop_assert!(!slug.is_empty() && slug.len() <= 48);
            prop_assert!(slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            prop_assert!(!slug.starts_with('-') && !slug.ends_with('-'));
        }
    }
}
