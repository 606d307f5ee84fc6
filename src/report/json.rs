//! JSON output: a stable, versioned schema for programs (CI annotations, editors, dashboards).
//!
//! # Schema (version 1)
//!
//! One JSON object. Fields are never removed or renamed within a version; new fields may be
//! added, so consumers should ignore fields they do not know.
//!
//! ```text
//! {
//!   "version": 1,
//!   "diagnostics": [Diagnostic],   // findings, in the order the tool reports them
//!   "problems": [Problem],         // files that could not be read or parsed
//!   "summary": Summary
//! }
//!
//! Diagnostic = {
//!   "code": "NFL101",                        // stable rule code
//!   "name": "fastcgi-pass-no-listener",      // rule name, kebab-case
//!   "severity": "error" | "warning" | "info",
//!   "message": string,                       // what is wrong
//!   "help": string | null,                   // what to do about it
//!   "labels": [Label],                       // at least one; exactly one has "primary": true
//!   "fix": Fix | null
//! }
//!
//! Label = {
//!   "file": string,          // path as shown to the user; built-in files are named like
//!                            // "<builtin debian>/etc/nginx/fastcgi_params"
//!   "builtin": bool,         // true when "file" is not on disk but the tool's copy of a file
//!                            // that distributions ship
//!   "primary": bool,         // the place the finding is reported at
//!   "message": string,       // may be empty
//!   "line": int, "column": int,          // start, 1-based
//!   "end_line": int, "end_column": int,  // end, 1-based, exclusive (just past the last character)
//!   "span": {"start": int, "end": int}   // byte offsets into the file, half-open
//! }
//!
//! Fix = {
//!   "message": string,                                  // imperative summary
//!   "applicability": "safe" | "unsafe" | "display-only",
//!       // safe: applied by --fix; unsafe: only with --unsafe-fixes; display-only: never applied
//!   "edits": [Edit]                                     // sorted by file and position, disjoint
//! }
//!
//! Edit = {
//!   "file": string,
//!   "span": {"start": int, "end": int},      // byte range replaced; empty for an insertion
//!   "start": {"line": int, "column": int},   // 1-based
//!   "end": {"line": int, "column": int},     // 1-based, exclusive
//!   "replacement": string                    // empty for a deletion
//! }
//!
//! Problem = {
//!   "path": string,
//!   "line": int | null, "column": int | null,   // 1-based, when known
//!   "span": {"start": int, "end": int} | null,  // byte offsets, when the file could be read
//!   "message": string
//! }
//!
//! Summary = {
//!   "errors": int, "warnings": int, "infos": int,  // findings by severity
//!   "fixable_safe": int,     // findings whose fix --fix applies
//!   "fixable_unsafe": int,   // findings whose fix only --unsafe-fixes applies
//!   "files": int,            // files linted
//!   "problems": int          // entries in "problems"
//! }
//! ```
//!
//! Columns count Unicode characters, as editors do; `span` offsets count bytes.

use serde::Serialize;

use super::{Problem, Report, Summary};
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::source::{LineCol, SourceMap, Span};

/// The schema version written in `"version"`; bumped only for incompatible changes.
pub const VERSION: u32 = 1;

/// Render the report as pretty-printed JSON with a trailing newline.
pub fn render(report: &Report<'_>) -> String {
    let mut out = serde_json::to_string_pretty(&document(report))
        .expect("the JSON document has string keys only");
    out.push('\n');
    out
}

/// The report as a JSON value, for callers that embed it in something larger.
pub fn to_value(report: &Report<'_>) -> serde_json::Value {
    serde_json::to_value(document(report)).expect("the JSON document has string keys only")
}

fn document<'a>(report: &Report<'a>) -> Document<'a> {
    let map = report.sources;
    Document {
        version: VERSION,
        diagnostics: report
            .diagnostics
            .iter()
            .map(|d| JsonDiagnostic::new(map, d))
            .collect(),
        problems: report.problems.iter().map(JsonProblem::new).collect(),
        summary: report.summary(),
    }
}

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    problems: Vec<JsonProblem<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    name: &'a str,
    severity: Severity,
    message: &'a str,
    help: Option<&'a str>,
    labels: Vec<JsonLabel<'a>>,
    fix: Option<JsonFix<'a>>,
}

impl<'a> JsonDiagnostic<'a> {
    fn new(map: &'a SourceMap, d: &'a Diagnostic) -> Self {
        JsonDiagnostic {
            code: d.code,
            name: d.name,
            severity: d.severity,
            message: &d.message,
            help: d.help.as_deref(),
            labels: d.labels.iter().map(|l| JsonLabel::new(map, l)).collect(),
            fix: d.fix.as_ref().map(|f| JsonFix::new(map, f)),
        }
    }
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    builtin: bool,
    primary: bool,
    message: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    span: Span,
}

impl<'a> JsonLabel<'a> {
    fn new(map: &'a SourceMap, l: &'a Label) -> Self {
        let f = map.get(l.file);
        let start = f.line_col(l.span.start as usize);
        let end = f.line_col(l.span.end as usize);
        JsonLabel {
            file: &f.name,
            builtin: f.is_builtin(),
            primary: l.primary,
            message: &l.message,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            span: l.span,
        }
    }
}

#[derive(Serialize)]
struct JsonFix<'a> {
    message: &'a str,
    applicability: Applicability,
    edits: Vec<JsonEdit<'a>>,
}

impl<'a> JsonFix<'a> {
    fn new(map: &'a SourceMap, f: &'a Fix) -> Self {
        JsonFix {
            message: &f.message,
            applicability: f.applicability,
            edits: f.edits.iter().map(|e| JsonEdit::new(map, e)).collect(),
        }
    }
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    file: &'a str,
    span: Span,
    start: LineCol,
    end: LineCol,
    replacement: &'a str,
}

impl<'a> JsonEdit<'a> {
    fn new(map: &'a SourceMap, e: &'a Edit) -> Self {
        let f = map.get(e.file);
        JsonEdit {
            file: &f.name,
            span: e.span,
            start: f.line_col(e.span.start as usize),
            end: f.line_col(e.span.end as usize),
            replacement: &e.replacement,
        }
    }
}

#[derive(Serialize)]
struct JsonProblem<'a> {
    path: &'a str,
    line: Option<u32>,
    column: Option<u32>,
    span: Option<Span>,
    message: &'a str,
}

impl<'a> JsonProblem<'a> {
    fn new(p: &'a Problem) -> Self {
        JsonProblem {
            path: &p.path,
            line: p.at.map(|a| a.line),
            column: p.at.map(|a| a.column),
            span: p.span.map(|(_, s)| s).or(p.bytes),
            message: &p.message,
        }
    }
}
