//! Logging in, refresh token rotation, logout, access token checks, API keys, roles.

use cohort_tests::reqwest::{Method, StatusCode};
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, example_body, operations, Auth, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET};
use jsonwebtoken::{encode, EncodingKey, Header};

both_backends!(
    async fn wrong_password_and_unknown_email_get_the_same_answer(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (s1, wrong_password) = app.try_login(ADMIN_EMAIL, "not-the-password").await;
        let (s2, unknown) = app.try_login("nobody@demo.test", ADMIN_PASSWORD).await;
        assert_eq!((s1, s2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
        assert_eq!(wrong_password["detail"], unknown["detail"]);
        // Emails are compared trimmed and case-insensitively.
        let tokens = app.login("  Admin@Demo.TEST ", ADMIN_PASSWORD).await;
        assert_eq!(tokens.token_type, "Bearer");
        assert!(tokens.expires_in > 0 && tokens.expires_in <= 900);
        let (status, me) = app.get("/api/v1/me", &tokens.access_token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["person"]["email"], ADMIN_EMAIL);
        assert_eq!(me["organization"]["name"], "Peer Mentoring Demo");
        assert_eq!(me["via"], "password");
    }
);

both_backends!(
    async fn unknown_emails_and_wrong_passwords_look_alike(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        // Same status and same body, but for the request id.
        let strip = |mut problem: Value| {
            problem.as_object_mut().unwrap().remove("request_id");
            problem
        };
        let (s1, wrong_password) = app.try_login(ADMIN_EMAIL, "not-the-password").await;
        let (s2, unknown) = app.try_login("nobody@demo.test", "not-the-password").await;
        let (s3, malformed) = app.try_login("not an email", "not-the-password").await;
        assert_eq!(
            (s1, s2, s3),
            (
                StatusCode::UNAUTHORIZED,
                StatusCode::UNAUTHORIZED,
                StatusCode::UNAUTHORIZED
            )
        );
        assert_eq!(strip(wrong_password.clone()), strip(unknown));
        assert_eq!(strip(wrong_password), strip(malformed));
        // And similar timing: an unknown email is checked against a dummy hash, so it costs
        // a password verification too (without one it would answer many times faster).
        let mut timings = [Vec::new(), Vec::new()];
        for _ in 0..5 {
            for (i, email) in [ADMIN_EMAIL, "nobody@demo.test"].into_iter().enumerate() {
                let started = std::time::Instant::now();
                assert_eq!(
                    app.try_login(email, "not-the-password").await.0,
                    StatusCode::UNAUTHORIZED
                );
                timings[i].push(started.elapsed());
            }
        }
        let median = |v: &mut Vec<std::time::Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let (known, unknown) = (median(&mut timings[0]), median(&mut timings[1]));
        assert!(
            unknown * 3 > known && known * 3 > unknown,
            "wrong password {known:?}, unknown email {unknown:?}"
        );
    }
);

both_backends!(
    async fn refresh_tokens_and_api_keys_are_stored_hashed(backend: Backend) {
        use sha2::{Digest, Sha256};
        let app = TestApp::spawn(backend).await;
        let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (_, key) = app
            .post("/api/v1/api-keys", &tokens.access_token, json!({"name": "Hashed"}))
            .await;
        let secret = key["secret"].as_str().unwrap();
        let hash = |s: &str| hex::encode(Sha256::digest(s.as_bytes()));
        let refresh = &tokens.refresh_token;
        assert_eq!(app.count(&format!("refresh_tokens WHERE token_hash = '{refresh}'")), 0);
        assert_eq!(
            app.count(&format!("refresh_tokens WHERE token_hash = '{}'", hash(refresh))),
            1
        );
        assert_eq!(
            app.count(&format!("api_keys WHERE key_hash = '{secret}' OR prefix = '{secret}'")),
            0
        );
        assert_eq!(app.count(&format!("api_keys WHERE key_hash = '{}'", hash(secret))), 1);
    }
);

both_backends!(
    async fn common_passwords_are_refused(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        for (i, password) in ["Password123", "qwertyuiop", "1q2w3e4r5t", "Sunshine2024!"]
            .into_iter()
            .enumerate()
        {
            let (status, problem) = app
                .post(
                    "/api/v1/people",
                    &admin,
                    json!({"email": format!("p{i}@demo.test"), "name": "Pat", "password": password}),
                )
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{password}: {problem}");
            assert_eq!(cohort_tests::fields(&problem), ["password"]);
            assert!(problem["detail"].as_str().unwrap().contains("too common"), "{problem}");
        }
        let (status, person) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "ok@demo.test", "name": "Pat", "password": "tulip harbour 42 lantern"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{person}");
        let id = person["id"].as_str().unwrap();
        let (status, problem) = app
            .patch(
                &format!("/api/v1/people/{id}"),
                &admin,
                json!({"password": "iloveyou123"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(cohort_tests::fields(&problem), ["password"]);
    }
);

both_backends!(
    async fn refresh_tokens_rotate_and_reuse_ends_the_login(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let refresh = |token: String| {
            let app = &app;
            async move {
                app.call(
                    Method::POST,
                    "/api/v1/auth/refresh",
                    Auth::None,
                    Some(json!({"refresh_token": token})),
                )
                .await
            }
        };
        let (status, second) = refresh(first.refresh_token.clone()).await;
        assert_eq!(status, StatusCode::OK, "{second}");
        let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(second_refresh, first.refresh_token);
        assert_eq!(
            app.get("/api/v1/me", second["access_token"].as_str().unwrap()).await.0,
            StatusCode::OK
        );
        // The first token was used: presenting it again is refused and revokes its successor too.
        assert_eq!(refresh(first.refresh_token.clone()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(refresh(second_refresh).await.0, StatusCode::UNAUTHORIZED);
        // Another login is unaffected.
        let other = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(refresh(other.refresh_token).await.0, StatusCode::OK);
        assert_eq!(refresh("rt_made-up".into()).await.0, StatusCode::UNAUTHORIZED);
    }
);

both_backends!(
    async fn logout_revokes_the_refresh_token(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let body = json!({"refresh_token": tokens.refresh_token});
        let (status, _) = app
            .call(Method::POST, "/api/v1/auth/logout", Auth::None, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = app
            .call(Method::POST, "/api/v1/auth/refresh", Auth::None, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // Logging out twice is harmless.
        let (status, _) = app
            .call(Method::POST, "/api/v1/auth/logout", Auth::None, Some(body))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
);

fn forge(claims: Value, secret: &[u8]) -> String {
    encode(&Header::default(), &claims, &EncodingKey::from_secret(secret)).unwrap()
}

both_backends!(
    async fn access_tokens_are_checked(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let (_, me) = app.get("/api/v1/me", &app.admin_token().await).await;
        let now = chrono::Utc::now().timestamp();
        let claims = |iss: &str, aud: &str, exp: i64| {
            json!({"sub": me["person"]["id"], "org": me["organization"]["id"], "adm": true,
                   "iss": iss, "aud": aud, "iat": now, "exp": exp})
        };
        let good = forge(claims("cohort", "cohort-api", now + 300), JWT_SECRET.as_bytes());
        assert_eq!(
            app.get("/api/v1/me", &good).await.0,
            StatusCode::OK,
            "a correctly signed token is accepted"
        );

        let b64 = |v: Value| {
            use std::fmt::Write;
            let bytes = v.to_string().into_bytes();
            // Base64url without padding, by hand to avoid a dependency for one test.
            const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
                for i in 0..=chunk.len() {
                    out.write_char(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char)
                        .unwrap();
                }
            }
            out
        };
        let unsigned = format!(
            "{}.{}.",
            b64(json!({"alg": "none", "typ": "JWT"})),
            b64(claims("cohort", "cohort-api", now + 300))
        );
        let refused = [
            ("alg none", unsigned),
            (
                "wrong key",
                forge(
                    claims("cohort", "cohort-api", now + 300),
                    b"another-secret-another-secret-0123",
                ),
            ),
            (
                "expired",
                forge(claims("cohort", "cohort-api", now - 120), JWT_SECRET.as_bytes()),
            ),
            (
                "wrong audience",
                forge(claims("cohort", "someone-else", now + 300), JWT_SECRET.as_bytes()),
            ),
            (
                "wrong issuer",
                forge(claims("mallory", "cohort-api", now + 300), JWT_SECRET.as_bytes()),
            ),
            ("garbage", "not.a.token".to_owned()),
        ];
        for (what, token) in refused {
            let (status, problem) = app.get("/api/v1/me", &token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {problem}");
        }
        let (status, _) = app.call(Method::GET, "/api/v1/me", Auth::None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

both_backends!(
    async fn api_keys_are_shown_once_and_revocable(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (status, created) = app.post("/api/v1/api-keys", &admin, json!({"name": "HR sync"})).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let secret = created["secret"].as_str().unwrap().to_owned();
        let key_id = created["key"]["id"].as_str().unwrap().to_owned();
        assert!(secret.starts_with(created["key"]["prefix"].as_str().unwrap()));

        let (status, me) = app.call(Method::GET, "/api/v1/me", Auth::ApiKey(&secret), None).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["via"], "api_key");
        let (status, _) = app
            .call(Method::GET, "/api/v1/people", Auth::ApiKey(&secret), None)
            .await;
        assert_eq!(status, StatusCode::OK, "an API key acts for its organisation");
        // A key cannot mint keys.
        let (status, _) = app
            .call(
                Method::POST,
                "/api/v1/api-keys",
                Auth::ApiKey(&secret),
                Some(json!({"name": "x"})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Nor list or revoke them, its own included.
        let (status, _) = app
            .call(Method::GET, "/api/v1/api-keys", Auth::ApiKey(&secret), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/v1/api-keys/{key_id}"),
                Auth::ApiKey(&secret),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (_, list) = app.get("/api/v1/api-keys", &admin).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        assert!(!list.to_string().contains(&secret), "the secret is never listed");

        assert_eq!(
            app.delete(&format!("/api/v1/api-keys/{key_id}"), &admin).await.0,
            StatusCode::NO_CONTENT
        );
        let (status, _) = app.call(Method::GET, "/api/v1/me", Auth::ApiKey(&secret), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (_, list) = app.get("/api/v1/api-keys", &admin).await;
        assert!(list["items"][0]["revoked_at"].is_string());
        let (status, problem) = app.post("/api/v1/api-keys", &admin, json!({"name": "  "})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(cohort_tests::fields(&problem), ["name"]);
    }
);

both_backends!(
    /// Found by schemathesis: an admin who was deleted while their access token still ran
    /// got a 500 (a foreign key failure) when minting an API key. A key outlives the token and
    /// acts as an admin, so its creator must still exist and still be an admin.
    async fn api_keys_need_an_admin_who_still_is_one(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let first = app.admin_token().await;
        let (_, me) = app.get("/api/v1/me", &first).await;
        let first_id = me["person"]["id"].as_str().unwrap().to_owned();
        let (second_id, second) = app.person_with_login(&first, "second@example.org", true).await;
        let (third_id, third) = app.person_with_login(&first, "third@example.org", true).await;

        let (status, _) = app
            .patch(
                &format!("/api/v1/people/{third_id}"),
                &second,
                json!({"is_admin": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, problem) = app.post("/api/v1/api-keys", &third, json!({"name": "Demoted"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");

        let (status, _) = app.delete(&format!("/api/v1/people/{first_id}"), &second).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, problem) = app.post("/api/v1/api-keys", &first, json!({"name": "Deleted"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
        // Elsewhere a write that names the deleted caller meets a foreign key: a 409, not a 500.
        let (status, problem) = app
            .post(
                "/api/v1/conversations",
                &first,
                json!({"subject": "Hello", "person_ids": [second_id]}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");

        let (_, list) = app.get("/api/v1/api-keys", &second).await;
        assert_eq!(
            list["items"].as_array().unwrap().len(),
            0,
            "nothing written on a 4xx: {list}"
        );
        let (status, _) = app
            .post("/api/v1/api-keys", &second, json!({"name": "Still fine"}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
);

both_backends!(
    async fn participants_reach_only_what_their_role_allows(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (person_id, token) = app.person_with_login(&admin, "mentee@demo.test", false).await;
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "Spring"})).await;
        let program_id = program["id"].as_str().unwrap();
        let (status, _) = app
            .post(
                &format!("/api/v1/programs/{program_id}/participants"),
                &admin,
                json!({"person_id": person_id, "role": "mentee"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);

        let (status, me) = app.get("/api/v1/me", &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["memberships"][0]["program_id"], program_id);
        assert_eq!(me["memberships"][0]["role"], "mentee");
        assert_eq!(app.get("/api/v1/organization", &token).await.0, StatusCode::OK);
        for path in [
            "/api/v1/people",
            "/api/v1/programs",
            &format!("/api/v1/programs/{program_id}/participants"),
        ] {
            assert_eq!(app.get(path, &token).await.0, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(
            app.patch("/api/v1/organization", &token, json!({"name": "Mine"}))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
    }
);

both_backends!(
    async fn every_protected_operation_needs_valid_credentials(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (_, created) = app.post("/api/v1/api-keys", &admin, json!({"name": "Revoked"})).await;
        let revoked = created["secret"].as_str().unwrap().to_owned();
        let key_id = created["key"]["id"].as_str().unwrap();
        app.delete(&format!("/api/v1/api-keys/{key_id}"), &admin).await;
        let mut made_up = revoked.clone();
        made_up.push('x');

        let doc = app.get_public("/api/v1/openapi.json").await;
        let protected: Vec<_> = operations(&doc).into_iter().filter(|o| !o.is_public()).collect();
        assert!(protected.len() >= 15, "{} protected operations", protected.len());
        for o in &protected {
            // Any well-formed id will do: credentials are checked before anything is looked up.
            let mut path = o.template.replace("{key}", "invitation");
            while let Some(start) = path.find('{') {
                let end = start + path[start..].find('}').unwrap();
                path.replace_range(start..=end, "01930000-0000-7000-8000-000000000000");
            }
            for (what, auth) in [
                ("no credentials", Auth::None),
                ("a revoked API key", Auth::ApiKey(&revoked)),
                ("a made-up API key", Auth::ApiKey(&made_up)),
                ("an empty API key", Auth::ApiKey("")),
                ("a garbage bearer token", Auth::Bearer("garbage")),
            ] {
                let (status, body) = app.call(o.method.clone(), &path, auth, example_body(&doc, o)).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {} {path}: {body}", o.method);
            }
        }
    }
);

both_backends!(
    async fn login_refuses_malformed_requests(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for body in [
            json!({"email": ADMIN_EMAIL}),
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "remember": true}),
            json!({"email": ADMIN_EMAIL, "password": 42}),
        ] {
            let (status, problem) = app
                .call(Method::POST, "/api/v1/auth/login", Auth::None, Some(body.clone()))
                .await;
            assert!(
                status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
                "{body}: {status} {problem}"
            );
        }
        let (status, _) = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                Auth::None,
                Some(json!({"email": "", "password": ""})),
            )
            .await;
        assert!(status.is_client_error(), "empty credentials: {status}");
        // A refresh token is not an access token, and an access token is not a refresh token.
        let tokens = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(
            app.get("/api/v1/me", &tokens.refresh_token).await.0,
            StatusCode::UNAUTHORIZED
        );
        let (status, _) = app
            .call(
                Method::POST,
                "/api/v1/auth/refresh",
                Auth::None,
                Some(json!({"refresh_token": tokens.access_token})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

async fn refresh(app: &TestApp, refresh_token: &str) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/api/v1/auth/refresh",
        Auth::None,
        Some(json!({"refresh_token": refresh_token})),
    )
    .await
}

both_backends!(
    async fn logins_end_when_their_person_loses_access(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let password = "person-password-0123";
        let (mentee_id, _) = app.person_with_login(&admin, "mentee@example.org", false).await;
        let (second_id, second) = app.person_with_login(&admin, "second@example.org", true).await;
        let mentee_login = app.login("mentee@example.org", password).await;
        let second_login = app.login("second@example.org", password).await;

        // A new password ends the old logins.
        let mentee = format!("/api/v1/people/{mentee_id}");
        let (status, _) = app
            .patch(&mentee, &admin, json!({"password": "a-brand-new-password-9"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            refresh(&app, &mentee_login.refresh_token).await.0,
            StatusCode::UNAUTHORIZED
        );
        app.login("mentee@example.org", "a-brand-new-password-9").await;

        // So does losing the admin flag; the demoted admin's access token, still claiming admin
        // for minutes, can no longer grant anything.
        let (status, _) = app
            .patch(
                &format!("/api/v1/people/{second_id}"),
                &admin,
                json!({"is_admin": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            refresh(&app, &second_login.refresh_token).await.0,
            StatusCode::UNAUTHORIZED
        );
        for (method, path, body) in [
            (
                Method::PATCH,
                mentee.clone(),
                json!({"password": "taken-over-password-1"}),
            ),
            (Method::PATCH, mentee.clone(), json!({"is_admin": true})),
            (
                Method::POST,
                "/api/v1/people".to_owned(),
                json!({"email": "sock@example.org", "name": "Sock Puppet", "is_admin": true}),
            ),
            (
                Method::POST,
                format!("{mentee}/erase"),
                json!({"confirm": "mentee@example.org"}),
            ),
            (Method::POST, "/api/v1/api-keys".to_owned(), json!({"name": "Backdoor"})),
        ] {
            let (status, problem) = app.call(method.clone(), &path, Auth::Bearer(&second), Some(body)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {problem}");
        }
        let (_, person) = app.get(&mentee, &admin).await;
        assert_eq!(person["is_admin"], false, "nothing was granted: {person}");
    }
);

both_backends!(
    async fn api_keys_cannot_set_passwords_or_admin_flags_and_stop_with_their_creator(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (mentee_id, _) = app.person_with_login(&admin, "mentee@example.org", false).await;
        let (third_id, third) = app.person_with_login(&admin, "third@example.org", true).await;
        let (_, created) = app.post("/api/v1/api-keys", &third, json!({"name": "HR sync"})).await;
        let key = created["secret"].as_str().unwrap().to_owned();
        let mentee = format!("/api/v1/people/{mentee_id}");
        for body in [json!({"password": "set-by-a-leaked-key-1"}), json!({"is_admin": true})] {
            let (status, problem) = app.call(Method::PATCH, &mentee, Auth::ApiKey(&key), Some(body)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        }
        let (status, problem) = app
            .call(
                Method::POST,
                "/api/v1/people",
                Auth::ApiKey(&key),
                Some(json!({"email": "new@example.org", "name": "New Person", "password": "set-by-a-leaked-key-1"})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        let (status, _) = app
            .call(
                Method::PATCH,
                &mentee,
                Auth::ApiKey(&key),
                Some(json!({"name": "Renamed"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "other changes are a key's work");

        let (status, _) = app
            .patch(
                &format!("/api/v1/people/{third_id}"),
                &admin,
                json!({"is_admin": false}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app.call(Method::GET, &mentee, Auth::ApiKey(&key), None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "the key stopped with its creator's rights"
        );
    }
);

both_backends!(
    async fn logging_out_everywhere_ends_every_login(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let laptop = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let phone = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (status, _) = app
            .call(
                Method::POST,
                "/api/v1/auth/logout-all",
                Auth::Bearer(&phone.access_token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        for login in [&laptop, &phone] {
            assert_eq!(refresh(&app, &login.refresh_token).await.0, StatusCode::UNAUTHORIZED);
        }
        let fresh = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (_, created) = app
            .post("/api/v1/api-keys", &fresh.access_token, json!({"name": "Sync"}))
            .await;
        let key = created["secret"].as_str().unwrap();
        let (status, _) = app
            .call(Method::POST, "/api/v1/auth/logout-all", Auth::ApiKey(key), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(refresh(&app, &fresh.refresh_token).await.0, StatusCode::OK);
    }
);

both_backends!(
    async fn a_login_ends_thirty_days_after_the_password_however_often_it_is_refreshed(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert!(
            login.refresh_expires_in > 29 * 24 * 3600,
            "{}",
            login.refresh_expires_in
        );
        // The login is a minute from its end: rotating the token does not extend it.
        let end = (chrono::Utc::now() + chrono::Duration::seconds(60)).format("%Y-%m-%d %H:%M:%S");
        app.execute_sql(&format!("UPDATE refresh_tokens SET expires_at = '{end}'"));
        let (status, rotated) = refresh(&app, &login.refresh_token).await;
        assert_eq!(status, StatusCode::OK, "{rotated}");
        let left = rotated["refresh_expires_in"].as_i64().unwrap();
        assert!((0..=60).contains(&left), "{left}");
        app.execute_sql("UPDATE refresh_tokens SET expires_at = '2000-01-01 00:00:00'");
        let next = rotated["refresh_token"].as_str().unwrap();
        assert_eq!(refresh(&app, next).await.0, StatusCode::UNAUTHORIZED);
    }
);

#[tokio::test]
async fn refreshing_and_logging_out_are_limited_per_address() {
    let app = TestApp::spawn_with(
        cohort_tests::Backend::Sqlite,
        cohort_tests::Spawn {
            demo_data: false,
            extra_env: vec![("COHORT_SESSION_LIMIT_PER_ADDRESS".into(), "3".into())],
        },
    )
    .await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        let path = if n % 2 == 0 {
            "/api/v1/auth/refresh"
        } else {
            "/api/v1/auth/logout"
        };
        let body = json!({"refresh_token": format!("rt_guess{n}")});
        statuses.push(app.call(Method::POST, path, Auth::None, Some(body)).await.0);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::NO_CONTENT,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

both_backends!(
    async fn api_keys_reach_only_their_scopes_until_they_expire(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let create = |body: Value| app.post("/api/v1/api-keys", &admin, body);
        let (status, problem) = create(json!({"name": "Bad", "scopes": ["people:admin", "read"]})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(cohort_tests::fields(&problem), ["scopes[0]"], "{problem}");
        let (status, problem) = create(json!({"name": "Bad", "scopes": []})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let (status, problem) = create(json!({"name": "Bad", "expires_at": "2020-01-01T00:00:00Z"})).await;
        assert_eq!(cohort_tests::fields(&problem), ["expires_at"], "{status} {problem}");

        let (status, created) = create(json!({"name": "HR sync", "scopes": ["people:read", "events:write"],
                                             "expires_at": "2099-01-01T00:00:00Z"}))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["key"]["scopes"], json!(["people:read", "events:write"]));
        assert_eq!(created["key"]["expires_at"], "2099-01-01T00:00:00Z");
        let scoped = created["secret"].as_str().unwrap().to_owned();
        let (_, created) = create(json!({"name": "Reader", "scopes": ["read"]})).await;
        let reader = created["secret"].as_str().unwrap().to_owned();
        let (_, created) = create(json!({"name": "Everything"})).await;
        assert_eq!(created["key"]["scopes"], json!(["all"]), "omitted: all");

        let person = json!({"email": "new@example.org", "name": "New Person"});
        let program = json!({"name": "Spring"});
        let event = json!({"event_type": "custom.ping", "idempotency_key": "scoped-1"});
        for (key, method, path, body, allowed) in [
            (&scoped, Method::GET, "/api/v1/people", None, true),
            (&scoped, Method::GET, "/api/v1/me", None, true),
            (&scoped, Method::POST, "/api/v1/people", Some(person.clone()), false),
            (&scoped, Method::GET, "/api/v1/programs", None, false),
            (&scoped, Method::POST, "/api/v1/events", Some(event.clone()), true),
            (&scoped, Method::GET, "/api/v1/events", None, true),
            (&scoped, Method::GET, "/api/v1/webhooks", None, false),
            (&reader, Method::GET, "/api/v1/programs", None, true),
            (&reader, Method::GET, "/api/v1/audit-log", None, true),
            (&reader, Method::POST, "/api/v1/programs", Some(program.clone()), false),
            (&reader, Method::POST, "/api/v1/events", Some(event.clone()), false),
        ] {
            let (status, body) = app.call(method.clone(), path, Auth::ApiKey(key), body).await;
            assert_eq!(
                status != StatusCode::FORBIDDEN,
                allowed,
                "{method} {path} with {key}: {status} {body}"
            );
            if allowed {
                assert!(status.is_success(), "{method} {path}: {status} {body}");
            }
        }

        app.execute_sql("UPDATE api_keys SET expires_at = '2000-01-01 00:00:00' WHERE name = 'HR sync'");
        let (status, problem) = app
            .call(Method::GET, "/api/v1/people", Auth::ApiKey(&scoped), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "an expired key: {problem}");
    }
);
