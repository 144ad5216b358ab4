//! The audit log's rules: what a before/after summary keeps (changed fields only, never a
//! secret), who an entry says acted, how long entries are kept, and how erasing a person
//! rewrites text that named them.

use chrono::{Duration, NaiveDateTime};
use serde_json::{Map, Value};

use crate::Invalid;

/// Where a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The admin dashboard: a bearer token sent with `X-Cohort-Client: dashboard`.
    Dashboard,
    /// Any other client: an API key, or a bearer token without the dashboard's header
    /// (mobile apps, scripts). Entries name the key when there is one.
    ApiKey,
    /// Cohort itself: jobs, automations, retention.
    System,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Dashboard => "dashboard",
            Source::ApiKey => "api_key",
            Source::System => "system",
        }
    }

    pub fn parse(text: &str) -> Result<Self, Invalid> {
        match text {
            "dashboard" => Ok(Source::Dashboard),
            "api_key" => Ok(Source::ApiKey),
            "system" => Ok(Source::System),
            _ => Err(Invalid::new("must be one of dashboard, api_key, system")),
        }
    }
}

/// Field names whose values never reach the log: hashes, tokens, secrets, passwords.
pub fn is_secret(field: &str) -> bool {
    let field = field.to_ascii_lowercase();
    ["password", "secret", "token", "hash"]
        .iter()
        .any(|word| field.contains(word))
}

