//! What the php-fpm tests share: running the real `php-fpm -t` on a configuration, and the
//! linter's verdict on the same text.
//!
//! The linter "refuses" a configuration when it cannot parse it or reports an error of the
//! rules that mirror what php-fpm refuses while reading its configuration:
//! fpm-unknown-entry (NFL501), fpm-invalid-value (NFL502) and fpm-pm-invalid (NFL301,
//! which owns `pm` and the process manager's numbers). fpm-listen-invalid (NFL304) is left
//! out: most of what it reports (a port out of range) passes `php-fpm -t` and fails only at
//! start.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use nginx_fpm_lint::diagnostic::{Diagnostic, Severity};
use nginx_fpm_lint::lint::{all_rules, lint_project};
use nginx_fpm_lint::project::{Options, Project};
use nginx_fpm_lint::settings::Settings;

pub const REFUSAL_RULES: [&str; 3] = ["NFL301", "NFL501", "NFL502"];

/// What `php-fpm -t` said: accepted, and its first ERROR or ALERT line without the
/// timestamp and the `[file:line]` / `[pool x]` prefix.
#[derive(Clone, Debug)]
pub struct FpmVerdict {
    pub ok: bool,
    pub first_error: String,
    pub output: String,
}

/// `php-fpm -n -t -R -y conf`.
pub fn php_fpm_t(php_fpm: &Path, conf: &Path) -> FpmVerdict {
    let out = Command::new(php_fpm)
        .args(["-n", "-t", "-R", "-y"])
        .arg(conf)
        .output()
        .expect("run php-fpm");
    let output =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let first_error = output
        .lines()
        .find(|l| l.contains("ERROR: ") || l.contains("ALERT: ") || l.contains("PHP:"))
        .map(|l| strip_prefixes(l).to_owned())
        .unwrap_or_default();
    FpmVerdict {
        ok: out.status.success(),
        first_error,
        output,
    }
}

/// `[03-Dec-2026 13:08:50] ERROR: [c.conf:11] unknown entry 'x'` -> `unknown entry 'x'`.
fn strip_prefixes(line: &str) -> &str {
    let mut rest = line;
    for level in ["ERROR: ", "ALERT: "] {
        if let Some((_, r)) = rest.split_once(level) {
            rest = r;
        }
    }
    loop {
        let trimmed = rest.trim_start();
        match trimmed.strip_prefix('[').and_then(|r| r.split_once("] ")) {
            Some((inside, r)) if inside.contains(':') || inside.starts_with("pool ") => rest = r,
            _ => return trimmed,
        }
    }
}

/// The linter on one in-memory php-fpm.conf: (refuses?, the refusal errors, syntax problems).
pub fn lint_fpm(files: &[(&str, &str)], settings: &Settings) -> (bool, Vec<Diagnostic>, String) {
    let out = lint_project(
        Project::from_memory(files, Options::default()),
        settings,
        &all_rules,
    );
    let problems = format!("{:?}", out.project.problems);
    let errors: Vec<Diagnostic> = out
        .diagnostics
        .into_iter()
        .filter(|d| d.severity == Severity::Error && REFUSAL_RULES.contains(&d.code))
        .collect();
    let refuses = !out.project.problems.is_empty() || !errors.is_empty();
    (refuses, errors, problems)
}
