//! A hand-written parser for the common case, producing exactly the tree the pest grammar
//! (`grammar/nginx.pest`, the reference) produces.
//!
//! Why: pest spends about 1,400 instructions a byte on nginx files (per-character ordered
//! choices and look-aheads); this spends a few dozen. It follows the grammar's first choice at
//! every step and gives up (`None`) wherever the grammar would backtrack into another
//! alternative or fail: the caller then runs pest, which decides (and words the error). So a
//! `Some` is always the tree pest would build; the differential fuzz target and proptests
//! check exactly that.

use super::{EndKind, Quote, TreeBuilder};
use crate::source::Span;

/// The tree's arrays, for the caller to attach the text to.
pub(super) fn parse(text: &str) -> Option<Box<TreeBuilder>> {
    let mut p = Parser {
        text,
        b: text.as_bytes(),
        i: 0,
        tree: TreeBuilder::new(),
    };
    if text.starts_with('\u{FEFF}') {
        p.i = 3;
    }
    // A "}" left over at the top level is not this parser's to explain either.
    if p.items(0).is_some() && p.i == p.b.len() {
        Some(p.tree)
    } else {
        p.tree.recycle();
        None
    }
}

enum Lua {
    Plain,
    Parsed,
    Bail,
}

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    tree: Box<TreeBuilder>,
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Blanks are not stored in the tree.
    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.i += 1;
        }
    }

    /// `#` up to, not including, "\n" or "\r\n" (a lone "\r" belongs to the comment).
    fn comment(&mut self) -> Span {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == b'\n' || (c == b'\r' && self.b.get(self.i + 1) == Some(&b'\n')) {
                break;
            }
            self.i += 1;
        }
        Span::new(start, self.i)
    }

    /// `items`, up to a "}" or the end of the text.
    fn items(&mut self, depth: usize) -> Option<()> {
        while let Some(c) = self.peek() {
            match c {
                c if is_ws(c) => self.skip_space(),
                b'#' => {
                    let span = self.comment();
                    self.tree.comment(span);
                }
                b'}' => break,
                b';' | b'{' => return None,
                _ => self.directive(depth)?,
            }
        }
        Some(())
    }

    fn gap(&mut self) {
        while let Some(c) = self.peek() {
            if is_ws(c) {
                self.skip_space();
            } else if c == b'#' {
                let span = self.comment();
                self.tree.comment(span);
            } else {
                break;
            }
        }
    }

    fn directive(&mut self, depth: usize) -> Option<()> {
        if depth > super::MAX_NESTING {
            return None;
        }
        let start = self.i;
        let (words, comments, unescaped) = (
            self.tree.words.len(),
            self.tree.comments.len(),
            self.tree.unescaped.len(),
        );
        let index = self.tree.start_directive();
        match self.lua_directive(index, start) {
            Lua::Parsed => return Some(()),
            Lua::Bail => return None,
            Lua::Plain => {
                // Read it again as a plain directive: forget what the attempt added.
                self.tree.truncate(index, words, comments, unescaped);
                let again = self.tree.start_directive();
                debug_assert_eq!(again, index);
            }
        }
        self.i = start;
        self.word()?;
        loop {
            let before_gap = self.i;
            self.gap();
            let gapped = self.i > before_gap;
            match self.peek() {
                None => return None,
                Some(b';') => {
                    let at = self.i as u32;
                    self.tree.finish(index, EndKind::Semicolon, at, at);
                    self.i += 1;
                    return Some(());
                }
                Some(b'{') => {
                    let open = self.i as u32;
                    self.i += 1;
                    self.items(depth + 1)?;
                    if self.peek() != Some(b'}') {
                        return None;
                    }
                    let close = self.i as u32;
                    self.i += 1;
                    self.tree.finish(index, EndKind::Block, open, close);
                    return Some(());
                }
                Some(b'}') => return None,
                // A word right after a quoted one, without a gap, only when it starts with ")".
                Some(c) if gapped || c == b')' => self.word()?,
                Some(_) => return None,
            }
        }
    }

    fn word(&mut self) -> Option<()> {
        let start = self.i;
        let quote = match self.peek()? {
            b'"' => Quote::Double,
            b'\'' => Quote::Single,
            _ => Quote::None,
        };
        if quote == Quote::None {
            // bare_first excludes these (ws and "#" never reach here).
            if matches!(self.b[start], b';' | b'{' | b'}' | b'#') || is_ws(self.b[start]) {
                return None;
            }
            while let Some(c) = self.peek() {
                match c {
                    b'\\' if self.i + 1 < self.b.len() => self.i += 2,
                    b'$' if self.b.get(self.i + 1) == Some(&b'{') => self.i += 2,
                    c if is_ws(c) || c == b';' || c == b'{' => break,
                    _ => self.i += 1,
                }
            }
            // "\\" ~ ANY takes a whole character; keep the offset on a boundary.
            while !self.text.is_char_boundary(self.i) {
                self.i += 1;
            }
        } else {
            let q = self.b[start];
            self.i += 1;
            loop {
                match self.peek()? {
                    b'\\' if self.i + 1 < self.b.len() => self.i += 2,
                    c if c == q => break,
                    _ => self.i += 1,
                }
            }
            self.i += 1;
            // after_quote
            match self.peek() {
                Some(c) if is_ws(c) || matches!(c, b';' | b'{' | b')') => {}
                _ => return None,
            }
            if !self.text.is_char_boundary(self.i) {
                return None;
            }
        }
        self.tree.word(self.text, Span::new(start, self.i));
        Some(())
    }

    /// `*_by_lua_block { ... }`, the name bare or quoted.
    fn lua_directive(&mut self, index: usize, start: usize) -> Lua {
        let Some(len) = super::lua_block_name_len(self.b, start) else {
            return Lua::Plain;
        };
        self.i = start + len;
        self.tree.word(self.text, Span::new(start, start + len));
        self.gap();
        if self.peek() != Some(b'{') {
            return Lua::Plain;
        }
        let open = self.i;
        let body_start = self.i + 1;
        // An unbalanced body makes the grammar try a plain directive instead: leave that to pest.
        let Some(body_end) = self.lua_chunks(body_start, 0) else {
            return Lua::Bail;
        };
        if self.b.get(body_end) != Some(&b'}') {
            return Lua::Bail;
        }
        self.i = body_end + 1;
        self.tree
            .finish(index, EndKind::Raw, open as u32, body_end as u32);
        Lua::Parsed
    }

    /// `lua_chunk*` from `i`: the offset where it stops (at a "}" or the end).
    fn lua_chunks(&self, mut i: usize, depth: usize) -> Option<usize> {
        if depth > super::MAX_NESTING {
            return None;
        }
        let b = self.b;
        while i < b.len() {
            match b[i] {
                b'-' if b.get(i + 1) == Some(&b'-') => {
                    i += 2;
                    match self.long_string(i) {
                        Some(end) => i = end,
                        None => {
                            while i < b.len() && b[i] != b'\n' {
                                i += 1;
                            }
                        }
                    }
                }
                b'[' => i = self.long_string(i).unwrap_or(i + 1),
                q @ (b'"' | b'\'') => {
                    let mut j = i + 1;
                    let mut closed = false;
                    while j < b.len() {
                        match b[j] {
                            b'\\' if j + 1 < b.len() => j += 2,
                            c if c == q => {
                                closed = true;
                                break;
                            }
                            b'\n' => break,
                            _ => j += 1,
                        }
                    }
                    i = if closed { j + 1 } else { i + 1 };
                }
                b'{' => {
                    let end = self.lua_chunks(i + 1, depth + 1)?;
                    if b.get(end) != Some(&b'}') {
                        return None;
                    }
                    i = end + 1;
                }
                b'}' => return Some(i),
                _ => i += 1,
            }
        }
        Some(i)
    }

    /// A Lua long string `[==[ ... ]==]` at `i`: the offset after it, if it is one and closes.
    fn long_string(&self, i: usize) -> Option<usize> {
        let b = self.b;
        if b.get(i) != Some(&b'[') {
            return None;
        }
        let eqs = b[i + 1..].iter().take_while(|&&c| c == b'=').count();
        if b.get(i + 1 + eqs) != Some(&b'[') {
            return None;
        }
        let mut j = i + 2 + eqs;
        while j < b.len() {
            if b[j] == b']'
                && b.len() > j + 1 + eqs
                && b[j + 1..j + 1 + eqs].iter().all(|&c| c == b'=')
                && b[j + 1 + eqs] == b']'
            {
                return Some(j + 2 + eqs);
            }
            j += 1;
        }
        None
    }
}
