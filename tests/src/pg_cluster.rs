//! A PostgreSQL cluster of a test's own (initdb), to stop and start under a running app.

use super::*;

/// A PostgreSQL cluster of the test's own (`initdb` into a temporary folder, listening on its own
/// port), for tests that stop or restart the database under the server. Stopped and removed when
/// dropped, also when the test fails.
pub struct PgCluster {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    /// `initdb` refuses to run as root: as root, the cluster belongs to the `postgres` user.
    owner: Option<(u32, u32)>,
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), or `COHORT_TEST_PG_BIN`.
pub(crate) fn pg_bin_dir() -> PathBuf {
    if let Some(bin) = std::env::var_os("COHORT_TEST_PG_BIN") {
        return bin.into();
    }
    std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .max()
        .map(|(_, bin)| bin)
        .expect("PostgreSQL's server programs (initdb, pg_ctl) in /usr/lib/postgresql/*/bin, or set COHORT_TEST_PG_BIN")
}

/// The uid and gid of the `postgres` user when this process runs as root.
pub(crate) fn postgres_owner() -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self").map(|m| m.uid()).ok() != Some(0) {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = std::process::Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("run id");
        assert!(
            out.status.success(),
            "as root, the tests need a `postgres` user to run initdb"
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("a numeric id")
    };
    Some((id("-u"), id("-g")))
}

impl PgCluster {
    pub async fn start() -> Self {
        let port = free_port();
        let cluster = Self {
            port,
            dir: std::env::temp_dir().join(format!("cohort-pg-{}", uuid::Uuid::now_v7().simple())),
            bin: pg_bin_dir(),
            owner: postgres_owner(),
        };
        std::fs::create_dir_all(&cluster.dir).unwrap();
        if let Some((uid, gid)) = cluster.owner {
            std::os::unix::fs::chown(&cluster.dir, Some(uid), Some(gid)).unwrap();
        }
        let data = cluster.data().display().to_string();
        cluster
            .run(
                "initdb",
                &[
                    "-D",
                    &data,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            )
            .await;
        cluster.pg_ctl(&["start"]).await;
        cluster
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Shuts down the way an operator's restart does (`-m fast`: sessions are cut, what was
    /// committed is checkpointed).
    pub async fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast"]).await;
    }

    /// Starts again; returns once it accepts connections.
    pub async fn start_again(&self) {
        self.pg_ctl(&["start"]).await;
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> std::process::Command {
        let mut command = std::process::Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.owner {
            use std::os::unix::process::CommandExt;
            command.uid(uid).gid(gid);
        }
        command.stdin(Stdio::null()).current_dir(&self.dir);
        command
    }

    async fn pg_ctl(&self, action: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let data = self.data().display().to_string();
        let log = self.dir.join("postgres.log").display().to_string();
        let mut args = vec!["-D", &data, "-w", "-t", "60", "-l", &log, "-o", &options];
        args.extend(action);
        self.run("pg_ctl", &args).await;
    }

    async fn run(&self, program: &str, args: &[&str]) {
        let out = Command::from(self.command(program))
            .args(args)
            .output()
            .await
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["stop", "-m", "immediate", "-w"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
