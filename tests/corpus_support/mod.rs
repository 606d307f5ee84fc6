//! The shared corpus of real-world configs, for the tests that read it, and the real tools'
//! verdict on one corpus file in the context it belongs to.
//!
//! A corpus file is rarely a whole deployment: a site is included by an `http` block it does
//! not carry, it names certificates, stock files (`fastcgi_params`) or variables its
//! deployment provides, a pool fragment needs the pool it completes. `nginx-t.tsv` says which
//! context each nginx file belongs to and which environmental fix-ups made it pass. [`Judge`]
//! rebuilds that: it wraps the file in its context and, driven by the real tool's own error
//! messages, applies fix-ups that stand in for the missing environment (a stock file, a dummy
//! certificate, a variable defined as empty, an unknown host replaced by 127.0.0.1, a base
//! pool), never anything that hides an error in the file itself. The fix-ups found for the
//! original text are applied the same way to another text of the same file (the fixed one),
//! so both are judged in one environment.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// In CI a missing dependency is a failure; elsewhere the test says why it skipped and passes.
pub fn skip_or_fail(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why} (required in CI)");
    }
    eprintln!("SKIPPED: {why}");
}

/// `../shared/corpus` (or `$NGINX_FPM_LINT_CORPUS`), or None after saying why.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("NGINX_FPM_LINT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.join("nginx-t.tsv").is_file() {
        return Some(dir);
    }
    skip_or_fail(&format!(
        "corpus not found at {} (set NGINX_FPM_LINT_CORPUS)",
        dir.display()
    ));
    None
}

/// The real binaries: `$NFL_NGINX` / `$NFL_PHP_FPM`, else the Debian paths (as tests/support
/// finds them), and `openssl` for dummy certificates.
#[derive(Clone, Debug)]
pub struct Tools {
    pub nginx: PathBuf,
    pub php_fpm: PathBuf,
    pub openssl: PathBuf,
}

/// [`Tools`], or None after `SKIPPED` (a failure under CI).
pub fn tools() -> Option<Tools> {
    let pick = |var: &str, names: &[&str]| -> Result<PathBuf, String> {
        if let Some(p) = std::env::var_os(var) {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(format!("{var}={} is not a file", p.display()))
            };
        }
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        dirs.extend(["/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"].map(PathBuf::from));
        names
            .iter()
            .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                format!(
                    "{} not found (install it, or set {var})",
                    names.join(" or ")
                )
            })
    };
    let found = (|| {
        Ok::<_, String>(Tools {
            nginx: pick("NFL_NGINX", &["nginx"])?,
            php_fpm: pick("NFL_PHP_FPM", &["php-fpm8.2", "php-fpm"])?,
            openssl: pick("NFL_OPENSSL", &["openssl"])?,
        })
    })();
    match found {
        Ok(t) => Some(t),
        Err(why) => {
            skip_or_fail(&why);
            None
        }
    }
}

/// One row of `nginx-t.tsv` (the reference run of plain nginx-light over the corpus).
#[derive(Clone, Debug)]
pub struct NginxRow {
    /// main, main-snippet, http, server, location or upstream.
    pub context: String,
    pub accepted_asis: bool,
    /// Accepted once the reference run's environmental fix-ups were applied.
    pub accepted_after_fixups: bool,
    pub fixups: String,
}

/// One row of `php-fpm-t.tsv`.
#[derive(Clone, Debug)]
pub struct FpmRow {
    pub accepted_asis: bool,
    pub accepted_after_fixups: bool,
    pub fixups: String,
}

fn tsv(path: &Path) -> Vec<(String, Vec<String>)> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            let get = |name: &str| {
                header
                    .iter()
                    .position(|h| *h == name)
                    .and_then(|i| cells.get(i))
                    .unwrap_or(&"")
                    .to_string()
            };
            let row = [
                "context",
                "accepted_asis",
                "accepted_after_env_fixups",
                "fixups_applied",
            ]
            .map(get)
            .to_vec();
            (cells[0].to_owned(), row)
        })
        .collect()
}

