//! Components render; pages fetch.

pub mod person_picker;
pub mod shell;
