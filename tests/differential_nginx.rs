//! lint against real `nginx -t` on one-directive mutants of real-world configs.
//!
//! Every nginx file of the corpus (../shared/corpus or $NGINX_FPM_LINT_CORPUS) that nginx
//! accepts in the context it belongs to (`tests/corpus_support`'s Judge: the context of
//! nginx-t.tsv, environmental fix-ups found from nginx's own errors), and every nginx file of
//! the repository's `fixtures/*/ok-*` trees, is mutated one directive at a time
//! (`tests/nginx_mutants`: typos, moves to another context, argument counts, bad values,
//! duplicates, neutral changes). Each mutant is judged by the real `nginx -t` with every
//! dynamic module this machine enables (lint's default is `nginx-modules = all`), then linted
//! in the same wrapping with the `nginx-` rules alone. lint refuses a mutant when it reports
//! an error of the NFL4xx family (or cannot parse the file). Mutants whose verdict depends on
//! the host (a missing file, DNS, certificates, users, hash sizes tuned to the CPU) are
//! dropped, by nginx's message.
//!
//! Asserted: at least 3,000 judged mutants, agreement at least 99.5%, no NFL4xx error on an
//! original nginx accepts, and every disagreement listed in `tests/nginx_disagreements.txt`
//! (`id<TAB>reason`; listed ones that now agree are reported as stale).
//! `NFL_DIFF_TSV=path` writes every judged mutant (id, class, op, verdicts, messages) there.
//! Run: `cargo test --test differential_nginx -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nginx_fpm_lint::diagnostic::Severity;
use nginx_fpm_lint::lint::lint_paths;
use nginx_fpm_lint::project::Options;
use nginx_fpm_lint::rules::RuleMeta;
use nginx_fpm_lint::settings::Settings;

mod corpus_support;
mod nginx_mutants;

use corpus_support::{corpus_dir, nginx_rows, tools, Judge, TIMED_OUT};
use nginx_mutants::{Class, Mutant, CLASSES};

const WORKERS: usize = 2;
const MIN_JUDGED: usize = 3000;
const MIN_AGREEMENT: f64 = 0.995;

/// One nginx file to mutate: where it is in a worker's scratch tree, and its context.
#[derive(Clone, Debug)]
struct Input {
    /// `nginx/...` (corpus) or `fixtures/...`: also the prefix of its mutants' ids.
    rel: String,
    context: String,
}

#[derive(Clone, Debug)]
struct LintVerdict {
    refuses: bool,
    /// The first NFL4xx error or syntax problem: `NFL401 message`.
    why: String,
}

#[derive(Clone, Debug)]
struct Judged {
    mutant: Mutant,
    nginx_ok: bool,
    nginx_says: String,
    lint: LintVerdict,
}

#[derive(Default)]
struct WorkerOut {
    judged: Vec<Judged>,
    /// (reason, mutant id, class)
    dropped: Vec<(String, String, Class)>,
    /// Inputs nginx refuses even in their context: (rel, first error).
    refused_inputs: Vec<(String, String)>,
    /// Accepted originals on which lint reports an NFL4xx error: (rel, why).
    originals_flagged: Vec<(String, String)>,
    accepted_inputs: usize,
    nginx_time: Duration,
    lint_time: Duration,
}

fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else if e.file_type().is_file() {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// nginx's first `[emerg]` message without the `in FILE:LINE` tail.
fn first_error(output: &str) -> String {
    let line = output
        .lines()
        .find(|l| l.contains("[emerg]"))
        .or_else(|| output.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("");
    let msg = line.split("] ").nth(1).unwrap_or(line);
    match msg.rfind(" in /") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Why a refusal depends on the host rather than on the configuration's text, by nginx's own
/// message; None when it does not.
fn host_dependent(output: &str) -> Option<&'static str> {
    let msg = first_error(output);
    let has = |s: &str| msg.contains(s);
    Some(if output.contains(TIMED_OUT) {
        "timed out"
    } else if has("host not found") || has("could not be resolved") {
        "DNS: host not found"
    } else if has("certificate") || has("SSL_") || has("PEM_") || has("ssl_dhparam") {
        "certificates"
    } else if has("getpwnam") || has("getgrnam") {
        "system users or groups"
    } else if has("bind()") || has("socket()") {
        "bind() or socket()"
    } else if has("dlopen()") || has("already loaded") {
        "dynamic module files"
    } else if has("could not build") {
        "hash sizes tuned to the CPU's cache line"
    } else if has("MMDB_open") || has("GeoIP") || has("geoip") {
        "GeoIP databases"
    } else if has("No such file or directory")
        || has("Permission denied")
        || has("Is a directory")
        || has("Not a directory")
        || has("glob()")
        || has("mkdir()")
    {
        "files of the host (missing, unreadable)"
    } else {
        return None;
    })
}

fn select_nginx(_code: &str, meta: &RuleMeta) -> Option<Severity> {
    meta.name.starts_with("nginx-").then_some(meta.severity)
}

/// lint's verdict on the configuration nginx was given (the wrapper or a main file), with
/// nginx's prefix: the configuration's directory.
fn lint_verdict(conf: &Path) -> LintVerdict {
    let options = Options {
        nginx_prefix: conf.parent().map(Path::to_path_buf),
        ..Options::default()
    };
    let out = lint_paths(
        &[conf.to_path_buf()],
        options,
        &Settings::default(),
        &select_nginx,
    );
    let error = out
        .diagnostics
        .iter()
        .find(|d| d.severity == Severity::Error && d.code.starts_with("NFL4"))
        .map(|d| format!("{} {}", d.code, d.message));
    let syntax = out
        .project
        .problems
        .iter()
        .find(|p| p.span.is_some())
        .map(|p| format!("syntax: {}", p.message));
    let why = error.or(syntax);
    LintVerdict {
        refuses: why.is_some(),
        why: why.unwrap_or_default(),
    }
}

/// The repository's own nginx files under `fixtures/*/ok-*`, with the context their content
/// shows (a file with `http` at the top is a main file, one with `server` an http one, ...).
fn fixture_inputs(repo: &Path) -> Vec<Input> {
    let mut out = Vec::new();
    let fixtures = repo.join("fixtures");
    let mut entries: Vec<_> = walkdir::WalkDir::new(&fixtures)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .collect();
    entries.retain(|e| {
        let rel = e.path().strip_prefix(&fixtures).unwrap();
        rel.components()
            .nth(1)
            .is_some_and(|c| c.as_os_str().to_string_lossy().starts_with("ok-"))
    });
    for e in entries {
        let Ok(text) = fs::read_to_string(e.path()) else {
            continue;
        };
        // php-fpm files are ini files: a `[section]` line or `key = value` lines.
        let ini = text.lines().any(|l| {
            let l = l.trim();
            (l.starts_with('[') && l.ends_with(']')) || (l.contains(" = ") && !l.ends_with(';'))
        });
        let Ok(config) = nginx_fpm_lint::syntax::nginx::parse(&text) else {
            continue;
        };
        let names: BTreeSet<&str> = config.directives().map(|d| d.name()).collect();
        if ini || names.is_empty() {
            continue;
        }
        let context = if names.contains("http") || names.contains("events") {
            "main"
        } else if names.contains("server") || names.contains("upstream") {
            "http"
        } else if names.contains("location") || names.contains("listen") {
            "server"
        } else {
            "location"
        };
        let rel = e.path().strip_prefix(repo).unwrap();
        out.push(Input {
            rel: rel.to_string_lossy().into_owned(),
            context: context.to_owned(),
        });
    }
    out
}

fn work(judge: &Judge, root: &Path, inputs: &[Input], progress: &Mutex<usize>) -> WorkerOut {
    let mut out = WorkerOut::default();
    for input in inputs {
        let path = root.join(&input.rel);
        let env = match judge.nginx_env(root, &path, &input.context) {
            Ok(env) => env,
            Err(v) => {
                out.refused_inputs
                    .push((input.rel.clone(), first_error(&v.output)));
                continue;
            }
        };
        let original = fs::read(&path).unwrap();
        // nginx_env has just accepted it as it is, in this environment.
        let mut original_lint = None;
        judge.nginx_in_place(root, &path, &env, &original, &mut |conf| {
            original_lint = Some(lint_verdict(conf));
        });
        out.accepted_inputs += 1;
        let original_lint = original_lint.unwrap();
        if original_lint.refuses {
            out.originals_flagged
                .push((input.rel.clone(), original_lint.why.clone()));
        }
        let text = String::from_utf8_lossy(&original).into_owned();
        for mutant in nginx_mutants::mutants(&input.rel, &text, &env.context) {
            let mut lint = None;
            let mut lint_time = Duration::ZERO;
            let t = Instant::now();
            let v = judge.nginx_t_inspect(root, &path, &env, mutant.text.as_bytes(), &mut |c| {
                let t = Instant::now();
                lint = Some(lint_verdict(c));
                lint_time = t.elapsed();
            });
            out.nginx_time += t.elapsed() - lint_time;
            out.lint_time += lint_time;
            *progress.lock().unwrap() += 1;
            if !v.ok {
                if let Some(why) = host_dependent(&v.output) {
                    out.dropped
                        .push((why.to_owned(), mutant.id.clone(), mutant.class));
                    continue;
                }
            }
            out.judged.push(Judged {
                nginx_ok: v.ok,
                nginx_says: if v.ok {
                    String::new()
                } else {
                    first_error(&v.output)
                },
                lint: lint.unwrap(),
                mutant,
            });
        }
    }
    out
}

const LIST_HEADER: &str = "\
# Mutants on which lint and the real `nginx -t` disagree, known and explained (one a line:
# mutant id, a tab, the reason). Checked by tests/differential_nginx.rs: a disagreement not
# listed here fails it. `NFL_DIFF_BLESS=1 cargo test --test differential_nginx` rewrites the
# list from the current run, keeping the reasons already written.
";

/// `tests/nginx_disagreements.txt`: mutant id -> reason.
fn listed_disagreements(path: &Path) -> BTreeMap<String, String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, why) = l.split_once('\t').unwrap_or((l, ""));
            (id.trim().to_owned(), why.trim().to_owned())
        })
        .collect()
}