/// `nginx-t.tsv`: corpus path (`nginx/...`) -> row.
pub fn nginx_rows(corpus: &Path) -> BTreeMap<String, NginxRow> {
    tsv(&corpus.join("nginx-t.tsv"))
        .into_iter()
        .map(|(p, c)| {
            (
                p,
                NginxRow {
                    context: c[0].clone(),
                    accepted_asis: c[1] == "yes",
                    accepted_after_fixups: c[2] == "yes",
                    fixups: c[3].clone(),
                },
            )
        })
        .collect()
}

/// `php-fpm-t.tsv`: corpus path (`php-fpm/...`) -> row.
pub fn fpm_rows(corpus: &Path) -> BTreeMap<String, FpmRow> {
    tsv(&corpus.join("php-fpm-t.tsv"))
        .into_iter()
        .map(|(p, c)| {
            (
                p,
                FpmRow {
                    accepted_asis: c[1] == "yes",
                    accepted_after_fixups: c[2] == "yes",
                    fixups: c[3].clone(),
                },
            )
        })
        .collect()
}

/// What a real tool said.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub ok: bool,
    pub output: String,
}

/// The environment a file is judged in: found for its original text, reused for others.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// For nginx: the context the file is wrapped in.
    pub context: String,
    /// Text replacements applied to the file (a certificate, an unknown host, a user).
    pub replace: Vec<(String, String)>,
    /// Lines added to the wrapper's http level (maps for variables, upstreams, a certificate).
    pub http_lines: Vec<String>,
    /// Text put before the file (php-fpm: the base pool a fragment completes).
    pub prepend: String,
    /// What was done, for messages: the fix-ups by name.
    pub fixups: Vec<String>,
}

impl Env {
    pub fn apply(&self, text: &[u8]) -> Vec<u8> {
        let mut t = String::from_utf8_lossy(text).into_owned();
        for (from, to) in &self.replace {
            t = t.replace(from.as_str(), to);
        }
        let mut out = self.prepend.clone().into_bytes();
        out.extend_from_slice(t.as_bytes());
        out
    }
}

/// Judges corpus files with the real tools, in a scratch directory of its own.
pub struct Judge {
    tools: Tools,
    scratch: tempfile::TempDir,
    /// The nginx package's configuration directory (`--conf-path`'s): stock files.
    stock: PathBuf,
    cert: (PathBuf, PathBuf),
    /// `-g` text given to every `nginx -t` (e.g. `load_module` lines); empty by default.
    nginx_globals: String,
    /// Bound on one `nginx -t` run.
    timeout: Duration,
}

/// What an `nginx -t` run says when it did not finish in time.
pub const TIMED_OUT: &str = "nfl-judge: timed out";

/// Bound on fix-up rounds for one file: each round fixes one error nginx or php-fpm names.
const MAX_ROUNDS: usize = 24;

