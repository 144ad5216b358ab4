//! Password policy and token lifetimes.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::Invalid;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// How long an access token (JWT) lives, in seconds.
pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
/// How long a refresh token lives, in seconds.
pub const REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 60 * 60;

/// What a one-time link lets its holder do. Each is a 256-bit token sent by email and stored
/// hashed; it works once, for one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Set a first password: an admin invited the person.
    Invitation,
    /// Set a new password: the person asked for it.
    PasswordReset,
    /// Accept or decline one mentor request, as that request's mentor.
    RequestAnswer,
}

impl LinkPurpose {
    pub const ALL: [LinkPurpose; 3] = [Self::Invitation, Self::PasswordReset, Self::RequestAnswer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password_reset",
            Self::RequestAnswer => "request_answer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// How long a link of this kind works after it is sent.
    pub fn lifetime(self) -> chrono::Duration {
        match self {
            Self::Invitation => chrono::Duration::days(7),
            Self::PasswordReset => chrono::Duration::hours(1),
            // A request expires on its own schedule (at most weeks); the link never outlives
            // the answer it stands for, since answering uses it up.
            Self::RequestAnswer => chrono::Duration::days(30),
        }
    }

    /// Whether a new link of this kind ends the person's earlier unused one (of the same
    /// subject). Inviting again or asking for another reset leaves one live link; a request's
    /// reminder adds a link, and the first email's links keep working until the request is
    /// answered.
    pub fn replaces_earlier(self) -> bool {
        !matches!(self, Self::RequestAnswer)
    }
}

/// Why a one-time link no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefused {
    Used,
    Expired,
}

impl LinkRefused {
    pub fn message(self) -> &'static str {
        match self {
            Self::Used => "This link was used already; ask for a new one.",
            Self::Expired => "This link has expired; ask for a new one.",
        }
    }
}

/// Whether a one-time link may be used at `now`: not used before, and not past its expiry
/// (the expiry instant itself is already too late).
pub fn link_usable(
    expires_at: chrono::NaiveDateTime,
    used_at: Option<chrono::NaiveDateTime>,
    now: chrono::NaiveDateTime,
) -> Result<(), LinkRefused> {
    if used_at.is_some() {
        Err(LinkRefused::Used)
    } else if now >= expires_at {
        Err(LinkRefused::Expired)
    } else {
        Ok(())
    }
}

/// Common passwords from leaked password lists: the 5,000 most frequent in
/// zxcvbn's list (from Xato's corpus of ten million leaked passwords) and every
/// longer one in it, lower-cased. Licence: `data/LICENSE-zxcvbn.txt`.
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().filter(|l| !l.is_empty()).collect())
}

/// Whether the password is a common one, or a common one with digits and
/// punctuation added at the end ("sunshine2024!"), ignoring case. Attackers try
/// exactly these first.
pub fn is_common_password(password: &str) -> bool {
    let lower = password.trim().to_lowercase();
    let set = common_passwords();
    if set.contains(lower.as_str()) {
        return true;
    }
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    stem.chars().count() >= 4 && set.contains(stem)
}

/// Long enough, not absurdly long (hashing cost grows with it), not all one
/// character, and not a common password.
pub fn check_password(password: &str) -> Result<(), Invalid> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Invalid(format!("must have at least {MIN_PASSWORD_CHARS} characters")));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Invalid(format!("must have at most {MAX_PASSWORD_CHARS} characters")));
    }
    let mut it = password.chars();
    let first = it.next();
    if it.all(|c| Some(c) == first) {
        return Err(Invalid::new("must not repeat one character"));
    }
    if is_common_password(password) {
        return Err(Invalid::new(
            "is too common: it appears in lists of leaked passwords; choose another",
        ));
    }
    Ok(())
}

/// The parts of the API an API key's scopes name. Keys never reach API keys, logins or
/// passwords, whatever their scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    People,
    Programs,
    Events,
    Automations,
    Booking,
    Data,
    Webhooks,
    Messages,
    Organization,
}

impl Area {
    pub const ALL: [Area; 9] = [
        Area::People,
        Area::Programs,
        Area::Events,
        Area::Automations,
        Area::Booking,
        Area::Data,
        Area::Webhooks,
        Area::Messages,
        Area::Organization,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Area::People => "people",
            Area::Programs => "programs",
            Area::Events => "events",
            Area::Automations => "automations",
            Area::Booking => "booking",
            Area::Data => "data",
            Area::Webhooks => "webhooks",
            Area::Messages => "messages",
            Area::Organization => "organization",
        }
    }

    /// The area of an API route, from its first segment after `/api/v1/`.
    pub fn of_segment(segment: &str) -> Option<Area> {
        Some(match segment {
            "people" | "me" => Area::People,
            "programs" => Area::Programs,
            "events" => Area::Events,
            "automations" | "badges" | "email-templates" => Area::Automations,
            "services" | "providers" | "bookings" | "booking-settings" => Area::Booking,
            "imports" | "exports" => Area::Data,
            "webhooks" => Area::Webhooks,
            "conversations" | "notifications" | "notification-log" => Area::Messages,
            "organization" | "audit-log" => Area::Organization,
            _ => return None,
        })
    }
}

