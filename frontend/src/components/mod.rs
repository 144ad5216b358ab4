//! Components render; pages fetch.

pub mod field;
pub mod person_picker;
pub mod shell;
