//! A config tree materialised in a fresh temp dir, placeholders filled in.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use tempfile::TempDir;

use super::{is_root, Bins, Check};

/// Where the files come from and where the two main configs sit in them.
#[derive(Clone, Debug)]
pub struct TreeConfig {
    /// Directory copied recursively into the temp dir first.
    pub fixture: Option<PathBuf>,
    /// In-memory files `(relative path, contents)` written over the copy.
    pub files: Vec<(PathBuf, String)>,
    /// Relative path of the main nginx config.
    pub nginx_conf: PathBuf,
    /// Relative path of the main php-fpm config.
    pub fpm_conf: PathBuf,
}

impl TreeConfig {
    /// Only in-memory files (add them with [`TreeConfig::file`]).
    pub fn empty() -> Self {
        TreeConfig {
            fixture: None,
            files: Vec::new(),
            nginx_conf: "nginx/nginx.conf".into(),
            fpm_conf: "php-fpm/php-fpm.conf".into(),
        }
    }

    /// `fixtures/e2e/<name>` of this crate.
    pub fn fixture(name: &str) -> Self {
        TreeConfig {
            fixture: Some(fixtures_dir().join(name)),
            ..Self::empty()
        }
    }

    pub fn file(mut self, path: impl Into<PathBuf>, contents: impl Into<String>) -> Self {
        self.files.push((path.into(), contents.into()));
        self
    }
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/e2e")
}

pub struct Tree {
    dir: TempDir,
    ports: BTreeMap<String, u16>,
    vars: BTreeMap<String, String>,
    nginx_conf: PathBuf,
    fpm_conf: PathBuf,
}

