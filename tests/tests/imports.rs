//! CSV in and out over HTTP: dry runs that report every problem, uploads applied all or nothing,
//! repeated uploads that change nothing, real-world file shapes, limits, and exports that
//! neutralise spreadsheet formulas.

use cohort_tests::reqwest::{Method, StatusCode};
use cohort_tests::serde_json::{json, Value};
use cohort_tests::{both_backends, check_response, fields, Spawn, TestApp};

/// Uploads `body` as a CSV file; the answer as JSON.
async fn upload(app: &TestApp, token: &str, path: &str, body: impl Into<Vec<u8>>) -> (StatusCode, Value) {
    let response = app
        .request(Method::POST, path)
        .bearer_auth(token)
        .header("Content-Type", "text/csv")
        .body(body.into())
        .send()
        .await
        .unwrap();
    check_response(&Method::POST, path, response).await
}

/// Downloads a CSV file: status, content type and text.
async fn download(app: &TestApp, token: &str, path: &str) -> (StatusCode, String, String) {
    let response = app.request(Method::GET, path).bearer_auth(token).send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn program(app: &TestApp, token: &str, name: &str) -> String {
    let (status, program) = app.post("/api/v1/programs", token, json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{program}");
    program["id"].as_str().unwrap().to_owned()
}

/// Rows of the tables an import writes, to prove a refused upload wrote nothing.
fn written(app: &TestApp) -> (i64, i64, i64) {
    (app.count("people"), app.count("participants"), app.count("events"))
}

const GOOD: &str = "email,name,role,department,languages\r\n\
talia.k@example.org,Talia K,mentor,Chemistry,English; Spanish\r\n\
amara.n@example.org,Amara N,mentee,Biology,\r\n\
talia.k@example.org,Talia K,mentee,Chemistry,English; Spanish\r\n\
known@example.org,,mentee,,\r\n";

both_backends!(
    async fn a_bad_row_writes_nothing_and_a_repeated_file_changes_nothing(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, "Spring").await;
        let (status, known) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "Known@example.org", "name": "Known Person", "attributes": {"year": 2}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let imports = format!("/api/v1/imports/participants?program_id={program}");
        let dry = format!("{imports}&dry_run=true");

        let (status, content_type, template) = download(&app, &admin, "/api/v1/imports/participants/template").await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.starts_with("text/csv"), "{content_type}");
        assert_eq!(template.lines().count(), 2, "{template}");
        assert!(template.starts_with("email,name,role"), "{template}");
        // The template itself is a valid file.
        let (status, report) = upload(&app, &admin, &dry, template).await;
        assert_eq!(
            (status, report["valid"].as_bool()),
            (StatusCode::OK, Some(true)),
            "{report}"
        );

        // One bad role, one bad email, one new person without a name: all reported, with lines.
        let bad = GOOD.replace(
            "amara.n@example.org,Amara N,mentee",
            "amara.n@example.org,Amara N,coach",
        ) + "not-an-email,Nobody,mentor,,\r\nnew@example.org,,mentor,,\r\n";
        let before = written(&app);
        let (status, report) = upload(&app, &admin, &dry, bad.clone()).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["valid"], false);
        assert_eq!(report["applied"], false);
        assert_eq!(report["error_count"], 3, "{report}");
        let problems: Vec<(u64, &str, &str)> = report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["line"].as_u64().unwrap(),
                    e["column"].as_str().unwrap(),
                    e["value"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            problems,
            [(3, "role", "coach"), (6, "email", "not-an-email"), (7, "name", "")]
        );
        // The valid rows are still previewed and counted.
        assert_eq!(
            (
                report["created"].as_u64(),
                report["unchanged"].as_u64(),
                report["rows"].as_u64()
            ),
            (Some(3), Some(0), Some(6)),
            "{report}"
        );
        assert_eq!(written(&app), before, "a dry run writes nothing");
        let (status, problem) = upload(&app, &admin, &imports, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["lines[3].role", "lines[6].email", "lines[7].name"]);
        assert_eq!(written(&app), before, "a refused upload writes nothing");

        // The corrected file: its dry run, then the real upload.
        let (_, report) = upload(&app, &admin, &dry, GOOD).await;
        assert_eq!(report["valid"], true, "{report}");
        assert_eq!(
            (
                report["created"].as_u64(),
                report["updated"].as_u64(),
                report["people_created"].as_u64()
            ),
            (Some(4), Some(0), Some(2)),
            "{report}"
        );
        assert_eq!(
            report["columns"],
            json!(["email", "name", "role", "department", "languages"])
        );
        assert_eq!(report["preview"][0]["values"][0], "talia.k@example.org");
        assert_eq!(written(&app), before);
        let (status, report) = upload(&app, &admin, &imports, GOOD).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(
            (
                report["applied"].as_bool(),
                report["created"].as_u64(),
                report["people_created"].as_u64()
            ),
            (Some(true), Some(4), Some(2)),
            "{report}"
        );
        let participants = app
            .all_pages(&format!("/api/v1/programs/{program}/participants"), &admin)
            .await;
        let mut who: Vec<(String, String)> = participants
            .iter()
            .map(|p| {
                (
                    p["email"].as_str().unwrap().to_owned(),
                    p["role"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        who.sort();
        assert_eq!(
            who,
            [
                ("amara.n@example.org".to_owned(), "mentee".to_owned()),
                ("known@example.org".to_owned(), "mentee".to_owned()),
                ("talia.k@example.org".to_owned(), "mentee".to_owned()),
                ("talia.k@example.org".to_owned(), "mentor".to_owned()),
            ]
        );
        let talia = participants
            .iter()
            .find(|p| p["email"] == "talia.k@example.org")
            .unwrap();
        let (_, talia) = app
            .get(
                &format!("/api/v1/people/{}", talia["person_id"].as_str().unwrap()),
                &admin,
            )
            .await;
        assert_eq!(
            talia["attributes"],
            json!({"department": "Chemistry", "languages": ["English", "Spanish"]})
        );
        // The known person kept their name and attributes (blank cells of new columns set nothing).
        let (_, known) = app
            .get(&format!("/api/v1/people/{}", known["id"].as_str().unwrap()), &admin)
            .await;
        assert_eq!(
            (known["name"].as_str(), &known["attributes"]),
            (Some("Known Person"), &json!({"year": 2}))
        );

        // The same file again changes nothing.
        let after = written(&app);
        let (status, report) = upload(&app, &admin, &imports, GOOD).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(
            (
                report["created"].as_u64(),
                report["updated"].as_u64(),
                report["unchanged"].as_u64()
            ),
            (Some(0), Some(0), Some(4)),
            "{report}"
        );
        assert_eq!(written(&app), after);

        // A change is an update; a removed participant listed again is re-activated.
        let participant = participants
            .iter()
            .find(|p| p["email"] == "amara.n@example.org")
            .unwrap();
        let (status, _) = app
            .delete(
                &format!(
                    "/api/v1/programs/{program}/participants/{}",
                    participant["id"].as_str().unwrap()
                ),
                &admin,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let changed = GOOD.replace("Chemistry", "Physics");
        let (_, report) = upload(&app, &admin, &imports, changed).await;
        assert_eq!(
            (
                report["created"].as_u64(),
                report["updated"].as_u64(),
                report["unchanged"].as_u64()
            ),
            (Some(0), Some(2), Some(2)),
            "{report}"
        );

        // Export, then import the export: a round trip changes nothing.
        let (status, content_type, exported) = download(
            &app,
            &admin,
            &format!("/api/v1/exports/participants?program_id={program}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.starts_with("text/csv"));
        assert!(
            exported.starts_with("email,name,role,department,languages,year\n"),
            "{exported}"
        );
        assert!(
            exported.contains("known@example.org,Known Person,mentee,,,2\n"),
            "{exported}"
        );
        let (_, report) = upload(&app, &admin, &imports, exported).await;
        assert_eq!(
            (
                report["valid"].as_bool(),
                report["unchanged"].as_u64(),
                report["rows"].as_u64()
            ),
            (Some(true), Some(4), Some(4)),
            "{report}"
        );
        // Each applied file is one audit entry with its counts; dry runs and refused files none.
        let (_, log) = app.get("/api/v1/audit-log?action=import.applied", &admin).await;
        let entries = log["items"].as_array().unwrap();
        assert!(entries.len() >= 3, "{log}");
        assert_eq!(entries[0]["object_id"], "participants", "{log}");
        assert!(entries[0].to_string().contains("\"unchanged\":4"), "{log}");
    }
);

both_backends!(
    async fn real_world_files(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, "Files").await;
        let dry = format!("/api/v1/imports/participants?program_id={program}&dry_run=true");
        let accepted = [
            // Excel "CSV UTF-8": a byte-order mark, CRLF, quoted cells with commas and line breaks.
            "\u{FEFF}Email,Name,Role,Notes\r\na@example.org,\"Smith, Jane\",mentor,\"line one\r\nline two\"\r\n"
                .to_owned(),
            // Excel in a comma-decimal locale: semicolons, its `sep=` line, trailing empty columns.
            "sep=;\r\nE-Mail; NAME ;Role;;\r\na@example.org;Jane Smith;Mentor;;\r\n;;;;\r\n".to_owned(),
            // Headers in another case and spacing; LF only; no final line end.
            "EMAIL ADDRESS,full name, role \na@example.org,Jane Smith,MENTEE".to_owned(),
            // Tab-separated (pasted from a spreadsheet).
            "email\tname\trole\na@example.org\tJane Smith\tmentee\n".to_owned(),
        ];
        for file in accepted {
            let (status, report) = upload(&app, &admin, &dry, file.clone()).await;
            assert_eq!(status, StatusCode::OK, "{file:?}: {report}");
            assert_eq!(
                (
                    report["valid"].as_bool(),
                    report["created"].as_u64(),
                    report["rows"].as_u64()
                ),
                (Some(true), Some(1), Some(1)),
                "{file:?}: {report}"
            );
        }
        // The quoted line break moves the next record's line.
        let file = "email,name,role\r\na@example.org,\"Jane\r\nSmith\",mentor\r\nb@example.org,B,coach\r\n";
        let (_, report) = upload(&app, &admin, &dry, file).await;
        assert_eq!(
            (
                report["errors"][0]["line"].as_u64(),
                report["errors"][0]["row"].as_u64()
            ),
            (Some(4), Some(3))
        );

        // Another encoding: a clear 422 that says what to save the file as.
        let latin1 = b"email,name,role\r\nrenee@example.org,Ren\xE9e,mentee\r\n".to_vec();
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("email,name,role\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        for (bytes, says) in [(latin1, "Line 2 is not valid UTF-8"), (utf16, "UTF-16")] {
            let (status, problem) = upload(&app, &admin, &dry, bytes).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
            assert_eq!(fields(&problem), ["file"]);
            let detail = problem["errors"][0]["message"].as_str().unwrap();
            assert!(detail.contains(says) && detail.contains("CSV UTF-8"), "{detail}");
        }
        // Header problems are reported on line 1.
        let (_, report) = upload(&app, &admin, &dry, "email,name,name\r\na@example.org,A,B\r\n").await;
        let columns: Vec<&str> = report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["column"].as_str().unwrap())
            .collect();
        assert_eq!(columns, ["name", "role"], "{report}");
        assert!(report["errors"].as_array().unwrap().iter().all(|e| e["line"] == 1));
        // An empty file, a form upload, a missing program, an unknown kind.
        let (status, _) = upload(&app, &admin, &dry, "").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let response = app
            .request(Method::POST, &dry)
            .bearer_auth(&admin)
            .header("Content-Type", "multipart/form-data; boundary=x")
            .body("--x--")
            .send()
            .await
            .unwrap();
        assert_eq!(
            check_response(&Method::POST, &dry, response).await.0,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        let (status, _) = upload(&app, &admin, "/api/v1/imports/participants?dry_run=true", "email\n").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = upload(&app, &admin, "/api/v1/imports/unicorns?dry_run=true", "email\n").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = upload(
            &app,
            &admin,
            "/api/v1/imports/participants?dry_run=true&program_id=0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e30",
            "email\n",
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Another organisation's program is a 404; a non-admin is refused.
        let other = app.create_organization("Other Org", "boss@other.test").await;
        let (status, _) = upload(&app, &other, &dry, "email,name,role\na@example.org,A,mentor\n").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = download(
            &app,
            &other,
            &format!("/api/v1/exports/participants?program_id={program}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, member) = app.person_with_login(&admin, "member@example.org", false).await;
        let (status, _) = upload(&app, &member, &dry, "email,name,role\na@example.org,A,mentor\n").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(app.count("participants"), 0);
    }
);

both_backends!(
    async fn size_and_row_limits(backend: Backend) {
        let app = TestApp::spawn_with(
            backend,
            Spawn {
                demo_data: false,
                extra_env: vec![
                    ("COHORT_IMPORT_MAX_BYTES".into(), "2048".into()),
                    ("COHORT_IMPORT_MAX_ROWS".into(), "5".into()),
                ],
            },
        )
        .await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, "Limits").await;
        let imports = format!("/api/v1/imports/participants?program_id={program}");
        let rows = |n: usize| {
            let mut file = "email,name,role\n".to_owned();
            for i in 0..n {
                file.push_str(&format!("p{i}@example.org,Person {i},mentee\n"));
            }
            file
        };
        let (status, report) = upload(&app, &admin, &imports, rows(5)).await;
        assert_eq!(
            (status, report["created"].as_u64()),
            (StatusCode::OK, Some(5)),
            "{report}"
        );
        let (status, problem) = upload(&app, &admin, &imports, rows(6)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("more than 5"),
            "{problem}"
        );
        let (status, problem) = upload(&app, &admin, &imports, "x".repeat(3000)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("2048"));
        assert_eq!(app.count("participants"), 5);
    }
);

both_backends!(
    async fn exports_neutralise_formulas(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, "Exports").await;
        let (status, step) = app
            .post(
                &format!("/api/v1/programs/{program}/steps"),
                &admin,
                json!({"title": "=HYPERLINK(\"http://evil\")", "viewer_type": "all", "action_type": "set_goal", "publish_type": "instant"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{step}");
        let file = "email,name,role,motto\r\n\
            mentor@example.org,@SUM(A1),mentor,+cmd|' /C calc'!A0\r\n\
            mentee@example.org,-2+3,mentee,plain\r\n";
        let imports = format!("/api/v1/imports/participants?program_id={program}");
        let (status, report) = upload(&app, &admin, &imports, file).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let participants = app
            .all_pages(&format!("/api/v1/programs/{program}/participants"), &admin)
            .await;
        let id = |email: &str| {
            participants.iter().find(|p| p["email"] == email).unwrap()["person_id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        app.patch(
            &format!("/api/v1/programs/{program}/pairing"),
            &admin,
            json!({"enabled": true, "process": "user_led"}),
        )
        .await;
        let (status, made) = app
            .post(
                &format!("/api/v1/programs/{program}/requests"),
                &admin,
                json!({"mentor_id": id("mentor@example.org"), "mentee_id": id("mentee@example.org")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");

        let export = |kind: &str| format!("/api/v1/exports/{kind}?program_id={program}");
        let (_, _, participants_csv) = download(&app, &admin, &export("participants")).await;
        let (_, _, pairings_csv) = download(&app, &admin, &export("pairings")).await;
        let (status, _, steps_csv) = download(&app, &admin, &export("step-completions")).await;
        assert_eq!(status, StatusCode::OK);
        for text in [&participants_csv, &pairings_csv, &steps_csv] {
            let mut reader = csv_cells(text);
            assert!(reader.len() > 1, "{text}");
            for cell in reader.drain(..).flatten() {
                assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell:?} in {text}");
            }
        }
        assert!(
            participants_csv.contains("'@SUM(A1)") && participants_csv.contains("'-2+3"),
            "{participants_csv}"
        );
        assert!(
            pairings_csv.contains("'-2+3,mentee@example.org,'@SUM(A1),mentor@example.org"),
            "{pairings_csv}"
        );
        assert!(steps_csv.starts_with("step,person,email,status,delivered_at,opened_at,completed_at,missed_at\n"));
        assert_eq!(steps_csv.matches("'=HYPERLINK").count(), 2, "{steps_csv}");
        assert!(steps_csv.contains(",delivered,"), "{steps_csv}");
        // Importing the export gives the values back, not the apostrophes.
        let (_, report) = upload(&app, &admin, &imports, participants_csv).await;
        assert_eq!(report["unchanged"], 2, "{report}");
        let (status, _, _) = download(&app, &admin, "/api/v1/exports/unicorns?program_id=x").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _, _) = download(&app, &admin, "/api/v1/exports/pairings").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
);

/// Splits a CSV text into cells (quoted cells may hold commas; exports use no line breaks in cells here).
fn csv_cells(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let mut cells = Vec::new();
            let (mut cell, mut quoted) = (String::new(), false);
            for c in line.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => cells.push(std::mem::take(&mut cell)),
                    _ => cell.push(c),
                }
            }
            cells.push(cell);
            cells
        })
        .collect()
}

both_backends!(
    async fn the_courses_csv_upserts_services_by_name_and_course_number(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let imports = "/api/v1/imports/services";
        let (status, _, template) = download(&app, &admin, "/api/v1/imports/services/template").await;
        assert_eq!(status, StatusCode::OK);
        assert!(template.starts_with("name,course number,description\n"), "{template}");
        let file = "Course;Course Number;Description\r\n\
            All available Peer Mentoring;;Whoever is free\r\n\
            Peer Mentoring with Talia K;CHEM 101;=1+1\r\n\
            Peer Mentoring with Talia K;CHEM 101;again\r\n";
        let before = app.count("services");
        let (status, problem) = upload(&app, &admin, imports, file).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(fields(&problem), ["lines[4].name"]);
        assert_eq!(app.count("services"), before, "a refused upload writes nothing");
        let file = file
            .rsplit_once("Peer Mentoring with Talia K;CHEM 101;again")
            .unwrap()
            .0;
        let (status, report) = upload(&app, &admin, &format!("{imports}?dry_run=true"), file).await;
        assert_eq!(
            (status, report["created"].as_u64()),
            (StatusCode::OK, Some(2)),
            "{report}"
        );
        assert_eq!(app.count("services"), before);
        let (_, report) = upload(&app, &admin, imports, file).await;
        assert_eq!(
            (report["applied"].as_bool(), report["created"].as_u64()),
            (Some(true), Some(2)),
            "{report}"
        );
        let (_, services) = app.get("/api/v1/services", &admin).await;
        assert_eq!(services["items"].as_array().unwrap().len(), 2, "{services}");
        // The export reads back unchanged (the formula comes back without its apostrophe).
        let (_, _, exported) = download(&app, &admin, "/api/v1/exports/services").await;
        assert!(
            exported.contains("Peer Mentoring with Talia K,CHEM 101,'=1+1\n"),
            "{exported}"
        );
        let (_, report) = upload(&app, &admin, imports, exported.clone()).await;
        assert_eq!(
            (report["unchanged"].as_u64(), report["created"].as_u64()),
            (Some(2), Some(0)),
            "{report}"
        );
        let (_, report) = upload(&app, &admin, imports, exported.replace("Whoever is free", "Anyone")).await;
        assert_eq!(report["updated"], 1, "{report}");
        assert_eq!(app.count("services"), before + 2);
    }
);

/// The Courses CSV of the booking tests: a general service and two numbered ones sharing a name.
const COURSES: &str = "name,course number,description\r\n\
All available Peer Mentoring,,\r\n\
Chemistry,CHEM 101,\r\n\
Chemistry,CHEM 201,\r\n";

async fn courses(app: &TestApp, admin: &str) {
    let (status, report) = upload(app, admin, "/api/v1/imports/services", COURSES).await;
    assert_eq!(
        (status, report["created"].as_u64()),
        (StatusCode::OK, Some(3)),
        "{report}"
    );
}

/// (line, column, value) of each problem of a report.
fn problems(report: &Value) -> Vec<(u64, String, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["column"].as_str().unwrap_or("").to_owned(),
                e["value"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn booking_tables(app: &TestApp) -> (i64, i64, i64, i64) {
    (
        app.count("people"),
        app.count("providers"),
        app.count("certifications"),
        app.count("enrollments"),
    )
}

/// Each provider's email, bio and certified services (as `Name (number)`), by email.
async fn providers_seen(app: &TestApp, admin: &str) -> Vec<(String, String, Vec<String>)> {
    let mut seen: Vec<_> = app
        .all_pages("/api/v1/providers", admin)
        .await
        .iter()
        .map(|p| {
            let services = p["services"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    format!(
                        "{} ({})",
                        s["name"].as_str().unwrap(),
                        s["course_number"].as_str().unwrap()
                    )
                })
                .collect();
            (
                p["email"].as_str().unwrap().to_owned(),
                p["bio"].as_str().unwrap().to_owned(),
                services,
            )
        })
        .collect();
    seen.sort();
    seen
}

both_backends!(
    async fn the_tutors_csv_upserts_providers_and_sets_their_certifications(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (status, _, template) = download(&app, &admin, "/api/v1/imports/providers/template").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            template.starts_with("email,name,bio,photo url,services\n"),
            "{template}"
        );
        assert_eq!(template.lines().count(), 2, "{template}");
        courses(&app, &admin).await;
        let (status, known) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "known@example.org", "name": "Known Person"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{known}");
        let imports = "/api/v1/imports/providers";
        let dry = format!("{imports}?dry_run=true");
        let good = "Tutor Email;Name;Bio;Photo URL;Certifications\r\n\
            talia.k@example.org;Talia K;=1+1;https://example.org/t.jpg;\"Chemistry (CHEM 101); All available Peer Mentoring\"\r\n\
            known@example.org;;Knows things;;chemistry (chem 201)\r\n";
        // A new person without a name, an unknown service, an ambiguous one: each named by line and column.
        let bad = format!(
            "{good}new@example.org;;;;Chemistry (CHEM 101)\r\nben@example.org;Ben;;;\"Physics; Chemistry\"\r\n"
        );
        let before = booking_tables(&app);
        let (status, report) = upload(&app, &admin, &dry, bad.clone()).await;
        assert_eq!(
            (status, report["valid"].as_bool()),
            (StatusCode::OK, Some(false)),
            "{report}"
        );
        assert_eq!(
            problems(&report),
            [
                (4, "name".to_owned(), String::new()),
                (5, "services".to_owned(), "Physics".to_owned()),
                (5, "services".to_owned(), "Chemistry".to_owned()),
            ],
            "{report}"
        );
        assert!(
            report["errors"][2]["message"]
                .as_str()
                .unwrap()
                .contains("\"Chemistry (CHEM 101)\" or \"Chemistry (CHEM 201)\""),
            "{report}"
        );
        assert_eq!(report["created"], 2, "the good rows are previewed: {report}");
        let (status, problem) = upload(&app, &admin, imports, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(
            fields(&problem),
            ["lines[4].name", "lines[5].services", "lines[5].services"]
        );
        assert_eq!(booking_tables(&app), before, "a refused upload writes nothing");

        let (status, report) = upload(&app, &admin, imports, good).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(
            (
                report["applied"].as_bool(),
                report["created"].as_u64(),
                report["people_created"].as_u64()
            ),
            (Some(true), Some(2), Some(1)),
            "{report}"
        );
        assert_eq!(
            providers_seen(&app, &admin).await,
            [
                (
                    "known@example.org".to_owned(),
                    "Knows things".to_owned(),
                    vec!["Chemistry (CHEM 201)".to_owned()]
                ),
                (
                    "talia.k@example.org".to_owned(),
                    "=1+1".to_owned(),
                    vec![
                        "All available Peer Mentoring ()".to_owned(),
                        "Chemistry (CHEM 101)".to_owned()
                    ]
                ),
            ]
        );
        let (_, person) = app
            .get(&format!("/api/v1/people/{}", known["id"].as_str().unwrap()), &admin)
            .await;
        assert_eq!(person["name"], "Known Person", "a blank name keeps the person's");
        let (_, talia) = app.get("/api/v1/providers?limit=200", &admin).await;
        assert!(talia.to_string().contains("https://example.org/t.jpg"), "{talia}");

        // The same file again, and the export uploaded, change nothing.
        let after = booking_tables(&app);
        let (_, report) = upload(&app, &admin, imports, good).await;
        assert_eq!(
            (
                report["unchanged"].as_u64(),
                report["created"].as_u64(),
                report["updated"].as_u64()
            ),
            (Some(2), Some(0), Some(0)),
            "{report}"
        );
        let (status, content_type, exported) = download(&app, &admin, "/api/v1/exports/providers").await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.starts_with("text/csv"), "{content_type}");
        assert_eq!(
            exported,
            "email,name,bio,photo url,services\n\
             known@example.org,Known Person,Knows things,,Chemistry (CHEM 201)\n\
             talia.k@example.org,Talia K,'=1+1,https://example.org/t.jpg,All available Peer Mentoring; Chemistry (CHEM 101)\n"
        );
        let (_, report) = upload(&app, &admin, imports, exported).await;
        assert_eq!(
            (report["unchanged"].as_u64(), report["valid"].as_bool()),
            (Some(2), Some(true)),
            "{report}"
        );
        assert_eq!(booking_tables(&app), after);

        // A file of emails and services sets only certifications: a blank cell removes them all.
        let (_, report) = upload(&app, &admin, imports, "email,services\ntalia.k@example.org,\n").await;
        assert_eq!(report["updated"], 1, "{report}");
        let seen = providers_seen(&app, &admin).await;
        assert_eq!(
            (seen[1].1.as_str(), seen[1].2.len()),
            ("=1+1", 0),
            "the bio stays, the certifications go: {seen:?}"
        );
        // Each applied file is one audit entry.
        let (_, log) = app.get("/api/v1/audit-log?action=import.applied", &admin).await;
        let providers_entries = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["object_id"] == "providers")
            .count();
        assert_eq!(providers_entries, 4, "{log}");
    }
);

both_backends!(
    async fn the_course_enrollment_csv_adds_enrollments(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        let (status, _, template) = download(&app, &admin, "/api/v1/imports/enrollments/template").await;
        assert_eq!(status, StatusCode::OK);
        assert!(template.starts_with("email,service\n"), "{template}");
        courses(&app, &admin).await;
        for email in ["sam@example.org", "kim@example.org"] {
            let (status, body) = app
                .post("/api/v1/people", &admin, json!({"email": email, "name": "Student"}))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let imports = "/api/v1/imports/enrollments";
        let good = "Student Email,Course\r\n\
            Sam@example.org,Chemistry (CHEM 101)\r\n\
            kim@example.org,All available Peer Mentoring\r\n\
            sam@example.org,chemistry (chem 201)\r\n";
        let bad = format!(
            "{good}nobody@example.org,Chemistry (CHEM 101)\r\nkim@example.org,Chemistry (CHEM 999)\r\nsam@example.org,CHEMISTRY (CHEM 101)\r\n"
        );
        let before = booking_tables(&app);
        let (status, report) = upload(&app, &admin, &format!("{imports}?dry_run=true"), bad.clone()).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(
            problems(&report),
            [
                (5, "email".to_owned(), "nobody@example.org".to_owned()),
                (6, "service".to_owned(), "Chemistry (CHEM 999)".to_owned()),
                (7, "service".to_owned(), "CHEMISTRY (CHEM 101)".to_owned()),
            ],
            "{report}"
        );
        assert!(
            report["errors"][2]["message"].as_str().unwrap().contains("line 2"),
            "{report}"
        );
        let (status, problem) = upload(&app, &admin, imports, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(booking_tables(&app), before, "a refused upload writes nothing");

        let (_, report) = upload(&app, &admin, imports, good).await;
        assert_eq!(
            (report["applied"].as_bool(), report["created"].as_u64()),
            (Some(true), Some(3)),
            "{report}"
        );
        assert_eq!(app.count("enrollments"), before.3 + 3);
        let (_, report) = upload(&app, &admin, imports, good).await;
        assert_eq!(
            (report["unchanged"].as_u64(), report["created"].as_u64()),
            (Some(3), Some(0)),
            "{report}"
        );
        let (_, _, exported) = download(&app, &admin, "/api/v1/exports/enrollments").await;
        assert_eq!(
            exported,
            "email,service\n\
             kim@example.org,All available Peer Mentoring\n\
             sam@example.org,Chemistry (CHEM 101)\n\
             sam@example.org,Chemistry (CHEM 201)\n"
        );
        let (_, report) = upload(&app, &admin, imports, exported).await;
        assert_eq!(report["unchanged"], 3, "{report}");
        // Enrollments are only added: a file without Kim leaves her enrolled.
        let (_, report) = upload(
            &app,
            &admin,
            imports,
            "email,service\nsam@example.org,Chemistry (CHEM 101)\n",
        )
        .await;
        assert_eq!(report["unchanged"], 1, "{report}");
        assert_eq!(app.count("enrollments"), before.3 + 3);
        let (_, log) = app.get("/api/v1/audit-log?action=import.applied", &admin).await;
        assert!(
            log["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["object_id"] == "enrollments"),
            "{log}"
        );
    }
);

both_backends!(
    async fn the_bookings_export_covers_local_dates_in_a_zone(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.admin_token().await;
        courses(&app, &admin).await;
        let (status, body) = app
            .post(
                "/api/v1/people",
                &admin,
                json!({"email": "sam@example.org", "name": "@Sam"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, report) = upload(
            &app,
            &admin,
            "/api/v1/imports/providers",
            "email,name,services\ntalia@example.org,Talia K,Chemistry (CHEM 101)\n",
        )
        .await;
        assert_eq!(report["applied"], true, "{report}");
        let ids = |sql: &str| app.strings(sql).into_iter().map(Option::unwrap).collect::<Vec<_>>();
        let org = ids("SELECT organization_id AS s FROM services LIMIT 1").remove(0);
        let service = ids("SELECT id AS s FROM services WHERE course_number = 'CHEM 101'").remove(0);
        let talia = ids("SELECT id AS s FROM people WHERE email = 'talia@example.org'").remove(0);
        let sam = ids("SELECT id AS s FROM people WHERE email = 'sam@example.org'").remove(0);
        // Three bookings around New York's local 14 March 2027 (the clocks spring forward that day):
        // 04:30Z is 23:30 on the 13th, 05:00Z midnight of the 14th, 03:30Z on the 15th 23:30 of the 14th.
        for (i, starts, status) in [
            (1, "2027-03-14 04:30:00", "confirmed"),
            (2, "2027-03-14 05:00:00", "cancelled"),
            (3, "2027-03-15 03:30:00", "confirmed"),
        ] {
            let id = format!("0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e0{i}");
            app.execute_sql(&format!(
                "INSERT INTO bookings (id, organization_id, service_id, provider_id, student_id, format, location, \
                 answers, starts_at, ends_at, blocked_from, blocked_until, status, sequence, created_by, created_at, \
                 updated_at) VALUES ('{id}', '{org}', '{service}', '{talia}', '{sam}', 'virtual', '=Zoom', '[]', \
                 '{starts}', '{starts}', '{starts}', '{starts}', '{status}', 0, '{sam}', '{starts}', '{starts}')"
            ));
        }
        let export = |query: &str| format!("/api/v1/exports/bookings?{query}");
        let (status, _, text) = download(
            &app,
            &admin,
            &export("from=2027-03-14&to=2027-03-14&time_zone=America/New_York"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "starts_at,ends_at,service,provider_email,provider_name,student_email,student_name,status,format,location,booking_id"
        );
        assert_eq!(
            &lines[1..],
            [
                "2027-03-14T00:00:00-05:00,2027-03-14T00:00:00-05:00,Chemistry (CHEM 101),talia@example.org,Talia K,\
                 sam@example.org,'@Sam,cancelled,virtual,'=Zoom,0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e02",
                "2027-03-14T23:30:00-04:00,2027-03-14T23:30:00-04:00,Chemistry (CHEM 101),talia@example.org,Talia K,\
                 sam@example.org,'@Sam,confirmed,virtual,'=Zoom,0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e03",
            ]
        );
        // The organisation's zone by default: other days.
        let (status, body) = app
            .patch("/api/v1/organization", &admin, json!({"time_zone": "UTC"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, _, text) = download(&app, &admin, &export("from=2027-03-14&to=2027-03-14")).await;
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.contains("2027-03-14T04:30:00+00:00"), "{text}");
        let (_, _, text) = download(&app, &admin, &export("from=2027-03-15&to=2027-03-15")).await;
        assert_eq!(text.lines().count(), 2, "{text}");
        // Bad parameters are problems, never a 500.
        for (query, expected) in [
            ("", StatusCode::BAD_REQUEST),
            ("from=2027-03-14", StatusCode::BAD_REQUEST),
            ("from=14/03/2027&to=2027-03-14", StatusCode::BAD_REQUEST),
            ("from=2027-03-14&to=2027-03-13", StatusCode::UNPROCESSABLE_ENTITY),
            ("from=2027-01-01&to=2028-01-02", StatusCode::UNPROCESSABLE_ENTITY),
            (
                "from=2027-03-14&to=2027-03-14&time_zone=Mars/Olympus",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            ("from=2027-03-14&to=2027-03-14&limit=0", StatusCode::BAD_REQUEST),
            ("from=1066-10-14&to=1066-10-14", StatusCode::UNPROCESSABLE_ENTITY),
        ] {
            let (status, _, body) = download(&app, &admin, &export(query)).await;
            assert_eq!(status, expected, "{query}: {body}");
            assert!(body.contains("\"status\""), "{query}: a problem JSON: {body}");
        }
    }
);

/// A large import refreshes PostgreSQL's statistics of the tables it wrote before it commits, so
/// that lookups right after it are planned for the tables as they are (autovacuum comes a minute
/// or more later; a dry run of the same 100,000-row file took 4.8 s instead of 1 s). A small one
/// leaves them to autovacuum.
#[tokio::test]
async fn a_large_import_refreshes_the_statistics_of_what_it_wrote() {
    let app = TestApp::spawn(cohort_tests::Backend::Postgres).await;
    let admin = app.admin_token().await;
    let program = program(&app, &admin, "Large").await;
    let analysed = |app: &TestApp| {
        app.strings(
            "SELECT relname || ':' || (last_analyze IS NOT NULL) || ':' || n_live_tup AS s FROM pg_stat_user_tables \
             WHERE relname IN ('people', 'participants', 'events') ORDER BY relname",
        )
    };
    let file = |n: usize, from: usize| {
        let mut csv = String::from("email,name,role\n");
        for i in from..from + n {
            csv.push_str(&format!("person{i}@example.org,Person {i},mentee\n"));
        }
        csv
    };
    let path = format!("/api/v1/imports/participants?program_id={program}");

    let (status, report) = upload(&app, &admin, &path, file(10, 0)).await;
    assert_eq!(
        (status, report["created"].as_u64()),
        (StatusCode::OK, Some(10)),
        "{report}"
    );
    let small = analysed(&app);
    assert!(
        small.iter().all(|s| s.as_deref().unwrap().contains(":false:")),
        "{small:?}"
    );

    let (status, report) = upload(&app, &admin, &path, file(1000, 10)).await;
    assert_eq!(
        (status, report["created"].as_u64()),
        (StatusCode::OK, Some(1000)),
        "{report}"
    );
    let large = analysed(&app);
    assert_eq!(large.len(), 3, "{large:?}");
    assert!(
        large.iter().all(|s| s.as_deref().unwrap().contains(":true:")),
        "{large:?}"
    );
}

both_backends!(
    async fn large_exports_are_streamed_a_page_at_a_time_with_every_row_once(backend: Backend) {
        let app = TestApp::spawn_with(
            backend,
            Spawn {
                demo_data: false,
                extra_env: vec![],
            },
        )
        .await;
        let admin = app.admin_token().await;
        let program = program(&app, &admin, "Big").await;
        // 2,500 participants (three pages); only the last has a department, so the column is
        // found beyond the first page.
        let department = |i: usize| if i == 2499 { "Chemistry" } else { "" };
        let mut file = "email,name,role,department\r\n".to_owned();
        for i in 0..2500 {
            file += &format!("p{i:04}@example.org,P {i},mentee,{}\r\n", department(i));
        }
        let (status, report) = upload(
            &app,
            &admin,
            &format!("/api/v1/imports/participants?program_id={program}"),
            file,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let streamed = |path: String| {
            let (app, admin) = (&app, &admin);
            async move {
                let response = app.request(Method::GET, &path).bearer_auth(admin).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{path}");
                assert!(
                    response.headers().get("content-length").is_none(),
                    "{path} is written as it is read, not built whole: {:?}",
                    response.headers()
                );
                response.text().await.unwrap()
            }
        };
        let exported = streamed(format!("/api/v1/exports/participants?program_id={program}")).await;
        let expected: Vec<String> = std::iter::once("email,name,role,department".to_owned())
            .chain((0..2500).map(|i| format!("p{i:04}@example.org,P {i},mentee,{}", department(i))))
            .collect();
        assert_eq!(exported.lines().collect::<Vec<_>>(), expected);

        // Three enrollments a student: pages end in the middle of a student's enrollments.
        courses(&app, &admin).await;
        let services = [
            "All available Peer Mentoring",
            "Chemistry (CHEM 101)",
            "Chemistry (CHEM 201)",
        ];
        let mut file = "email,service\r\n".to_owned();
        let mut expected = vec!["email,service".to_owned()];
        for i in 0..2500 {
            for service in services {
                file += &format!("p{i:04}@example.org,{service}\r\n");
                expected.push(format!("p{i:04}@example.org,{service}"));
            }
        }
        let (status, report) = upload(&app, &admin, "/api/v1/imports/enrollments", file).await;
        assert_eq!(
            (status, report["created"].as_u64()),
            (StatusCode::OK, Some(7500)),
            "{report}"
        );
        let exported = streamed("/api/v1/exports/enrollments".into()).await;
        assert_eq!(exported.lines().collect::<Vec<_>>(), expected);
    }
);