impl Judge {
    pub fn new(tools: Tools) -> Judge {
        let scratch = tempfile::tempdir().unwrap();
        let cert = (
            scratch.path().join("dummy.crt"),
            scratch.path().join("dummy.key"),
        );
        let made = Command::new(&tools.openssl)
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=corpus.test", "-keyout"])
            .arg(&cert.1)
            .arg("-out")
            .arg(&cert.0)
            .output()
            .expect("run openssl");
        assert!(made.status.success(), "openssl: {made:?}");
        let version = Command::new(&tools.nginx).arg("-V").output().unwrap();
        let v = String::from_utf8_lossy(&version.stderr).into_owned();
        let stock = v
            .split_whitespace()
            .find_map(|w| w.strip_prefix("--conf-path="))
            .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("/etc/nginx"));
        Judge {
            tools,
            scratch,
            stock,
            cert,
            nginx_globals: String::new(),
            timeout: Duration::from_secs(10),
        }
    }

    /// Every `nginx -t` also loads the dynamic modules this machine enables, in the order of
    /// `<conf dir>/modules-enabled/*.conf` (what Debian's nginx.conf includes), by absolute
    /// path so no private prefix changes where they are found. None when there are none.
    pub fn with_enabled_modules(mut self) -> Option<Judge> {
        let version = Command::new(&self.tools.nginx).arg("-V").output().ok()?;
        let v = String::from_utf8_lossy(&version.stderr).into_owned();
        let prefix = v
            .split_whitespace()
            .find_map(|w| w.strip_prefix("--prefix="))
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/share/nginx"));
        let mut confs: Vec<PathBuf> = fs::read_dir(self.stock.join("modules-enabled"))
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "conf"))
            .collect();
        confs.sort();
        let mut globals = String::new();
        for conf in confs {
            let text = fs::read_to_string(&conf).unwrap_or_default();
            for line in text.lines() {
                let Some(module) = line.trim().strip_prefix("load_module") else {
                    continue;
                };
                let module = module.trim().trim_end_matches(';').trim();
                let path = prefix.join(module);
                globals.push_str(&format!("load_module {}; ", path.display()));
            }
        }
        if globals.is_empty() {
            return None;
        }
        self.nginx_globals = globals;
        Some(self)
    }

    /// The `load_module` lines every run adds (empty unless [`Judge::with_enabled_modules`]).
    pub fn nginx_globals(&self) -> &str {
        &self.nginx_globals
    }

    fn scratch_file(&self, name: &str, text: &[u8]) -> PathBuf {
        let n = fs::read_dir(self.scratch.path()).unwrap().count();
        let p = self.scratch.path().join(format!("{n}-{name}"));
        fs::write(&p, text).unwrap();
        p
    }

    // ---- nginx ------------------------------------------------------------------------------

    /// The environment in which nginx accepts `file` (inside `root`, a scratch copy of the
    /// corpus) as it is now, starting from the context `nginx-t.tsv` gives; `Err` with the
    /// last verdict when no fix-up gets it accepted (an error in the file itself).
    pub fn nginx_env(&self, root: &Path, file: &Path, context: &str) -> Result<Env, Verdict> {
        let original = fs::read(file).unwrap();
        let mut last = None;
        // The tsv's context first; a file refused there with "not allowed here" may belong
        // one level in or out (the reference run switched context too).
        let mut contexts = vec![context.to_owned()];
        for c in ["http", "server", "location", "main-snippet", "main"] {
            if !contexts.iter().any(|x| x == c) {
                contexts.push(c.to_owned());
            }
        }
        for ctx in contexts {
            let mut env = Env {
                context: ctx.clone(),
                ..Env::default()
            };
            for _ in 0..MAX_ROUNDS {
                let v = self.nginx_t(root, file, &env, &original);
                if v.ok {
                    return Ok(env);
                }
                let stuck = !self.nginx_fixup(root, file, &mut env, &v.output);
                last = Some(v);
                if stuck {
                    break;
                }
            }
            let out = &last.as_ref().unwrap().output;
            if !out.contains("is not allowed here") && !out.contains("unexpected") {
                break; // not a context problem: another context will not help
            }
        }
        Err(last.unwrap())
    }

    /// `nginx -t` on `file` holding `text`, wrapped per `env`.
    pub fn nginx_t(&self, root: &Path, file: &Path, env: &Env, text: &[u8]) -> Verdict {
        self.nginx_t_inspect(root, file, env, text, &mut |_| {})
    }

    /// [`Judge::nginx_t`], then `inspect` with the configuration nginx was given while the
    /// file and its wrapper are still in place (to lint exactly what nginx judged).
    pub fn nginx_t_inspect(
        &self,
        root: &Path,
        file: &Path,
        env: &Env,
        text: &[u8],
        inspect: &mut dyn FnMut(&Path),
    ) -> Verdict {
        self.nginx_wrapped(root, file, env, text, true, inspect)
            .expect("nginx ran")
    }

    /// `inspect` with the configuration [`Judge::nginx_t`] would give nginx, without running
    /// it (a text already judged).
    pub fn nginx_in_place(
        &self,
        root: &Path,
        file: &Path,
        env: &Env,
        text: &[u8],
        inspect: &mut dyn FnMut(&Path),
    ) {
        self.nginx_wrapped(root, file, env, text, false, inspect);
    }

    fn nginx_wrapped(
        &self,
        root: &Path,
        file: &Path,
        env: &Env,
        text: &[u8],
        run_nginx: bool,
        inspect: &mut dyn FnMut(&Path),
    ) -> Option<Verdict> {
        let saved = fs::read(file).unwrap();
        fs::write(file, env.apply(text)).unwrap();
        let abs = file.display();
        let http = env.http_lines.join("\n");
        let wrapper = match env.context.as_str() {
            "main" => None,
            "main-snippet" => Some(format!("include {abs};\nevents {{}}\n")),
            ctx => {
                let body = match ctx {
                    "server" => format!("server {{ include {abs}; }}"),
                    "location" => format!("server {{ location / {{ include {abs}; }} }}"),
                    "upstream" => format!("upstream u {{ include {abs}; }}"),
                    _ => format!("include {abs};"),
                };
                Some(format!("events {{}}\nhttp {{\n{http}\n{body}\n}}\n"))
            }
        };
        // Relative includes resolve against the configuration's directory: the wrapper sits
        // in the file's own directory, as nginx.conf would beside it.
        let dir = file.parent().unwrap();
        let (conf, wrapper_path) = match wrapper {
            Some(w) => {
                // Not `*.conf`: a glob include in the file must not find it.
                let p = dir.join("__nfl_wrap.nginx");
                fs::write(&p, w).unwrap();
                (p.clone(), Some(p))
            }
            None => (file.to_path_buf(), None),
        };
        let pid = self.scratch.path().join("nginx.pid");
        let run = |with_pid: bool, with_globals: bool| {
            let mut c = Command::new(&self.tools.nginx);
            c.arg("-t")
                .arg("-p")
                .arg(format!("{}/", dir.display()))
                .arg("-c")
                .arg(&conf)
                .arg("-e")
                .arg(self.scratch.path().join("error.log"));
            let mut globals = String::new();
            if with_pid {
                globals.push_str(&format!("pid {};", pid.display()));
            }
            if with_globals {
                globals.push_str(&self.nginx_globals);
            }
            if !globals.is_empty() {
                c.arg("-g").arg(globals);
            }
            c.current_dir(root);
            self.bounded(c)
        };
        let verdict = run_nginx.then(|| {
            let mut globals = !self.nginx_globals.is_empty();
            let mut out = run(true, globals);
            // A main file that loads the modules itself.
            if !out.ok && globals && out.output.contains("\" is already loaded") {
                globals = false;
                out = run(true, false);
            }
            // A main file's own `pid` clashes with -g pid.
            if !out.ok && out.output.contains("\"pid\" directive is duplicate") {
                out = run(false, globals);
            }
            out
        });
        inspect(&conf);
        if let Some(p) = wrapper_path {
            let _ = fs::remove_file(p);
        }
        fs::write(file, saved).unwrap();
        verdict
    }

    /// Run `cmd` for at most `self.timeout`; stderr is the verdict's output.
    fn bounded(&self, mut cmd: Command) -> Verdict {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if start.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let mut output = String::new();
        if let Some(mut err) = child.stderr.take() {
            use std::io::Read;
            let _ = err.read_to_string(&mut output);
        }
        match status {
            Some(s) => Verdict {
                ok: s.success(),
                output,
            },
            None => Verdict {
                ok: false,
                output: format!("{TIMED_OUT} after {:?}\n{output}", self.timeout),
            },
        }
    }

    /// One fix-up for the first environmental error in `output`; false when there is none.
    fn nginx_fixup(&self, root: &Path, file: &Path, env: &mut Env, output: &str) -> bool {
        let quoted = |after: &str| -> Option<String> {
            let rest = output.split(after).nth(1)?;
            let rest = rest.strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_owned())
        };
        let text = String::from_utf8_lossy(&fs::read(file).unwrap()).into_owned();
        let mut replace = |env: &mut Env, from: String, to: String, name: &str| -> bool {
            if env.replace.iter().any(|(f, _)| *f == from) {
                return false;
            }
            env.replace.push((from, to));
            env.fixups.push(name.to_owned());
            true
        };
        if let Some(p) = quoted("cannot load certificate key ") {
            let key = self.cert.1.display().to_string();
            return replace(env, p, key, "dummy-cert");
        }
        if let Some(p) = quoted("cannot load certificate ") {
            let crt = self.cert.0.display().to_string();
            return replace(env, p, crt, "dummy-cert");
        }
        if let Some(name) = quoted("unknown ").filter(|_| output.contains("\" variable")) {
            // Defined as empty at the wrapper's http level (a deployment sets it there).
            if env.context == "main" || env.context == "main-snippet" {
                return false;
            }
            let line = format!("map \"\" ${name} {{ default \"\"; }}");
            if env.http_lines.contains(&line)
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return false;
            }
            env.http_lines.push(line);
            env.fixups.push(format!("define-var:${name}"));
            return true;
        }
        if let Some(host) = quoted("host not found in upstream ") {
            let host = host.split(':').next().unwrap_or(&host).to_owned();
            return text.contains(&host)
                && replace(env, host, "127.0.0.1".into(), "dns->127.0.0.1");
        }
        if let Some(name) = quoted("no port in upstream ") {
            if env.context == "main" || env.context == "main-snippet" {
                return false;
            }
            env.http_lines
                .push(format!("upstream {name} {{ server 127.0.0.1:9000; }}"));
            env.fixups.push(format!("upstream:{name}"));
            return true;
        }
        if output.contains("no \"ssl_certificate\" is defined") {
            let cert = format!(
                "ssl_certificate {}; ssl_certificate_key {};",
                self.cert.0.display(),
                self.cert.1.display()
            );
            if !env.context.starts_with("main") {
                if env.http_lines.contains(&cert) {
                    return false;
                }
                env.http_lines.push(cert);
                env.fixups.push("wrapper-dummy-cert".into());
                return true;
            }
            // A main file's own http block gets it.
            return text.contains("http {")
                && replace(
                    env,
                    "http {".into(),
                    format!("http {{ {cert}"),
                    "add-dummy-cert",
                );
        }
        if let Some(p) =
            quoted("open() ").filter(|_| output.contains("(2: No such file or directory)"))
        {
            return self.missing_file(root, env, &p, &text, &mut replace);
        }
        if let Some(p) = quoted("mkdir() ") {
            let to = self.scratch.path().join("tmp").display().to_string();
            return text.contains(&p) && replace(env, p, to, "tmpdir");
        }
        false
    }

    /// A file nginx could not open: a stock file of the nginx package (fastcgi_params,
    /// mime.types) is put where nginx looks when that is inside the scratch copy, or the
    /// include is pointed at a copy of it; another absolute path is pointed at the corpus
    /// copy's file with the same tail after `etc/nginx/`, or at an empty file.
    fn missing_file(
        &self,
        root: &Path,
        env: &mut Env,
        path: &str,
        text: &str,
        replace: &mut impl FnMut(&mut Env, String, String, &str) -> bool,
    ) -> bool {
        let p = Path::new(path);
        let stock_rel = p
            .to_string_lossy()
            .split("/etc/nginx/")
            .last()
            .map(str::to_owned)
            .filter(|t| self.stock.join(t).is_file())
            .or_else(|| {
                let name = p.file_name()?.to_string_lossy().into_owned();
                self.stock.join(&name).is_file().then_some(name)
            });
        let inside = p.is_absolute() && p.starts_with(root) || !p.is_absolute();
        if inside {
            let target = if p.is_absolute() {
                p.to_path_buf()
            } else {
                root.join(p)
            };
            if target.exists() {
                return false;
            }
            let Some(rel) = stock_rel else { return false };
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::copy(self.stock.join(&rel), &target).unwrap();
            env.fixups.push(format!("include-stock:{rel}"));
            return true;
        }
        if !text.contains(path) {
            return false;
        }
        if let Some(rel) = stock_rel {
            let copy = self.scratch_file(
                &rel.replace('/', "_"),
                &fs::read(self.stock.join(&rel)).unwrap(),
            );
            return replace(
                env,
                path.to_owned(),
                copy.display().to_string(),
                "include-stock",
            );
        }
        // The deployment's own copy of an absolute /etc/nginx path.
        if let Some(tail) = path.split("/etc/nginx/").nth(1) {
            let found = walkdir::WalkDir::new(root)
                .into_iter()
                .filter_map(Result::ok)
                .find(|e| {
                    e.file_type().is_file()
                        && e.path()
                            .to_string_lossy()
                            .ends_with(&format!("etc/nginx/{tail}"))
                });
            if let Some(e) = found {
                return replace(
                    env,
                    path.to_owned(),
                    e.path().display().to_string(),
                    "include-remap",
                );
            }
        }
        let empty = self.scratch_file("empty.conf", b"");
        replace(
            env,
            path.to_owned(),
            empty.display().to_string(),
            "drop-missing",
        )
    }

    // ---- php-fpm ----------------------------------------------------------------------------

    /// The environment in which php-fpm accepts `file` as it is now.
    pub fn fpm_env(&self, file: &Path) -> Result<Env, Verdict> {
        let original = fs::read(file).unwrap();
        let mut env = Env::default();
        let mut last = None;
        for _ in 0..MAX_ROUNDS {
            let v = self.fpm_t(file, &env, &original);
            if v.ok {
                return Ok(env);
            }
            let stuck = !self.fpm_fixup(&mut env, &v.output, &original);
            last = Some(v);
            if stuck {
                break;
            }
        }
        Err(last.unwrap())
    }

    /// `php-fpm -t` on `file` holding `text`, completed per `env` (as root: `-R`).
    pub fn fpm_t(&self, file: &Path, env: &Env, text: &[u8]) -> Verdict {
        let saved = fs::read(file).unwrap();
        fs::write(file, env.apply(text)).unwrap();
        let out = Command::new(&self.tools.php_fpm)
            .args(["-n", "-t", "-R", "-y"])
            .arg(file)
            .output()
            .unwrap();
        fs::write(file, saved).unwrap();
        Verdict {
            ok: out.status.success(),
            output: String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        }
    }

    fn fpm_fixup(&self, env: &mut Env, output: &str, text: &[u8]) -> bool {
        let text = String::from_utf8_lossy(text);
        let quoted = |after: &str| -> Option<String> {
            let rest = output.split(after).nth(1)?;
            let rest = rest.strip_prefix('\'')?;
            Some(rest[..rest.find('\'')?].to_owned())
        };
        // A user or group this machine does not have: the stock unprivileged ones.
        for (what, keys, to) in [
            ("uid for user ", ["user", "listen.owner"], "nobody"),
            ("gid for group ", ["group", "listen.group"], "nogroup"),
        ] {
            let Some(name) = quoted(&format!("cannot get {what}")) else {
                continue;
            };
            let line = text.lines().find(|l| {
                let (key, value) = l.split_once('=').unwrap_or(("", ""));
                keys.contains(&key.trim())
                    && value.trim() == name
                    && !env.replace.iter().any(|(f, _)| f == l)
            });
            let Some(line) = line else { return false };
            let new = line.replace(&name, to);
            env.replace.push((line.to_owned(), new));
            env.fixups.push(format!("{}->{to}", keys[0]));
            return true;
        }
        // A pool fragment (docker.conf, zz-docker.conf): the base pool it completes.
        let fragment = [
            "no listen address have been defined",
            "the process manager is missing",
        ];
        if env.prepend.is_empty() && fragment.iter().any(|f| output.contains(f)) {
            let pool = output
                .split("[pool ")
                .nth(1)
                .and_then(|r| r.split(']').next())
                .unwrap_or("www");
            let sock = self.scratch.path().join("fpm.sock");
            env.prepend = format!(
                "[{pool}]\nuser = nobody\ngroup = nogroup\nlisten = {}\npm = static\npm.max_children = 1\n",
                sock.display()
            );
            env.fixups.push("prepend-base-pool".into());
            return true;
        }
        // An include of a directory that is not on this machine: a dummy pool instead.
        if let Some(glob) = quoted("Unable to globalize ") {
            if !text.contains(&glob) {
                return false;
            }
            let dir = self
                .scratch
                .path()
                .join(format!("pools-{}", env.fixups.len()));
            fs::create_dir_all(&dir).unwrap();
            fs::write(
                dir.join("dummy.conf"),
                format!(
                    "[dummy]\nuser = nobody\ngroup = nogroup\nlisten = {}/dummy.sock\npm = static\npm.max_children = 1\n",
                    dir.display()
                ),
            )
            .unwrap();
            env.replace
                .push((glob, format!("{}/*.conf", dir.display())));
            env.fixups.push("dummy-pool".into());
            return true;
        }
        false
    }
}

/// Copy the files of `from` into `to`, folders included.
pub fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let rel = e.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else if e.file_type().is_file() {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}
