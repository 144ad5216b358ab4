//! How an email leaves Cohort: over SMTP (lettre), or into the log (the embedded default).

use cohort_api_types::RenderedEmail;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{Message, SmtpTransport, Transport};

pub enum Mailer {
    /// Writes each email to the log instead of sending it.
    Log {
        from: Mailbox,
    },
    Smtp {
        from: Mailbox,
        transport: SmtpTransport,
    },
}

impl Mailer {
    /// `smtp_url` as lettre reads it: `smtp://user:pass@host:587?tls=required`, `smtps://host`,
    /// or `smtp://127.0.0.1:2525` (no TLS, for a local relay). `None` logs instead.
    pub fn new(smtp_url: Option<&str>, from: &str) -> Result<Self, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("\"{from}\" is not a sender address: {e}"))?;
        Ok(match smtp_url {
            None => Self::Log { from },
            Some(url) => Self::Smtp {
                from,
                transport: SmtpTransport::from_url(url)
                    .map_err(|e| format!("not an SMTP URL: {e}"))?
                    .build(),
            },
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Log { .. } => "log",
            Self::Smtp { .. } => "smtp",
        }
    }

    /// Sends one email (blocking: call it off the async workers). `message_id` makes
    /// repeated deliveries of one message recognisable to the receiving side.
    pub fn send(&self, to: &str, email: &RenderedEmail, message_id: &str) -> Result<(), String> {
        let from = match self {
            Self::Log { from } | Self::Smtp { from, .. } => from.clone(),
        };
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("\"{to}\" is not an email address: {e}"))?;
        let message = Message::builder()
            .from(from)
            .to(to.clone())
            .subject(email.subject.clone())
            .message_id(Some(format!("<{message_id}@cohort>")))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(email.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(email.html.clone()),
                    ),
            )
            .map_err(|e| format!("cannot build the email: {e}"))?;
        match self {
            Self::Log { .. } => {
                tracing::info!(to = %to, subject = %email.subject, message_id, "email (log transport)");
                Ok(())
            }
            Self::Smtp { transport, .. } => transport.send(&message).map(drop).map_err(|e| format!("SMTP: {e}")),
        }
    }
}
