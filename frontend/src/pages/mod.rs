//! Pages fetch what they show; components render.

pub mod audit_log;
pub mod auto_pair;
pub mod automations;
pub mod availability;
pub mod booking_settings;
pub mod calendar;
pub mod emails;
pub mod imports;
pub mod notification_log;
pub mod pairing;
pub mod people;
pub mod program;
pub mod program_new;
pub mod programs;
pub mod providers;
pub mod services;
pub mod settings;
pub mod steps;
pub mod webhooks;
