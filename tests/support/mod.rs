//! End-to-end harness: runs the real nginx and php-fpm on a config tree
//! materialised in a fresh temp dir, talks HTTP to it over 127.0.0.1, and
//! stops every process it started (by PID) when dropped, even on panic.
//!
//! ```ignore
//! let Some(bins) = support::require_stack() else { return };
//! let stack = Stack::start(StackConfig::fixture(&bins, "socket-mismatch"));
//! let (status, _body) = stack.get("/index.php");
//! assert_eq!(status, 502);
//! ```

// Each test binary compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

mod http;
mod proc;
mod tree;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use http::Response;
pub use tree::{Tree, TreeConfig};

use proc::Proc;

/// How long a freshly started process may take to accept connections.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one HTTP request may take, per connect, read and write.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// Paths of the real binaries the stack runs.
#[derive(Clone, Debug)]
pub struct Bins {
    pub nginx: PathBuf,
    pub php_fpm: PathBuf,
}

/// The real nginx and php-fpm, or `None` (after printing `SKIPPED: why`)
/// when one is missing. Under `CI=true` a missing binary panics instead, so
/// CI never passes by silently skipping.
pub fn require_stack() -> Option<Bins> {
    match find_bins() {
        Ok(bins) => Some(bins),
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("real stack unavailable under CI=true: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            None
        }
    }
}

fn find_bins() -> Result<Bins, String> {
    let pick = |var: &str, names: &[&str]| -> Result<PathBuf, String> {
        if let Some(p) = std::env::var_os(var) {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(format!("{var}={} is not a file", p.display()))
            };
        }
        // Debian puts both in /usr/sbin, which is not on a normal user's PATH.
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        dirs.extend(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from));
        for name in names {
            for dir in &dirs {
                let cand = dir.join(name);
                if cand.is_file() {
                    return Ok(cand);
                }
            }
        }
        Err(format!(
            "{} not found on PATH or in /usr/sbin (install it, or set {var})",
            names.join(" or ")
        ))
    };
    Ok(Bins {
        nginx: pick("NFL_NGINX", &["nginx"])?,
        php_fpm: pick("NFL_PHP_FPM", &["php-fpm8.2", "php-fpm"])?,
    })
}

/// Whether the test runs as root, which `why` needs; if not, `SKIPPED: why` and false, or a
/// panic under `CI=true` (`.ci/run` runs as root: CI never passes by skipping).
pub fn require_root(why: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("not root under CI=true: {why}");
    }
    eprintln!("SKIPPED: not root: {why}");
    false
}

/// Whether we run as root: nginx then needs a `user` for its workers and
/// php-fpm refuses to start without `-R`.
pub fn is_root() -> bool {
    // Second field of `Uid:` is the effective uid; no libc dependency needed.
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|l| l.starts_with("Uid:")) {
            return line.split_whitespace().nth(2) == Some("0");
        }
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Outcome of `nginx -t` or `php-fpm -t`.
#[derive(Debug)]
pub struct Check {
    pub ok: bool,
    /// stdout and stderr together: both tools report on stderr.
    pub output: String,
}

/// What to start: a config tree plus where in it the two main configs are.
#[derive(Clone, Debug)]
pub struct StackConfig {
    pub bins: Bins,
    pub tree: TreeConfig,
    /// Placeholder whose port nginx serves HTTP on (readiness and `get`).
    pub http_port: String,
}

impl StackConfig {
    /// A tree copied from `fixtures/e2e/<name>` with the default layout.
    pub fn fixture(bins: &Bins, name: &str) -> Self {
        Self::new(bins, TreeConfig::fixture(name))
    }

    pub fn new(bins: &Bins, tree: TreeConfig) -> Self {
        StackConfig {
            bins: bins.clone(),
            tree,
            http_port: "HTTP_PORT".into(),
        }
    }
}

/// A running nginx + php-fpm pair on a materialised tree. Dropping it stops
/// both (SIGTERM, bounded wait, then SIGKILL of the process group) before
/// the temp dir is removed.
pub struct Stack {
    // Field order matters for drop: processes go before the tree's temp dir.
    nginx: Option<Proc>,
    fpm: Option<Proc>,
    bins: Bins,
    http_port: u16,
    tree: Tree,
}

