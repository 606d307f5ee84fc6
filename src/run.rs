//! Run a parsed command line: lint, fix, report, and the exit code.
//!
//! Exit codes: 0 nothing at or above `--fail-on`; 1 findings at or above it (or, with
//! `--diff`, a non-empty diff); 2 usage, I/O or syntax errors.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::cli::{Cli, Command, FailOn, Format, LintArgs, ParseArgs, TreeArgs};
use crate::diagnostic::Severity;
use crate::fix::apply::{fix_until_stable, FixOutcome};
use crate::fix::diff::unified_diff;
use crate::fix::write::write_atomic;
use crate::fix::{Applicability, Fix};
use crate::lint::{all_rules, lint_paths, lint_project, LintOutput};
use crate::project::{Options, Project};
use crate::report::{self, HumanOptions, Report};
use crate::rules::{self, RULES};
use crate::settings::Settings;
use crate::source::FileId;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// Fix rounds before giving up on convergence.
const MAX_FIX_ROUNDS: usize = 10;

pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Lint(args) => lint(args),
        Command::Parse(args) => parse(args),
        Command::Rules => {
            print_stdout(&rules_table());
            EXIT_OK
        }
        Command::Explain { rule } => match rules::lookup(&rule) {
            Some((code, r)) => {
                let m = r.meta();
                print_stdout(&format!(
                    "{code} {}\nseverity: {}  fix: {:?}\n\n{}\n",
                    m.name,
                    m.severity,
                    m.fix,
                    rules::docs_text(m).trim_end()
                ));
                EXIT_OK
            }
            None => {
                eprintln!("error: no rule named {rule:?}; `nginx-fpm-lint rules` lists them");
                EXIT_ERROR
            }
        },
    }
}

/// Rules as a table: code, name, default severity, fixable.
pub fn rules_table() -> String {
    let mut out = format!("{:<8} {:<34} {:<8} {}\n", "CODE", "NAME", "SEVERITY", "FIX");
    for (code, rule) in RULES {
        let m = rule.meta();
        let fix = match m.fix {
            rules::FixAvailability::Always => "always",
            rules::FixAvailability::Sometimes => "sometimes",
            rules::FixAvailability::Never => "-",
        };
        out.push_str(&format!("{code:<8} {:<34} {:<8} {fix}\n", m.name, m.severity.as_str()));
    }
    out
}

fn options_and_settings(tree: &TreeArgs) -> (Options, Settings) {
    let options = Options {
        nginx_prefix: tree.nginx_prefix.as_ref().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
        path_maps: tree
            .maps
            .iter()
            .map(|(from, to)| (from.clone(), std::fs::canonicalize(to).unwrap_or_else(|_| to.clone())))
            .collect(),
        platform: tree.platform,
        overrides: Default::default(),
    };
    let settings = Settings { platform: tree.platform, nginx_user: tree.nginx_user.clone() };
    (options, settings)
}

fn parse(args: ParseArgs) -> u8 {
    let (options, _) = options_and_settings(&args.tree);
    let mut project = Project::load(&args.paths, options);
    let includes = crate::model::nginx::resolve_includes(&mut project);
    let value = crate::parse_json::render(&project, &includes, args.comments);
    let text = serde_json::to_string_pretty(&value).expect("JSON values always serialize");
    print_stdout(&format!("{text}\n"));
    if project.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    }
}

