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

/// `leaves` (in order) and the blanks between them: together they cover `0..len`.
fn with_blanks(leaves: Vec<Span>, len: usize) -> Vec<Span> {
    let mut out = Vec::with_capacity(leaves.len() * 2 + 1);
    let mut at = 0;
    for leaf in leaves {
        if leaf.start > at {
            out.push(Span::new(at as usize, leaf.start as usize));
        }
        at = at.max(leaf.end);
        out.push(leaf);
    }
    if len > at as usize {
        out.push(Span::new(at as usize, len));
    }
    out
}

/// Check that `leaves` (in order) account for `text`: they never overlap or run past it, and
/// every byte outside them is a blank (space, tab, CR, LF).
fn check_leaves(leaves: &[Span], text: &[u8]) -> Result<(), String> {
    let is_blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let not_blank = |from: u32, gap: &[u8]| match gap.iter().position(|c| !is_blank(c)) {
        Some(k) => Err(format!(
            "byte {} is in no leaf and not a blank",
            from as usize + k
        )),
        None => Ok(()),
    };
    let mut at = 0u32;
    for &leaf in leaves {
        if leaf.start < at {
            return Err(format!("leaf {leaf:?} overlaps the one ending at {at}"));
        }
        if leaf.end as usize > text.len() {
            return Err(format!("leaf {leaf:?} ends after the input"));
        }
        not_blank(at, &text[at as usize..leaf.start as usize])?;
        at = leaf.end;
    }
    not_blank(at, &text[at as usize..])
}

/// The text of `spans`, concatenated.
fn print_spans(spans: &[Span], text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for s in spans {
        out.push_str(&text[s.range()]);
    }
    out
}

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
