//! How an email leaves Cohort: over SMTP (lettre), or into the log (the embedded default).
//!
//! Plain and STARTTLS relays (`smtp://`) are reached through a socket Cohort opens itself with
//! `TCP_NODELAY`: lettre 0.11.23 writes a message and its terminating `\r\n.\r\n` as two writes, and
//! without `TCP_NODELAY` the second waits ~40 ms for the server's delayed ACK, every message
//! (fixed upstream in lettre PR #1159, not yet released). Implicit TLS (`smtps://`) still uses
//! lettre's own transport and pays that wait; drop this split once lettre ships the fix.

use cohort_api_types::RenderedEmail;

use super::email::Attachment;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one email may take, connecting included: well inside the job worker's deadline for a
/// run under the default lease (45 of 60 seconds), which cuts off whatever outlasts it.
const TIMEOUT: Duration = Duration::from_secs(30);

pub enum Mailer {
    /// Writes each email to the log instead of sending it.
    Log { from: Mailbox },
    /// `smtp://`: plain, or upgraded with STARTTLS.
    Relay { from: Mailbox, relay: Relay },
    /// `smtps://`: implicit TLS through lettre's transport.
    Wrapped {
        from: Mailbox,
        transport: AsyncSmtpTransport<Tokio1Executor>,
    },
}

pub struct Relay {
    host: String,
    port: u16,
    starttls: Option<(TlsParameters, bool)>,
    credentials: Option<Credentials>,
    hello: ClientId,
}

impl Relay {
    /// Reads an `smtp://` URL the way lettre does: `smtp://user:pass@host:587?tls=required`
    /// (or `tls=opportunistic`), `smtp://127.0.0.1:2525` for a local relay without TLS, and an
    /// optional path naming the EHLO host.
    fn parse(url: &url::Url) -> Result<Self, String> {
        let host = url.host_str().ok_or("the URL names no host")?.to_owned();
        let tls = url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned());
        let required = match tls.as_deref() {
            None => None,
            Some("required") => Some(true),
            Some("opportunistic") => Some(false),
            Some(other) => return Err(format!("tls={other} is neither \"required\" nor \"opportunistic\"")),
        };
        let starttls = match required {
            None => None,
            Some(required) => Some((TlsParameters::new(host.clone()).map_err(|e| e.to_string())?, required)),
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|e| format!("credentials are not UTF-8: {e}"))
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(decode(url.username())?, decode(password)?)),
            None => None,
        };
        let path = url.path().trim_matches('/');
        Ok(Self {
            port: url.port().unwrap_or(if starttls.is_some() { 587 } else { 25 }),
            host,
            starttls,
            credentials,
            hello: if path.is_empty() {
                ClientId::default()
            } else {
                ClientId::Domain(path.to_owned())
            },
        })
    }

    async fn send(&self, message: &Message) -> Result<(), String> {
        // Connecting and the session share one deadline.
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        let connect = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
        let stream = tokio::time::timeout_at(deadline, connect)
            .await
            .map_err(|_| format!("no connection to {}:{} within {TIMEOUT:?}", self.host, self.port))?
            .map_err(|e| format!("cannot connect to {}:{}: {e}", self.host, self.port))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let smtp = |e: lettre::transport::smtp::Error| format!("SMTP: {e}");
        let session = async {
            let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                .await
                .map_err(smtp)?;
            if let Some((tls, required)) = &self.starttls {
                if conn.can_starttls() {
                    conn.starttls(tls.clone(), &self.hello).await.map_err(smtp)?;
                } else if *required {
                    return Err("SMTP: the server does not offer STARTTLS (tls=required)".to_owned());
                }
            }
            if let Some(credentials) = &self.credentials {
                conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await
                    .map_err(smtp)?;
            }
            conn.send(message.envelope(), &message.formatted())
                .await
                .map_err(smtp)?;
            conn.quit().await.map_err(smtp)?;
            Ok(())
        };
        tokio::time::timeout_at(deadline, session)
            .await
            .map_err(|_| format!("SMTP: the email was not sent within {TIMEOUT:?}"))?
    }
}

