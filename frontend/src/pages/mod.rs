//! Pages fetch; components render.

pub mod home;
pub mod login;