/// A message with its quoted names blanked, to group disagreements by kind.
fn shape(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        if c == '"' {
            quoted = !quoted;
            out.push_str(if quoted { "\"…" } else { "\"" });
        } else if !quoted {
            out.push(c);
        }
    }
    out.split(" in /").next().unwrap_or(&out).to_owned()
}

#[test]
fn lint_agrees_with_nginx_t_on_one_directive_mutants() {
    let started = Instant::now();
    let Some(corpus) = corpus_dir() else { return };
    let Some(tools) = tools() else { return };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));

    let rows = nginx_rows(&corpus);
    let mut inputs: Vec<Input> = Vec::new();
    let mut skipped_by_reference = 0;
    for (rel, row) in &rows {
        if !row.accepted_after_fixups {
            // The reference run refused it for an error of its own: nothing valid to mutate.
            skipped_by_reference += 1;
            continue;
        }
        inputs.push(Input {
            rel: rel.clone(),
            context: row.context.clone(),
        });
    }
    let corpus_inputs = inputs.len();
    inputs.extend(fixture_inputs(repo));

    // Each worker its own judge (scratch dir, certificates) and its own copy of the inputs:
    // the judge writes the file it judges and a wrapper beside it.
    let mut judges = Vec::new();
    for _ in 0..WORKERS {
        let Some(judge) = Judge::new(tools.clone()).with_enabled_modules() else {
            corpus_support::skip_or_fail(
                "no dynamic nginx modules enabled (modules-enabled/*.conf): lint's default is nginx-modules = all",
            );
            return;
        };
        let root = tempfile::tempdir().unwrap();
        copy_tree(&corpus.join("nginx"), &root.path().join("nginx"));
        copy_tree(&repo.join("fixtures"), &root.path().join("fixtures"));
        judges.push((judge, root));
    }
    let shares: Vec<Vec<Input>> = (0..WORKERS)
        .map(|w| {
            inputs
                .iter()
                .enumerate()
                .filter(|(i, _)| i % WORKERS == w)
                .map(|(_, x)| x.clone())
                .collect()
        })
        .collect();
    let progress = Mutex::new(0usize);
    let outs: Vec<WorkerOut> = std::thread::scope(|scope| {
        let handles: Vec<_> = judges
            .iter()
            .zip(&shares)
            .map(|((judge, root), share)| {
                let progress = &progress;
                scope.spawn(move || work(judge, root.path(), share, progress))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut judged: Vec<Judged> = Vec::new();
    let mut dropped: Vec<(String, String, Class)> = Vec::new();
    let mut refused_inputs = Vec::new();
    let mut originals_flagged = Vec::new();
    let mut accepted_inputs = 0;
    let (mut nginx_time, mut lint_time) = (Duration::ZERO, Duration::ZERO);
    for o in outs {
        nginx_time += o.nginx_time;
        lint_time += o.lint_time;
        judged.extend(o.judged);
        dropped.extend(o.dropped);
        refused_inputs.extend(o.refused_inputs);
        originals_flagged.extend(o.originals_flagged);
        accepted_inputs += o.accepted_inputs;
    }
    judged.sort_by(|a, b| a.mutant.id.cmp(&b.mutant.id));

    let mut report = String::new();
    let r = &mut report;
    writeln!(
        r,
        "inputs: {} corpus files ({skipped_by_reference} more refused by the reference run, not tried) + {} fixture files; nginx accepts {accepted_inputs}, refuses {}",
        corpus_inputs,
        inputs.len() - corpus_inputs,
        refused_inputs.len()
    )
    .unwrap();
    for (rel, why) in &refused_inputs {
        writeln!(r, "  refused input {rel}: {why}").unwrap();
    }

    // Per class: generated, dropped, judged, nginx refuses, agreement.
    writeln!(
        r,
        "\n{:<10} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>7} {:>9}",
        "class",
        "made",
        "dropped",
        "judged",
        "nginx✗",
        "lint✗",
        "missed",
        "false✗",
        "agree",
        "agree%"
    )
    .unwrap();
    let mut total_agree = 0;
    for class in CLASSES {
        let js: Vec<&Judged> = judged.iter().filter(|j| j.mutant.class == class).collect();
        let refused = js.iter().filter(|j| !j.nginx_ok).count();
        let lint_refused = js.iter().filter(|j| j.lint.refuses).count();
        let missed = js.iter().filter(|j| !j.nginx_ok && !j.lint.refuses).count();
        let false_alarm = js.iter().filter(|j| j.nginx_ok && j.lint.refuses).count();
        let agree = js.len() - missed - false_alarm;
        total_agree += agree;
        let dropped_here = dropped.iter().filter(|d| d.2 == class).count();
        writeln!(
            r,
            "{:<10} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8} {:>7} {:>8.1}%",
            class.name(),
            js.len() + dropped_here,
            dropped_here,
            js.len(),
            refused,
            lint_refused,
            missed,
            false_alarm,
            agree,
            100.0 * agree as f64 / js.len().max(1) as f64
        )
        .unwrap();
    }
    let agreement = total_agree as f64 / judged.len().max(1) as f64;
    let nginx_refused = judged.iter().filter(|j| !j.nginx_ok).count();
    writeln!(
        r,
        "{:<10} {:>7} {:>7} {:>7} {:>7}  agreement {:.2}% ({total_agree}/{})",
        "all",
        judged.len() + dropped.len(),
        dropped.len(),
        judged.len(),
        nginx_refused,
        100.0 * agreement,
        judged.len()
    )
    .unwrap();

    let mut drop_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (why, _, _) in &dropped {
        *drop_counts.entry(why.as_str()).or_default() += 1;
    }
    writeln!(
        r,
        "\ndropped (verdict depends on the host): {}",
        dropped.len()
    )
    .unwrap();
    for (why, n) in &drop_counts {
        let example = dropped.iter().find(|d| d.0 == *why).unwrap();
        writeln!(r, "  {n:>5}  {why}  (e.g. {})", example.1).unwrap();
    }

    // Disagreements, grouped by direction and nginx's message shape.
    let disagreements: Vec<&Judged> = judged
        .iter()
        .filter(|j| j.nginx_ok == j.lint.refuses)
        .collect();
    let mut groups: BTreeMap<String, Vec<&Judged>> = BTreeMap::new();
    for j in &disagreements {
        let key = if j.nginx_ok {
            format!("lint refuses, nginx accepts: {}", shape(&j.lint.why))
        } else {
            format!("nginx refuses, lint accepts: {}", shape(&j.nginx_says))
        };
        groups.entry(key).or_default().push(j);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    writeln!(r, "\ndisagreements: {} (top kinds)", disagreements.len()).unwrap();
    for (key, js) in groups.iter().take(25) {
        writeln!(r, "  {:>5}  {key}", js.len()).unwrap();
        for j in js.iter().take(3) {
            let said = if j.nginx_ok {
                &j.lint.why
            } else {
                &j.nginx_says
            };
            writeln!(r, "           {}  [{said}]", j.mutant.id).unwrap();
        }
    }

    if let Some(path) = std::env::var_os("NFL_DIFF_TSV") {
        let mut tsv =
            String::from("id\tclass\top\tdirective\tnginx\tlint\tnginx_says\tlint_says\n");
        for j in &judged {
            let v = |refuses: bool| if refuses { "refuses" } else { "accepts" };
            writeln!(
                tsv,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                j.mutant.id,
                j.mutant.class.name(),
                j.mutant.op,
                j.mutant.directive,
                v(!j.nginx_ok),
                v(j.lint.refuses),
                j.nginx_says.replace('\t', " "),
                j.lint.why.replace(['\t', '\n'], " ")
            )
            .unwrap();
        }
        fs::write(&path, tsv).unwrap();
        writeln!(
            r,
            "\nevery judged mutant written to {}",
            Path::new(&path).display()
        )
        .unwrap();
    }

    let listed_path = repo.join("tests/nginx_disagreements.txt");
    let mut listed = listed_disagreements(&listed_path);
    if std::env::var_os("NFL_DIFF_BLESS").is_some() {
        // Rewrite the list: today's disagreements, keeping the reasons already written.
        let mut text = String::from(LIST_HEADER);
        let mut blessed = BTreeMap::new();
        for j in &disagreements {
            let why = listed.get(&j.mutant.id).cloned().unwrap_or_else(|| {
                if j.nginx_ok {
                    format!("lint refuses ({}), nginx accepts", j.lint.why)
                } else {
                    format!("nginx refuses ({}), lint misses it", j.nginx_says)
                }
            });
            writeln!(text, "{}\t{why}", j.mutant.id).unwrap();
            blessed.insert(j.mutant.id.clone(), why);
        }
        fs::write(&listed_path, text).unwrap();
        writeln!(
            r,
            "\nNFL_DIFF_BLESS: wrote {} disagreement(s) to {}",
            blessed.len(),
            listed_path.display()
        )
        .unwrap();
        listed = blessed;
    }
    let disagreeing: BTreeSet<&str> = disagreements.iter().map(|j| j.mutant.id.as_str()).collect();
    let judged_ids: BTreeSet<&str> = judged.iter().map(|j| j.mutant.id.as_str()).collect();
    let unlisted: Vec<&&Judged> = disagreements
        .iter()
        .filter(|j| !listed.contains_key(&j.mutant.id))
        .collect();
    let stale: Vec<&String> = listed
        .keys()
        .filter(|id| !disagreeing.contains(id.as_str()))
        .collect();
    writeln!(
        r,
        "\nlisted in tests/nginx_disagreements.txt: {}; stale (agree now or no longer generated): {}",
        listed.len(),
        stale.len()
    )
    .unwrap();
    for id in stale.iter().take(20) {
        let why = if judged_ids.contains(id.as_str()) {
            "agrees now"
        } else {
            "not generated or dropped"
        };
        writeln!(r, "  stale: {id} ({why})").unwrap();
    }
    let mutants_run: usize = *progress.lock().unwrap();
    writeln!(
        r,
        "\n{} mutants run through nginx -t and lint in {:.1}s ({WORKERS} workers; summed over them: nginx -t {:.1}s, lint {:.1}s)",
        mutants_run,
        started.elapsed().as_secs_f64(),
        nginx_time.as_secs_f64(),
        lint_time.as_secs_f64()
    )
    .unwrap();
    println!("{report}");

    let mut failures = Vec::new();
    if judged.len() < MIN_JUDGED {
        failures.push(format!(
            "only {} judged mutants (want at least {MIN_JUDGED})",
            judged.len()
        ));
    }
    if !originals_flagged.is_empty() {
        let list: Vec<String> = originals_flagged
            .iter()
            .map(|(rel, why)| format!("  {rel}: {why}"))
            .collect();
        failures.push(format!(
            "{} file(s) nginx accepts get an NFL4xx error:\n{}",
            originals_flagged.len(),
            list.join("\n")
        ));
    }
    if !unlisted.is_empty() {
        let list: Vec<String> = unlisted
            .iter()
            .take(40)
            .map(|j| {
                format!(
                    "  {}\tnginx {}, lint {}: {}",
                    j.mutant.id,
                    if j.nginx_ok { "accepts" } else { "refuses" },
                    if j.lint.refuses { "refuses" } else { "accepts" },
                    if j.nginx_ok {
                        &j.lint.why
                    } else {
                        &j.nginx_says
                    }
                )
            })
            .collect();
        failures.push(format!(
            "{} disagreement(s) not listed in tests/nginx_disagreements.txt (first 40):\n{}",
            unlisted.len(),
            list.join("\n")
        ));
    }
    if agreement < MIN_AGREEMENT {
        failures.push(format!(
            "agreement {:.2}% is below {:.1}%",
            100.0 * agreement,
            100.0 * MIN_AGREEMENT
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
