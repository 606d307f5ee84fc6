//! Differential test: the linter against the real `php-fpm8.2 -t` on one-entry mutants of
//! every PHP-FPM file of the shared corpus (`../shared/corpus`, or
//! `$NGINX_FPM_LINT_CORPUS`) and of this repository's own php-fpm fixtures.
//!
//! Each base file is judged in the context `tests/corpus_support::Judge` builds for it (a
//! base pool for a fragment, a dummy pool for an include of a directory this machine lacks,
//! stock users for unknown ones). Then, one entry at a time and with a fixed seed: name
//! typos, a case change (php-fpm ignores case in plain entry names), bad and good values of
//! the entry's type, section moves (a pool entry into `[global]`, a global one into a pool),
//! and neutral edits (blanks around `=`, a comment line, a trailing comment). Every mutant
//! goes to the real `php-fpm -t` and to the linter; a mutant whose verdict depends on the host
//! (users, groups, paths) is dropped. The linter refuses when it cannot parse the text or
//! reports an error of fpm-unknown-entry, fpm-invalid-value or fpm-pm-invalid (see
//! tests/fpm_support).
//!
//! Passes when the agreement is at least 99.5%, every disagreement left is listed with its
//! reason in tests/fpm_disagreements.txt, and no base file php-fpm accepts gets an NFL5xx
//! error. Prints the figures. Without php-fpm or the corpus: `SKIPPED:` (a failure under
//! CI=true).

mod corpus_support;
mod fpm_support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use corpus_support::{corpus_dir, fpm_rows, tools, Env, Judge};
use fpm_support::lint_fpm;
use nginx_fpm_lint::model::fpm_entries::{find, Parser, Section};
use nginx_fpm_lint::settings::Settings;
use nginx_fpm_lint::syntax::fpm;

const SEED: u64 = 0x5eed_f9a1;
const MIN_AGREEMENT: f64 = 0.995;
/// About how many mutants to run (php-fpm takes 20 to 60 ms a run on a busy machine).
const SAMPLE: usize = 1250;
/// php-fpm output that says the verdict rests on the host, not on the text.
const HOST_DEPENDENT: &[&str] = &[
    "cannot get uid",
    "cannot get gid",
    "Unable to globalize",
    "failed to open",
    "does not exist",
    "No such file",
    "getaddrinfo",
    "Permission denied",
    "Unable to create or open",
    "is not available on this system",
];

/// A small deterministic generator (xorshift64*), so the mutants are the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

struct Base {
    /// Corpus path or fixture name, for messages and the disagreement list.
    name: String,
    /// The copy php-fpm reads (Judge writes each mutant there and restores it).
    file: PathBuf,
    text: String,
    env: Env,
}

struct Mutant {
    description: String,
    text: String,
}

fn bad_values(p: Parser) -> &'static [&'static str] {
    match p {
        Parser::Integer => &["5x", "+5", "1e3", "0x10", "1.5", "abc", "\"1 2\"", "12k"],
        Parser::Time => &["30x", "10S", "5M", "\"\"", "no", "abc", "30 sec", "1w"],
        Parser::Boolean | Parser::ArrayBoolean => &["2", "maybe", "enabled", "\"YES\"", "y"],
        Parser::LogLevel => &["info", "verbose", "critical", "\"\"", "warnings"],
        Parser::SyslogFacility => &["local8", "foo", "\"\"", "kernel"],
        Parser::RlimitCore => &["-1", "5x", "infinity", "\"-5\""],
        Parser::Pm => &["dynamik", "auto", "\"\"", "static1"],
        Parser::ArrayEnv => &["\"\""],
        Parser::ArraySuppressPath => &["ping", "\"\""],
        Parser::String | Parser::ArrayString => &[],
    }
}

fn good_values(name: &str, p: Parser) -> &'static [&'static str] {
    match (name, p) {
        // Values whose other checks (ranges, pm's arithmetic) would change the verdict.
        (n, _) if n.starts_with("pm.") || n == "process.priority" || n == "log_limit" => &[],
        (_, Parser::Integer) => &["0", "7", "\"12\"", "007"],
        (_, Parser::Time) => &["0", "30", "30s", "5m", "2h", "1d", "\"20s\""],
        (_, Parser::Boolean | Parser::ArrayBoolean) => {
            &["yes", "no", "on", "off", "1", "0", "\"\""]
        }
        (_, Parser::LogLevel) => &["debug", "NOTICE", "warn", "error", "alert"],
        (_, Parser::SyslogFacility) => &["daemon", "LOCAL3", "user"],
        (_, Parser::RlimitCore) => &["unlimited", "0", "4096"],
        (_, Parser::Pm) => &[],
        _ => &[],
    }
}

