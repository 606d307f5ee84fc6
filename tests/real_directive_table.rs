//! The directive table against the real nginx: every directive name of the table is given to
//! the installed Debian nginx (`nginx -t`) in every context it knows (main, events, http,
//! server, location, `if` in server and in location, limit_except, upstream, mail, mail
//! server, stream, stream server, stream upstream), with Debian's dynamic modules loaded, and
//! nginx's verdict (unknown directive, not allowed here, or accepted by the dispatcher) must
//! be the table's for Debian's build at the installed version. Argument shapes are checked on
//! every line (nginx must never answer "invalid number of arguments" or a block mismatch to a
//! count the table allows) and on a sample of wrong counts; `refuses_duplicate` on the
//! directives whose value a plain argument satisfies.
//!
//! nginx stops at its first error, so each config holds many directives: on an error the
//! lines before it were accepted, the erring line gets its verdict, and the rest is rerun.
//! Each run loads only the dynamic modules it needs (ndk, mail and stream always, plus one
//! other module file); one run loads them all in the order Debian's modules-enabled uses.
//!
//! Needs /usr/sbin/nginx and Debian's libnginx-mod-* packages; without them the test prints
//! `SKIPPED:` and passes, except under CI=true.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nginx_fpm_lint::model::directives::{
    self, args, builds, ctx, nginx_table, Catalog, DirectiveSpec, ModuleSelection, ValueKind,
    Version,
};

const MODULE_DIR: &str = "/usr/lib/nginx/modules";
/// The last directive of every probe config: reaching it means everything before was read.
const SENTINEL: &str = "zz_probe_sentinel_unknown";
/// The message of a run that failed without saying why or where.
const SILENT: &str = "failed without a message";
/// Module files every run loads: ndk (others need it) and the mail and stream blocks.
const BASE_FILES: [&str; 3] = [
    "ndk_http_module.so",
    "ngx_mail_module.so",
    "ngx_stream_module.so",
];

/// Where a probed directive stands: the lines opening its block and closing it.
struct Context {
    bit: u32,
    name: &'static str,
    open: &'static [&'static str],
    close: &'static [&'static str],
}

const CONTEXTS: &[Context] = &[
    Context {
        bit: ctx::MAIN,
        name: "main",
        open: &[],
        close: &["events {}"],
    },
    Context {
        bit: ctx::EVENTS,
        name: "events",
        open: &["events {"],
        close: &["}"],
    },
    Context {
        bit: ctx::HTTP,
        name: "http",
        open: &["events {}", "http {"],
        close: &["}"],
    },
    Context {
        bit: ctx::HTTP_SRV,
        name: "server",
        open: &["events {}", "http {", "server {"],
        close: &["}", "}"],
    },
    Context {
        bit: ctx::HTTP_LOC,
        name: "location",
        open: &["events {}", "http {", "server {", "location / {"],
        close: &["}", "}", "}"],
    },
    Context {
        bit: ctx::HTTP_SIF,
        name: "if in server",
        open: &["events {}", "http {", "server {", "if ($request_uri) {"],
        close: &["}", "}", "}"],
    },
    Context {
        bit: ctx::HTTP_LIF,
        name: "if in location",
        open: &[
            "events {}",
            "http {",
            "server {",
            "location / {",
            "if ($request_uri) {",
        ],
        close: &["}", "}", "}", "}"],
    },
    Context {
        bit: ctx::HTTP_LMT,
        name: "limit_except",
        open: &[
            "events {}",
            "http {",
            "server {",
            "location / {",
            "limit_except GET {",
        ],
        close: &["}", "}", "}", "}"],
    },
    Context {
        bit: ctx::HTTP_UPS,
        name: "upstream",
        open: &["events {}", "http {", "upstream probe_up {"],
        close: &["server 127.0.0.1:1;", "}", "}"],
    },
    Context {
        bit: ctx::MAIL,
        name: "mail",
        open: &["events {}", "mail {"],
        close: &["}"],
    },
    Context {
        bit: ctx::MAIL_SRV,
        name: "mail server",
        open: &["events {}", "mail {", "server {"],
        close: &[
            "listen 127.0.0.1:1;",
            "protocol smtp;",
            "auth_http 127.0.0.1:1;",
            "}",
            "}",
        ],
    },
    Context {
        bit: ctx::STREAM,
        name: "stream",
        open: &["events {}", "stream {"],
        close: &["}"],
    },
    Context {
        bit: ctx::STREAM_SRV,
        name: "stream server",
        open: &["events {}", "stream {", "server {"],
        close: &["listen 127.0.0.1:1;", "return 1;", "}", "}"],
    },
    Context {
        bit: ctx::STREAM_UPS,
        name: "stream upstream",
        open: &["events {}", "stream {", "upstream probe_up {"],
        close: &["server 127.0.0.1:1;", "}", "}"],
    },
];

