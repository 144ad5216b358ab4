//! Configuration from environment variables. A bad value stops start-up with
//! a message naming the variable; the README's table lists every one.

use std::net::SocketAddr;
use std::path::PathBuf;

use cohort_domain::auth::{check_password, check_signing_secret};
use cohort_domain::people::Email;
use secrecy::{ExposeSecret, SecretString};

use crate::db::Backend;

#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub backend: Backend,
    pub bind: SocketAddr,
    /// Where people reach Cohort (`COHORT_PUBLIC_URL`): the links in emails are absolute under it.
    /// Unset, the URL Cohort listens on.
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub admin_email: Email,
    /// `None`: generate one on first start and print it once.
    pub admin_password: Option<SecretString>,
    /// `None` (SQLite only): read (or create) `jwt-secret` in the data folder.
    pub jwt_secret: Option<SecretString>,
    pub demo_data: bool,
    pub dashboard_dir: PathBuf,
    pub db_pool_size: u32,
    pub log_filter: String,
    /// `None`: emails go to the log.
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    pub allow_private_webhooks: bool,
    /// Every webhook goes through this HTTP(S) proxy; `None`: straight out (proxy variables of the
    /// environment are not read).
    pub webhook_proxy: Option<SecretString>,
    /// The first retry delay of a failed job; later ones double.
    pub job_retry_base: std::time::Duration,
    /// How long a failing job is retried, at the least, before it is parked as dead.
    pub job_retry_span: std::time::Duration,
    /// How long a worker holds a job before another may take it over (after a crash).
    pub job_lease: std::time::Duration,
    /// Login attempts per email address per `rate_limit_period`.
    pub login_limit_per_account: u32,
    /// Login attempts per client address per `rate_limit_period`.
    pub login_limit_per_address: u32,
    /// Token refreshes and logouts per client address (IPv6: per /64) per `rate_limit_period`.
    pub session_limit_per_address: u32,
    /// Requests per logged-in person per `rate_limit_period`.
    pub person_limit: u32,
    /// Requests per API key per `rate_limit_period`.
    pub api_key_limit: u32,
    pub rate_limit_period: std::time::Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client; empty: the peer address is the client.
    pub trusted_proxies: Vec<cohort_domain::rate_limit::IpRange>,
    /// Origins besides the dashboard's own that browsers may call the API from (CORS).
    pub allowed_origins: Vec<String>,
    /// The most mentee-mentor pairs one auto-pair run may consider.
    pub autopair_max_pairs: u64,
    /// The largest CSV upload, in bytes.
    pub import_max_bytes: usize,
    /// The most data rows of one CSV upload.
    pub import_max_rows: usize,
}

