//! Lossless syntax trees for both languages, built from the pest grammars in `grammar/`.
//!
//! Every node keeps its byte span; every byte of the input belongs to exactly one leaf, and
//! printing the leaves in order gives the input back byte for byte.

pub mod fpm;
pub mod nginx;
mod small_text;

pub use small_text::SmallText;

use crate::source::{LineCol, Span};

/// A syntax error at a position in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    pub at: LineCol,
    pub message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Check that leaves cover `0..len` without gap or overlap; used by the round-trip tests.
pub fn leaves_cover(mut leaves: Vec<Span>, len: usize) -> Result<(), String> {
    leaves.sort();
    let mut at = 0u32;
    for s in leaves {
        if s.start != at {
            return Err(format!("leaf {:?} does not start at {at}", s));
        }
        at = s.end;
    }
    if at as usize != len {
        return Err(format!("leaves end at {at}, input has {len} bytes"));
    }
    Ok(())
}
