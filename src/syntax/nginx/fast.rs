//! A hand-written parser for the common case, producing exactly the tree the pest grammar
//! (`grammar/nginx.pest`, the reference) produces.
//!
//! Why: pest spends about 1,400 instructions a byte on nginx files (per-character ordered
//! choices and look-aheads); this spends a few dozen. It follows the grammar's first choice at
//! every step and gives up (`None`) wherever the grammar would backtrack into another
//! alternative or fail: the caller then runs pest, which decides (and words the error). So a
//! `Some` is always the tree pest would build; the differential fuzz target and proptests
//! check exactly that.

use super::{Block, Config, Directive, End, Node, Quote, Word};
use crate::source::{LineCol, Span};
use crate::syntax::{LineCursor, SmallText};

pub(super) fn parse(text: &str) -> Option<Config> {
    let mut p = Parser {
        text,
        b: text.as_bytes(),
        i: 0,
        lines: LineCursor::new(text),
    };
    let bom = if text.starts_with('\u{FEFF}') {
        p.i = 3;
        Some(Span::new(0, 3))
    } else {
        None
    };
    let mut items = p.items(0)?;
    items.shrink_to_fit();
    if p.i != p.b.len() {
        return None; // a "}" at the top level
    }
    Some(Config {
        bom,
        items,
        len: text.len() as u32,
    })
}

enum Lua {
    Plain,
    Parsed(Directive),
    Bail,
}

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    lines: LineCursor<'a>,
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

impl Parser<'_> {
    fn at(&mut self, offset: usize) -> LineCol {
        self.lines.at(offset)
    }

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
    fn items(&mut self, depth: usize) -> Option<Vec<Node>> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                c if is_ws(c) => self.skip_space(),
                b'#' => items.push(Node::Comment {
                    span: self.comment(),
                }),
                b'}' => break,
                b';' | b'{' => return None,
                _ => items.push(Node::Directive(Box::new(self.directive(depth)?))),
            }
        }
        Some(items)
    }

    fn gap(&mut self, comments: &mut Vec<Span>) {
        while let Some(c) = self.peek() {
            if is_ws(c) {
                self.skip_space();
            } else if c == b'#' {
                comments.push(self.comment());
            } else {
                break;
            }
        }
    }

    fn directive(&mut self, depth: usize) -> Option<Directive> {
        if depth > super::MAX_NESTING {
            return None;
        }
        let start = self.i;
        let at = self.at(start);
        match self.lua_directive(start, at) {
            Lua::Parsed(d) => return Some(d),
            Lua::Bail => return None,
            Lua::Plain => {}
        }
        self.i = start;
        // Most directives have two or three words and one or two gaps; exact-ish capacities
        // matter because a 10,000-site tree holds millions of these vectors.
        let mut words = Vec::with_capacity(3);
        words.push(self.word()?);
        let mut comments = Vec::new();
        loop {
            let before_gap = self.i;
            self.gap(&mut comments);
            let gapped = self.i > before_gap;
            match self.peek() {
                None => return None,
                Some(b';') => {
                    let span = Span::new(self.i, self.i + 1);
                    self.i += 1;
                    words.shrink_to_fit();
                    return Some(Directive {
                        span: Span::new(start, self.i),
                        at,
                        words,
                        comments,
                        end: End::Semicolon { span },
                    });
                }
                Some(b'{') => {
                    let open = Span::new(self.i, self.i + 1);
                    self.i += 1;
                    let mut items = self.items(depth + 1)?;
                    items.shrink_to_fit();
                    if self.peek() != Some(b'}') {
                        return None;
                    }
                    let close = Span::new(self.i, self.i + 1);
                    self.i += 1;
                    words.shrink_to_fit();
                    return Some(Directive {
                        span: Span::new(start, self.i),
                        at,
                        words,
                        comments,
                        end: End::Block(Block { open, items, close }),
                    });
                }
                Some(b'}') => return None,
                // A word right after a quoted one, without a gap, only when it starts with ")".
                Some(c) if gapped || c == b')' => words.push(self.word()?),
                Some(_) => return None,
            }
        }
    }

    fn word(&mut self) -> Option<Word> {
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
        let span = Span::new(start, self.i);
        let raw = &self.text[start..self.i];
        let inner = match quote {
            Quote::None => raw,
            _ => &raw[1..raw.len() - 1],
        };
        Some(Word {
            span,
            quote,
            value: super::unescape(inner),
        })
    }

    /// `*_by_lua_block { ... }`.
    fn lua_directive(&mut self, start: usize, at: LineCol) -> Lua {
        let len = self.b[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        if len <= "_by_lua_block".len()
            || !self.b[start..start + len].ends_with(b"_by_lua_block")
            || !self
                .b
                .get(start + len)
                .is_some_and(|&c| is_ws(c) || c == b'{')
        {
            return Lua::Plain;
        }
        self.i = start + len;
        let name = Word {
            span: Span::new(start, start + len),
            quote: Quote::None,
            value: SmallText::new(&self.text[start..start + len]),
        };
        let mut comments = Vec::new();
        self.gap(&mut comments);
        if self.peek() != Some(b'{') {
            return Lua::Plain;
        }
        let open = Span::new(self.i, self.i + 1);
        let body_start = self.i + 1;
        // An unbalanced body makes the grammar try a plain directive instead: leave that to pest.
        let Some(body_end) = self.lua_chunks(body_start, 0) else {
            return Lua::Bail;
        };
        if self.b.get(body_end) != Some(&b'}') {
            return Lua::Bail;
        }
        self.i = body_end + 1;
        Lua::Parsed(Directive {
            span: Span::new(start, self.i),
            at,
            words: vec![name],
            comments,
            end: End::Raw {
                open,
                body: Span::new(body_start, body_end),
                close: Span::new(body_end, body_end + 1),
            },
        })
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
