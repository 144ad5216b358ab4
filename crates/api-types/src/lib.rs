//! Request and response types of Cohort's JSON API, shared by the server
//! (which derives the OpenAPI schemas from them, feature `openapi`) and the
//! Yew dashboard (which compiles them to wasm32). One definition, so the two
//! cannot drift apart.

pub mod audit;
pub mod auth;
pub mod automations;
pub mod booking;
pub mod chat;
pub mod events;
pub mod imports;
pub mod jobs;
pub mod links;
pub mod messaging;
pub mod organization;
pub mod page;
pub mod pairing;
pub mod people;
pub mod problem;
pub mod programs;
pub mod steps;
pub mod webhooks;

pub use audit::*;
pub use auth::*;
pub use automations::*;
pub use booking::*;
pub use chat::*;
pub use events::*;
pub use imports::*;
pub use jobs::*;
pub use messaging::*;
pub use organization::*;
pub use page::*;
pub use pairing::*;
pub use people::*;
pub use problem::*;
pub use programs::*;
pub use steps::*;
pub use webhooks::*;
