//! Cohort's product rules as plain types and pure functions: no I/O, no HTTP,
//! no SQL. The API crate parses its input into these types ("parse, don't
//! validate") and asks these functions what is allowed.

pub mod audit;
pub mod auth;
pub mod automations;
pub mod autopair;
pub mod booking;
pub mod business_days;
pub mod calendar;
pub mod compat;
pub mod events;
pub mod imports;
pub mod jobs;
pub mod paging;
pub mod pairing;
pub mod people;
pub mod programs;
pub mod rate_limit;
pub mod retention;
pub mod spreadsheet;
pub mod steps;
pub mod tenancy;
pub mod webhooks;

/// Why a value was refused, in words an admin can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Trims `value` and checks its length in characters.
pub fn bounded_text(value: &str, min: usize, max: usize) -> Result<String, Invalid> {
    let value = value.trim();
    let len = value.chars().count();
    if len < min {
        return Err(if min == 1 {
            Invalid::new("must not be empty")
        } else {
            Invalid(format!("must have at least {min} characters"))
        });
    }
    if len > max {
        return Err(Invalid(format!("must have at most {max} characters")));
    }
    Ok(value.to_owned())
}
