//! `cohort`: serves the API and the dashboard (default), prints the OpenAPI
//! document (`cohort openapi`), or creates an organisation
//! (`cohort create-organization --name … --admin-email … --admin-password …`).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use actix_web::{web, HttpServer};
use cohort_api::auth::tokens::{hash_password, random_token, JwtKeys};
use cohort_api::automations;
use cohort_api::config::{self, Config};
use cohort_api::db::Db;
use cohort_api::jobs::worker::Worker;
use cohort_api::messaging::{email, transport::Mailer, webhooks};
use cohort_api::pairing;
use cohort_api::steps::delivery;
use cohort_api::{app, demo, AppState};
use cohort_domain::{auth::check_password, people::Email, tenancy};
use secrecy::ExposeSecret;

fn main() -> ExitCode {
    cohort_api::events::subscribe(app::EVENT_SUBSCRIBERS);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => serve(),
        Some("openapi") => match serde_json::to_string_pretty(&app::openapi()) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("cannot serialise the OpenAPI document: {e}")),
        },
        Some("create-organization") => create_organization(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("usage: cohort [serve | openapi | create-organization --name NAME --admin-email EMAIL --admin-password PASSWORD [--time-zone TZ]]");
            ExitCode::SUCCESS
        }
        Some(other) => fail(&format!("unknown command \"{other}\"; try cohort --help")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("cohort: {message}");
    ExitCode::FAILURE
}

/// Reads the configuration, and sets the retry policy of the jobs this process queues.
fn load_config() -> Result<Config, ExitCode> {
    let config = config::from_env().map_err(|e| fail(&format!("configuration error: {e}")))?;
    cohort_api::jobs::set_policy(cohort_domain::jobs::RetryPolicy::spanning(
        config.job_retry_base,
        config.job_retry_span,
    ));
    Ok(config)
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// The signing secret: from configuration, or generated once and kept in the data folder.
fn jwt_secret(config: &Config) -> std::io::Result<String> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.expose_secret().to_owned());
    }
    let path = config.data_dir.join("jwt-secret");
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= 32 => Ok(secret.trim().to_owned()),
        _ => {
            std::fs::create_dir_all(&config.data_dir)?;
            let secret = random_token("");
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(&path)?.write_all(secret.as_bytes())?;
            Ok(secret)
        }
    }
}

