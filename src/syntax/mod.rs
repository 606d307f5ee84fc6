//! Lossless syntax trees for both languages, built from the pest grammars in `grammar/`.
//!
//! Every node keeps its byte span and printing a tree gives the input back byte for byte. Trees
//! leave out the blanks between tokens (millions of them in a large tree), so every byte is in
//! one leaf or is a space, tab, CR or LF between leaves (`check_lossless` in both languages).
//! php-fpm trees are flat records of offsets into the file's shared text, read through handles
//! (`fpm::Entry`, `fpm::Section`).

pub mod fpm;
pub mod nginx;

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