/// What nginx made of one line.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    Unknown,
    NotAllowed,
    /// Found and allowed here; the message of the error it raised after that, if any.
    Accepted(Option<String>),
}

/// A probe of one directive: its lines (one, or two for the duplicate check).
struct Item {
    lines: Vec<String>,
}

/// The verdict on an item: which of its lines erred and how, or none.
#[derive(Clone, Debug)]
struct Outcome {
    /// (index of the line in the item, message) of the error on it.
    error: Option<(usize, String)>,
}

struct Probe {
    nginx: PathBuf,
    dir: tempfile::TempDir,
    runs: usize,
}

impl Probe {
    fn new(nginx: &Path) -> Probe {
        Probe {
            nginx: nginx.to_path_buf(),
            dir: tempfile::tempdir().unwrap(),
            runs: 0,
        }
    }

    /// One `nginx -t` of `text`: None when it reached nothing but the sentinel, else the
    /// first error's message and the line it names (if in this file).
    fn run(&mut self, text: &str) -> Option<(String, Option<usize>)> {
        self.runs += 1;
        let conf = self.dir.path().join("probe.conf");
        std::fs::write(&conf, text).unwrap();
        let mut child = Command::new(&self.nginx)
            .arg("-t")
            .arg("-q")
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(self.dir.path())
            .args(["-g", "error_log stderr;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("nginx -t took over 30s on:\n{text}");
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        let mut stderr = String::new();
        use std::io::Read;
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(
            status.code().is_some(),
            "nginx -t died by a signal: {stderr}\n{text}"
        );
        let Some(first) = stderr
            .lines()
            .find(|l| l.contains("[emerg]") || l.contains("[alert]") || l.contains("[crit]"))
        else {
            // A handler may fail without a message (`modern_browser 1` in nginx 1.22).
            assert!(!status.success(), "nginx -t accepted the sentinel:\n{text}");
            return Some((SILENT.to_owned(), None));
        };
        // `2026/12/03 13:27:23 [emerg] 20159#20159: MESSAGE in /path/probe.conf:31`
        let message = first.split_once("]").unwrap().1;
        let message = message.split_once(": ").map_or(message, |(_, m)| m);
        let suffix = format!(" in {}:", conf.display());
        let (message, line) = match message.rsplit_once(&suffix) {
            Some((m, n)) => (m.to_owned(), n.trim().parse::<usize>().ok()),
            None => (message.to_owned(), None),
        };
        if message == format!("unknown directive \"{SENTINEL}\"") {
            return None;
        }
        Some((message, line))
    }

    /// The config of `c` with nothing probed must reach the sentinel: the template is sound.
    fn baseline(&mut self, loads: &[String], c: &Context) {
        let mut text = String::new();
        for f in loads {
            text += &format!("load_module {MODULE_DIR}/{f};\n");
        }
        for l in c.open.iter().chain(c.close) {
            text += l;
            text += "\n";
        }
        text += SENTINEL;
        text += ";\n";
        if let Some(err) = self.run(&text) {
            panic!("the {} template fails: {err:?}\n{text}", c.name);
        }
    }

    /// Run `items` in context `c` with `loads` module files, batching: returns one outcome per
    /// item.
    fn probe(&mut self, loads: &[String], c: &Context, items: &[Item]) -> Vec<Outcome> {
        let mut outcomes = vec![Outcome { error: None }; items.len()];
        let mut next = 0;
        while next < items.len() {
            let mut text = String::new();
            for f in loads {
                text += &format!("load_module {MODULE_DIR}/{f};\n");
            }
            for l in c.open {
                text += l;
                text += "\n";
            }
            let first_line = text.lines().count() + 1;
            // (first line number, item index)
            let mut at = Vec::new();
            let mut line = first_line;
            for (i, item) in items.iter().enumerate().skip(next) {
                at.push((line, i));
                for l in &item.lines {
                    text += l;
                    text += "\n";
                    line += 1;
                }
            }
            let last_line = line;
            for l in c.close {
                text += l;
                text += "\n";
            }
            text += SENTINEL;
            text += ";\n";
            match self.run(&text) {
                Some((message, Some(n))) if (first_line..last_line).contains(&n) => {
                    let pos = at.partition_point(|(start, _)| *start <= n) - 1;
                    let (start, i) = at[pos];
                    outcomes[i].error = Some((n - start, message));
                    next = i + 1;
                }
                Some((message, _)) => {
                    // No line of the batch named (a handler failing without a message, or an
                    // error at the end of a block a probed line opened): halve the batch
                    // until the line is alone. Unknown and not-allowed always name the line.
                    let rest = &items[next..];
                    if rest.len() == 1 {
                        outcomes[next].error = Some((0, message));
                    } else {
                        let mid = rest.len() / 2;
                        let first = self.probe(loads, c, &rest[..mid]);
                        let second = self.probe(loads, c, &rest[mid..]);
                        for (i, o) in first.into_iter().chain(second).enumerate() {
                            outcomes[next + i] = o;
                        }
                    }
                    next = items.len();
                }
                // The sentinel: everything was accepted.
                None => next = items.len(),
            }
        }
        outcomes
    }
}

fn classify(line: &str, message: &str) -> Verdict {
    let name = line
        .split(|c: char| c.is_whitespace() || c == ';')
        .next()
        .unwrap();
    if message == format!("unknown directive \"{name}\"") {
        Verdict::Unknown
    } else if message == format!("\"{name}\" directive is not allowed here") {
        Verdict::NotAllowed
    } else {
        Verdict::Accepted(Some(message.to_owned()))
    }
}

/// Directives Debian's nginx 1.22.1 package carries although upstream added them later: a
/// security update backported `max_headers` (nginx 1.29.8); `strings /usr/sbin/nginx` shows it.
const DEBIAN_BACKPORTS: &[&str] = &["max_headers"];

/// The table's answer for Debian's build at `version` with `loaded` module files.
fn table_specs(name: &str, version: Version, loaded: &BTreeSet<String>) -> Vec<DirectiveSpec> {
    directives::lookup(name)
        .iter()
        .filter(|d| {
            let m = directives::modules()
                .iter()
                .find(|m| m.name == d.module)
                .unwrap();
            m.builds & builds::DEBIAN != 0
                && m.dynamic_file.is_none_or(|f| loaded.contains(f))
                && (d.since <= version || DEBIAN_BACKPORTS.contains(&d.name))
                && d.until.is_none_or(|u| version < u)
                && !nginx_table::NOT_IN_DEBIAN_12.contains(&(d.module, d.name))
        })
        .copied()
        .collect()
}

/// An argument nginx's standard slot accepts for this kind (a custom handler may still
/// refuse it: that is an error after dispatch, which is all the probe asks).
fn sample_value(v: ValueKind) -> &'static str {
    match v {
        ValueKind::Flag => "on",
        ValueKind::Enum(w) | ValueKind::Bitmask(w) => w[0],
        ValueKind::Msec | ValueKind::Sec => "1s",
        ValueKind::Size | ValueKind::Offset => "1k",
        _ => "1",
    }
}

/// Whether `message` is the standard slot's own refusal of the sample value of its kind: the
/// table's value kind would then be wrong (a `post` check, such as bounds, says otherwise).
fn refuses_sample_value(spec: &DirectiveSpec, message: &str) -> bool {
    match spec.value {
        ValueKind::Flag => message.ends_with("it must be \"on\" or \"off\""),
        ValueKind::Size | ValueKind::Offset | ValueKind::Msec | ValueKind::Sec => {
            message == format!("\"{}\" directive invalid value", spec.name)
        }
        // The enum and bitmask slots refuse at warn level, then fail without an emerg.
        ValueKind::Enum(_) | ValueKind::Bitmask(_) => message == SILENT,
        _ => false,
    }
}

/// `name` with a count of arguments `spec` allows, and `{}` when it opens a block.
fn line_for(name: &str, spec: &DirectiveSpec) -> String {
    if name == "error_log" {
        // Any other value sends nginx's own errors (the probe's verdicts) to a file.
        return "error_log stderr;".to_owned();
    }
    let n = (0..=7)
        .find(|&n| directives::arg_count_ok(spec.args, n))
        .unwrap_or(1);
    let mut line = name.to_owned();
    for _ in 0..n {
        line.push(' ');
        line.push_str(sample_value(spec.value));
    }
    if spec.args & args::BLOCK != 0 {
        line.push_str(" {}");
    } else {
        line.push(';');
    }
    line
}

fn installed_version(nginx: &Path) -> Version {
    let out = Command::new(nginx).arg("-v").output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let v = text
        .split("nginx/")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next();
    v.unwrap().parse().unwrap()
}

/// Debian's dynamic module files in modules-enabled order (ndk first, the stream modules that
/// need ngx_stream_module.so last).
fn debian_module_files() -> Vec<String> {
    let mut files: Vec<String> = directives::modules()
        .iter()
        .filter(|m| m.builds & builds::DEBIAN != 0)
        .filter_map(|m| m.dynamic_file.map(str::to_owned))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rank = |f: &str| match f {
        "ndk_http_module.so" => 0,
        f if f.starts_with("ngx_stream_") && f != "ngx_stream_module.so" => 2,
        _ => 1,
    };
    files.sort_by_key(|f| (rank(f), f.clone()));
    files
}

fn require(ok: Result<(), String>) -> bool {
    match ok {
        Ok(()) => true,
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("directive probe cannot run under CI=true: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            false
        }
    }
}

#[test]
fn the_table_agrees_with_real_nginx_on_every_directive_and_context() {
    let Some(bins) = support::require_stack() else {
        return;
    };
    let files = debian_module_files();
    // Every Debian module file of the table is installed, and every installed one is in the
    // table.
    let installed: BTreeSet<String> = std::fs::read_dir(MODULE_DIR)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|f| f.ends_with(".so"))
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<&String> = files.iter().filter(|f| !installed.contains(*f)).collect();
    if !require(if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "libnginx-mod-* modules not installed in {MODULE_DIR}: {missing:?}"
        ))
    }) {
        return;
    }
    let unknown: Vec<&String> = installed.iter().filter(|f| !files.contains(f)).collect();
    assert!(
        unknown.is_empty(),
        "installed modules the table does not know: {unknown:?}"
    );

    let version = installed_version(&bins.nginx);
    let started = Instant::now();

    // Every module loads, together, in Debian's order.
    let mut probe = Probe::new(&bins.nginx);
    for c in CONTEXTS {
        probe.baseline(&files, c);
    }

    // Jobs: (module files loaded, context, names). The base run probes every name; each other
    // module file is probed with its own names.
    let mut jobs: Vec<(Vec<String>, usize, Vec<&'static str>)> = Vec::new();
    let base: Vec<String> = BASE_FILES.iter().map(|f| f.to_string()).collect();
    let mut groups = vec![(base.clone(), nginx_table::NAMES.to_vec())];
    for f in files.iter().filter(|f| !BASE_FILES.contains(&f.as_str())) {
        let names: BTreeSet<&'static str> = nginx_table::DIRECTIVES
            .iter()
            .filter(|d| {
                directives::modules()
                    .iter()
                    .any(|m| m.name == d.module && m.dynamic_file == Some(f.as_str()))
            })
            .map(|d| d.name)
            .collect();
        let mut loads = base.clone();
        loads.push(f.clone());
        groups.push((loads, names.into_iter().collect()));
    }
    for (loads, names) in &groups {
        let loaded: BTreeSet<String> = loads.iter().cloned().collect();
        for (ci, c) in CONTEXTS.iter().enumerate() {
            // A name nginx does not know is unknown in any context: one suffices.
            let names: Vec<&'static str> = names
                .iter()
                .copied()
                .filter(|n| !table_specs(n, version, &loaded).is_empty() || c.bit == ctx::HTTP_LOC)
                .collect();
            jobs.push((loads.clone(), ci, names));
        }
    }

    let jobs = std::sync::Mutex::new(jobs.into_iter());
    let disagreements = std::sync::Mutex::new(Vec::<String>::new());
    let probed = std::sync::atomic::AtomicUsize::new(0);
    let runs = std::sync::atomic::AtomicUsize::new(probe.runs);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut probe = Probe::new(&bins.nginx);
                loop {
                    let Some((loads, ci, names)) = jobs.lock().unwrap().next() else {
                        break;
                    };
                    let c = &CONTEXTS[ci];
                    let loaded: BTreeSet<String> = loads.iter().cloned().collect();
                    let specs: Vec<Vec<DirectiveSpec>> = names
                        .iter()
                        .map(|n| table_specs(n, version, &loaded))
                        .collect();
                    let chosen: Vec<DirectiveSpec> = names
                        .iter()
                        .zip(&specs)
                        .map(|(n, s)| {
                            *s.iter()
                                .find(|d| d.contexts & c.bit != 0)
                                .or(s.first())
                                .unwrap_or(&directives::lookup(n)[0])
                        })
                        .collect();
                    let items: Vec<Item> = names
                        .iter()
                        .zip(&chosen)
                        .map(|(n, spec)| Item {
                            lines: vec![line_for(n, spec)],
                        })
                        .collect();
                    probe.baseline(&loads, c);
                    let outcomes = probe.probe(&loads, c, &items);
                    let mut bad = Vec::new();
                    for (((name, s), spec), (item, o)) in names
                        .iter()
                        .zip(&specs)
                        .zip(&chosen)
                        .zip(items.iter().zip(&outcomes))
                    {
                        let line = &item.lines[0];
                        let got = match &o.error {
                            None => Verdict::Accepted(None),
                            Some((_, m)) => classify(line, m),
                        };
                        let want = if s.is_empty() {
                            Verdict::Unknown
                        } else if s.iter().any(|d| d.contexts & c.bit != 0) {
                            Verdict::Accepted(None)
                        } else {
                            Verdict::NotAllowed
                        };
                        let agree = match (&got, &want) {
                            (Verdict::Accepted(m), Verdict::Accepted(_)) => {
                                // A count or block form the table allows must pass nginx's
                                // dispatcher.
                                !m.as_deref().is_some_and(|m| {
                                    m.starts_with("invalid number of arguments")
                                        || m.contains("has no opening \"{\"")
                                        || m.contains("is not terminated by \";\"")
                                        || refuses_sample_value(spec, m)
                                })
                            }
                            (g, w) => g == w,
                        };
                        if !agree {
                            bad.push(format!(
                                "{name} in {} (modules {:?}): nginx {got:?}, table {want:?} \
                                 (line `{line}`)",
                                c.name,
                                &loads[BASE_FILES.len().min(loads.len())..]
                            ));
                        }
                    }
                    probed.fetch_add(names.len(), std::sync::atomic::Ordering::Relaxed);
                    disagreements.lock().unwrap().extend(bad);
                }
                runs.fetch_add(probe.runs, std::sync::atomic::Ordering::Relaxed);
            });
        }
    });
    let disagreements = disagreements.into_inner().unwrap();
    eprintln!(
        "probed {} (directive, context) pairs in {} nginx -t runs, {:.1}s",
        probed.into_inner(),
        runs.into_inner(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements with nginx {version}:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );

    // The Catalog for Debian's build with every module loaded knows exactly the names nginx
    // knows (the per-name verdicts above).
    let catalog = Catalog::build(
        &ModuleSelection::Some {
            builds: builds::DEBIAN,
            modules: Vec::new(),
        },
        Some(version),
        &[],
        files.iter().map(|f| format!("modules/{f}")),
    );
    for name in nginx_table::NAMES {
        // What the catalog must hold: Debian's modules at this version (third-party module
        // versions and Debian's backports are not modelled by it).
        let expected = directives::lookup(name).iter().any(|d| {
            let m = directives::modules()
                .iter()
                .find(|m| m.name == d.module)
                .unwrap();
            m.builds & builds::DEBIAN != 0
                && d.since <= version
                && d.until.is_none_or(|u| version < u)
        });
        assert_eq!(!catalog.specs(name).is_empty(), expected, "{name}");
    }
    assert!(catalog.is_complete());
}

