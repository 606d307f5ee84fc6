//! Run a parsed command line: lint, fix, report, and the exit code.
//!
//! Exit codes: 0 nothing at or above `--fail-on`; 1 findings at or above it (or, with
//! `--diff`, a non-empty diff); 2 usage, I/O or syntax errors.

use std::io::{IsTerminal, Write};

use crate::cli::{Cli, Command, FailOn, Format, LintArgs, ParseArgs, TreeArgs};
use crate::diagnostic::Severity;
use crate::fix::diff::unified_diff;
use crate::fix::write::write_atomic;
use crate::fix::Applicability;
use crate::lint::{all_rules, fix_all, lint_paths, Fixed};
use crate::project::{Options, Project};
use crate::report::{self, HumanOptions, Report};
use crate::rules::{self, RULES};
use crate::settings::Settings;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

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
        out.push_str(&format!(
            "{code:<8} {:<34} {:<8} {fix}\n",
            m.name,
            m.severity.as_str()
        ));
    }
    out
}

fn options_and_settings(tree: &TreeArgs) -> (Options, Settings) {
    let options = Options {
        nginx_prefix: tree
            .nginx_prefix
            .as_ref()
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
        path_maps: tree
            .maps
            .iter()
            .map(|(from, to)| {
                (
                    from.clone(),
                    std::fs::canonicalize(to).unwrap_or_else(|_| to.clone()),
                )
            })
            .collect(),
        platform: tree.platform,
        overrides: Default::default(),
    };
    let defaults = Settings::default();
    let settings = Settings {
        platform: tree.platform,
        nginx_user: tree.nginx_user.clone(),
        memory_budget: tree.memory,
        worker_memory: tree.worker_memory.unwrap_or(defaults.worker_memory),
        min_header_buffer: tree.min_header_buffer.unwrap_or(defaults.min_header_buffer),
        ..defaults
    };
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

    let threshold = if args.unsafe_fixes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    let mut fixed: Option<Fixed> = None;
    if args.fix || args.diff {
        let f = fix_all(&first, &args.paths, &options, &settings, threshold);
        if let Some(w) = &f.warning {
            eprintln!("warning: {w}");
        }
        fixed = Some(f);
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
        return if patch.is_empty() {
            EXIT_OK
        } else {
            EXIT_FINDINGS
        };
    }

    let mut write_failed = false;
    let shown = if let Some(fixed) = fixed {
        for (id, new) in &fixed.changed {
            let file = first.project.sources.get(*id);
            let Some(path) = file.disk_path() else {
                continue;
            };
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
    let report = Report::new(
        &shown.diagnostics,
        &shown.project.sources,
        &shown.project.problems,
        files_checked,
    );
    let stdout_tty = std::io::stdout().is_terminal();
    let format = args.format.unwrap_or(if stdout_tty {
        Format::Human
    } else {
        Format::Concise
    });
    let color =
        stdout_tty && !args.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = match format {
        Format::Human => report::human::render(
            &report,
            &HumanOptions {
                color,
                width: terminal_width(),
            },
        ),
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

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

/// Print to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
