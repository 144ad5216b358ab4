//! Pages fetch what they show; components render.

pub mod account;
pub mod answer_request;
pub mod book;
pub mod bookings;
pub mod chat;
pub mod login;
pub mod mentoring;
pub mod notifications;
pub mod participant;
pub mod profile;
pub mod schedule;
pub mod steps;
