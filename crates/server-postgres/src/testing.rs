//! Throwaway PostgreSQL for tests (feature `testing`): a cluster, and fresh databases in it.
//!
//! With `GOCUA_TEST_POSTGRES` set to an admin URL (`postgres://postgres@127.0.0.1:PORT/postgres`)
//! the tests use that cluster. Otherwise the first test that asks starts a private one from the
//! PostgreSQL binaries on this machine (the highest version under `/usr/lib/postgresql/*/bin`):
//! `initdb` into a temp dir, `pg_ctl start` on a free loopback port with its socket in that dir
//! and `fsync=off`, trust authentication. Concurrent tests share it; it is stopped
//! (`pg_ctl stop -m immediate`) and its dir removed when the last handle goes. As root, the
//! binaries run as the `postgres` OS user (`runuser`). The system's own cluster and port 5432
//! are never touched.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};

/// The environment variable naming an existing cluster's admin URL.
pub const ENV: &str = "GOCUA_TEST_POSTGRES";

/// A PostgreSQL cluster tests may create databases in.
#[derive(Debug, Clone)]
pub struct TestCluster {
    inner: Arc<Cluster>,
}

#[derive(Debug)]
struct Cluster {
    admin_url: String,
    private: Option<Private>,
}

#[derive(Debug)]
struct Private {
    dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    options: String,
}

static SHARED: Mutex<Weak<Cluster>> = Mutex::new(Weak::new());

impl TestCluster {
    /// The cluster of `GOCUA_TEST_POSTGRES`, or the private cluster this process shares between
    /// its tests (started now if no test holds it).
    pub fn shared() -> TestCluster {
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(inner) = shared.upgrade() {
            return TestCluster { inner };
        }
        let inner = Arc::new(match std::env::var(ENV) {
            Ok(url) if !url.trim().is_empty() => Cluster { admin_url: url.trim().to_owned(), private: None },
            _ => start_private(),
        });
        *shared = Arc::downgrade(&inner);
        TestCluster { inner }
    }

    /// A cluster of its own, never shared (a test that restarts PostgreSQL or reads its files),
    /// even when `GOCUA_TEST_POSTGRES` is set.
    pub fn private() -> TestCluster {
        TestCluster { inner: Arc::new(start_private()) }
    }

    /// The superuser URL of its `postgres` database.
    pub fn admin_url(&self) -> &str {
        &self.inner.admin_url
    }

    /// The data directory of a private cluster (`None` for `GOCUA_TEST_POSTGRES`'s).
    pub fn data_dir(&self) -> Option<&Path> {
        self.inner.private.as_ref().map(|p| p.data.as_path())
    }

    /// A superuser connection to the `postgres` database.
    pub fn admin_client(&self) -> postgres::Client {
        postgres::Client::connect(self.admin_url(), postgres::NoTls).expect("connect to the test cluster")
    }

    /// A fresh database in this cluster.
    pub fn database(&self) -> TestDatabase {
        let name = format!("gocua_t_{}", uuid::Uuid::new_v4().simple());
        self.admin_client().batch_execute(&format!("CREATE DATABASE {name}")).expect("create a test database");
        let url = with_database(self.admin_url(), &name);
        TestDatabase { cluster: self.clone(), name, url }
    }

    /// `pg_ctl restart -m fast`: every connection is cut, the server comes back on the same port.
    /// Panics for a cluster this process did not start.
    pub fn restart(&self) {
        let private = self.inner.private.as_ref().expect("only a private test cluster can be restarted");
        let data = private.data.to_string_lossy().into_owned();
        let log = private.dir.path().join("log").to_string_lossy().into_owned();
        private.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-w", "-t", "60", "-m", "fast", "-o", &private.options, "restart"],
        );
    }
}

impl Private {
    /// Runs one of the cluster's binaries (as the `postgres` user when we are root); panics with
    /// its output when it fails.
    fn run(&self, program: &str, args: &[&str]) {
        run(&self.bin, self.as_postgres, program, args, Some(self.dir.path()));
    }
}

fn run(bin: &Path, as_postgres: bool, program: &str, args: &[&str], dir: Option<&Path>) {
    let program = bin.join(program);
    let mut command = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&program);
        c
    } else {
        Command::new(&program)
    };
    command.args(args).current_dir(dir.unwrap_or(Path::new("/")));
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    if !output.status.success() {
        let log = dir.and_then(|d| std::fs::read_to_string(d.join("log")).ok()).unwrap_or_default();
        panic!(
            "{} {args:?} failed ({}):\n{}{}\n{log}",
            program.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(private) = &self.private {
            let data = private.data.to_string_lossy().into_owned();
            let program = private.bin.join("pg_ctl");
            let mut command = if private.as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&program);
                c
            } else {
                Command::new(&program)
            };
            // no panic in drop: a cluster that will not stop is left to the OS
            let _ = command.args(["-D", &data, "-w", "-m", "immediate", "stop"]).current_dir("/").output();
        }
    }
}