/// One-character typos of an entry name: deletion, transposition, substitution, insertion.
fn typo(rng: &mut Rng, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let n = chars.len();
    let i = rng.below(n);
    let letter = (b'a' + rng.below(26) as u8) as char;
    let mut out = chars.clone();
    match rng.below(4) {
        0 if n > 2 => {
            out.remove(i);
        }
        1 if i + 1 < n && chars[i] != chars[i + 1] => out.swap(i, i + 1),
        2 if chars[i] != letter => out[i] = letter,
        _ => out.insert(i, letter),
    }
    out.into_iter().collect()
}

fn mutants_of(rng: &mut Rng, text: &str) -> Vec<Mutant> {
    let Ok(config) = fpm::parse(text) else {
        return Vec::new();
    };
    let pool_name = config
        .sections()
        .find(|s| !s.is_global())
        .map(|s| s.name().to_owned())
        .unwrap_or_else(|| "www".to_owned());
    let mut out = Vec::new();
    let line_no = |at: usize| text[..at].matches('\n').count() + 1;
    let with =
        |start: usize, end: usize, new: &str| format!("{}{new}{}", &text[..start], &text[end..]);
    for (section, e) in config.entries() {
        let name = e.name();
        if name == "include" || e.raw().contains("${") {
            continue;
        }
        let in_global = section.is_none_or(|s| s.is_global());
        let key = &text[e.key_span().range()];
        let line_start = text[..e.span().start as usize]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line_end = text[e.span().end as usize..]
            .find('\n')
            .map_or(text.len(), |i| e.span().end as usize + i);
        let line = &text[line_start..line_end];
        let at = format!("line {}", line_no(e.span().start as usize));
        let ns = e.name_span();
        let vs = e.value_span();
        // Name typos (two) and a case change.
        for _ in 0..2 {
            let t = typo(rng, name);
            out.push(Mutant {
                description: format!("{at}: typo `{name}` -> `{t}`"),
                text: with(ns.start as usize, ns.end as usize, &t),
            });
        }
        if !e.is_array() {
            let upper = name.to_ascii_uppercase();
            out.push(Mutant {
                description: format!("{at}: case `{name}` -> `{upper}`"),
                text: with(ns.start as usize, ns.end as usize, &upper),
            });
        }
        // Values of the entry's type.
        let table = if e.is_array() {
            Section::PoolArray
        } else if in_global {
            Section::Global
        } else {
            Section::Pool
        };
        if let Some(entry) = find(table, name) {
            let bad = bad_values(entry.parser);
            if !bad.is_empty() {
                for _ in 0..2 {
                    let v = rng.pick(bad);
                    out.push(Mutant {
                        description: format!("{at}: `{key}` bad value `{v}`"),
                        text: with(vs.start as usize, vs.end as usize, v),
                    });
                }
            }
            let good = good_values(entry.name, entry.parser);
            if !good.is_empty() {
                let v = rng.pick(good);
                out.push(Mutant {
                    description: format!("{at}: `{key}` good value `{v}`"),
                    text: with(vs.start as usize, vs.end as usize, v),
                });
            }
        }
        // Neutral: blanks around `=`, a comment line before, a trailing comment.
        let eq = e.eq_span();
        let blanks = rng.pick(&["=", "  =  ", "\t=\t", " = "]);
        out.push(Mutant {
            description: format!("{at}: blanks around `=` of `{key}`"),
            text: with(eq.start as usize, eq.end as usize, blanks),
        });
        out.push(Mutant {
            description: format!("{at}: comment line before `{key}`"),
            text: with(
                line_start,
                line_start,
                "; a comment = with an equals sign\n",
            ),
        });
        if !e.raw().contains('"') && !e.raw().contains('\'') {
            out.push(Mutant {
                description: format!("{at}: trailing comment after `{key}`"),
                text: with(e.span().end as usize, e.span().end as usize, " ; note"),
            });
        }
        // Section move: the line leaves its section for the other kind.
        let target = if in_global {
            format!("[{pool_name}]")
        } else {
            "[global]".to_owned()
        };
        let mut moved = with(line_start, (line_end + 1).min(text.len()), "");
        if !moved.ends_with('\n') {
            moved.push('\n');
        }
        moved.push_str(&format!("{target}\n{}\n", line.trim()));
        out.push(Mutant {
            description: format!("{at}: `{key}` moved to {target}"),
            text: moved,
        });
    }
    out
}

