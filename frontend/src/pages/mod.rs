//! Pages fetch what they show; components render.

pub mod login;
pub mod program;
pub mod program_new;
pub mod programs;
pub mod settings;
