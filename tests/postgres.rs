//! A PostgreSQL server of the test's own: `initdb` into a temporary folder
//! (trust authentication, superuser `postgres`), `postgres` on a free
//! loopback port with its socket in that folder, stopped when dropped.
//! PostgreSQL refuses to run as root, so under root both run as the
//! `postgres` user (through `setpriv`, which execs rather than forks, so the
//! child is the server itself) and the folder is handed to that user.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to do when the server is not installed.
const INSTALL: &str = "install Debian's postgresql (apt-get install postgresql)";

/// A running server.
pub struct Postgres {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Postgres {
    /// Starts a server, failing loudly when PostgreSQL is not installed.
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        let owner = if is_root() { Some(owner_ids()) } else { None };
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let data = dir.path().join("data");
        let init = as_owner(&bin.join("initdb"), owner).args(["--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D"]).arg(&data).output().unwrap();
        assert!(init.status.success(), "initdb failed: {}", String::from_utf8_lossy(&init.stderr));
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = as_owner(&bin.join("postgres"), owner)
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=40"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start postgres: {e}; {INSTALL}"));
        let mut server = Self { child, port, _dir: dir };
        server.wait_ready();
        server
    }

    /// The superuser's URL of the `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs `sql` through psql as the superuser and returns its output.
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(bin_dir().join("psql")).args([&self.url(), "-XAtqc", sql]).output().unwrap();
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Waits for the server to say it is ready (its log line, which comes
    /// after recovery, unlike an open port).
    fn wait_ready(&mut self) {
        let log = self._dir.path().join("server.log");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("database system is ready to accept connections") {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("postgres exited with {status} before it was ready; its log:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("postgres was not ready on port {} within 30 s; its log:\n{text}", self.port);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT is PostgreSQL's fast shutdown: backends end, the server exits.
        let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The folder of `initdb`, `postgres` and `psql`: where the `initdb` on PATH
/// really is (PATH may hold links to it), or Debian's newest
/// `/usr/lib/postgresql/<version>/bin`.
fn bin_dir() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .filter_map(|d| std::fs::canonicalize(d.join("initdb")).ok())
        .filter_map(|initdb| initdb.parent().map(Path::to_path_buf))
        .find(|d| d.join("postgres").is_file() && d.join("psql").is_file());
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|d| d.join("initdb").is_file())
        .max_by_key(|d| d.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0));
    on_path.or(debian).unwrap_or_else(|| panic!("PostgreSQL's initdb and postgres are not on PATH or in /usr/lib/postgresql/*/bin; {INSTALL}"))
}

fn is_root() -> bool {
    id(&["-u"]) == 0
}

/// The uid and gid of the `postgres` user.
fn owner_ids() -> (u32, u32) {
    (id(&["-u", "postgres"]), id(&["-g", "postgres"]))
}

fn id(args: &[&str]) -> u32 {
    let out = Command::new("id").args(args).output().unwrap();
    assert!(out.status.success(), "id {args:?} failed: {}; running as root needs the postgres user, so {INSTALL}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// `program` as the owner of the data folder.
fn as_owner(program: &Path, owner: Option<(u32, u32)>) -> Command {
    match owner {
        Some((uid, gid)) => {
            let mut c = Command::new("setpriv");
            c.args([format!("--reuid={uid}"), format!("--regid={gid}"), "--clear-groups".into(), "--".into()]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