/// Reads the configuration through `get`, so tests can pass a map instead of the process environment.
pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let err = |var: &'static str, message: String| ConfigError { var, message };
    let non_empty = |var: &str| get(var).filter(|v| !v.trim().is_empty());

    let data_dir = PathBuf::from(non_empty("COHORT_DATA_DIR").unwrap_or_else(|| "./data".into()));
    let database_url =
        non_empty("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}", data_dir.join("cohort.db").display()));
    let backend = Backend::from_url(&database_url).ok_or_else(|| {
        err(
            "DATABASE_URL",
            format!("\"{database_url}\" is neither a sqlite:// nor a postgres:// URL"),
        )
    })?;
    let bind = non_empty("COHORT_BIND")
        .unwrap_or_else(|| "127.0.0.1:8080".into())
        .parse::<SocketAddr>()
        .map_err(|e| {
            err(
                "COHORT_BIND",
                format!("not a host:port address such as 127.0.0.1:8080 ({e})"),
            )
        })?;
    let public_url = non_empty("COHORT_PUBLIC_URL")
        .map(|v| match url::Url::parse(v.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none() => {
                Ok(u.as_str().trim_end_matches('/').to_owned())
            }
            _ => Err(err(
                "COHORT_PUBLIC_URL",
                format!("\"{v}\" is not an http:// or https:// URL such as https://mentoring.example.org"),
            )),
        })
        .transpose()?;
    let admin_email = Email::parse(&non_empty("COHORT_ADMIN_EMAIL").unwrap_or_else(|| "admin@example.org".into()))
        .map_err(|e| err("COHORT_ADMIN_EMAIL", e.0))?;
    let admin_password = non_empty("COHORT_ADMIN_PASSWORD").map(SecretString::from);
    if let Some(password) = &admin_password {
        check_password(password.expose_secret())
            .map_err(|e| err("COHORT_ADMIN_PASSWORD", format!("the password {}", e.0)))?;
    }
    let jwt_secret = non_empty("COHORT_JWT_SECRET").map(SecretString::from);
    match &jwt_secret {
        Some(secret) => check_signing_secret(secret.expose_secret()).map_err(|e| {
            err(
                "COHORT_JWT_SECRET",
                format!("the secret {e}; generate one with `openssl rand -base64 48`"),
            )
        })?,
        // Several instances share one PostgreSQL database: each would generate a secret of its
        // own and refuse the others' tokens.
        None if backend == Backend::Postgres => {
            return Err(err(
                "COHORT_JWT_SECRET",
                "must be set when DATABASE_URL is PostgreSQL, the same on every instance; \
                 generate one with `openssl rand -base64 48`"
                    .into(),
            ))
        }
        None => {}
    }
    let flag = |var: &'static str, default: bool| match non_empty(var).as_deref().map(str::trim) {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => Err(err(var, format!("\"{other}\" is not true or false"))),
    };
    let demo_data = flag("COHORT_DEMO_DATA", true)?;
    let allow_private_webhooks = flag("COHORT_WEBHOOKS_ALLOW_PRIVATE", false)?;
    let webhook_proxy = non_empty("COHORT_WEBHOOK_PROXY")
        .map(|v| match url::Url::parse(v.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                Ok(SecretString::from(u.to_string()))
            }
            _ => Err(err(
                "COHORT_WEBHOOK_PROXY",
                format!("\"{v}\" is not an http:// or https:// proxy URL such as http://proxy.internal:3128"),
            )),
        })
        .transpose()?;
    // A whole number within `range`, or `default` when the variable is unset.
    let number = |var: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| match non_empty(var) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                err(
                    var,
                    format!(
                        "\"{v}\" is not a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            }),
    };
    let job_retry_base = std::time::Duration::from_millis(number("COHORT_JOB_RETRY_BASE_MS", 5_000, 1..=3_600_000)?);
    let job_retry_span = std::time::Duration::from_secs(number(
        "COHORT_JOB_RETRY_SPAN_SECS",
        cohort_domain::jobs::RETRY_SPAN.as_secs(),
        1..=30 * 86_400,
    )?);
    let db_pool_size = number("COHORT_DB_POOL_SIZE", 16, 1..=256)? as u32;
    let smtp_url = non_empty("COHORT_SMTP_URL").map(SecretString::from);
    let mail_from = non_empty("COHORT_MAIL_FROM").unwrap_or_else(|| "Cohort <no-reply@cohort.invalid>".into());
    crate::messaging::transport::Mailer::new(None, &mail_from).map_err(|e| err("COHORT_MAIL_FROM", e))?;
    if let Some(url) = &smtp_url {
        crate::messaging::transport::Mailer::new(Some(url.expose_secret()), &mail_from)
            .map_err(|e| err("COHORT_SMTP_URL", e))?;
        if !flag("COHORT_SMTP_ALLOW_PLAINTEXT_AUTH", false)? && sends_password_in_the_clear(url) {
            return Err(err(
                "COHORT_SMTP_URL",
                "carries a password but does not require TLS: use smtps:// or ?tls=required, or set \
                 COHORT_SMTP_ALLOW_PLAINTEXT_AUTH=true for a relay on a network you trust"
                    .into(),
            ));
        }
    }
    let job_lease = std::time::Duration::from_secs(number("COHORT_JOB_LEASE_SECS", 60, 1..=86_400)?);
    // 10,000 mentees by 2,500 mentors: seconds of solving and about a gigabyte at most.
    let autopair_max_pairs = number("COHORT_AUTOPAIR_MAX_PAIRS", 25_000_000, 1..=1_000_000_000)?;
    let import_max_bytes = number(
        "COHORT_IMPORT_MAX_BYTES",
        cohort_domain::imports::DEFAULT_MAX_BYTES as u64,
        1024..=1 << 30,
    )? as usize;
    let import_max_rows = number(
        "COHORT_IMPORT_MAX_ROWS",
        match backend {
            Backend::Sqlite => cohort_domain::imports::DEFAULT_MAX_ROWS_SQLITE,
            Backend::Postgres => cohort_domain::imports::DEFAULT_MAX_ROWS,
        } as u64,
        1..=10_000_000,
    )? as usize;
    let limit = |var: &'static str, default: u64| number(var, default, 1..=1_000_000).map(|n| n as u32);
    let login_limit_per_account = limit("COHORT_LOGIN_LIMIT_PER_ACCOUNT", 10)?;
    let login_limit_per_address = limit("COHORT_LOGIN_LIMIT_PER_ADDRESS", 30)?;
    let session_limit_per_address = limit("COHORT_SESSION_LIMIT_PER_ADDRESS", 60)?;
    let person_limit = limit("COHORT_PERSON_LIMIT", 3000)?;
    let api_key_limit = limit("COHORT_API_KEY_LIMIT", 600)?;
    let rate_limit_period = std::time::Duration::from_secs(number("COHORT_RATE_LIMIT_PERIOD_SECS", 60, 1..=86_400)?);
    let trusted_proxies = non_empty("COHORT_TRUSTED_PROXIES")
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<cohort_domain::rate_limit::IpRange>().map_err(|e| {
                        err(
                            "COHORT_TRUSTED_PROXIES",
                            format!("\"{s}\" {e}; list addresses or CIDR ranges separated by commas"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let allowed_origins = non_empty("COHORT_ALLOWED_ORIGINS")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().trim_end_matches('/').to_owned())
                .filter(|s| !s.is_empty())
                .map(|origin| match url::Url::parse(&origin) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.path() == "/" && u.query().is_none() => {
                        Ok(origin)
                    }
                    _ => Err(err(
                        "COHORT_ALLOWED_ORIGINS",
                        format!("\"{origin}\" is not an origin such as https://admin.example.org"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(Config {
        autopair_max_pairs,
        import_max_bytes,
        import_max_rows,
        login_limit_per_account,
        login_limit_per_address,
        session_limit_per_address,
        person_limit,
        api_key_limit,
        rate_limit_period,
        trusted_proxies,
        allowed_origins,
        job_lease,
        allow_private_webhooks,
        webhook_proxy,
        job_retry_base,
        job_retry_span,
        smtp_url,
        mail_from,
        database_url,
        backend,
        bind,
        public_url,
        data_dir,
        admin_email,
        admin_password,
        jwt_secret,
        demo_data,
        dashboard_dir: PathBuf::from(non_empty("COHORT_DASHBOARD_DIR").unwrap_or_else(|| "frontend/dist".into())),
        db_pool_size,
        log_filter: non_empty("COHORT_LOG").unwrap_or_else(|| "info".into()),
    })
}

/// Whether an `smtp://` URL logs in over a connection that may stay unencrypted (no TLS, or
/// STARTTLS only when offered).
fn sends_password_in_the_clear(url: &SecretString) -> bool {
    url::Url::parse(url.expose_secret()).is_ok_and(|u| {
        u.scheme() == "smtp" && u.password().is_some() && !u.query_pairs().any(|(k, v)| k == "tls" && v == "required")
    })
}

impl Config {
    /// The proxy every webhook goes through, if one is configured (checked when read).
    pub fn webhook_proxy_url(&self) -> Option<url::Url> {
        self.webhook_proxy
            .as_ref()
            .and_then(|p| url::Url::parse(p.expose_secret()).ok())
    }
}

pub fn from_env() -> Result<Config, ConfigError> {
    from_lookup(|var| std::env::var(var).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_an_embedded_sqlite_setup() {
        let config = load(&[]).unwrap();
        assert_eq!(config.backend, Backend::Sqlite);
        assert_eq!(config.database_url, "sqlite://./data/cohort.db");
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert!(config.demo_data);
        assert_eq!(config.admin_email.as_str(), "admin@example.org");
        // An upload applied on SQLite holds the only writer: its size is bounded more tightly.
        assert_eq!(config.import_max_rows, 25_000);
        assert_eq!(config.public_url, None);
        let config = load(&[("COHORT_PUBLIC_URL", "https://mentoring.example.org/cohort/")]).unwrap();
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://mentoring.example.org/cohort")
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("COHORT_BIND", "not-an-address"),
            ("DATABASE_URL", "mysql://localhost/cohort"),
            ("COHORT_ADMIN_EMAIL", "nobody"),
            ("COHORT_ADMIN_PASSWORD", "short"),
            ("COHORT_JWT_SECRET", "too-short"),
            ("COHORT_JWT_SECRET", "change-me-change-me-change-me-change-me"),
            ("COHORT_DEMO_DATA", "maybe"),
            ("COHORT_DB_POOL_SIZE", "0"),
            ("COHORT_SMTP_URL", "ftp://mail.example.org"),
            ("COHORT_MAIL_FROM", "not an address"),
            ("COHORT_WEBHOOKS_ALLOW_PRIVATE", "sometimes"),
            ("COHORT_JOB_RETRY_BASE_MS", "soon"),
            ("COHORT_JOB_RETRY_SPAN_SECS", "0"),
            ("COHORT_JOB_LEASE_SECS", "0"),
            ("COHORT_LOGIN_LIMIT_PER_ACCOUNT", "0"),
            ("COHORT_LOGIN_LIMIT_PER_ADDRESS", "many"),
            ("COHORT_API_KEY_LIMIT", "-1"),
            ("COHORT_SESSION_LIMIT_PER_ADDRESS", "0"),
            ("COHORT_PERSON_LIMIT", "none"),
            ("COHORT_IMPORT_MAX_BYTES", "10"),
            ("COHORT_IMPORT_MAX_ROWS", "lots"),
            ("COHORT_AUTOPAIR_MAX_PAIRS", "0"),
            ("COHORT_RATE_LIMIT_PERIOD_SECS", "0"),
            ("COHORT_TRUSTED_PROXIES", "10.0.0.1, proxy.internal"),
            ("COHORT_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("COHORT_ALLOWED_ORIGINS", "admin.example.org"),
            ("COHORT_ALLOWED_ORIGINS", "https://admin.example.org/path"),
            ("COHORT_WEBHOOK_PROXY", "proxy.internal:3128"),
            ("COHORT_WEBHOOK_PROXY", "ftp://proxy.internal"),
            ("COHORT_PUBLIC_URL", "mentoring.example.org"),
            ("COHORT_PUBLIC_URL", "ftp://mentoring.example.org"),
            ("COHORT_PUBLIC_URL", "https://mentoring.example.org/?x=1"),
        ] {
            let e = load(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var, "{e}");
        }
    }

    #[test]
    fn limits_default_to_sane_values_and_lists_parse() {
        let config = load(&[]).unwrap();
        assert_eq!(
            (
                config.login_limit_per_account,
                config.login_limit_per_address,
                config.api_key_limit
            ),
            (10, 30, 600)
        );
        assert_eq!(config.rate_limit_period, std::time::Duration::from_secs(60));
        assert!(config.trusted_proxies.is_empty() && config.allowed_origins.is_empty());
        assert!(config.webhook_proxy.is_none());
        let config = load(&[
            ("COHORT_WEBHOOK_PROXY", "http://proxy.internal:3128"),
            ("COHORT_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1"),
            (
                "COHORT_ALLOWED_ORIGINS",
                "https://admin.example.org/, http://localhost:8080",
            ),
        ])
        .unwrap();
        assert_eq!(config.trusted_proxies.len(), 3);
        assert_eq!(
            config.webhook_proxy_url().map(String::from).as_deref(),
            Some("http://proxy.internal:3128/")
        );
        assert_eq!(
            config.allowed_origins,
            ["https://admin.example.org", "http://localhost:8080"]
        );
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let config = load(&[
            ("COHORT_JWT_SECRET", "q3V9xW0+Jd8mZbT2rK5nL7pH1sYc4aFgE6uQiO0v"),
            ("COHORT_ADMIN_PASSWORD", "a-long-admin-passphrase"),
            ("COHORT_SMTP_URL", "smtps://mailer:smtp-pass-word@mail.example.org"),
            (
                "COHORT_WEBHOOK_PROXY",
                "http://proxy:proxy-pass-word@proxy.internal:3128",
            ),
        ])
        .unwrap();
        let printed = format!("{config:?}");
        for secret in [
            "q3V9xW0",
            "a-long-admin-passphrase",
            "smtp-pass-word",
            "proxy-pass-word",
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert_eq!(config.webhook_proxy_url().unwrap().password(), Some("proxy-pass-word"));
    }

    #[test]
    fn smtp_passwords_travel_only_over_tls_unless_allowed() {
        let plain = ("COHORT_SMTP_URL", "smtp://mailer:pw@mail.example.org:587");
        let e = load(&[plain]).unwrap_err();
        assert_eq!(e.var, "COHORT_SMTP_URL");
        assert!(e.message.contains("TLS"), "{e}");
        assert!(load(&[("COHORT_SMTP_URL", "smtp://mailer:pw@mail.example.org?tls=opportunistic")]).is_err());
        assert!(load(&[("COHORT_SMTP_URL", "smtp://mailer:pw@mail.example.org?tls=required")]).is_ok());
        assert!(load(&[("COHORT_SMTP_URL", "smtps://mailer:pw@mail.example.org")]).is_ok());
        assert!(
            load(&[("COHORT_SMTP_URL", "smtp://127.0.0.1:2525")]).is_ok(),
            "no password, nothing to leak"
        );
        assert!(load(&[plain, ("COHORT_SMTP_ALLOW_PLAINTEXT_AUTH", "true")]).is_ok());
    }

    #[test]
    fn postgres_urls_select_postgres_and_need_a_shared_secret() {
        let url = ("DATABASE_URL", "postgres://u@localhost/db");
        let e = load(&[url]).unwrap_err();
        assert_eq!(e.var, "COHORT_JWT_SECRET", "{e}");
        assert!(e.message.contains("every instance"), "{e}");
        let secret = ("COHORT_JWT_SECRET", "q3V9xW0+Jd8mZbT2rK5nL7pH1sYc4aFgE6uQiO0v");
        let config = load(&[url, secret]).unwrap();
        assert_eq!(config.backend, Backend::Postgres);
        assert_eq!(config.import_max_rows, 200_000);
    }
}