impl Mailer {
    /// `smtp_url` as lettre reads it: `smtp://user:pass@host:587?tls=required`, `smtps://host`,
    /// or `smtp://127.0.0.1:2525` (no TLS, for a local relay). `None` logs instead.
    pub fn new(smtp_url: Option<&str>, from: &str) -> Result<Self, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("\"{from}\" is not a sender address: {e}"))?;
        let Some(smtp_url) = smtp_url else {
            return Ok(Self::Log { from });
        };
        let url = url::Url::parse(smtp_url).map_err(|e| format!("not an SMTP URL: {e}"))?;
        Ok(match url.scheme() {
            "smtp" => Self::Relay {
                from,
                relay: Relay::parse(&url)?,
            },
            "smtps" => Self::Wrapped {
                from,
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
                    .map_err(|e| format!("not an SMTP URL: {e}"))?
                    .build(),
            },
            other => return Err(format!("not an SMTP URL: the scheme is \"{other}\", not smtp or smtps")),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Log { .. } => "log",
            Self::Relay { .. } | Self::Wrapped { .. } => "smtp",
        }
    }

    /// Sends one email. `message_id` makes repeated deliveries of one message recognisable to
    /// the receiving side.
    pub async fn send(
        &self,
        to: &str,
        email: &RenderedEmail,
        attachments: &[Attachment],
        message_id: &str,
    ) -> Result<(), String> {
        let from = match self {
            Self::Log { from } | Self::Relay { from, .. } | Self::Wrapped { from, .. } => from.clone(),
        };
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("\"{to}\" is not an email address: {e}"))?;
        let body = MultiPart::alternative()
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(email.text.clone()),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(email.html.clone()),
            );
        let body = if attachments.is_empty() {
            body
        } else {
            let mut mixed = MultiPart::mixed().multipart(body);
            for a in attachments {
                let content_type = ContentType::parse(&a.content_type)
                    .map_err(|e| format!("attachment {}: bad content type: {e}", a.filename))?;
                mixed = mixed.singlepart(
                    lettre::message::Attachment::new(a.filename.clone()).body(a.content.clone(), content_type),
                );
            }
            mixed
        };
        let message = Message::builder()
            .from(from)
            .to(to.clone())
            .subject(email.subject.clone())
            .message_id(Some(format!("<{message_id}@cohort>")))
            .multipart(body)
            .map_err(|e| format!("cannot build the email: {e}"))?;
        match self {
            Self::Log { .. } => {
                // Without SMTP the log is the only way to the email: its text goes there whole,
                // links included, so that someone trying Cohort can follow an invitation or reset.
                tracing::info!(to = %to, subject = %email.subject, message_id, text = %email.text, "email (log transport)");
                Ok(())
            }
            Self::Relay { relay, .. } => relay.send(&message).await,
            Self::Wrapped { transport, .. } => tokio::time::timeout(TIMEOUT, transport.send(message))
                .await
                .map_err(|_| format!("SMTP: the email was not sent within {TIMEOUT:?}"))?
                .map(drop)
                .map_err(|e| format!("SMTP: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(url: &str) -> Result<Relay, String> {
        Relay::parse(&url::Url::parse(url).unwrap())
    }

    #[test]
    fn smtp_urls_read_as_lettre_reads_them() {
        let local = relay("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((local.host.as_str(), local.port), ("127.0.0.1", 2525));
        assert!(local.starttls.is_none() && local.credentials.is_none());

        let submission = relay("smtp://us%40er:p%20w@mail.example.org/cohort.example.org?tls=required").unwrap();
        assert_eq!(submission.port, 587);
        assert!(matches!(submission.starttls, Some((_, true))));
        assert_eq!(
            submission.credentials,
            Some(Credentials::new("us@er".into(), "p w".into()))
        );
        assert_eq!(submission.hello, ClientId::Domain("cohort.example.org".into()));

        assert!(matches!(
            relay("smtp://mail.example.org?tls=opportunistic").unwrap().starttls,
            Some((_, false))
        ));
        assert_eq!(relay("smtp://mail.example.org").unwrap().port, 25);
        assert!(relay("smtp://mail.example.org?tls=sometimes")
            .err()
            .unwrap()
            .contains("tls=sometimes"));
    }

    #[test]
    fn other_schemes_are_refused() {
        let err = Mailer::new(Some("http://mail.example.org"), "Cohort <noreply@example.org>")
            .err()
            .unwrap();
        assert!(err.contains("\"http\""), "{err}");
        assert!(Mailer::new(Some("smtps://mail.example.org"), "noreply@example.org").is_ok());
        assert!(Mailer::new(None, "not an address").is_err());
    }
}
