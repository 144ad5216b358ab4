//! People: the email that identifies them within an organisation, and their profile.

use crate::{bounded_text, Invalid};

/// An email address as Cohort stores and compares it: trimmed and lower-cased,
/// so `Talia.K@Example.org ` and `talia.k@example.org` are the same person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if email.chars().count() > 254 {
            return Err(Invalid::new("must have at most 254 characters"));
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(Invalid::new("must be an email address such as name@example.org"));
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.chars().any(|c| c.is_whitespace() || c.is_control());
        if !(domain_ok && local_ok) {
            return Err(Invalid::new("must be an email address such as name@example.org"));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

pub fn parse_person_name(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 1, 120)
}

pub fn parse_bio(value: &str) -> Result<String, Invalid> {
    bounded_text(value, 0, 4000)
}

/// A photo, a person's or a provider's: an `https` address with a host, of at most 2000 characters,
/// or none for a blank value. Plain `http` is refused: the dashboard is served over https, and a
/// browser blocks or silently upgrades insecure images on it.
pub fn parse_photo_url(value: &str) -> Result<Option<String>, Invalid> {
    let url = value.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let invalid = || Invalid::new("must be an https address of at most 2000 characters");
    let rest = url
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .map(|_| &url[8..])
        .ok_or_else(invalid)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'));
    if url.chars().count() > 2000 || !host_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    Ok(Some(url.to_owned()))
}

pub const MAX_ATTRIBUTES: usize = 50;

/// Attribute keys are what admins match and filter on: short, no surrounding spaces.
pub fn parse_attribute_key(key: &str) -> Result<(), Invalid> {
    let trimmed = key.trim();
    if trimmed.is_empty() || trimmed != key || key.chars().count() > 64 {
        return Err(Invalid::new(
            "attribute names have 1 to 64 characters and no surrounding spaces",
        ));
    }
    Ok(())
}

/// The attribute keys a program lets its participants change on their own profile: valid keys,
/// each once (the first spelling kept, in the order given), at most [`MAX_ATTRIBUTES`].
pub fn parse_editable_attribute_keys(keys: &[String]) -> Result<Vec<String>, Invalid> {
    if keys.len() > MAX_ATTRIBUTES {
        return Err(Invalid::new(format!("at most {MAX_ATTRIBUTES} attribute names")));
    }
    let mut out: Vec<String> = Vec::with_capacity(keys.len());
    for key in keys {
        parse_attribute_key(key).map_err(|e| Invalid::new(format!("{key:?}: {}", e.0)))?;
        if !out.contains(key) {
            out.push(key.clone());
        }
    }
    Ok(out)
}

/// A text value of an attribute (or one entry of a list value).
pub fn check_attribute_text(value: &str) -> Result<(), Invalid> {
    if value.chars().count() > 500 {
        return Err(Invalid::new("attribute values have at most 500 characters"));
    }
    Ok(())
}

/// The first word of a name, for greetings in emails.
pub fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn greetings_use_the_first_word_of_a_name() {
        assert_eq!(first_name("Talia K"), "Talia");
        assert_eq!(first_name("  Amara  "), "Amara");
        assert_eq!(first_name(""), "");
    }

    #[test]
    fn emails_compare_trimmed_and_case_insensitively() {
        assert_eq!(
            Email::parse("  Talia.K@Example.ORG ").unwrap(),
            Email::parse("talia.k@example.org").unwrap()
        );
        assert_eq!(Email::parse("A@b.co").unwrap().as_str(), "a@b.co");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "   ",
            "no-at-sign",
            "@example.org",
            "a@",
            "a@localhost",
            "a@.org",
            "a@b..org",
            "a b@c.org",
            "a@b@c.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn photos_are_https_addresses() {
        assert_eq!(parse_photo_url("  "), Ok(None));
        assert_eq!(
            parse_photo_url(" https://cdn.example.org/t.png?s=2 ")
                .unwrap()
                .as_deref(),
            Some("https://cdn.example.org/t.png?s=2")
        );
        assert!(parse_photo_url("HTTPS://example.org:8443/a").is_ok());
        for bad in [
            "http://example.org/a.png",
            "https://",
            "https:///a.png",
            "https://exa mple.org/",
            "javascript:alert(1)",
            "ftp://x.org",
            "https://é.org",
        ] {
            assert!(parse_photo_url(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse_photo_url(&format!("https://x.org/{}", "a".repeat(2000))).is_err());
    }

    #[test]
    fn attribute_keys_are_trimmed_names() {
        assert!(parse_attribute_key("department").is_ok());
        assert!(parse_attribute_key(" department").is_err());
        assert!(parse_attribute_key("").is_err());
    }

    #[test]
    fn editable_attribute_keys_are_valid_keys_each_once() {
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_editable_attribute_keys(&keys(&["languages", "pronouns", "languages"])),
            Ok(keys(&["languages", "pronouns"]))
        );
        assert_eq!(parse_editable_attribute_keys(&[]), Ok(vec![]));
        let err = parse_editable_attribute_keys(&keys(&["languages", " pronouns"])).unwrap_err();
        assert!(err.0.contains("\" pronouns\""), "{}", err.0);
        let many: Vec<String> = (0..=MAX_ATTRIBUTES).map(|i| format!("k{i}")).collect();
        assert!(parse_editable_attribute_keys(&many).is_err());
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent(local in "[a-zA-Z0-9._%+-]{1,20}", domain in "[a-zA-Z0-9-]{1,20}", tld in "[a-zA-Z]{2,6}", pad in " {0,3}") {
            let raw = format!("{pad}{local}@{domain}.{tld}{pad}");
            let once = Email::parse(&raw).unwrap();
            let twice = Email::parse(once.as_str()).unwrap();
            prop_assert_eq!(&once, &twice);
            prop_assert_eq!(once.as_str(), raw.trim().to_lowercase());
        }
    }
}
