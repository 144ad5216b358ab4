//! Auto-pair: admins' rules, an optimal proposal with a certificate the test checks itself,
//! locks and removals, confirmation that sends assignment emails only.

use std::collections::HashMap;
use std::time::Duration;

use cohort_tests::reqwest::StatusCode;
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, fields, SmtpSink, Spawn, TestApp};

struct Program {
    id: String,
    people: HashMap<&'static str, String>,
}

/// An admin-led program where every mentor takes one mentee. Mentees Ada, Bea (and Cy, who speaks
/// only German); mentors Grace, Hopper (and Linus, who speaks only French).
async fn program(app: &TestApp, admin: &str) -> Program {
    let (_, p) = app
        .post(
            "/api/v1/programs",
            admin,
            json!({"name": "Mentoring", "time_zone": "UTC"}),
        )
        .await;
    let id = p["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .patch(
            &format!("/api/v1/programs/{id}/pairing"),
            admin,
            json!({"process": "admin_led", "mentor_capacity": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let everyone = [
        ("Ada", "mentee", "en", "sales", json!(["research", "leadership"])),
        ("Bea", "mentee", "en", "eng", json!(["Research"])),
        ("Cy", "mentee", "de", "eng", json!(["research"])),
        ("Grace", "mentor", "en", "eng", json!(["research", "leadership"])),
        ("Hopper", "mentor", "en", "sales", json!(["leadership"])),
        ("Linus", "mentor", "fr", "eng", json!(["research"])),
    ];
    let mut people = HashMap::new();
    for (name, role, language, department, goals) in everyone {
        let (status, person) = app
            .post(
                "/api/v1/people",
                admin,
                json!({"email": format!("{}@demo.test", name.to_lowercase()), "name": name,
                       "password": PASSWORD,
                       "attributes": {"language": language, "department": department}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{person}");
        let person_id = person["id"].as_str().unwrap().to_owned();
        let (_, participant) = app
            .post(
                &format!("/api/v1/programs/{id}/participants"),
                admin,
                json!({"person_id": person_id, "role": role}),
            )
            .await;
        let (status, body) = app
            .put(
                &format!(
                    "/api/v1/programs/{id}/participants/{}/answers",
                    participant["id"].as_str().unwrap()
                ),
                admin,
                json!({"answers": {"goals": goals}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        people.insert(name, person_id);
    }
    Program { id, people }
}

/// Everyone's password in [`program`].
const PASSWORD: &str = "person-password-0123";

/// language must match; a different department earns 20; shared goals earn up to 50. Bea and
/// Hopper are excluded by the admins.
fn rules(p: &Program) -> Value {
    json!({
        "criteria": [
            {"key": "language", "source": "attribute", "rule": "must_match"},
            {"key": "department", "source": "attribute", "rule": "different", "weight": 20},
            {"key": "goals", "source": "answer", "rule": "similar", "weight": 50}
        ],
        "excluded_pairs": [{"mentee_id": p.people["Bea"], "mentor_id": p.people["Hopper"]}]
    })
}

/// Who is proposed with whom, by name, with the score and lock.
fn pairs(proposal: &Value) -> Vec<(String, String, i64, bool)> {
    proposal["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["mentee_name"].as_str().unwrap().to_owned(),
                p["mentor_name"].as_str().unwrap().to_owned(),
                p["score"].as_i64().unwrap(),
                p["locked"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Checks the certificate from the outside, with the scores worked out by hand from the rules:
/// prices are non-negative, cover every allowed pair's weight, and the dual value equals the
/// proposal's weight over its unlocked pairs.
fn check_certificate(p: &Program, proposal: &Value, scores: &[(&str, &str, i64)]) {
    let c = &proposal["certificate"];
    assert_eq!(c["verified"], true);
    let bonus = c["pair_bonus"].as_i64().unwrap();
    let price = |list: &str, person: &str| -> Option<(i64, i64)> {
        c[list].as_array().unwrap().iter().find_map(|e| {
            (e["person_id"] == p.people[person].as_str())
                .then(|| (e["price"].as_i64().unwrap(), e["room"].as_i64().unwrap_or(0)))
        })
    };
    for list in ["mentee_prices", "mentor_prices"] {
        assert!(c[list]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["price"].as_i64().unwrap() >= 0));
    }
    for (mentee, mentor, score) in scores {
        // Locked mentees are not part of the certified problem.
        let (Some((u, _)), Some((v, _))) = (price("mentee_prices", mentee), price("mentor_prices", mentor)) else {
            continue;
        };
        assert!(
            u + v >= score + bonus,
            "dual infeasible at {mentee}–{mentor}: {proposal}"
        );
    }
    let unlocked: i64 = proposal["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pair| pair["locked"] == false)
        .map(|pair| pair["score"].as_i64().unwrap() + bonus)
        .sum();
    let dual: i64 = c["mentee_prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["price"].as_i64().unwrap())
        .sum::<i64>()
        + c["mentor_prices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["price"].as_i64().unwrap() * e["room"].as_i64().unwrap())
            .sum::<i64>();
    assert_eq!(
        (c["primal"].as_i64().unwrap(), c["dual"].as_i64().unwrap()),
        (unlocked, dual)
    );
    assert_eq!(unlocked, dual, "no duality gap: the proposal is optimal");
}

both_backends!(
    async fn auto_pair_proposes_the_optimum_and_confirming_sends_only_assignments(backend: Backend) {
        let sink = SmtpSink::start().await;
        let app = TestApp::spawn_with(
            backend,
            Spawn {
                demo_data: false,
                extra_env: vec![("COHORT_SMTP_URL".into(), sink.url.clone())],
            },
        )
        .await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin).await;
        let base = format!("/api/v1/programs/{}/auto-pair", p.id);
        let (status, saved) = app.put(&format!("{base}/rules"), &admin, rules(&p)).await;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(app.get(&format!("{base}/rules"), &admin).await.1, saved);
        assert_eq!(app.get(&base, &admin).await.0, StatusCode::NOT_FOUND, "no proposal yet");

        // Greedy would give Ada her best mentor (Grace, 70) and leave Bea, who may only have
        // Grace, alone. The optimum pairs both.
        let (status, proposal) = app.post(&base, &admin, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{proposal}");
        assert_eq!(
            pairs(&proposal),
            [
                ("Ada".to_owned(), "Hopper".to_owned(), 25, false),
                ("Bea".to_owned(), "Grace".to_owned(), 25, false)
            ]
        );
        assert_eq!(proposal["total_score"], 50);
        assert_eq!(proposal["mentees_considered"], 3);
        assert_eq!(proposal["unpaired"][0]["name"], "Cy");
        let ada = &proposal["pairs"][0]["reasons"];
        assert_eq!(
            ada,
            &json!([{"key": "goals", "source": "answer", "rule": "similar", "points": 25, "shared": ["leadership"]}])
        );
        let allowed = [("Ada", "Grace", 70), ("Ada", "Hopper", 25), ("Bea", "Grace", 25)];
        check_certificate(&p, &proposal, &allowed);
        assert_eq!(app.get(&base, &admin).await.1, proposal);

        // Lock Bea with Grace, then remove Ada–Hopper: Ada is left with nobody who has room.
        let (status, locked) = app
            .patch(
                &format!("{base}/pairs/{}", p.people["Bea"]),
                &admin,
                json!({"action": "lock"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{locked}");
        assert_ne!(locked["id"], proposal["id"]);
        let (_, removed) = app
            .patch(
                &format!("{base}/pairs/{}", p.people["Ada"]),
                &admin,
                json!({"action": "remove"}),
            )
            .await;
        assert_eq!(pairs(&removed), [("Bea".to_owned(), "Grace".to_owned(), 25, true)]);
        let allowed = [("Ada", "Grace", 70), ("Bea", "Grace", 25)];
        check_certificate(&p, &removed, &allowed);
        // Unlocking Bea lets the solver give Grace to Ada (70 beats 25; Hopper stays removed).
        let (_, unlocked) = app
            .patch(
                &format!("{base}/pairs/{}", p.people["Bea"]),
                &admin,
                json!({"action": "unlock"}),
            )
            .await;
        assert_eq!(pairs(&unlocked), [("Ada".to_owned(), "Grace".to_owned(), 70, false)]);
        check_certificate(&p, &unlocked, &allowed);
        let (status, _) = app
            .patch(
                &format!("{base}/pairs/{}", p.people["Cy"]),
                &admin,
                json!({"action": "lock"}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "Cy has no proposed pair");
        // A fresh run without keeping locks forgets the removal too.
        let (_, fresh) = app.post(&base, &admin, json!({"keep_locked": false})).await;
        assert_eq!(fresh["total_score"], 50);

        // Confirming names the proposal; an older one is refused and nothing is paired.
        let (status, problem) = app
            .post(
                &format!("{base}/confirm"),
                &admin,
                json!({"proposal_id": proposal["id"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        let (status, done) = app
            .post(&format!("{base}/confirm"), &admin, json!({"proposal_id": fresh["id"]}))
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["pairings_created"], 2);
        let (_, active) = app.get(&format!("/api/v1/programs/{}/pairings", p.id), &admin).await;
        assert_eq!(active["items"].as_array().unwrap().len(), 2);
        assert_eq!(
            app.get(&base, &admin).await.0,
            StatusCode::NOT_FOUND,
            "the proposal is used up"
        );

        // Two assignment emails per pair and nothing else.
        let mail = sink.wait_for(4).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mail = if sink.messages().len() > mail.len() {
            sink.messages()
        } else {
            mail
        };
        assert_eq!(mail.len(), 4, "{mail:?}");
        assert!(mail.iter().all(|m| m.contains("Subject: You have been paired")));

        // Everyone with a mentor is left alone by the next run.
        let (_, next) = app.post(&base, &admin, json!({})).await;
        assert_eq!(next["mentees_considered"], 1);
        assert!(next["pairs"].as_array().unwrap().is_empty());
    }
);

both_backends!(
    async fn auto_pair_rules_are_validated_and_reporting_lines_are_respected(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin).await;
        let base = format!("/api/v1/programs/{}/auto-pair", p.id);
        let stranger = "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f";
        let (status, problem) = app
            .put(
                &format!("{base}/rules"),
                &admin,
                json!({"criteria": [{"key": "language", "source": "attribute", "rule": "similar", "weight": 101}]}),
            )
            .await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["criteria[0].weight".to_owned()])
        );
        let (status, problem) = app
            .put(
                &format!("{base}/rules"),
                &admin,
                json!({"excluded_pairs": [{"mentee_id": stranger, "mentor_id": p.people["Grace"]}]}),
            )
            .await;
        assert_eq!(
            (status, fields(&problem)),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                vec!["excluded_pairs[0].mentee_id".to_owned()]
            )
        );
        let (_, rules) = app.get(&format!("{base}/rules"), &admin).await;
        assert_eq!(rules["criteria"], json!([]), "nothing was saved");

        // Ada reports to Erin (outside the program), who reports to Grace; Bea manages Hopper.
        let (_, erin) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "erin@demo.test", "name": "Erin", "attributes": {"manager": "GRACE@demo.test"}}),
            )
            .await;
        assert!(erin["id"].is_string());
        for (who, manager) in [("Ada", "erin@demo.test"), ("Hopper", "bea@demo.test")] {
            let (status, _) = app
                .patch(
                    &format!("/api/v1/people/{}", p.people[who]),
                    &admin,
                    json!({"attributes": {"language": "en", "manager": manager}}),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, _) = app
            .put(
                &format!("{base}/rules"),
                &admin,
                json!({"manager_attribute": "manager"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, proposal) = app.post(&base, &admin, json!({})).await;
        // Every score is 0 now, so any full pairing is optimal, but never Ada–Grace (Grace is
        // above her) nor Bea–Hopper (Bea is above him).
        let got = pairs(&proposal);
        assert_eq!(got.len(), 3, "{proposal}");
        for (mentee, mentor, _, _) in &got {
            assert!(
                ![("Ada", "Grace"), ("Bea", "Hopper")].contains(&(mentee.as_str(), mentor.as_str())),
                "{got:?}"
            );
        }
        assert_eq!(proposal["certificate"]["verified"], true);

        // Auto-pair is for admin-led programs.
        app.patch(
            &format!("/api/v1/programs/{}/pairing", p.id),
            &admin,
            json!({"process": "user_led"}),
        )
        .await;
        let (status, _) = app.post(&base, &admin, json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT);
    }
);

both_backends!(
    async fn participants_answer_the_questionnaire_themselves(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (_, program) = app.post("/api/v1/programs", &admin, json!({"name": "P"})).await;
        let id = program["id"].as_str().unwrap();
        let (person, token) = app.person_with_login(&admin, "mo@demo.test", false).await;
        let path = format!("/api/v1/me/programs/{id}/answers");
        let answers = json!({"answers": {"goals": ["research"], "meeting": "online"}});
        let (status, _) = app.put(&path, &token, answers.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "not a participant yet");
        assert_eq!(
            app.get(&path, &token).await.0,
            StatusCode::FORBIDDEN,
            "not a participant yet"
        );
        let (_, participant) = app
            .post(
                &format!("/api/v1/programs/{id}/participants"),
                &admin,
                json!({"person_id": person, "role": "mentee"}),
            )
            .await;
        let (status, saved) = app.put(&path, &token, answers.clone()).await;
        assert_eq!((status, &saved), (StatusCode::OK, &answers));
        assert_eq!(
            app.get(&path, &token).await,
            (StatusCode::OK, answers.clone()),
            "their own answers"
        );
        let admin_path = format!(
            "/api/v1/programs/{id}/participants/{}/answers",
            participant["id"].as_str().unwrap()
        );
        assert_eq!(app.get(&admin_path, &admin).await.1, answers);
        let (status, problem) = app.put(&path, &token, json!({"answers": {" goals": "x"}})).await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["answers. goals".to_owned()])
        );
        assert_eq!(app.get(&admin_path, &token).await.0, StatusCode::FORBIDDEN);
    }
);

both_backends!(
    async fn mentors_are_suggested_best_fit_first(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin).await;
        let (status, _) = app
            .put(&format!("/api/v1/programs/{}/auto-pair/rules", p.id), &admin, rules(&p))
            .await;
        assert_eq!(status, StatusCode::OK);
        let mentors = format!("/api/v1/programs/{}/mentors", p.id);
        let listed = |body: &Value| -> Vec<(String, Option<i64>)> {
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (m["name"].as_str().unwrap().to_owned(), m["score"].as_i64()))
                .collect()
        };
        // For Ada: Grace fits best (70), then Hopper (25); Linus speaks no common language.
        let (_, for_ada) = app
            .get(&format!("{mentors}?mentee_id={}", p.people["Ada"]), &admin)
            .await;
        assert_eq!(
            listed(&for_ada),
            [
                ("Grace".into(), Some(70)),
                ("Hopper".into(), Some(25)),
                ("Linus".into(), None)
            ]
        );
        // Full mentors are hidden unless an admin asks for them.
        app.put(
            &format!("/api/v1/programs/{}/mentors/{}/capacity", p.id, p.people["Grace"]),
            &admin,
            json!({"capacity": null}),
        )
        .await;
        let (_, made) = app
            .patch(
                &format!("/api/v1/programs/{}/pairing", p.id),
                &admin,
                json!({"process": "user_led", "enabled": true}),
            )
            .await;
        assert_eq!(made["process"], "user_led");
        let (status, _) = app
            .post(
                &format!("/api/v1/programs/{}/requests", p.id),
                &admin,
                json!({"mentor_id": p.people["Grace"], "mentee_id": p.people["Bea"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, with_room) = app.get(&mentors, &admin).await;
        assert!(listed(&with_room).iter().all(|(name, _)| name != "Grace"));
        let (_, everyone) = app.get(&format!("{mentors}?include_full=true"), &admin).await;
        let grace = everyone["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "Grace")
            .unwrap()
            .clone();
        assert_eq!(
            (grace["capacity"].as_u64(), grace["active_pairings"].as_u64()),
            (Some(1), Some(1))
        );
    }
);

both_backends!(
    async fn a_mentee_sees_why_each_mentor_fits_and_whether_they_may_ask(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin).await;
        let (status, _) = app
            .put(&format!("/api/v1/programs/{}/auto-pair/rules", p.id), &admin, rules(&p))
            .await;
        assert_eq!(status, StatusCode::OK);
        let ada = app.login("ada@demo.test", PASSWORD).await.access_token;
        let mentors = format!("/api/v1/programs/{}/mentors", p.id);
        let (status, listed) = app.get(&mentors, &ada).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert_eq!(listed["requests_open"], false, "admins pair in this program");
        let reasons = |name: &str| -> Vec<(String, i64, Vec<String>)> {
            let mentor = listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["name"] == name)
                .unwrap_or_else(|| panic!("{name} in {listed}"));
            let mut found: Vec<_> = mentor["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let mut shared: Vec<String> = r["shared"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_owned())
                        .collect();
                    shared.sort();
                    (
                        r["key"].as_str().unwrap().to_owned(),
                        r["points"].as_i64().unwrap(),
                        shared,
                    )
                })
                .collect();
            found.sort();
            found
        };
        // Grace: a different department (20) and both goals shared (50); Hopper: one goal of two
        // (25), same department; Linus speaks no common language: no score, no reasons.
        let names: Vec<&str> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Grace", "Hopper", "Linus"]);
        assert_eq!(
            reasons("Grace"),
            [
                ("department".to_owned(), 20, vec![]),
                (
                    "goals".to_owned(),
                    50,
                    vec!["leadership".to_owned(), "research".to_owned()]
                )
            ]
        );
        assert_eq!(
            reasons("Hopper"),
            [("goals".to_owned(), 25, vec!["leadership".to_owned()])]
        );
        assert_eq!(reasons("Linus"), []);
        assert_eq!(listed["items"][2]["score"], Value::Null);
        // Once pairing is on and mentees choose, Ada may ask.
        let (status, _) = app
            .patch(
                &format!("/api/v1/programs/{}/pairing", p.id),
                &admin,
                json!({"process": "user_led_with_approval", "enabled": true}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, listed) = app.get(&mentors, &ada).await;
        assert_eq!(listed["requests_open"], true, "{listed}");
        assert_eq!(listed["items"][0]["score"], 70);
    }
);

both_backends!(
    async fn auto_pair_refuses_a_program_above_the_stated_size(backend: Backend) {
        // Three unpaired mentees and three mentors with room: nine pairs to consider.
        let app = TestApp::spawn_with(
            backend,
            Spawn {
                demo_data: false,
                extra_env: vec![("COHORT_AUTOPAIR_MAX_PAIRS".into(), "8".into())],
            },
        )
        .await;
        let admin = app.admin_token().await;
        let p = program(&app, &admin).await;
        let base = format!("/api/v1/programs/{}/auto-pair", p.id);
        let (status, problem) = app.post(&base, &admin, json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["program"]);
        let text = problem.to_string();
        assert!(text.contains("at most 8") && text.contains("9 pairs"), "{text}");
        assert_eq!(
            app.get(&base, &admin).await.0,
            StatusCode::NOT_FOUND,
            "nothing was proposed"
        );
    }
);