/// nginx and php-fpm, the installed nginx's version, and the module files every probe loads
/// (in load order);
/// None (after the skip or CI failure) when they are missing.
fn stack_with_base_modules() -> Option<(support::Bins, Version, Vec<String>)> {
    let bins = support::require_stack()?;
    let version = installed_version(&bins.nginx);
    let present = BASE_FILES
        .iter()
        .all(|f| Path::new(MODULE_DIR).join(f).is_file());
    if !require(if present {
        Ok(())
    } else {
        Err(format!("{BASE_FILES:?} not all in {MODULE_DIR}"))
    }) {
        return None;
    }
    Some((
        bins,
        version,
        BASE_FILES.iter().map(|f| f.to_string()).collect(),
    ))
}

#[test]
fn wrong_argument_counts_are_refused_as_the_table_says() {
    let Some((bins, version, base)) = stack_with_base_modules() else {
        return;
    };
    let loaded: BTreeSet<String> = base.iter().cloned().collect();
    let loc = &CONTEXTS[4];
    // Up to six directives per shape, each given a count the shape refuses.
    let shapes: [(u32, usize); 6] = [
        (args::NOARGS, 1),
        (args::TAKE1, 2),
        (args::FLAG, 2),
        (args::TAKE2, 1),
        (args::ONE_MORE, 0),
        (args::TWO_MORE, 1),
    ];
    let mut items = Vec::new();
    let mut expected = Vec::new();
    for (shape, n) in shapes {
        let picked = nginx_table::NAMES
            .iter()
            .filter_map(|name| {
                let s = table_specs(name, version, &loaded);
                (s.len() == 1 && s[0].contexts & ctx::HTTP_LOC != 0 && s[0].args == shape)
                    .then(|| s[0])
            })
            .take(6);
        for spec in picked {
            let mut line = spec.name.to_owned();
            for _ in 0..n {
                line.push_str(" 1");
            }
            line.push(';');
            items.push(Item { lines: vec![line] });
            expected.push(spec.name);
        }
    }
    assert!(items.len() >= 30, "too few samples: {}", items.len());
    let mut probe = Probe::new(&bins.nginx);
    probe.baseline(&base, loc);
    let outcomes = probe.probe(&base, loc, &items);
    for (name, o) in expected.iter().zip(&outcomes) {
        let want = format!("invalid number of arguments in \"{name}\" directive");
        assert_eq!(
            o.error.as_ref().map(|(_, m)| m.as_str()),
            Some(want.as_str()),
            "{name}"
        );
    }
}