/// The value with every secret field (at any depth) left out.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(k, _)| !is_secret(k))
                .map(|(k, v)| (k.clone(), redact(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// The before and after summaries of a change: for two objects, only the fields that differ
/// (a field missing on one side shows as null there); for a creation (`before` is null) or a
/// deletion (`after` is null), the whole object. Secrets are left out on both sides. `None`
/// stands for "did not exist".
pub fn summarize(before: &Value, after: &Value) -> (Option<Value>, Option<Value>) {
    let (before, after) = (redact(before), redact(after));
    match (before, after) {
        (Value::Null, Value::Null) => (None, None),
        (Value::Null, after) => (None, Some(after)),
        (before, Value::Null) => (Some(before), None),
        (Value::Object(b), Value::Object(a)) => {
            let mut before_changed = Map::new();
            let mut after_changed = Map::new();
            // `updated_at` moves with every change and says nothing the entry's own time does not.
            let keys = b.keys().chain(a.keys().filter(|k| !b.contains_key(*k)));
            for key in keys.filter(|k| *k != "updated_at") {
                let (old, new) = (b.get(key).unwrap_or(&Value::Null), a.get(key).unwrap_or(&Value::Null));
                if old != new {
                    before_changed.insert(key.clone(), old.clone());
                    after_changed.insert(key.clone(), new.clone());
                }
            }
            (Some(Value::Object(before_changed)), Some(Value::Object(after_changed)))
        }
        (before, after) if before == after => (Some(Value::Object(Map::new())), Some(Value::Object(Map::new()))),
        (before, after) => (Some(before), Some(after)),
    }
}

pub const DEFAULT_RETENTION_DAYS: i32 = 365;
pub const MIN_RETENTION_DAYS: i32 = 30;
pub const MAX_RETENTION_DAYS: i32 = 3650;

/// How many days the organisation keeps audit entries: 30 to 3650 (ten years).
pub fn parse_retention_days(days: i64) -> Result<i32, Invalid> {
    if (i64::from(MIN_RETENTION_DAYS)..=i64::from(MAX_RETENTION_DAYS)).contains(&days) {
        Ok(days as i32)
    } else {
        Err(Invalid(format!(
            "must be between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days"
        )))
    }
}

/// Entries that occurred before this moment are purged.
pub fn retention_cutoff(now: NaiveDateTime, days: i32) -> NaiveDateTime {
    now - Duration::days(i64::from(days))
}

/// What erasing a person puts where their name or email stood.
pub const ERASED_NAME: &str = "Erased person";
pub const ERASED_EMAIL: &str = "erased@erased.invalid";

/// The text with every occurrence of the person's name and email replaced, or `None` when
/// neither occurs. Matching ignores ASCII case, so `Ada@Example.org` goes too.
pub fn scrub_text(text: &str, name: &str, email: &str) -> Option<String> {
    let mut out = text.to_owned();
    let mut changed = false;
    // The email first: a name may be part of it.
    for (needle, replacement) in [(email, ERASED_EMAIL), (name, ERASED_NAME)] {
        let needle = needle.trim();
        // Names shorter than three characters would rewrite unrelated words.
        if needle.chars().count() < 3 {
            continue;
        }
        if let Some(replaced) = replace_ignoring_ascii_case(&out, needle, replacement) {
            out = replaced;
            changed = true;
        }
    }
    changed.then_some(out)
}

fn replace_ignoring_ascii_case(text: &str, needle: &str, replacement: &str) -> Option<String> {
    let (hay, pat) = (text.as_bytes(), needle.as_bytes());
    let mut out = String::with_capacity(text.len());
    let (mut i, mut last, mut found) = (0, 0, false);
    while i + pat.len() <= hay.len() {
        if hay[i..i + pat.len()].eq_ignore_ascii_case(pat)
            && text.is_char_boundary(i)
            && text.is_char_boundary(i + pat.len())
        {
            out.push_str(&text[last..i]);
            out.push_str(replacement);
            i += pat.len();
            last = i;
            found = true;
        } else {
            i += 1;
        }
    }
    found.then(|| {
        out.push_str(&text[last..]);
        out
    })
}

/// Scrubs every string (and key) inside a JSON value; whether anything changed.
pub fn scrub_json(value: &mut Value, name: &str, email: &str) -> bool {
    match value {
        Value::String(s) => match scrub_text(s, name, email) {
            Some(new) => {
                *s = new;
                true
            }
            None => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, v| scrub_json(v, name, email) | changed),
        Value::Object(fields) => {
            let mut changed = false;
            let old = std::mem::take(fields);
            for (key, mut v) in old {
                changed |= scrub_json(&mut v, name, email);
                let key = match scrub_text(&key, name, email) {
                    Some(k) => {
                        changed = true;
                        k
                    }
                    None => key,
                };
                fields.insert(key, v);
            }
            // An object that named the person may also hold their first name alone
            // (`{"first_name": "Ada", "name": "Ada Lovelace"}`): it goes too.
            if changed {
                if let Some(first) = name.split_whitespace().next().filter(|f| f.chars().count() >= 2) {
                    for v in fields.values_mut() {
                        if v.as_str().is_some_and(|s| s.trim().eq_ignore_ascii_case(first)) {
                            *v = Value::String(ERASED_NAME.to_owned());
                        }
                    }
                }
            }
            changed
        }
        _ => false,
    }
}

/// Scrubs stored text that may be JSON: as JSON when it parses (so escapes stay valid),
/// as plain text otherwise. `None` when nothing named the person.
pub fn scrub_stored(text: &str, name: &str, email: &str) -> Option<String> {
    match serde_json::from_str::<Value>(text) {
        Ok(mut value) if value.is_object() || value.is_array() => {
            scrub_json(&mut value, name, email).then(|| value.to_string())
        }
        _ => scrub_text(text, name, email),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn summaries_keep_changed_fields_and_never_secrets() {
        let before = json!({"name": "Spring", "status": "draft", "password_hash": "x", "same": 1, "updated_at": "1"});
        let after = json!({"name": "Autumn", "status": "draft", "password_hash": "y", "same": 1, "new": true, "updated_at": "2"});
        let (b, a) = summarize(&before, &after);
        assert_eq!(b, Some(json!({"name": "Spring", "new": null})));
        assert_eq!(a, Some(json!({"name": "Autumn", "new": true})));
        let (b, a) = summarize(
            &Value::Null,
            &json!({"url": "https://x", "secret": "whsec_1", "nested": {"token": "t", "k": 1}}),
        );
        assert_eq!(b, None);
        assert_eq!(a, Some(json!({"url": "https://x", "nested": {"k": 1}})));
        let (b, a) = summarize(&json!({"key_hash": "h", "name": "k"}), &Value::Null);
        assert_eq!((b, a), (Some(json!({"name": "k"})), None));
        assert_eq!(
            summarize(&json!({"a": 1}), &json!({"a": 1})),
            (Some(json!({})), Some(json!({})))
        );
    }

    #[test]
    fn sources_and_retention() {
        for s in [Source::Dashboard, Source::ApiKey, Source::System] {
            assert_eq!(Source::parse(s.as_str()), Ok(s));
        }
        assert!(Source::parse("browser").is_err());
        assert_eq!(parse_retention_days(365), Ok(365));
        assert!(parse_retention_days(29).is_err());
        assert!(parse_retention_days(3651).is_err());
        let now = NaiveDateTime::parse_from_str("2026-12-06 10:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            retention_cutoff(now, 30),
            NaiveDateTime::parse_from_str("2026-11-06 10:00:00", "%Y-%m-%d %H:%M:%S").unwrap()
        );
    }

    #[test]
    fn scrubbing_replaces_names_and_emails_in_text_and_json() {
        assert_eq!(
            scrub_text("Hi Ada Lovelace <ADA@example.org>", "Ada Lovelace", "ada@example.org").as_deref(),
            Some("Hi Erased person <erased@erased.invalid>")
        );
        assert_eq!(scrub_text("nothing here", "Ada Lovelace", "ada@example.org"), None);
        // Too short to be told apart from ordinary words.
        assert_eq!(scrub_text("Al went", "Al", "al@x.org"), None);
        let stored = r#"{"to":"ada@example.org","vars":{"mentee_name":"Ada \"Q\" Lovelace"}}"#;
        let scrubbed = scrub_stored(stored, "Ada \"Q\" Lovelace", "ada@example.org").unwrap();
        let value: Value = serde_json::from_str(&scrubbed).unwrap();
        assert_eq!(
            value,
            json!({"to": "erased@erased.invalid", "vars": {"mentee_name": "Erased person"}})
        );
        assert_eq!(scrub_stored("{\"a\":1}", "Ada Lovelace", "ada@example.org"), None);
        let mut context =
            json!({"recipient": {"first_name": "Ada", "name": "Ada Lovelace"}, "other": {"first_name": "Ada"}});
        assert!(scrub_json(&mut context, "Ada Lovelace", "ada@example.org"));
        assert_eq!(
            context,
            json!({"recipient": {"first_name": "Erased person", "name": "Erased person"}, "other": {"first_name": "Ada"}})
        );
        assert_eq!(
            scrub_stored("Ada Lovelace's meeting", "Ada Lovelace", "a@b.cd").as_deref(),
            Some("Erased person's meeting")
        );
    }

    proptest! {
        #[test]
        fn scrubbed_text_never_contains_the_needles(
            prefix in "\\PC{0,20}", suffix in "\\PC{0,20}", name in "[A-Za-zé ]{3,12}",
        ) {
            let text = format!("{prefix}{name}{suffix}{}", name.to_uppercase());
            let out = scrub_text(&text, &name, "someone@example.org").unwrap_or(text.clone());
            prop_assume!(!name.trim().is_empty() && name.trim().chars().count() >= 3);
            prop_assert!(!out.to_ascii_lowercase().contains(&name.trim().to_ascii_lowercase()));
        }

        #[test]
        fn summaries_of_objects_have_the_same_keys_on_both_sides(
            a in proptest::collection::btree_map("[a-z]{1,4}", 0i64..3, 0..6),
            b in proptest::collection::btree_map("[a-z]{1,4}", 0i64..3, 0..6),
        ) {
            let (before, after) = summarize(&json!(a), &json!(b));
            let (before, after) = (before.unwrap(), after.unwrap());
            let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
            prop_assert_eq!(keys(&before), keys(&after));
            for k in keys(&before) {
                prop_assert_ne!(&before[&k], &after[&k]);
                prop_assert!(!is_secret(&k) || before[&k].is_null());
            }
        }
    }
}