/// One scope of an API key: everything, every read, or one area read (or written, which
/// includes reading it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Read,
    Area { area: Area, write: bool },
}

impl Scope {
    /// Every scope there is, as written: `all`, `read`, then `<area>:read` and `<area>:write`.
    pub fn every() -> Vec<String> {
        let mut all = vec!["all".to_owned(), "read".to_owned()];
        for area in Area::ALL {
            all.push(format!("{}:read", area.name()));
            all.push(format!("{}:write", area.name()));
        }
        all
    }

    pub fn parse(text: &str) -> Result<Scope, Invalid> {
        let text = text.trim();
        let scope = match text {
            "all" => Some(Scope::All),
            "read" => Some(Scope::Read),
            _ => text.split_once(':').and_then(|(area, access)| {
                let area = Area::ALL.into_iter().find(|a| a.name() == area)?;
                match access {
                    "read" => Some(Scope::Area { area, write: false }),
                    "write" => Some(Scope::Area { area, write: true }),
                    _ => None,
                }
            }),
        };
        scope.ok_or_else(|| {
            Invalid(format!(
                "\"{text}\" is not a scope; the scopes are {}",
                Scope::every().join(", ")
            ))
        })
    }

    pub fn as_string(self) -> String {
        match self {
            Scope::All => "all".to_owned(),
            Scope::Read => "read".to_owned(),
            Scope::Area { area, write } => format!("{}:{}", area.name(), if write { "write" } else { "read" }),
        }
    }
}

/// Whether a key with `scopes` may make a request to `area` (`None`: a route outside every
/// area, such as logging out), writing or only reading.
pub fn scopes_allow(scopes: &[Scope], area: Option<Area>, write: bool) -> bool {
    scopes.iter().any(|scope| match (*scope, area) {
        (Scope::All, _) => true,
        (Scope::Read, Some(_)) => !write,
        (
            Scope::Area {
                area: granted,
                write: may_write,
            },
            Some(area),
        ) => granted == area && (may_write || !write),
        _ => false,
    })
}

/// The fewest characters of a token-signing secret.
pub const MIN_SECRET_CHARS: usize = 32;

/// Words that mark a secret copied from an example or a template rather than generated.
const PLACEHOLDERS: [&str; 14] = [
    "changeme",
    "change-me",
    "change_me",
    "replaceme",
    "replace-me",
    "your-secret",
    "yoursecret",
    "placeholder",
    "example",
    "insecure",
    "notasecret",
    "secretkey",
    "secret-key",
    "jwt-secret",
];

