//! Concise output: one line per problem and per finding, for grep, editors' quickfix lists and CI
//! logs.
//!
//! ```text
//! sites/app.conf:3:1: error: expected `;` after directive
//! sites/app.conf:7:22: error[NFL101 fastcgi-pass-no-listener] fastcgi_pass points at ...
//! ```
//!
//! Only the primary label is given; secondary labels, help and fixes are in the JSON output. No
//! summary line, so every line parses the same way. [`render_linked`], what the command line
//! prints, adds the likely intended target (NFL101's pool) and the rule's documentation URL
//! at the end of a finding's line, as ruff does.

use super::{primary_label, Report};
use crate::diagnostic::{Diagnostic, PROBABLY_MEANT};

pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for p in report.problems {
        out.push_str(&format!(
            "{}: error: {}\n",
            p.location(),
            one_line(&p.message)
        ));
    }
    for d in report.diagnostics {
        out.push_str(&line(report, d));
        out.push('\n');
    }
    out
}

/// As [`render`], each finding followed by the label naming what was probably meant, if any,
/// and the URL of the rule's documentation.
pub fn render_linked(report: &Report<'_>) -> String {
    let mut out = String::new();
    for p in report.problems {
        out.push_str(&format!(
            "{}: error: {}\n",
            p.location(),
            one_line(&p.message)
        ));
    }
    for d in report.diagnostics {
        out.push_str(&line(report, d));
        if let Some(l) = d
            .labels
            .iter()
            .find(|l| !l.primary && l.message.ends_with(PROBABLY_MEANT))
        {
            let f = report.sources.get(l.file);
            out.push_str(&format!(
                " (probably meant: {}, {}:{})",
                l.message.trim_end_matches(PROBABLY_MEANT),
                f.name,
                f.line_col(l.span.start as usize)
            ));
        }
        out.push_str(&format!(" {}\n", crate::docs::rule_url(d.name)));
    }
    out
}

fn line(report: &Report<'_>, d: &Diagnostic) -> String {
    let location = match primary_label(d) {
        Some(l) => {
            let f = report.sources.get(l.file);
            format!("{}:{}", f.name, f.line_col(l.span.start as usize))
        }
        None => "<unknown>".to_string(),
    };
    format!(
        "{location}: {}[{} {}] {}",
        d.severity,
        d.code,
        d.name,
        one_line(&d.message)
    )
}

/// A message with a newline would break one-finding-per-line.
fn one_line(s: &str) -> String {
    s.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}
