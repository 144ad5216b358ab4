//! Local stand-ins for what is outside Cohort: an SMTP sink (aiosmtpd) and a webhook receiver
//! that verifies signatures with the Standard Webhooks library.

use super::*;

/// A real SMTP server on loopback (Python's aiosmtpd) that stores what it receives in a maildir.
pub struct SmtpSink {
    pub url: String,
    child: Child,
    dir: PathBuf,
}

pub(crate) fn aiosmtpd_python() -> PathBuf {
    if let Some(python) = std::env::var_os("COHORT_TEST_PYTHON") {
        return python.into();
    }
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/python");
    assert!(
        python.is_file(),
        "the SMTP tests need aiosmtpd: python3 -m venv .tools/venv && .tools/venv/bin/pip install aiosmtpd \
         (cargo xtask test does this)"
    );
    python
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A sink that takes `delay` per message, one message at a time (`tests/slow_mailbox.py`).
    pub async fn slow(delay: Duration) -> Self {
        Self::start_with(Some(delay)).await
    }

    async fn start_with(delay: Option<Duration>) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("cohort-smtp-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut command = Command::new(aiosmtpd_python());
        command.args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c"]);
        match delay {
            None => command.arg("aiosmtpd.handlers.Mailbox").arg(dir.join("maildir")),
            Some(delay) => command
                .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/tests"))
                .arg("slow_mailbox.SlowMailbox")
                .arg(dir.join("maildir"))
                .arg(delay.as_secs_f64().to_string()),
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start aiosmtpd");
        wait_for_port(port, "aiosmtpd").await;
        Self {
            url: format!("smtp://127.0.0.1:{port}"),
            child,
            dir,
        }
    }

    /// Every message received so far, as raw RFC 5322 text.
    pub fn messages(&self) -> Vec<String> {
        let new = self.dir.join("maildir/new");
        let mut files: Vec<_> = std::fs::read_dir(new)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).collect()
    }

    /// A link to `path` in an email to `to`, once one arrived (15 s at most). Messages that
    /// arrive within one second come in no reliable order: tell a newer link by its token.
    pub async fn link_to(&self, to: &str, path: &str) -> Option<String> {
        for _ in 0..150 {
            let found = self
                .messages()
                .iter()
                .filter(|m| m.contains(&format!("To: {to}")))
                .flat_map(|m| links_in(m))
                .find(|l| l.contains(path));
            if found.is_some() {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }

    /// Waits until at least `n` messages arrived (15 s at most) and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..150 {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} emails, the SMTP sink has {}", self.messages().len());
    }
}

/// A raw message with its quoted-printable encoding undone (soft line breaks, `=3D`), as a
/// mail client shows it.
pub fn decoded(message: &str) -> String {
    let unfolded = message.replace("=\r\n", "").replace("=\n", "");
    let mut text = String::with_capacity(unfolded.len());
    let mut rest = unfolded.as_str();
    while let Some(at) = rest.find('=') {
        text.push_str(&rest[..at]);
        let hex = rest.get(at + 1..at + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) if byte.is_ascii() => {
                text.push(byte as char);
                rest = &rest[at + 3..];
            }
            _ => {
                text.push('=');
                rest = &rest[at + 1..];
            }
        }
    }
    text.push_str(rest);
    text
}

/// The token a one-time link carries (its `token=` query parameter).
pub fn link_token(link: &str) -> String {
    let query = link.split_once("token=").expect("a token in the link").1;
    query.split('&').next().unwrap().to_owned()
}

/// The http(s) links of a raw message, in order, without repeats, as a mail client shows them.
pub fn links_in(message: &str) -> Vec<String> {
    let text = decoded(message);
    let mut links = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("http") {
        let candidate = &rest[at..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>'))
            .unwrap_or(candidate.len());
        let link = &candidate[..end];
        if link.starts_with("http://") || link.starts_with("https://") {
            let link = link.replace("&amp;", "&");
            if !links.contains(&link) {
                links.push(link);
            }
        }
        rest = &candidate[end.max(4)..];
    }
    links
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A real HTTP receiver on loopback (tests/webhook_receiver.py) that records every webhook delivery.
pub struct WebhookReceiver {
    pub url: String,
    child: Child,
    dir: PathBuf,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("cohort-hooks-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("webhook_receiver.py");
        let child = Command::new(aiosmtpd_python())
            .arg(script)
            .args(["serve", &port.to_string()])
            .arg(&dir)
            .kill_on_drop(true)
            .spawn()
            .expect("start the webhook receiver");
        wait_for_port(port, "the webhook receiver").await;
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            child,
            dir,
        }
    }

    /// Makes the receiver answer every request with `status`.
    pub fn answer(&self, status: u16) {
        std::fs::write(self.dir.join("status"), status.to_string()).unwrap();
    }

    /// Makes the receiver send a `Location` header with every answer (with `answer(302)`, a redirect).
    pub fn redirect_to(&self, location: &str) {
        std::fs::write(self.dir.join("location"), location).unwrap();
    }

    /// Makes the receiver take `ms` milliseconds before each answer (a slow integration).
    pub fn delay(&self, ms: u64) {
        std::fs::write(self.dir.join("delay_ms"), ms.to_string()).unwrap();
    }

    pub fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until at least `n` requests arrived (20 s at most).
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} webhook requests, got {}", self.requests().len());
    }

    /// Verifies every recorded request with the Standard Webhooks library: one "ok <type>" or "bad …" each.
    pub async fn verify(&self, secret: &str) -> Vec<String> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("webhook_receiver.py");
        let out = Command::new(aiosmtpd_python())
            .arg(script)
            .args(["verify", secret])
            .arg(self.dir.join("requests.jsonl"))
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
