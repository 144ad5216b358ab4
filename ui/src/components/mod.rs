//! Components render; pages fetch.

pub mod availability;
pub mod field;
pub mod reschedule;