/// The directory of the newest PostgreSQL's binaries (its server and its client programs).
pub fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return bin;
    }
    let output = Command::new("pg_config").arg("--bindir").output();
    match output {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        _ => panic!(
            "no PostgreSQL binaries (/usr/lib/postgresql/*/bin/initdb): install PostgreSQL \
             (scripts/ensure-tools.sh ensure_postgres) or set {ENV} to an admin URL"
        ),
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// The `postgres` OS user's uid and gid, from /etc/passwd.
fn postgres_ids() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres") && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .expect("running as root, a test cluster needs the `postgres` OS user (PostgreSQL's package makes it)")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// The prefix of a private cluster's temp dir.
const DIR_PREFIX: &str = "gocua-pg-";
/// The file in it naming the test process that owns the cluster.
const OWNER_FILE: &str = "owner.pid";

/// Stops and removes the private clusters of test processes that died without stopping them
/// (killed, or aborted before their handles dropped).
fn reap_orphans(bin: &Path, as_postgres: bool) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let dir = entry.path();
        let is_ours = entry.file_name().to_str().is_some_and(|n| n.starts_with(DIR_PREFIX));
        let Some(owner) = std::fs::read_to_string(dir.join(OWNER_FILE)).ok().filter(|_| is_ours) else {
            continue;
        };
        let alive = Path::new("/proc").join(owner.trim()).exists();
        if alive {
            continue;
        }
        let data = dir.join("data");
        if data.join("postmaster.pid").exists() {
            let data = data.to_string_lossy().into_owned();
            let program = bin.join("pg_ctl");
            let mut command = if as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&program);
                c
            } else {
                Command::new(&program)
            };
            let _ = command.args(["-D", &data, "-w", "-m", "immediate", "stop"]).current_dir("/").output();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn start_private() -> Cluster {
    let bin = bin_dir();
    let as_postgres = is_root();
    reap_orphans(&bin, as_postgres);
    let dir = tempfile::Builder::new().prefix(DIR_PREFIX).tempdir().expect("make a temp dir");
    std::fs::write(dir.path().join(OWNER_FILE), std::process::id().to_string()).expect("write the owner file");
    if as_postgres {
        let (uid, gid) = postgres_ids();
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("give the temp dir to postgres");
    }
    let data = dir.path().join("data");
    let data_text = data.to_string_lossy().into_owned();
    run(
        &bin,
        as_postgres,
        "initdb",
        &["-D", &data_text, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
        Some(dir.path()),
    );
    let log = dir.path().join("log").to_string_lossy().into_owned();
    let socket = dir.path().to_string_lossy().into_owned();
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = free_port();
        let options = format!(
            "-p {port} -k {socket} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400 \
             -c shared_buffers=64MB"
        );
        let program = bin.join("pg_ctl");
        let mut command = if as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(["-D", &data_text, "-l", &log, "-w", "-t", "60", "-o", &options, "start"])
            .current_dir(dir.path())
            .output()
            .expect("run pg_ctl");
        if output.status.success() {
            let private = Private { dir, data, bin, as_postgres, options };
            return Cluster {
                admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                private: Some(private),
            };
        }
        // most likely the port was taken meanwhile: another one
        last_error = format!(
            "{}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    panic!("the test cluster did not start:\n{last_error}");
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        // key=value form
        let kept: Vec<&str> = url.split_whitespace().filter(|kv| !kv.starts_with("dbname=")).collect();
        return format!("{} dbname={name}", kept.join(" "));
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).map_or(url.len(), |i| scheme_end + 3 + i);
    let (head, tail) = url.split_at(authority_end);
    let query = tail.find('?').map(|i| &tail[i..]).unwrap_or("");
    format!("{head}/{name}{query}")
}

/// A database of its own for one test, dropped (`WITH (FORCE)`) with the handle.
#[derive(Debug)]
pub struct TestDatabase {
    cluster: TestCluster,
    name: String,
    url: String,
}

impl TestDatabase {
    /// A fresh database `gocua_t_<random>` in the shared cluster.
    #[allow(clippy::new_without_default)]
    pub fn new() -> TestDatabase {
        TestCluster::shared().database()
    }

    /// Its URL (the cluster's superuser).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cluster it lives in.
    pub fn cluster(&self) -> &TestCluster {
        &self.cluster
    }

    /// A plain connection to it.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to the test database")
    }
}

impl Drop for TestDatabase {
    /// Drops the database, on a thread of its own: the synchronous client may not run on a
    /// thread that drives async tasks, and an async test drops its database on one.
    fn drop(&mut self) {
        let admin_url = self.cluster.admin_url().to_owned();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            if let Ok(mut admin) = postgres::Client::connect(&admin_url, postgres::NoTls) {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(with_database("postgres://postgres@127.0.0.1:5/postgres", "x"), "postgres://postgres@127.0.0.1:5/x");
        assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
        assert_eq!(with_database("postgres://u@h/db?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("host=h user=u dbname=postgres", "x"), "host=h user=u dbname=x");
    }
}
