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

#[cfg(test)]
mod tests {
    use super::*;

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
