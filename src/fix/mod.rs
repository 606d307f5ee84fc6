//! Edits, fixes and their safety. Applying them and rendering diffs lives in submodules.

pub mod apply;
pub mod diff;
pub mod insert;
pub mod write;

use crate::source::{FileId, Span};

/// How sure a fix is of itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Shown only; never applied.
    DisplayOnly,
    /// Changes behaviour beyond the finding, or guesses: applied with `--unsafe-fixes`.
    Unsafe,
    /// Applied by `--fix`.
    Safe,
}

/// Replace `span` in `file` with `replacement`. An empty span inserts; an empty replacement deletes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edit {
    pub file: FileId,
    pub span: Span,
    pub replacement: String,
}

impl Edit {
    pub fn replace(file: FileId, span: Span, replacement: impl Into<String>) -> Self {
        Edit {
            file,
            span,
            replacement: replacement.into(),
        }
    }

    pub fn insert(file: FileId, offset: usize, text: impl Into<String>) -> Self {
        Edit {
            file,
            span: Span::empty(offset),
            replacement: text.into(),
        }
    }

    pub fn delete(file: FileId, span: Span) -> Self {
        Edit {
            file,
            span,
            replacement: String::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// Imperative summary, e.g. "point fastcgi_pass at unix:/run/php/php8.2-fpm.sock".
    pub message: String,
    pub applicability: Applicability,
    /// Sorted by file and position; never overlapping.
    pub edits: Vec<Edit>,
}

impl Fix {
    pub fn new(
        message: impl Into<String>,
        applicability: Applicability,
        mut edits: Vec<Edit>,
    ) -> Self {
        edits.sort();
        Fix {
            message: message.into(),
            applicability,
            edits,
        }
    }
}