/// Whether `secret` may sign tokens: long enough, no placeholder from an example file, and not
/// a short pattern repeated ("test-secret-test-secret-…"), which a generator never produces.
/// Anyone who knows the secret can sign themselves admin of any organisation.
pub fn check_signing_secret(secret: &str) -> Result<(), Invalid> {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < MIN_SECRET_CHARS {
        return Err(Invalid(format!("must have at least {MIN_SECRET_CHARS} characters")));
    }
    let lower = secret.to_lowercase();
    if let Some(word) = PLACEHOLDERS.iter().find(|w| lower.contains(*w)) {
        return Err(Invalid(format!(
            "contains \"{word}\": it is a placeholder from an example, not a secret"
        )));
    }
    let distinct: HashSet<char> = chars.iter().copied().collect();
    if distinct.len() < 8 {
        return Err(Invalid::new("uses fewer than 8 different characters"));
    }
    // A random secret matches itself shifted by a few places at about one position in 16 (hex)
    // or 64 (base64); a repeated pattern matches almost everywhere at its own period.
    for period in 1..=16 {
        let pairs = chars.len() - period;
        let same = (0..pairs).filter(|&i| chars[i] == chars[i + period]).count();
        if same * 2 >= pairs {
            return Err(Invalid(format!("repeats a pattern of {period} characters")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_works_once_and_until_its_expiry() {
        let sent = chrono::NaiveDate::from_ymd_opt(2027, 3, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        for purpose in LinkPurpose::ALL {
            assert_eq!(LinkPurpose::parse(purpose.as_str()), Some(purpose));
            let expires = sent + purpose.lifetime();
            let just_before = expires - chrono::Duration::seconds(1);
            assert_eq!(link_usable(expires, None, sent), Ok(()));
            assert_eq!(link_usable(expires, None, just_before), Ok(()));
            assert_eq!(link_usable(expires, None, expires), Err(LinkRefused::Expired));
            assert_eq!(link_usable(expires, Some(sent), sent), Err(LinkRefused::Used));
            // Used and expired: "used" says more (asking again will not help the one who used it).
            assert_eq!(link_usable(expires, Some(sent), expires), Err(LinkRefused::Used));
        }
        assert_eq!(LinkPurpose::Invitation.lifetime(), chrono::Duration::days(7));
        assert_eq!(LinkPurpose::PasswordReset.lifetime(), chrono::Duration::hours(1));
        assert_eq!(LinkPurpose::parse("login"), None);
        assert!(LinkPurpose::Invitation.replaces_earlier() && LinkPurpose::PasswordReset.replaces_earlier());
        assert!(!LinkPurpose::RequestAnswer.replaces_earlier());
    }

    #[test]
    fn scopes_grant_their_area_and_access_only() {
        let scopes: Vec<Scope> = ["people:read", "events:write"]
            .iter()
            .map(|s| Scope::parse(s).unwrap())
            .collect();
        assert!(scopes_allow(&scopes, Some(Area::People), false));
        assert!(!scopes_allow(&scopes, Some(Area::People), true));
        assert!(scopes_allow(&scopes, Some(Area::Events), true));
        assert!(
            scopes_allow(&scopes, Some(Area::Events), false),
            "writing includes reading"
        );
        assert!(!scopes_allow(&scopes, Some(Area::Programs), false));
        assert!(!scopes_allow(&scopes, None, false));
        let read = [Scope::Read];
        assert!(Area::ALL
            .iter()
            .all(|a| scopes_allow(&read, Some(*a), false) && !scopes_allow(&read, Some(*a), true)));
        assert!(scopes_allow(&[Scope::All], None, true));
        for text in Scope::every() {
            assert_eq!(Scope::parse(&text).unwrap().as_string(), text);
        }
        assert_eq!(Scope::every().len(), 2 + 2 * Area::ALL.len());
        for bad in ["people:admin", "everything", "", "people"] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Area::of_segment("badges"), Some(Area::Automations));
        assert_eq!(Area::of_segment("api-keys"), None);
    }

    #[test]
    fn generated_secrets_sign_and_placeholders_or_patterns_do_not() {
        // What `openssl rand -base64 48` and `-hex 32` print, and the server's own generator's form.
        for good in [
            "q3V9xW0+Jd8mZbT2rK5nL7pH1sYc4aFgE6uQiO0vRkXw2yNt8zMj3lPe5hBo7CdA",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "hU2kq9Tz-Lw4PmX7cR1vNb8sYe3Gd6Jf0Aa5Q_oI",
        ] {
            assert_eq!(check_signing_secret(good), Ok(()), "{good}");
        }
        for (bad, reason) in [
            ("too-short", "at least 32"),
            ("change-me-change-me-change-me-change-me", "placeholder"),
            ("CHANGEME0123456789abcdefghijklmnopqrstuvwxyz", "placeholder"),
            ("my-app-jwt-secret-for-production-2026-x", "placeholder"),
            ("test-secret-test-secret-test-secret-0123", "pattern of 12"),
            ("abcabcabcabcabcabcabcabcabcabcabcabc", "fewer than 8"),
            ("0123456789abcdef0123456789abcdef0123456789", "pattern of 16"),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "fewer than 8"),
        ] {
            let e = check_signing_secret(bad).unwrap_err();
            assert!(e.0.contains(reason), "{bad}: {e}");
        }
    }

    #[test]
    fn password_policy() {
        assert!(check_password("correct horse").is_ok());
        assert!(check_password("short").is_err());
        assert!(check_password("aaaaaaaaaaaa").is_err());
        assert!(check_password(&"ab".repeat(200)).is_err());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in ["qwertyuiop", "1234567890", "Password123", "MANCHESTER", "1q2w3e4r5t"] {
            let e = check_password(common).unwrap_err();
            assert!(e.0.contains("too common"), "{common}: {e}");
        }
        assert!(check_password("admin-password-0123").is_ok());
        assert!(check_password("person-password-0123").is_ok());
    }

    #[test]
    fn common_words_with_digits_or_symbols_appended_are_refused() {
        for pattern in ["sunshine2024!", "Dragon12345", "football!!!!!", "iloveyou1990"] {
            assert!(is_common_password(pattern), "{pattern}");
        }
        // Appending needs a real stem: a short prefix is not a common password.
        assert!(!is_common_password("xyz1234567890"));
        assert!(!is_common_password("mentoring is fun 2027"));
    }

    #[test]
    fn the_bundled_list_has_a_few_thousand_lower_case_entries() {
        let set = common_passwords();
        assert!(set.len() > 5_000, "{}", set.len());
        assert!(set.iter().all(|p| *p == p.to_lowercase() && !p.trim().is_empty()));
    }
}
