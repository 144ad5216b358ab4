//! Components render; pages fetch.

pub mod field;
pub mod shell;
pub mod person_picker;
