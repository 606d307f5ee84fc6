//! The one finding type that every output format reads.

use crate::fix::Fix;
use crate::source::{FileId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a secondary label that names the likely intended target ends (NFL101's pool "probably
/// the one meant"); the concise output repeats such a label, since it shows no other.
pub const PROBABLY_MEANT: &str = ": probably the one meant";

/// A place involved in a finding. A cross-file finding has labels in several files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
    /// The place the finding is reported at (exactly one label per diagnostic).
    pub primary: bool,
}

impl Label {
    pub fn primary(file: FileId, span: Span, message: impl Into<String>) -> Self {
        Label {
            file,
            span,
            message: message.into(),
            primary: true,
        }
    }

    pub fn secondary(file: FileId, span: Span, message: impl Into<String>) -> Self {
        Label {
            file,
            span,
            message: message.into(),
            primary: false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Stable code from the registry, e.g. `NFL101`.
    pub code: &'static str,
    /// Kebab-case rule name, e.g. `fastcgi-pass-no-listener`.
    pub name: &'static str,
    pub severity: Severity,
    /// What is wrong, naming the values involved.
    pub message: String,
    pub labels: Vec<Label>,
    /// What to do about it (often the same text for every finding of a rule: shared).
    pub help: Option<std::sync::Arc<str>>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn primary_label(&self) -> &Label {
        self.labels
            .iter()
            .find(|l| l.primary)
            .unwrap_or(&self.labels[0])
    }

    /// Sort key: file, position, code; gives stable output whatever order rules ran in.
    pub fn sort_key(&self) -> (FileId, Span, &'static str) {
        let l = self.primary_label();
        (l.file, l.span, self.code)
    }
}
