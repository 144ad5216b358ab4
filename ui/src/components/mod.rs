//! Components render; pages fetch.

pub mod field;