/// This repository's php-fpm fixtures that php-fpm accepts, each as one file: php-fpm.conf
/// without its `include` lines, then the pool files.
fn own_fixtures(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let fixtures = root.join("fixtures");
    for rule in [
        "fpm-unknown-entry",
        "fpm-invalid-value",
        "fpm-pm-invalid",
        "fpm-listen-invalid",
    ] {
        let Ok(dirs) = fs::read_dir(fixtures.join(rule)) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = dirs.map(|d| d.unwrap().path()).collect();
        dirs.sort();
        for dir in dirs {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("ok-") || dir.join(".nginx-fpm-lint.toml").exists() {
                continue;
            }
            let mut text = String::new();
            let mut files: Vec<PathBuf> = walk(&dir);
            files.sort_by_key(|p| (p.file_name().unwrap() != "php-fpm.conf", p.clone()));
            for f in files {
                let t = fs::read_to_string(&f).unwrap();
                for l in t.lines().filter(|l| !l.trim_start().starts_with("include")) {
                    text.push_str(l);
                    text.push('\n');
                }
            }
            if !text.is_empty() {
                out.push((format!("fixtures/{rule}/{name}"), text));
            }
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "conf") {
            out.push(p);
        }
    }
    out
}

struct Outcome {
    description: String,
    php_fpm_ok: bool,
    lint_refuses: bool,
    first_error: String,
    lint_errors: String,
}