fn lint(args: LintArgs) -> u8 {
    let (options, settings) = options_and_settings(&args.tree);
    let select = all_rules;
    let first = lint_paths(&args.paths, options.clone(), &settings, &select);

    let threshold = if args.unsafe_fixes { Applicability::Unsafe } else { Applicability::Safe };
    let mut fixed: Option<Fixed> = None;
    if args.fix || args.diff {
        match fix_all(&first, &args.paths, &options, &settings, threshold) {
            Ok(f) => fixed = Some(f),
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_ERROR;
            }
        }
    }

    if args.diff {
        let fixed = fixed.expect("computed above");
        let mut patch = String::new();
        for (id, new) in &fixed.changed {
            let file = first.project.sources.get(*id);
            patch.push_str(&unified_diff(&file.text, new, &file.name));
        }
        print_stdout(&patch);
        let remaining = fixed.after.diagnostics.len();
        eprintln!(
            "{} fix{} in {} file{}; {} finding{} would remain.",
            fixed.applied,
            if fixed.applied == 1 { "" } else { "es" },
            fixed.changed.len(),
            if fixed.changed.len() == 1 { "" } else { "s" },
            remaining,
            if remaining == 1 { "" } else { "s" }
        );
        if !first.project.problems.is_empty() {
            return EXIT_ERROR;
        }
        return if patch.is_empty() { EXIT_OK } else { EXIT_FINDINGS };
    }

    let mut write_failed = false;
    let shown = if let Some(fixed) = fixed {
        for (id, new) in &fixed.changed {
            let file = first.project.sources.get(*id);
            let Some(path) = file.disk_path() else { continue };
            if let Err(e) = write_atomic(path, new.as_bytes(), file.text.as_bytes()) {
                eprintln!("error: {e}");
                write_failed = true;
            }
        }
        if fixed.applied > 0 {
            eprintln!(
                "Fixed {} finding{} in {} file{}.",
                fixed.applied,
                if fixed.applied == 1 { "" } else { "s" },
                fixed.changed.len(),
                if fixed.changed.len() == 1 { "" } else { "s" }
            );
        }
        fixed.after
    } else {
        first
    };

    let files_checked = shown.project.discovered.len();
    let report = Report::new(&shown.diagnostics, &shown.project.sources, &shown.project.problems, files_checked);
    let stdout_tty = std::io::stdout().is_terminal();
    let format = args.format.unwrap_or(if stdout_tty { Format::Human } else { Format::Concise });
    let color = stdout_tty && !args.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = match format {
        Format::Human => report::human::render(&report, &HumanOptions { color, width: terminal_width() }),
        Format::Concise => {
            let mut t = report::concise::render(&report);
            if !shown.diagnostics.is_empty() || !shown.project.problems.is_empty() {
                t.push_str(&report.summary().line());
                t.push('\n');
            }
            t
        }
        Format::Json => report::json::render(&report),
    };
    print_stdout(&text);

    if write_failed || !shown.project.problems.is_empty() {
        return EXIT_ERROR;
    }
    let floor = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    if shown.diagnostics.iter().any(|d| d.severity >= floor) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

struct Fixed {
    /// New text per file of the first run's project, only for files that changed.
    changed: BTreeMap<FileId, String>,
    applied: usize,
    /// The lint run over the fixed texts: what remains.
    after: LintOutput,
}

/// Apply fixes round after round (re-linting the edited texts in memory) until none apply.
fn fix_all(first: &LintOutput, paths: &[PathBuf], options: &Options, settings: &Settings, threshold: Applicability) -> Result<Fixed, String> {
    let project = &first.project;
    // Only files read from disk can be edited; packaged (built-in) files never are.
    let editable: BTreeMap<FileId, PathBuf> = project
        .sources
        .iter()
        .filter_map(|(id, _)| project.canonical_path(id).map(|p| (id, p.to_path_buf())))
        .collect();
    let initial: BTreeMap<FileId, String> =
        editable.keys().map(|&id| (id, project.sources.get(id).text.clone())).collect();

    let relint = |texts: &BTreeMap<FileId, String>| -> LintOutput {
        let mut opts = options.clone();
        for (id, text) in texts {
            if *text != project.sources.get(*id).text {
                opts.overrides.insert(editable[id].clone(), text.clone());
            }
        }
        lint_project(Project::load(paths, opts), settings, &all_rules)
    };
    // Map a re-lint's files back to the first run's ids through their canonical paths.
    let by_path: BTreeMap<&PathBuf, FileId> = editable.iter().map(|(id, p)| (p, *id)).collect();

    let round = |texts: &BTreeMap<FileId, String>| -> Result<Vec<Fix>, (FileId, String)> {
        let out = relint(texts);
        let map_id = |id: FileId| out.project.canonical_path(id).and_then(|p| by_path.get(&p.to_path_buf()).copied());
        // A file that parsed before and not after the edits: the fix broke it.
        for p in &out.project.problems {
            if let Some((id, _)) = p.span {
                if let Some(orig) = map_id(id) {
                    if texts[&orig] != project.sources.get(orig).text {
                        return Err((orig, p.location() + ": " + &p.message));
                    }
                }
            }
        }
        let mut fixes = Vec::new();
        for d in &out.diagnostics {
            let Some(fix) = &d.fix else { continue };
            if fix.applicability < threshold {
                continue;
            }
            let edits: Option<Vec<_>> = fix
                .edits
                .iter()
                .map(|e| map_id(e.file).map(|file| crate::fix::Edit { file, ..e.clone() }))
                .collect();
            if let Some(edits) = edits {
                fixes.push(Fix::new(fix.message.clone(), fix.applicability, edits));
            }
        }
        Ok(fixes)
    };

    let outcome: FixOutcome = match fix_until_stable(initial.clone(), MAX_FIX_ROUNDS, round) {
        Ok(o) => o,
        Err(e) => {
            let name = &project.sources.get(e.file).name;
            eprintln!("warning: a fix left {name} unparsable ({}); that round was not applied", e.error);
            e.kept
        }
    };
    let changed: BTreeMap<FileId, String> =
        outcome.texts.into_iter().filter(|(id, text)| *text != initial[id]).collect();
    let after = relint(&changed.iter().map(|(k, v)| (*k, v.clone())).collect());
    Ok(Fixed { changed, applied: outcome.applied.len(), after })
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100)
}

/// Print to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