#[test]
fn duplicates_are_refused_as_the_table_says() {
    let Some((bins, version, base)) = stack_with_base_modules() else {
        return;
    };
    let loaded: BTreeSet<String> = base.iter().cloned().collect();
    let mut checked = 0;
    let mut inconclusive = Vec::new();
    let mut bad = Vec::new();
    for c in [&CONTEXTS[4], &CONTEXTS[12]] {
        let mut items = Vec::new();
        let mut specs = Vec::new();
        for name in nginx_table::NAMES {
            let s = table_specs(name, version, &loaded);
            let Some(spec) = s.iter().find(|d| d.contexts & c.bit != 0) else {
                continue;
            };
            if spec.args & args::BLOCK != 0
                || (spec.value == ValueKind::Custom && !spec.refuses_duplicate)
            {
                continue;
            }
            let line = line_for(name, spec);
            items.push(Item {
                lines: vec![line.clone(), line],
            });
            specs.push(*spec);
        }
        let mut probe = Probe::new(&bins.nginx);
        probe.baseline(&base, c);
        let outcomes = probe.probe(&base, c, &items);
        let mut dup_by_name: BTreeMap<&str, bool> = BTreeMap::new();
        for (spec, o) in specs.iter().zip(&outcomes) {
            let duplicate = format!("\"{}\" directive is duplicate", spec.name);
            let refused = match &o.error {
                None => false,
                Some((1, m)) if *m == duplicate => true,
                Some((_, m)) => {
                    inconclusive.push(format!("{} in {}: {m}", spec.name, c.name));
                    continue;
                }
            };
            checked += 1;
            dup_by_name.insert(spec.name, refused);
            if refused != spec.refuses_duplicate {
                bad.push(format!(
                    "{} in {}: nginx refuses a second: {refused}, table: {}",
                    spec.name, c.name, spec.refuses_duplicate
                ));
            }
        }
    }
    eprintln!(
        "duplicates: {checked} checked, {} inconclusive (the sample value refused)",
        inconclusive.len()
    );
    if std::env::var_os("PROBE_VERBOSE").is_some() {
        eprintln!("{inconclusive:#?}");
    }
    assert!(checked >= 300, "too few conclusive: {inconclusive:#?}");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