fn serve() -> ExitCode {
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    init_logging(&config.log_filter);
    let db = match Db::connect(&config.database_url, config.backend, config.db_pool_size) {
        Ok(db) => db,
        Err(e) => return fail(&format!("DATABASE_URL: {e}")),
    };
    let secret = match jwt_secret(&config) {
        Ok(s) => s,
        Err(e) => {
            return fail(&format!(
                "COHORT_DATA_DIR: cannot keep the signing secret in {}: {e}",
                config.data_dir.display()
            ))
        }
    };
    match demo::seed_if_empty(
        &db,
        config.admin_email.as_str(),
        config.admin_password.as_ref().map(ExposeSecret::expose_secret),
        config.demo_data,
    ) {
        Ok(Some(seeded)) => {
            println!("Created the organisation \"{}\".", demo::DEMO_NAME);
            match seeded.generated_password {
                Some(password) => println!(
                    "Admin login (shown once): {} / {password}  (set COHORT_ADMIN_PASSWORD to choose it)",
                    config.admin_email.as_str()
                ),
                None => println!(
                    "Admin login: {} with COHORT_ADMIN_PASSWORD",
                    config.admin_email.as_str()
                ),
            }
            if let Some((emails, password)) = seeded.participant_logins {
                println!(
                    "Participant logins (shown once), each with the password {password}: {} (they land on their own page, /me)",
                    emails.join(", ")
                );
            }
        }
        Ok(None) => {}
        Err(e) => return fail(&format!("cannot create the demo organisation: {e}")),
    }
    let job_db = db.clone();
    // One crypto provider for every TLS client (SMTP and webhooks).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = match webhooks::client(config.allow_private_webhooks, config.webhook_proxy_url().as_ref()) {
        Ok(client) => client,
        Err(e) => return fail(&format!("cannot build the HTTP client: {e}")),
    };
    let allow_private = config.allow_private_webhooks;
    let mailer = match Mailer::new(
        config.smtp_url.as_ref().map(ExposeSecret::expose_secret),
        &config.mail_from,
    ) {
        Ok(m) => Arc::new(m),
        Err(e) => return fail(&format!("COHORT_SMTP_URL: {e}")),
    };
    let limits = match cohort_api::limits::Limits::from_config(&config) {
        Ok(l) => l,
        Err(e) => return fail(&format!("rate limits: {e}")),
    };
    let state = web::Data::new(AppState {
        limits,
        db,
        jwt: JwtKeys::new(secret.as_bytes()),
        dummy_password_hash: hash_password(&random_token("")),
        dashboard_dir: config.dashboard_dir.clone(),
        allow_private_webhooks: config.allow_private_webhooks,
        allowed_origins: config.allowed_origins.clone(),
        imports: cohort_api::imports::Limits {
            max_bytes: config.import_max_bytes,
            max_rows: config.import_max_rows,
        },
        autopair_max_pairs: config.autopair_max_pairs,
        slots: Default::default(),
    });
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let doc = app::openapi();
        let server = HttpServer::new(move || app::build(state.clone(), &doc)).shutdown_timeout(10);
        let server = match server.bind(config.bind) {
            Ok(s) => s,
            Err(e) => return fail(&format!("COHORT_BIND: cannot listen on {}: {e}", config.bind)),
        };
        for addr in server.addrs() {
            println!("Cohort listening on http://{addr}");
            println!("  dashboard: http://{addr}/   API docs: http://{addr}/api/v1/docs/");
            if !Path::new(&config.dashboard_dir).join("index.html").is_file() {
                println!(
                    "  (no dashboard in {}; `cargo xtask run` builds it)",
                    config.dashboard_dir.display()
                );
            }
        }
        let _ = std::io::stdout().flush();
        let public_url: Arc<str> = match (&config.public_url, server.addrs().first()) {
            (Some(url), _) => url.as_str().into(),
            (None, Some(addr)) => format!("http://{addr}").into(),
            (None, None) => return fail("COHORT_BIND: the server listens on no address"),
        };
        // The job queue's worker shares the process; jobs it was running when the process
        // stopped run again once their lease ends. Capabilities register their job kinds here.
        let (email_db, webhook_db, action_db) = (job_db.clone(), job_db.clone(), job_db.clone());
        for (kind, every) in [
            (cohort_api::audit::PURGE_JOB, cohort_api::audit::PURGE_EVERY),
            (cohort_api::retention::PURGE_JOB, cohort_api::retention::PURGE_EVERY),
        ] {
            actix_web::rt::spawn(cohort_api::jobs::queue_every(job_db.clone(), kind, every));
        }
        for _ in 0..automations::engine::MATCHERS {
            actix_web::rt::spawn(automations::engine::run_matcher(
                job_db.clone(),
                std::time::Duration::from_millis(500),
            ));
        }
        let action_http = http.clone();
        let (batch_db, batch_http) = (job_db.clone(), http.clone());
        let mut worker = Worker::new(job_db)
            .handle(email::JOB_KIND, move |job| {
                email::deliver(email_db.clone(), mailer.clone(), public_url.clone(), job)
            })
            .handle(webhooks::JOB_KIND, move |job| {
                webhooks::deliver(webhook_db.clone(), http.clone(), allow_private, job)
            })
            .handle_with_db(delivery::PUBLISH_JOB, delivery::run_publish)
            .handle_with_db(delivery::DELIVER_JOB, delivery::run_deliver)
            .handle_with_db(delivery::DUE_JOB, delivery::run_due)
            .handle_with_db(pairing::EXPIRE_JOB, pairing::run_expire)
            .handle_with_db(pairing::REMIND_JOB, pairing::run_remind)
            .handle_with_db(pairing::health::CHECK_JOB, pairing::health::run_check)
            .handle_with_db(automations::engine::MATCH_JOB, automations::engine::run_match)
            .handle_with_db(cohort_api::audit::PURGE_JOB, cohort_api::audit::run_purge)
            .handle_with_db(cohort_api::retention::PURGE_JOB, cohort_api::retention::run_purge)
            .handle(automations::engine::ACTION_JOB, move |job| {
                automations::engine::run_action(action_db.clone(), action_http.clone(), allow_private, job)
            });
        worker.lease = config.job_lease;
        actix_web::rt::spawn(automations::engine::run_action_batches(
            batch_db,
            batch_http,
            allow_private,
            worker.policy,
            worker.lease,
            worker.idle_poll,
        ));
        actix_web::rt::spawn(worker.run());
        tracing::info!(backend = ?config.backend, "started");
        // actix stops gracefully on SIGTERM and SIGINT: in-flight requests finish first.
        match server.run().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("server error: {e}")),
        }
    })
}

fn create_organization(args: &[String]) -> ExitCode {
    let mut name = None;
    let mut email = None;
    let mut password = None;
    let mut time_zone = "UTC".to_owned();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let Some(value) = it.next() else {
            return fail(&format!("{flag} needs a value"));
        };
        match flag.as_str() {
            "--name" => name = Some(value.clone()),
            "--admin-email" => email = Some(value.clone()),
            "--admin-password" => password = Some(value.clone()),
            "--time-zone" => time_zone = value.clone(),
            other => return fail(&format!("unknown option {other}")),
        }
    }
    let (Some(name), Some(email), Some(password)) = (name, email, password) else {
        return fail("create-organization needs --name, --admin-email and --admin-password");
    };
    let name = match tenancy::parse_organization_name(&name) {
        Ok(n) => n,
        Err(e) => return fail(&format!("--name {e}")),
    };
    let email = match Email::parse(&email) {
        Ok(e) => e,
        Err(e) => return fail(&format!("--admin-email {e}")),
    };
    if let Err(e) = check_password(&password) {
        return fail(&format!("--admin-password {e}"));
    }
    let tz = match tenancy::parse_time_zone(&time_zone) {
        Ok(tz) => tz,
        Err(e) => return fail(&format!("--time-zone: {e}")),
    };
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let db = match Db::connect(&config.database_url, config.backend, 2) {
        Ok(db) => db,
        Err(e) => return fail(&format!("DATABASE_URL: {e}")),
    };
    let created = db.write_blocking(|conn| {
        demo::create_organization(conn, &name, tz.name(), Default::default(), email.as_str(), &password)
    });
    match created {
        Ok(c) => {
            println!(
                "{}",
                serde_json::json!({"organization_id": c.organization_id, "admin_id": c.admin_id})
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("cannot create the organisation: {e}")),
    }
}
