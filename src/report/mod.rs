//! Output renderers: turn a run's findings into text for people (`human`), for grep and editors
//! (`concise`), for programs (`json`), for code scanning (`sarif`) or for GitHub Actions annotations
//! (`github`).
//!
//! Renderers only build strings; printing, exit codes and sorting belong to the caller. Findings
//! are rendered in the order given.

pub mod concise;
pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

pub use human::HumanOptions;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::fix::Applicability;
use crate::source::{FileId, LineCol, SourceMap, Span};

/// A file that could not be checked at all (unreadable, not UTF-8, syntax error).
///
/// Kept apart from [`Diagnostic`]s: those are findings about a configuration that was understood,
/// these say that part of the configuration was not understood, so the findings may be incomplete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The path as shown to the user.
    pub path: String,
    /// Where in the file, when known.
    pub at: Option<LineCol>,
    /// The offending bytes of a file that never entered the [`SourceMap`] (a binary file's
    /// NUL byte), so JSON and SARIF can give a span all the same.
    pub bytes: Option<Span>,
    /// The offending text, when the file made it into the [`SourceMap`] (e.g. a syntax error);
    /// lets the human renderer show a snippet.
    pub span: Option<(FileId, Span)>,
    pub message: String,
}

impl Problem {
    /// A problem with no position, e.g. an I/O error.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            at: None,
            bytes: None,
            span: None,
            message: message.into(),
        }
    }

    /// A problem at a known position without source text (e.g. invalid UTF-8 at 3:7).
    pub fn at(path: impl Into<String>, at: LineCol, message: impl Into<String>) -> Self {
        Problem {
            at: Some(at),
            ..Problem::new(path, message)
        }
    }

    /// A problem inside a file of the source map, e.g. a syntax error; path and position come
    /// from the file.
    pub fn in_source(
        sources: &SourceMap,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        let f = sources.get(file);
        Problem {
            path: f.name.clone(),
            at: Some(f.line_col(span.start as usize)),
            bytes: None,
            span: Some((file, span)),
            message: message.into(),
        }
    }

    /// `path:line:col` or just `path`.
    pub fn location(&self) -> String {
        match self.at {
            Some(at) => format!("{}:{}", self.path, at),
            None => self.path.clone(),
        }
    }
}

/// Everything a renderer needs about one run.
#[derive(Clone, Copy, Debug)]
pub struct Report<'a> {
    /// Findings, already sorted by the caller.
    pub diagnostics: &'a [Diagnostic],
    /// Every file a label, edit or problem refers to.
    pub sources: &'a SourceMap,
    /// Files that could not be read or parsed.
    pub problems: &'a [Problem],
    /// How many files were linted. Not `sources.len()`: built-in files are not linted files, and
    /// files that failed to read are not in the map.
    pub files_checked: usize,
}

impl<'a> Report<'a> {
    pub fn new(
        diagnostics: &'a [Diagnostic],
        sources: &'a SourceMap,
        problems: &'a [Problem],
        files_checked: usize,
    ) -> Self {
        Report {
            diagnostics,
            sources,
            problems,
            files_checked,
        }
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            files: self.files_checked,
            problems: self.problems.len(),
            unreadable_files: {
                let mut paths: Vec<&str> = self.problems.iter().map(|p| p.path.as_str()).collect();
                paths.sort_unstable();
                paths.dedup();
                paths.len()
            },
            ..Summary::default()
        };
        for d in self.diagnostics {
            match d.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.infos += 1,
            }
            match d.fix.as_ref().map(|f| f.applicability) {
                Some(Applicability::Safe) => s.fixable_safe += 1,
                Some(Applicability::Unsafe) => s.fixable_unsafe += 1,
                Some(Applicability::DisplayOnly) | None => {}
            }
        }
        s
    }
}

/// Counts over one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Findings by severity.
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Findings whose fix `--fix` applies.
    pub fixable_safe: usize,
    /// Findings whose fix only `--unsafe-fixes` applies.
    pub fixable_unsafe: usize,
    /// Files linted.
    pub files: usize,
    /// Read and parse errors (not findings).
    pub problems: usize,
    /// Files those errors are in (a file may have more than one).
    #[serde(skip)]
    pub unreadable_files: usize,
}

impl Summary {
    pub fn findings(&self) -> usize {
        self.errors + self.warnings + self.infos
    }

    /// One line for the end of human output, e.g.
    /// `Checked 2 files: 3 findings (2 errors, 1 warning); 2 fixable with --fix, 1 more with --unsafe-fixes.`
    pub fn line(&self) -> String {
        let mut out = format!("Checked {}: ", plural(self.files, "file", "files"));
        if self.findings() == 0 {
            out.push_str("no findings");
        } else {
            let by_severity: Vec<String> = [
                (self.errors, "error", "errors"),
                (self.warnings, "warning", "warnings"),
                (self.infos, "info", "infos"),
            ]
            .into_iter()
            .filter(|&(n, _, _)| n > 0)
            .map(|(n, one, many)| plural(n, one, many))
            .collect();
            out.push_str(&format!(
                "{} ({})",
                plural(self.findings(), "finding", "findings"),
                by_severity.join(", ")
            ));
            match (self.fixable_safe, self.fixable_unsafe) {
                (0, 0) => {}
                (safe, 0) => out.push_str(&format!("; {safe} fixable with --fix")),
                (0, r#unsafe) => out.push_str(&format!("; {unsafe} fixable with --unsafe-fixes")),
                (safe, r#unsafe) => out.push_str(&format!(
                    "; {safe} fixable with --fix, {unsafe} more with --unsafe-fixes"
                )),
            }
        }
        if self.problems > 0 {
            // Said last and loudly: findings are incomplete when part of the input was not read.
            let files = if self.unreadable_files > 0 {
                self.unreadable_files
            } else {
                self.problems
            };
            out.push_str(&format!(
                "; {} could not be read or parsed (errors above), so findings may be incomplete",
                if files == 1 {
                    "1 file".to_owned()
                } else {
                    format!("{files} files")
                }
            ));
        }
        out.push('.');
        out
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The output formats, for a `--output-format` flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Human,
    Concise,
    Json,
    Sarif,
    Github,
}

impl Format {
    /// Render `report`; `human` only matters for [`Format::Human`].
    pub fn render(self, report: &Report<'_>, human: &HumanOptions) -> String {
        match self {
            Format::Human => human::render(report, human),
            Format::Concise => concise::render(report),
            Format::Json => json::render(report),
            Format::Sarif => sarif::render(report),
            Format::Github => github::render(report),
        }
    }
}

/// The label a finding is reported at; tolerates a diagnostic without labels (`None`) rather
/// than panicking in the middle of output.
pub(crate) fn primary_label(d: &Diagnostic) -> Option<&Label> {
    d.labels.iter().find(|l| l.primary).or(d.labels.first())
}
