//! Messages: email templates and their delivery through the outbox and job queue.

pub mod chat;
pub mod chat_repo;
pub mod email;
pub mod email_repo;
pub mod notifications;
pub mod notifications_repo;
pub mod templates;
pub mod transport;
pub mod webhooks;
pub mod webhooks_repo;
