//! Answers that carry a secret shown once (an API key, a signing secret, a calendar feed's
//! address): the handler marks them, and the idempotency record keeps them without it.

use actix_web::HttpResponse;

/// The fields of a response that hold a secret shown once (an API key, a signing secret, a
/// calendar feed's address). The stored answer keeps everything else and replaces these, so a
/// replay answers as before without the database keeping the secret for a day.
#[derive(Clone, Copy)]
pub struct HoldsSecrets(pub &'static [&'static str]);

/// What a replayed answer shows in place of a secret.
pub const REDACTED: &str = "(shown once; not kept for replays)";

/// Marks `res` as holding secrets in the JSON fields named `fields` (at any depth).
pub fn holding_secrets(mut res: HttpResponse, fields: &'static [&'static str]) -> HttpResponse {
    res.extensions_mut().insert(HoldsSecrets(fields));
    res
}

/// `body` with every value of `fields` replaced by [`REDACTED`]; nothing if it is not JSON.
pub(super) fn redact(body: &[u8], fields: &[&str]) -> Vec<u8> {
    fn walk(value: &mut serde_json::Value, fields: &[&str]) {
        match value {
            serde_json::Value::Object(map) => {
                for (name, field) in map.iter_mut() {
                    if fields.contains(&name.as_str()) && !field.is_null() {
                        *field = REDACTED.into();
                    } else {
                        walk(field, fields);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|item| walk(item, fields)),
            _ => {}
        }
    }
    match serde_json::from_slice(body) {
        Ok(mut value) => {
            walk(&mut value, fields);
            serde_json::to_vec(&value).unwrap_or_default()
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_at_any_depth_and_the_rest_is_kept() {
        let body = br#"{"key":{"id":"k1","secret":"ck_live"},"secret":"whsec_x","webhook_secret":null,"items":[{"secret":"s"}]}"#;
        let kept: serde_json::Value = serde_json::from_slice(&redact(body, &["secret", "webhook_secret"])).unwrap();
        assert_eq!(
            kept,
            serde_json::json!({"key": {"id": "k1", "secret": REDACTED}, "secret": REDACTED,
                               "webhook_secret": null, "items": [{"secret": REDACTED}]})
        );
        assert!(redact(b"not json ck_live", &["secret"]).is_empty());
    }
}