fn judge_mutants(judge: &Judge, base: &Base, mutants: &[Mutant]) -> (Vec<Outcome>, usize) {
    let settings = Settings::default();
    let file_name = base
        .file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let mut out = Vec::new();
    let mut dropped = 0;
    for m in mutants {
        let v = judge.fpm_t(&base.file, &base.env, m.text.as_bytes());
        if !v.ok && HOST_DEPENDENT.iter().any(|h| v.output.contains(h)) {
            dropped += 1;
            continue;
        }
        let applied = String::from_utf8(base.env.apply(m.text.as_bytes())).unwrap();
        let (refuses, errors, problems) = lint_fpm(&[(&file_name, &applied)], &settings);
        let first_error = v
            .output
            .lines()
            .find(|l| l.contains("ERROR") || l.contains("ALERT") || l.contains("PHP:"))
            .unwrap_or("")
            .to_owned();
        out.push(Outcome {
            description: m.description.clone(),
            php_fpm_ok: v.ok,
            lint_refuses: refuses,
            first_error,
            lint_errors: format!(
                "{} {problems}",
                errors
                    .iter()
                    .map(|d| format!("{}: {}", d.code, d.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        });
    }
    (out, dropped)
}

#[test]
fn lint_agrees_with_php_fpm_on_mutants() {
    let Some(corpus) = corpus_dir() else { return };
    let Some(tools) = tools() else { return };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().unwrap();
    let judges = [Judge::new(tools.clone()), Judge::new(tools)];

    // Bases: the corpus's php-fpm files, then our fixtures, copied where php-fpm may read them.
    let mut sources: Vec<(String, String)> = fpm_rows(&corpus)
        .keys()
        .map(|p| {
            (
                p.clone(),
                fs::read_to_string(corpus.join(p)).unwrap_or_default(),
            )
        })
        .collect();
    let corpus_count = sources.len();
    sources.extend(own_fixtures(repo));
    let mut bases = Vec::new();
    let mut refused_bases = Vec::new();
    let mut base_nfl5 = Vec::new();
    for (i, (name, text)) in sources.iter().enumerate() {
        let file = scratch.path().join(format!("{i}")).join(
            Path::new(name)
                .file_name()
                .map_or("php-fpm.conf".into(), |f| f.to_owned()),
        );
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, text).unwrap();
        match judges[0].fpm_env(&file) {
            Ok(env) => {
                // Accepted by php-fpm: no NFL5xx error on it.
                let applied = String::from_utf8(env.apply(text.as_bytes())).unwrap();
                let file_name = file.file_name().unwrap().to_string_lossy().into_owned();
                let (_, errors, _) = lint_fpm(&[(&file_name, &applied)], &Settings::default());
                for d in errors.iter().filter(|d| d.code.starts_with("NFL5")) {
                    base_nfl5.push(format!("{name}: {}: {}", d.code, d.message));
                }
                bases.push(Base {
                    name: name.clone(),
                    file,
                    text: text.clone(),
                    env,
                });
            }
            Err(v) => {
                refused_bases.push(format!("{name}: {}", v.output.lines().next().unwrap_or("")))
            }
        }
    }

    let mut rng = Rng(SEED);
    let mut work: Vec<(usize, Vec<Mutant>)> = bases
        .iter()
        .enumerate()
        .map(|(i, b)| (i, mutants_of(&mut rng, &b.text)))
        .collect();
    // A seeded sample of every base's mutants, each kept with the same odds.
    let generated: usize = work.iter().map(|(_, m)| m.len()).sum();
    for (_, ms) in &mut work {
        ms.retain(|_| rng.below(generated) < SAMPLE);
    }
    let results: Vec<(usize, Vec<Outcome>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = judges
            .iter()
            .enumerate()
            .map(|(t, judge)| {
                let work = &work;
                let bases = &bases;
                s.spawn(move || {
                    work.iter()
                        .filter(|(i, _)| i % 2 == t)
                        .map(|(i, ms)| {
                            let (o, d) = judge_mutants(judge, &bases[*i], ms);
                            (*i, o, d)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<_> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort_by_key(|(i, _, _)| *i);
        all
    });

    let listed: BTreeSet<String> = fs::read_to_string(repo.join("tests/fpm_disagreements.txt"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split('\t').next().map(str::to_owned))
        .collect();
    let (mut total, mut agree, mut dropped, mut refused) = (0usize, 0usize, 0usize, 0usize);
    let mut unlisted = Vec::new();
    let mut by_kind: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let mut disagreements = Vec::new();
    for (i, outcomes, d) in &results {
        dropped += d;
        for o in outcomes {
            total += 1;
            refused += usize::from(!o.php_fpm_ok);
            let kind = kind_of(&o.description);
            let k = by_kind.entry(kind).or_default();
            k.0 += 1;
            k.1 += usize::from(o.php_fpm_ok != o.lint_refuses);
            if o.php_fpm_ok != o.lint_refuses {
                agree += 1;
                continue;
            }
            let key = format!("{} {}", bases[*i].name, o.description);
            let detail = format!(
                "{key}\tphp-fpm {}: {} | lint: {}",
                if o.php_fpm_ok { "accepts" } else { "refuses" },
                o.first_error.trim(),
                o.lint_errors.trim()
            );
            if !listed.contains(&key) {
                unlisted.push(detail.clone());
            }
            disagreements.push(detail);
        }
    }
    let rate = agree as f64 / total.max(1) as f64;
    eprintln!(
        "php-fpm differential: {} bases ({} corpus, {} fixtures; {} refused as they are), {total} mutants judged ({refused} refused by php-fpm), {dropped} dropped as host-dependent, {agree} agreements, {} disagreements: {:.2}% agreement",
        sources.len(),
        corpus_count,
        sources.len() - corpus_count,
        refused_bases.len(),
        disagreements.len(),
        rate * 100.0
    );
    for (kind, (n, a)) in &by_kind {
        eprintln!("  {kind}: {a}/{n} agree");
    }
    for r in &refused_bases {
        eprintln!("  base refused by php-fpm as it is: {r}");
    }
    for d in &disagreements {
        eprintln!("  {d}");
    }
    assert!(total >= 1000, "only {total} mutants");
    assert!(
        base_nfl5.is_empty(),
        "NFL5xx errors on files php-fpm accepts:\n{}",
        base_nfl5.join("\n")
    );
    assert!(
        rate >= MIN_AGREEMENT,
        "agreement {:.2}% < 99.5%",
        rate * 100.0
    );
    assert!(
        unlisted.is_empty(),
        "disagreements not in tests/fpm_disagreements.txt:\n{}",
        unlisted.join("\n")
    );
}

/// The mutation kind of a description, for the figures.
fn kind_of(description: &str) -> &'static str {
    [
        ("typo", "name typo"),
        ("case", "name case"),
        ("bad value", "bad value"),
        ("good value", "good value"),
        ("blanks", "neutral: blanks"),
        ("comment", "neutral: comment"),
        ("moved", "section move"),
    ]
    .into_iter()
    .find(|(k, _)| description.contains(k))
    .map_or("other", |(_, name)| name)
}