impl Stack {
    /// Materialise the tree and start php-fpm then nginx; panics with their
    /// logs if either fails to come up within [`READY_TIMEOUT`].
    pub fn start(config: StackConfig) -> Stack {
        Self::try_start(config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Stack::start`], but a stack that does not come up is an `Err`
    /// carrying the logs (for tests that expect nginx or php-fpm to refuse).
    pub fn try_start(config: StackConfig) -> Result<Stack, String> {
        let tree = Tree::materialise(&config.tree);
        Self::try_start_on(config.bins, tree, &config.http_port)
    }

    /// nginx alone on a materialised tree (for a php-fpm that refuses the config: nginx then
    /// answers 502). Stopped by PID, its workers by process group, like a full stack.
    pub fn try_start_nginx_only(bins: Bins, tree: Tree, http_port: &str) -> Result<Stack, String> {
        let http_port = tree.port(http_port);
        let mut stack = Stack {
            nginx: None,
            fpm: None,
            bins,
            http_port,
            tree,
        };
        stack.start_nginx()?;
        Ok(stack)
    }

    /// Stop everything and hand the tree back (to edit it and start again).
    pub fn into_tree(self) -> Tree {
        let Stack {
            nginx, fpm, tree, ..
        } = self;
        drop(nginx);
        drop(fpm);
        tree
    }

    /// Start on an already materialised (and possibly edited) tree.
    pub fn try_start_on(bins: Bins, tree: Tree, http_port: &str) -> Result<Stack, String> {
        let http_port = tree.port(http_port);
        let mut stack = Stack {
            nginx: None,
            fpm: None,
            bins,
            http_port,
            tree,
        };
        stack.start_fpm()?;
        stack.start_nginx()?;
        Ok(stack)
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The temp dir everything lives in (`@ROOT@`).
    pub fn root(&self) -> &Path {
        self.tree.root()
    }

    /// The port picked for placeholder `@<name>@`.
    pub fn port(&self, name: &str) -> u16 {
        self.tree.port(name)
    }

    /// PIDs of the running masters (php-fpm, then nginx); each is also the
    /// process group id of its workers.
    pub fn pids(&self) -> Vec<u32> {
        self.fpm.iter().chain(&self.nginx).map(Proc::pid).collect()
    }

    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// GET `path` from nginx: (status code, body). Panics on I/O failure.
    pub fn get(&self, path: &str) -> (u16, String) {
        let r = self.request(path);
        (r.status, r.body)
    }

    /// GET `path` from nginx with headers; panics (with logs) on I/O failure.
    pub fn request(&self, path: &str) -> Response {
        http::get(self.http_port, path).unwrap_or_else(|e| {
            panic!(
                "GET {path} on 127.0.0.1:{}: {e}\n{}",
                self.http_port,
                self.logs()
            )
        })
    }

    /// GET `path` from nginx on another of the tree's ports (`@NAME@`): (status, body).
    pub fn get_on(&self, port_name: &str, path: &str) -> (u16, String) {
        let port = self.port(port_name);
        let r = http::get(port, path)
            .unwrap_or_else(|e| panic!("GET {path} on 127.0.0.1:{port}: {e}\n{}", self.logs()));
        (r.status, r.body)
    }

    /// nginx's error log so far (the file given with `-e`).
    pub fn nginx_error_log(&self) -> String {
        read_lossy(&self.tree.nginx_error_log())
    }

    /// Wait (bounded) until nginx's error log contains `needle`; returns the
    /// log either way so a failing assertion can show it.
    pub fn wait_nginx_log(&self, needle: &str, timeout: Duration) -> (bool, String) {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.nginx_error_log();
            if log.contains(needle) {
                return (true, log);
            }
            if Instant::now() >= deadline {
                return (false, log);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// php-fpm's own output (captured stderr, forced with `-O`).
    pub fn fpm_log(&self) -> String {
        read_lossy(&self.tree.root().join("log/php-fpm.stderr"))
    }

    /// Both logs, for panic messages.
    pub fn logs(&self) -> String {
        format!(
            "--- nginx error log ---\n{}--- nginx stderr ---\n{}--- php-fpm ---\n{}",
            self.nginx_error_log(),
            read_lossy(&self.tree.root().join("log/nginx.stderr")),
            self.fpm_log()
        )
    }

    /// Stop and start nginx so it re-reads its (possibly patched) config.
    /// A full restart rather than SIGHUP: no window where old workers answer.
    /// Panics (with logs) if it does not come back.
    pub fn restart_nginx(&mut self) {
        drop(self.nginx.take());
        self.start_nginx().unwrap_or_else(|e| panic!("{e}"));
    }

    pub fn restart_fpm(&mut self) {
        drop(self.fpm.take());
        self.start_fpm().unwrap_or_else(|e| panic!("{e}"));
    }

    /// Restart php-fpm; an `Err` (with the logs) when it does not come back, as when its
    /// configuration is refused.
    pub fn try_restart_fpm(&mut self) -> Result<(), String> {
        drop(self.fpm.take());
        self.start_fpm()
    }

    /// Stop both now (Drop does the same).
    pub fn stop(&mut self) {
        drop(self.nginx.take());
        drop(self.fpm.take());
    }

    /// `nginx -t` on this stack's tree.
    pub fn nginx_t(&self) -> Check {
        self.tree.nginx_t(&self.bins)
    }

    /// `php-fpm -t` on this stack's tree.
    pub fn fpm_t(&self) -> Check {
        self.tree.fpm_t(&self.bins)
    }

    fn start_fpm(&mut self) -> Result<(), String> {
        let log = self.tree.root().join("log/php-fpm.stderr");
        let mut cmd = self.tree.fpm_command(&self.bins);
        // -F: stay in the foreground so the child we hold is the master;
        // -O: copy the log to stderr, where we wait for "ready".
        cmd.args(["-F", "-O"]);
        // The log is appended to across restarts: only what this start writes counts.
        let seen = read_lossy(&log).len();
        let mut p = Proc::spawn("php-fpm", cmd, &log)?;
        let ready = wait_until(READY_TIMEOUT, || {
            if p.exited() {
                return Some(false);
            }
            read_lossy(&log)
                .get(seen..)
                .is_some_and(|new| new.contains("ready to handle connections"))
                .then_some(true)
        });
        if ready != Some(true) {
            drop(p);
            return Err(format!(
                "php-fpm did not become ready within {READY_TIMEOUT:?}\n{}",
                self.logs()
            ));
        }
        self.fpm = Some(p);
        Ok(())
    }

    fn start_nginx(&mut self) -> Result<(), String> {
        let log = self.tree.root().join("log/nginx.stderr");
        let cmd = self.tree.nginx_command(&self.bins, true);
        let mut p = Proc::spawn("nginx", cmd, &log)?;
        let port = self.http_port;
        let ready = wait_until(READY_TIMEOUT, || {
            if p.exited() {
                return Some(false);
            }
            http::port_open(port).then_some(true)
        });
        if ready != Some(true) {
            drop(p);
            return Err(format!(
                "nginx did not listen on 127.0.0.1:{port} within {READY_TIMEOUT:?}\n{}",
                self.logs()
            ));
        }
        self.nginx = Some(p);
        Ok(())
    }
}

/// GET `path` from 127.0.0.1:`port`, waiting up to `read_timeout` for the answer (a request
/// queued in php-fpm); connect and write stay under [`IO_TIMEOUT`].
pub fn get_within(port: u16, path: &str, read_timeout: Duration) -> std::io::Result<Response> {
    http::get_within(port, path, read_timeout)
}

/// Poll `f` every 20 ms until it returns `Some`, or `None` at the deadline.
pub fn wait_until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// `git apply` a patch inside `dir`, never letting git find a repository
/// above it (the temp dir is not one; a TMPDIR inside a checkout would be).
/// The patch goes in on stdin so no stray file lands in the linted tree.
pub fn git_apply(dir: &Path, patch: &str) -> Check {
    let parent = dir.parent().unwrap_or(dir);
    let mut child = Command::new("git")
        .args(["apply", "--verbose", "-"])
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", parent)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run git apply");
    // A patch is small; writing it all before reading cannot deadlock.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(patch.as_bytes())
        .expect("write patch to git apply");
    let out = child.wait_with_output().expect("wait for git apply");
    Check {
        ok: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Run the built `nginx-fpm-lint` with `args` in `dir`, bounded to 30 s.
pub fn run_cli(dir: &Path, args: &[&str]) -> std::process::Output {
    use assert_cmd::cargo::CommandCargoExt;
    let mut cmd = Command::cargo_bin("nginx-fpm-lint").unwrap();
    cmd.current_dir(dir).args(args);
    assert_cmd::Command::from_std(cmd)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap()
}

/// A finished run's exit code, stdout and stderr, for assertion messages.
pub fn show(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
