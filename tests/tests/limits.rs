//! Rate limits (logins per account and per address, API keys per key) with 429
//! and `Retry-After`; security headers and the content security policy; CORS
//! for configured origins only.

use std::time::Duration;

use cohort_tests::reqwest::{Method, StatusCode};
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, check_response, Backend, Spawn, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

async fn spawn_with(backend: Backend, env: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(
        backend,
        Spawn {
            demo_data: false,
            extra_env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        },
    )
    .await
}

/// A login attempt; the status, the `Retry-After` header if any, and the body.
async fn attempt(
    app: &TestApp,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> (StatusCode, Option<u64>, Value) {
    let mut request = app
        .request(Method::POST, "/api/v1/auth/login")
        .json(&json!({"email": email, "password": password}));
    if let Some(hop) = forwarded_for {
        request = request.header("X-Forwarded-For", hop);
    }
    let response = request.send().await.unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let (status, body) = check_response(&Method::POST, "/api/v1/auth/login", response).await;
    (status, retry_after, body)
}

both_backends!(
    async fn logins_are_limited_per_account(backend: Backend) {
        let app = spawn_with(
            backend,
            &[
                ("COHORT_LOGIN_LIMIT_PER_ACCOUNT", "3"),
                ("COHORT_LOGIN_LIMIT_PER_ADDRESS", "100"),
            ],
        )
        .await;
        for _ in 0..3 {
            assert_eq!(
                attempt(&app, ADMIN_EMAIL, "wrong-password-0", None).await.0,
                StatusCode::UNAUTHORIZED
            );
        }
        // 3 a minute: the next attempt is allowed in 20 s, even with the right password.
        let (status, retry_after, problem) = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{problem}");
        assert!(matches!(retry_after, Some(19..=20)), "{retry_after:?}");
        assert_eq!(problem["type"], "https://cohort.example/problems/rate-limited");
        // The count is per email as typed, so it says nothing about whether an account exists.
        assert_eq!(
            attempt(&app, " ADMIN@demo.test", ADMIN_PASSWORD, None).await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
        for _ in 0..3 {
            assert_eq!(
                attempt(&app, "nobody@demo.test", "wrong-password-0", None).await.0,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            attempt(&app, "nobody@demo.test", "wrong-password-0", None).await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
);

both_backends!(
    async fn a_burst_from_one_address_gets_the_limit_then_429s_and_refills(backend: Backend) {
        // 4 per 8 s: a burst of 4, then one more every 2 s.
        let app = spawn_with(
            backend,
            &[
                ("COHORT_LOGIN_LIMIT_PER_ADDRESS", "4"),
                ("COHORT_RATE_LIMIT_PERIOD_SECS", "8"),
            ],
        )
        .await;
        let mut set = tokio::task::JoinSet::new();
        for i in 0..12 {
            let request = app
                .request(Method::POST, "/api/v1/auth/login")
                .json(&json!({"email": format!("burst{i}@demo.test"), "password": "wrong-password-0"}));
            set.spawn(async move { request.send().await.unwrap() });
        }
        let mut statuses = Vec::new();
        while let Some(response) = set.join_next().await {
            let response = response.unwrap();
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                let seconds: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
                assert!((1..=2).contains(&seconds), "{seconds}");
            }
            statuses.push(response.status());
        }
        let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
        assert_eq!((statuses.len() - limited, limited), (4, 8), "{statuses:?}");
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(
            attempt(&app, "later@demo.test", "wrong-password-0", None).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
);

both_backends!(
    async fn forwarded_addresses_count_only_behind_a_trusted_proxy(backend: Backend) {
        let limits = [
            ("COHORT_LOGIN_LIMIT_PER_ADDRESS", "2"),
            ("COHORT_LOGIN_LIMIT_PER_ACCOUNT", "100"),
        ];
        // Not trusted: a client cannot buy a fresh budget by forging X-Forwarded-For.
        let app = spawn_with(backend, &limits).await;
        for hop in ["198.51.100.1", "198.51.100.2"] {
            assert_eq!(
                attempt(&app, "x@demo.test", "wrong-password-0", Some(hop)).await.0,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            attempt(&app, "x@demo.test", "wrong-password-0", Some("198.51.100.3"))
                .await
                .0,
            StatusCode::TOO_MANY_REQUESTS
        );
        drop(app);

        let mut env = limits.to_vec();
        env.push(("COHORT_TRUSTED_PROXIES", "127.0.0.1, ::1"));
        let app = spawn_with(backend, &env).await;
        for _ in 0..2 {
            assert_eq!(
                attempt(&app, "x@demo.test", "wrong-password-0", Some("198.51.100.1"))
                    .await
                    .0,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            attempt(&app, "x@demo.test", "wrong-password-0", Some("198.51.100.1"))
                .await
                .0,
            StatusCode::TOO_MANY_REQUESTS
        );
        // Another client behind the same proxy has its own budget; what a client wrote to the
        // left of the proxy's entry is ignored.
        assert_eq!(
            attempt(
                &app,
                "x@demo.test",
                "wrong-password-0",
                Some("198.51.100.1, 198.51.100.2")
            )
            .await
            .0,
            StatusCode::UNAUTHORIZED
        );
    }
);

both_backends!(
    async fn nobody_can_lock_an_admin_out_and_ipv6_clients_count_per_64(backend: Backend) {
        let app = spawn_with(
            backend,
            &[
                ("COHORT_LOGIN_LIMIT_PER_ACCOUNT", "2"),
                ("COHORT_LOGIN_LIMIT_PER_ADDRESS", "3"),
                ("COHORT_TRUSTED_PROXIES", "127.0.0.1, ::1"),
            ],
        )
        .await;
        let attacker = Some("203.0.113.66");
        for _ in 0..2 {
            assert_eq!(
                attempt(&app, ADMIN_EMAIL, "wrong-password-0", attacker).await.0,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            attempt(&app, ADMIN_EMAIL, "wrong-password-0", attacker).await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
        // The admin, from their own address, still gets in.
        let (status, _, body) = attempt(&app, ADMIN_EMAIL, ADMIN_PASSWORD, Some("198.51.100.7")).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Fresh addresses of one IPv6 /64 share its budget; the next /64 has its own.
        for (n, host) in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"]
            .iter()
            .enumerate()
        {
            assert_eq!(
                attempt(&app, &format!("x{n}@demo.test"), "wrong-password-0", Some(host))
                    .await
                    .0,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            attempt(&app, "y@demo.test", "wrong-password-0", Some("2001:db8:1:2::4"))
                .await
                .0,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            attempt(&app, "y@demo.test", "wrong-password-0", Some("2001:db8:1:3::1"))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
);

both_backends!(
    async fn logged_in_people_are_limited_each_on_their_own(backend: Backend) {
        let app = spawn_with(backend, &[("COHORT_PERSON_LIMIT", "5")]).await;
        let admin = app.admin_token().await;
        let (_, other) = app.person_with_login(&admin, "other@example.org", false).await;
        // Creating the other person was the admin's first request.
        for _ in 0..4 {
            assert_eq!(app.get("/api/v1/me", &admin).await.0, StatusCode::OK);
        }
        let limited = app
            .request(Method::GET, "/api/v1/me")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(limited.headers().contains_key("retry-after"));
        check_response(&Method::GET, "/api/v1/me", limited).await;
        assert_eq!(
            app.get("/api/v1/me", &other).await.0,
            StatusCode::OK,
            "each person has their own budget"
        );
    }
);

both_backends!(
    async fn api_keys_are_limited_per_key(backend: Backend) {
        let app = spawn_with(backend, &[("COHORT_API_KEY_LIMIT", "5")]).await;
        let admin = app.admin_token().await;
        let mut secrets = Vec::new();
        for name in ["First", "Second"] {
            let (_, key) = app.post("/api/v1/api-keys", &admin, json!({"name": name})).await;
            secrets.push(key["secret"].as_str().unwrap().to_owned());
        }
        let me = |secret: String| {
            let request = app.request(Method::GET, "/api/v1/me").header("X-Api-Key", secret);
            async move { request.send().await.unwrap() }
        };
        for _ in 0..5 {
            assert_eq!(me(secrets[0].clone()).await.status(), StatusCode::OK);
        }
        let limited = me(secrets[0].clone()).await;
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        let seconds: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(
            (11..=12).contains(&seconds),
            "5 a minute: one every 12 s, not {seconds}"
        );
        check_response(&Method::GET, "/api/v1/me", limited).await;
        assert_eq!(
            me(secrets[1].clone()).await.status(),
            StatusCode::OK,
            "each key has its own budget"
        );
        assert_eq!(
            app.get("/api/v1/me", &admin).await.0,
            StatusCode::OK,
            "sessions are not limited"
        );
    }
);

both_backends!(
    async fn responses_carry_security_headers(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for path in ["/", "/healthz", "/api/v1/me", "/api/v1/nothing", "/api/v1/openapi.json"] {
            let response = app.request(Method::GET, path).send().await.unwrap();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .unwrap_or_else(|| panic!("{path}: no {name}"))
                    .to_str()
                    .unwrap()
                    .to_owned()
            };
            let csp = header("content-security-policy");
            assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
            assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{path}: {csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(
                !csp.contains("'unsafe-eval'") && !csp.contains("'unsafe-inline'"),
                "{path}: {csp}"
            );
            assert_eq!(header("x-content-type-options"), "nosniff");
            assert_eq!(header("referrer-policy"), "no-referrer");
            assert_eq!(header("x-frame-options"), "DENY");
        }
        // Swagger UI styles its elements inline; scripts stay 'self' only.
        let docs = app.request(Method::GET, "/api/v1/docs/").send().await.unwrap();
        assert_eq!(docs.status(), StatusCode::OK);
        let csp = docs.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("style-src 'self' 'unsafe-inline'") && csp.contains("script-src 'self';"),
            "{csp}"
        );
    }
);

/// A CORS preflight for a POST from `origin`; the status and `Access-Control-Allow-Origin`.
async fn preflight(app: &TestApp, origin: &str) -> (StatusCode, Option<String>, String) {
    let response = app
        .request(Method::OPTIONS, "/api/v1/people")
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap();
    let allow = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (origin, headers) = (
        allow("access-control-allow-origin"),
        allow("access-control-allow-headers"),
    );
    (response.status(), origin, headers.unwrap_or_default())
}

async fn allow_origin_on_get(app: &TestApp, origin: &str) -> Option<String> {
    let response = app
        .request(Method::GET, "/healthz")
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "requests from any origin still reach the API"
    );
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

both_backends!(
    async fn cors_answers_only_the_configured_origins(backend: Backend) {
        // By default no other origin is allowed: browsers keep the API to the dashboard's own origin.
        let app = TestApp::spawn(backend).await;
        let (status, allowed, _) = preflight(&app, "https://evil.example").await;
        assert!(status.is_client_error() && allowed.is_none(), "{status} {allowed:?}");
        assert_eq!(allow_origin_on_get(&app, "https://evil.example").await, None);
        drop(app);

        let app = spawn_with(backend, &[("COHORT_ALLOWED_ORIGINS", "https://admin.example.org")]).await;
        let (status, allowed, headers) = preflight(&app, "https://admin.example.org").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(allowed.as_deref(), Some("https://admin.example.org"));
        assert!(headers.to_lowercase().contains("idempotency-key"), "{headers}");
        assert_eq!(
            allow_origin_on_get(&app, "https://admin.example.org").await.as_deref(),
            Some("https://admin.example.org")
        );
        let (status, allowed, _) = preflight(&app, "https://evil.example").await;
        assert!(status.is_client_error() && allowed.is_none(), "{status} {allowed:?}");
        assert_eq!(allow_origin_on_get(&app, "https://evil.example").await, None);
    }
);
