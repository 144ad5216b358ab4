//! The app under test: the real `cohort` binary on a fresh database, and HTTP calls to it whose
//! error answers are checked to be problem JSON.

use super::*;

/// The HTTP client of a test: it lets idle connections go after 2 s, before the server does (after
/// 5 s, actix-web's default keep-alive). A connection reused just as the server closes it failed
/// the request ("error sending request"), in a browser test whose API calls were 5 s apart.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .expect("HTTP client")
}

/// The `cohort` binary next to the test executable (`target/debug/deps/x` → `target/debug/cohort`).
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("COHORT_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("test executable path");
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug")
        .join("cohort");
    assert!(
        bin.is_file(),
        "{} is missing: build it first with `cargo build -p cohort-api --bin cohort` (cargo xtask test does)",
        bin.display()
    );
    bin
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    child: Child,
    env: Vec<(String, String)>,
    dir: PathBuf,
    pg_database: Option<String>,
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

pub struct Spawn {
    pub demo_data: bool,
    pub extra_env: Vec<(String, String)>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(
            backend,
            Spawn {
                demo_data: false,
                extra_env: vec![],
            },
        )
        .await
    }

    pub async fn spawn_with_demo(backend: Backend) -> Self {
        Self::spawn_with(
            backend,
            Spawn {
                demo_data: true,
                extra_env: vec![],
            },
        )
        .await
    }

    pub async fn spawn_with(backend: Backend, options: Spawn) -> Self {
        let dir = std::env::temp_dir().join(format!("cohort-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let (database_url, pg_database) = match backend {
            Backend::Sqlite => (format!("sqlite://{}/cohort.db", dir.display()), None),
            Backend::Postgres => {
                let (name, url) = tokio::task::spawn_blocking(|| crate::pg::create_database("cohort_t"))
                    .await
                    .unwrap();
                (url, Some(name))
            }
        };
        Self::start(backend, dir, database_url, pg_database, options).await
    }

    /// `cohort` on a PostgreSQL database the test manages itself (on its own `PgCluster`, which
    /// it may stop and restart under the server); the database is left in place at the end.
    pub async fn spawn_on_postgres(database_url: String, options: Spawn) -> Self {
        let dir = std::env::temp_dir().join(format!("cohort-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        Self::start(Backend::Postgres, dir, database_url, None, options).await
    }

    async fn start(
        backend: Backend,
        dir: PathBuf,
        database_url: String,
        pg_database: Option<String>,
        options: Spawn,
    ) -> Self {
        let mut env: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), database_url),
            ("COHORT_BIND".into(), "127.0.0.1:0".into()),
            ("COHORT_DATA_DIR".into(), dir.display().to_string()),
            ("COHORT_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
            ("COHORT_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
            ("COHORT_JWT_SECRET".into(), JWT_SECRET.into()),
            ("COHORT_DEMO_DATA".into(), options.demo_data.to_string()),
            ("COHORT_LOG".into(), "warn".into()),
            ("COHORT_DB_POOL_SIZE".into(), "4".into()),
        ];
        if let Ok(dashboard) = std::env::var("COHORT_DASHBOARD_DIR") {
            env.push(("COHORT_DASHBOARD_DIR".into(), dashboard));
        } else {
            env.push((
                "COHORT_DASHBOARD_DIR".into(),
                dir.join("no-dashboard").display().to_string(),
            ));
        }
        env.extend(options.extra_env);
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (child, base) = start_server(&env, &output).await;
        // reqwest is built with rustls and no default crypto provider (see Cargo.toml).
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            base,
            client: client(),
            backend,
            child,
            env,
            dir,
            pg_database,
            output,
        }
    }

    /// Kills the server outright (SIGKILL, no shutdown) and starts it again on the same database.
    pub async fn kill_and_restart(&mut self) {
        self.child.kill().await.expect("kill cohort");
        let (child, base) = start_server(&self.env, &self.output).await;
        self.child = child;
        self.base = base;
    }

    /// A second `cohort` process on the same database (PostgreSQL: several processes share one
    /// database and its job queue). The first process owns the database and drops it.
    pub async fn sibling(&self) -> TestApp {
        assert!(matches!(self.backend, Backend::Postgres), "SQLite serves one process");
        let dir = std::env::temp_dir().join(format!("cohort-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (child, base) = start_server(&self.env, &output).await;
        Self {
            base,
            client: client(),
            backend: self.backend,
            child,
            env: self.env.clone(),
            dir,
            pg_database: None,
            output,
        }
    }

    /// Runs SQL on the server's database behind its back; tests use it to let time pass (moving a
    /// job's due time into the past) without waiting days.
    pub fn execute_sql(&self, sql: &str) {
        let url = &self
            .env
            .iter()
            .find(|(k, _)| k == "DATABASE_URL")
            .expect("DATABASE_URL")
            .1;
        let result = match url.strip_prefix("sqlite://") {
            // The server may hold the write lock for a moment: wait for it as the server does.
            Some(path) => diesel::SqliteConnection::establish(path)
                .expect("SQLite database")
                .batch_execute(&format!("PRAGMA busy_timeout = 5000; {sql}")),
            None => PgConnection::establish(url)
                .expect("PostgreSQL database")
                .batch_execute(sql),
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// How many rows `SELECT COUNT(*) FROM {from}` finds in the server's database (`from` may
    /// carry a WHERE clause); tests use it to check what was, or was not, written.
    pub fn count(&self, from: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let url = &self
            .env
            .iter()
            .find(|(k, _)| k == "DATABASE_URL")
            .expect("DATABASE_URL")
            .1;
        let query = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {from}"));
        let result = match url.strip_prefix("sqlite://") {
            Some(path) => {
                diesel::RunQueryDsl::get_result::<Count>(query, &mut diesel::SqliteConnection::establish(path).unwrap())
            }
            None => diesel::RunQueryDsl::get_result::<Count>(query, &mut PgConnection::establish(url).unwrap()),
        };
        result.unwrap_or_else(|e| panic!("COUNT(*) FROM {from}: {e}")).n
    }

    /// The text values a query returns in its column `s`, from the server's database behind its
    /// back (e.g. the catalog, or every text column of a table).
    pub fn strings(&self, sql: &str) -> Vec<Option<String>> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            s: Option<String>,
        }
        let url = &self
            .env
            .iter()
            .find(|(k, _)| k == "DATABASE_URL")
            .expect("DATABASE_URL")
            .1;
        let query = diesel::sql_query(sql);
        let result = match url.strip_prefix("sqlite://") {
            Some(path) => {
                diesel::RunQueryDsl::load::<Row>(query, &mut diesel::SqliteConnection::establish(path).unwrap())
            }
            None => diesel::RunQueryDsl::load::<Row>(query, &mut PgConnection::establish(url).unwrap()),
        };
        result
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|r| r.s)
            .collect()
    }

    /// Every (table, column) of the server's database holding text or bytes, from the catalog,
    /// with an SQL expression that reads the column as lower-case text.
    pub fn text_columns(&self) -> Vec<(String, String, String)> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT m.name || '.' || p.name || '.' || upper(p.type) AS s FROM sqlite_master m \
                 JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND upper(p.type) IN ('TEXT', 'BLOB')"
            }
            Backend::Postgres => {
                "SELECT table_name::text || '.' || column_name::text || '.' || upper(data_type::text) AS s \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'bytea')"
            }
        };
        self.strings(sql)
            .into_iter()
            .flatten()
            .map(|s| {
                let mut parts = s.splitn(3, '.');
                let (t, c, ty) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
                let read = match (self.backend, ty) {
                    (Backend::Postgres, "BYTEA") => format!("lower(convert_from({c}, 'UTF8'))"),
                    _ => format!("lower(CAST({c} AS TEXT))"),
                };
                (t.to_owned(), c.to_owned(), read)
            })
            .collect()
    }

    /// A request to the server, for tests that set their own headers; `check_response` reads it.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits for the process to end; returns whether it exited successfully.
    pub async fn terminate(&mut self) -> bool {
        let pid = self.child.id().expect("server still running").to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("run kill");
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("the server stops within 15 s of SIGTERM")
            .unwrap();
        status.success()
    }

    /// The server's `COHORT_DATA_DIR`.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// What the server printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The password of the demo's participant logins, printed once at the first start.
    pub fn demo_participant_password(&self) -> String {
        let output = self.output();
        let line = output
            .lines()
            .find(|l| l.starts_with("Participant logins"))
            .unwrap_or_else(|| panic!("no participant logins printed: {output}"));
        line.split("the password ")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .unwrap_or_else(|| panic!("no password in {line}"))
            .to_owned()
    }

    /// Sends a request; the body of the answer as JSON (`Null` when empty).
    /// Error statuses must come as problem JSON with the same status inside.
    pub async fn call(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.client.request(method.clone(), self.url(path));
        request = match auth {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::ApiKey(key) => request.header("X-Api-Key", key),
        };
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        check_response(&method, path, response).await
    }

    /// GETs a public JSON document (health checks, the OpenAPI document), which must be a 200.
    pub async fn get_public(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, Auth::None, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Auth::Bearer(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Auth::Bearer(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Auth::Bearer(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Auth::Bearer(token), None).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Auth::Bearer(token), Some(body)).await
    }

    /// Sends the same POST `n` times at once (races the server); the answers' statuses.
    pub async fn post_concurrently(&self, n: usize, path: &str, token: &str, body: Value) -> Vec<StatusCode> {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            let request = self.client.post(self.url(path)).bearer_auth(token).json(&body);
            set.spawn(async move { request.send().await.map(|r| r.status()) });
        }
        let mut statuses = Vec::with_capacity(n);
        while let Some(done) = set.join_next().await {
            statuses.push(
                done.expect("request task")
                    .unwrap_or_else(|e| panic!("POST {path}: {e}")),
            );
        }
        statuses
    }

    /// Sends one POST per body, all at once; the answers' statuses.
    pub async fn post_each_concurrently(&self, path: &str, token: &str, bodies: Vec<Value>) -> Vec<StatusCode> {
        let mut set = tokio::task::JoinSet::new();
        for body in bodies {
            let request = self.client.post(self.url(path)).bearer_auth(token).json(&body);
            set.spawn(async move { request.send().await.map(|r| r.status()) });
        }
        let mut statuses = Vec::new();
        while let Some(done) = set.join_next().await {
            statuses.push(
                done.expect("request task")
                    .unwrap_or_else(|e| panic!("POST {path}: {e}")),
            );
        }
        statuses
    }

    /// Sends the same POST with the same `Idempotency-Key` `n` times at once; the answers.
    pub async fn post_concurrently_with_key(
        &self,
        n: usize,
        path: &str,
        token: &str,
        body: Value,
        key: &str,
    ) -> Vec<(StatusCode, Value)> {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            let request = self
                .request(Method::POST, path)
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&body);
            let path = path.to_owned();
            set.spawn(async move {
                let response = request.send().await.unwrap_or_else(|e| panic!("POST {path}: {e}"));
                check_response(&Method::POST, &path, response).await
            });
        }
        let mut answers = Vec::with_capacity(n);
        while let Some(done) = set.join_next().await {
            answers.push(done.expect("request task"));
        }
        answers
    }

    pub async fn try_login(&self, email: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            Auth::None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> TokenResponse {
        let (status, body) = self.try_login(email, password).await;
        assert_eq!(status, StatusCode::OK, "login of {email} failed: {body}");
        serde_json::from_value(body).expect("a TokenResponse")
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.access_token
    }

    /// Creates a person who can log in and returns (person id, access token).
    pub async fn person_with_login(&self, admin_token: &str, email: &str, is_admin: bool) -> (String, String) {
        let password = "person-password-0123";
        let (status, person) = self
            .post(
                "/api/v1/people",
                admin_token,
                json!({"email": email, "name": "Pat Person", "password": password, "is_admin": is_admin}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{person}");
        (
            person["id"].as_str().unwrap().to_owned(),
            self.login(email, password).await.access_token,
        )
    }

    /// Runs `cohort create-organization` on the same database; returns the new admin's token.
    pub async fn create_organization(&self, name: &str, admin_email: &str) -> String {
        let password = "other-admin-password-0123";
        let out = Command::new(binary())
            .envs(self.env.iter().cloned())
            .args([
                "create-organization",
                "--name",
                name,
                "--admin-email",
                admin_email,
                "--admin-password",
                password,
            ])
            .output()
            .await
            .expect("run cohort create-organization");
        assert!(
            out.status.success(),
            "create-organization failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let created: Value = serde_json::from_slice(&out.stdout).expect("create-organization prints JSON");
        assert!(created["organization_id"].is_string());
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                Auth::None,
                Some(json!({"email": admin_email, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Follows `next_cursor` from `path` (which must not carry a cursor) and returns every item.
    pub async fn all_pages(&self, path: &str, token: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut next: Option<String> = None;
        loop {
            let url = match &next {
                Some(cursor) => format!("{path}{sep}cursor={cursor}"),
                None => path.to_owned(),
            };
            let (status, page) = self.get(&url, token).await;
            assert_eq!(status, StatusCode::OK, "{url}: {page}");
            items.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => next = Some(cursor.to_owned()),
                None => return items,
            }
        }
    }
}

/// Starts `cohort` with `env`, collecting its output, and returns it with its base URL once it listens.
pub(crate) async fn start_server(
    env: &[(String, String)],
    output: &std::sync::Arc<std::sync::Mutex<String>>,
) -> (Child, String) {
    let mut child = Command::new(binary())
        .envs(env.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start cohort");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let stderr = child.stderr.take().unwrap();
    {
        let output = output.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                output.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
    }
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = stdout.next_line().await {
            output.lock().unwrap().push_str(&format!("{line}\n"));
            if let Some(at) = line.find("listening on http://") {
                return Some(line[at + "listening on ".len()..].trim().to_owned());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_else(|| panic!("cohort did not start:\n{}", output.lock().unwrap()));
    {
        let output = output.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                output.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
    }
    (child, base)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if let Some(name) = self.pg_database.take() {
            crate::pg::drop_database(&name);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    ApiKey(&'a str),
}

/// Reads the body; asserts that errors are problem JSON carrying their own status.
pub async fn check_response(method: &Method, path: &str, response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = response.text().await.unwrap();
    assert!(status.as_u16() < 500, "{method} {path}: server error {status}: {text}");
    if status.is_client_error() {
        assert!(
            content_type.starts_with("application/problem+json"),
            "{method} {path}: {status} came as {content_type:?}: {text}"
        );
        let problem: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"));
        assert_eq!(problem["status"], status.as_u16(), "{method} {path}: {problem}");
        assert!(problem["title"].is_string() && problem["type"].is_string(), "{problem}");
    }
    if text.is_empty() {
        return (status, Value::Null);
    }
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The field paths of a validation problem.
pub fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits (10 s at most) until something listens on `port`.
pub(crate) async fn wait_for_port(port: u16, what: &str) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not start on port {port}");
}

/// A TCP port on 127.0.0.1 that was free a moment ago, for a helper server of a test.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}