impl Tree {
    /// Copy, overlay, create `run/ log/ tmp/` and `php/php.ini`, then replace
    /// every `@NAME@` placeholder in every text file. Panics on an unknown
    /// placeholder so a typo cannot reach nginx as a literal.
    pub fn materialise(config: &TreeConfig) -> Tree {
        let dir = temp_dir();
        let root = dir.path().to_owned();
        if let Some(src) = &config.fixture {
            assert!(src.is_dir(), "fixture {} missing", src.display());
            copy_dir(src, &root);
        }
        for (rel, text) in &config.files {
            let path = root.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, text).unwrap();
        }
        for d in ["run", "log", "tmp", "php"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        let ini = root.join("php/php.ini");
        if !ini.exists() {
            // Isolation from the system php.ini; errors to stderr end up in
            // php-fpm's log, where a failing test shows them.
            fs::write(&ini, "display_errors = stderr\nlog_errors = Off\n").unwrap();
        }

        let files = text_files(&root);
        let mut names = BTreeSet::new();
        for (_, text) in &files {
            placeholders(text, &mut names);
        }
        let mut vars = BTreeMap::new();
        vars.insert("ROOT".to_owned(), root.to_str().unwrap().to_owned());
        let port_names: Vec<&String> = names.iter().filter(|n| n.contains("PORT")).collect();
        let ports: BTreeMap<String, u16> = port_names
            .iter()
            .map(|n| (*n).clone())
            .zip(free_ports(port_names.len()))
            .collect();
        for (n, p) in &ports {
            vars.insert(n.clone(), p.to_string());
        }
        for name in &names {
            let value = match name.as_str() {
                "USER" => id("-un"),
                "GROUP" => id("-gn"),
                _ => continue,
            };
            vars.insert(name.clone(), value);
        }
        let tree = Tree {
            dir,
            ports,
            vars,
            nginx_conf: root.join(&config.nginx_conf),
            fpm_conf: root.join(&config.fpm_conf),
        };
        for (path, text) in files {
            let out = tree.expand(&text);
            if out != text {
                fs::write(&path, out).unwrap();
            }
        }
        tree
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn nginx_conf(&self) -> &Path {
        &self.nginx_conf
    }

    pub fn fpm_conf(&self) -> &Path {
        &self.fpm_conf
    }

    /// The file nginx is told to log to with `-e`.
    pub fn nginx_error_log(&self) -> PathBuf {
        self.root().join("log/nginx-error.log")
    }

    /// The port picked for `@<name>@`; panics if the tree never used it.
    pub fn port(&self, name: &str) -> u16 {
        *self
            .ports
            .get(name)
            .unwrap_or_else(|| panic!("no @{name}@ in the tree (have {:?})", self.ports))
    }

    /// Replace this tree's placeholders in `text` (e.g. a patch written
    /// against the fixture). Panics on a placeholder the tree does not know.
    pub fn expand(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some((start, name, end)) = next_placeholder(rest) {
            let value = self
                .vars
                .get(name)
                .unwrap_or_else(|| panic!("unknown placeholder @{name}@"));
            out.push_str(&rest[..start]);
            out.push_str(value);
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }

    /// nginx with the tree's prefix, config and error log; `-g` adds
    /// `daemon off;` when `foreground`, and a worker `user` when root.
    pub fn nginx_command(&self, bins: &Bins, foreground: bool) -> Command {
        let mut globals = String::new();
        if foreground {
            globals.push_str("daemon off; ");
        }
        // As root, nginx drops workers to `nobody`, who cannot enter the 0700
        // temp dir or the root-owned 0660 php-fpm socket. Keep them as root,
        // unless the config picks its own user (a second `user` is an error).
        if is_root() && !has_user_directive(&self.nginx_conf) {
            globals.push_str("user root;");
        }
        let mut cmd = Command::new(&bins.nginx);
        cmd.arg("-p")
            .arg(self.root())
            .arg("-c")
            .arg(&self.nginx_conf)
            // Otherwise errors before the config is read go to the compiled
            // default (/var/log/nginx/error.log or stderr, per build).
            .arg("-e")
            .arg(self.nginx_error_log());
        if !globals.is_empty() {
            cmd.arg("-g").arg(globals.trim_end());
        }
        cmd.current_dir(self.root());
        cmd
    }

    /// php-fpm with the tree's config, an isolated php.ini and no scan dir
    /// (Debian's conf.d would load opcache & co.); `-R` when root, which
    /// php-fpm otherwise refuses.
    pub fn fpm_command(&self, bins: &Bins) -> Command {
        let mut cmd = Command::new(&bins.php_fpm);
        cmd.arg("--fpm-config")
            .arg(&self.fpm_conf)
            .arg("--prefix")
            .arg(self.root())
            .arg("-c")
            .arg(self.root().join("php/php.ini"))
            .env("PHP_INI_SCAN_DIR", "")
            .current_dir(self.root());
        if is_root() {
            cmd.arg("-R");
        }
        cmd
    }

    /// `nginx -t` on this tree.
    pub fn nginx_t(&self, bins: &Bins) -> Check {
        run_check(self.nginx_command(bins, false).arg("-t"))
    }

    /// `php-fpm -t` on this tree.
    pub fn fpm_t(&self, bins: &Bins) -> Check {
        run_check(self.fpm_command(bins).arg("-t"))
    }
}

fn run_check(cmd: &mut Command) -> Check {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    Check {
        ok: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// A temp dir with a short path: unix socket paths are capped at 107 bytes.
fn temp_dir() -> TempDir {
    let base = std::env::temp_dir();
    let base = if base.as_os_str().len() > 40 {
        PathBuf::from("/tmp")
    } else {
        base
    };
    tempfile::Builder::new()
        .prefix("nfl-e2e-")
        .tempdir_in(base)
        .expect("create temp dir")
}

fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// Every UTF-8 file under `root`, with its contents.
fn text_files(root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = fs::read_to_string(&path) {
                out.push((path, text));
            }
        }
    }
    out
}

/// `@NAME@` with NAME of `[A-Z][A-Z0-9_]*`: (start, NAME, end). nginx named
/// locations (`@fallback`) never close with a second `@`, so they are skipped.
fn next_placeholder(text: &str) -> Option<(usize, &str, usize)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(off) = text[i..].find('@') {
        let start = i + off;
        let mut j = start + 1;
        while j < bytes.len()
            && (bytes[j].is_ascii_uppercase()
                || (j > start + 1 && (bytes[j].is_ascii_digit() || bytes[j] == b'_')))
        {
            j += 1;
        }
        if j > start + 1 && j < bytes.len() && bytes[j] == b'@' {
            return Some((start, &text[start + 1..j], j + 1));
        }
        i = start + 1;
    }
    None
}

fn placeholders(text: &str, names: &mut BTreeSet<String>) {
    let mut rest = text;
    while let Some((_, name, end)) = next_placeholder(rest) {
        let known = name == "ROOT" || name == "USER" || name == "GROUP" || name.contains("PORT");
        assert!(known, "unknown placeholder @{name}@");
        names.insert(name.to_owned());
        rest = &rest[end..];
    }
}

/// Every port this test process has handed out, so parallel tests in one
/// binary never get the same one (the kernel may reuse a released port).
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// `n` distinct free ports on 127.0.0.1. All listeners are held until every
/// port is picked, so they differ; the small race with other processes
/// between here and nginx's bind is accepted.
fn free_ports(n: usize) -> Vec<u16> {
    let mut handed = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let mut held = Vec::new();
    let mut ports = Vec::new();
    // Bounded: a handful of retries covers the rare reused port.
    for _ in 0..n * 20 {
        if ports.len() == n {
            break;
        }
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = l.local_addr().unwrap().port();
        if handed.insert(port) {
            ports.push(port);
        }
        held.push(l);
    }
    assert_eq!(ports.len(), n, "could not find {n} unused ports");
    ports
}

fn id(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().expect("run id");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A top-level-looking `user ...;` line in the main nginx config.
fn has_user_directive(conf: &Path) -> bool {
    fs::read_to_string(conf)
        .unwrap_or_default()
        .lines()
        .any(|l| {
            let l = l.trim_start();
            l.starts_with("user ") || l.starts_with("user\t")
        })
}
