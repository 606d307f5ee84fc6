//! A hand-written parser for the common shapes of php-fpm files, finding exactly the tree the
//! pest grammar (`grammar/php_fpm.pest`, the reference) finds.
//!
//! Why: pest spent about 1,450 instructions a byte on pool files. This handles blank lines,
//! `;` comments, plain `[name]` headers and `key = value` / `key[offset] = value` entries
//! with bare, single- and simply double-quoted values; on anything else (`#` lines, `$`, a
//! backslash, a missing `=`, an `=` in a value, XML...) it gives up (`None`) and the caller
//! runs pest, which builds the tree or words the error. The differential fuzz target and
//! proptests check that a `Some` is always pest's tree.

use super::{is_hspace, EntryRecord, Records};
use crate::source::Span;

pub(super) fn parse(text: &str) -> Option<Records> {
    let b = text.as_bytes();
    let mut p = Parser {
        text,
        b,
        i: 0,
        records: Records::new(cfg!(debug_assertions)),
    };
    if text.starts_with('\u{FEFF}') {
        p.i = 3;
    }
    // `xml_config` is tried before anything else: blank space then "<?xml".
    let first = p.b[p.i..].iter().find(|&&c| !is_ws(c));
    if first == Some(&b'<') {
        return None;
    }
    // Every entry has one "=" of its own: enough room without growing, rarely much more.
    p.records.entries = Vec::with_capacity(b.iter().filter(|&&c| c == b'=').count());
    while let Some(c) = p.peek() {
        match c {
            c if is_ws(c) => {
                while p.peek().is_some_and(is_ws) {
                    p.i += 1;
                }
            }
            b';' => {
                let start = p.i;
                while p.peek().is_some_and(|c| c != b'\r' && c != b'\n') {
                    p.i += 1;
                }
                p.records.comment(Span::new(start, p.i));
            }
            b'[' => p.section()?,
            b'#' => return None,
            c if is_key_char(c) => p.entry()?,
            _ => return None,
        }
    }
    Some(p.records)
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// The grammar's `key_char`, for one byte (non-ASCII bytes are all key characters).
fn is_key_char(c: u8) -> bool {
    !matches!(
        c,
        b'=' | b' '
            | b'\t'
            | b'\r'
            | b'\n'
            | b';'
            | b'&'
            | b'|'
            | b'^'
            | b'$'
            | b'~'
            | b'('
            | b')'
            | b'{'
            | b'}'
            | b'!'
            | b'"'
            | b'['
            | b']'
    )
}

/// A byte that can go on a bare value in the subset we handle.
fn is_plain_value_char(c: u8) -> bool {
    !matches!(
        c,
        b'=' | b' ' | b'\t' | b'\r' | b'\n' | b';' | b'"' | b'\'' | b'$' | b'\\'
    )
}

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    records: Records,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn section(&mut self) -> Option<()> {
        let start = self.i;
        let name_start = start + 1;
        let mut j = name_start;
        while j < self.b.len() {
            match self.b[j] {
                b']' => break,
                b'\r' | b'\n' | b';' | b'"' | b'\'' | b'\\' => return None,
                _ => j += 1,
            }
        }
        if j >= self.b.len() {
            return None;
        }
        self.i = j + 1;
        self.records.section(self.text, Span::new(start, self.i));
        Some(())
    }

    fn entry(&mut self) -> Option<()> {
        let start = self.i;
        // key_base = key_char+ ~ (" "+ ~ key_char+)*
        let b = self.b;
        let mut j = start;
        while j < b.len() && is_key_char(b[j]) {
            j += 1;
        }
        loop {
            let mut k = j;
            while k < b.len() && b[k] == b' ' {
                k += 1;
            }
            if k > j && k < b.len() && is_key_char(b[k]) {
                j = k;
                while j < b.len() && is_key_char(b[j]) {
                    j += 1;
                }
            } else {
                break;
            }
        }
        // Optional `[offset]`, plain characters only.
        let mut k = j;
        while k < b.len() && b[k] == b' ' {
            k += 1;
        }
        let mut offset = None;
        let mut key_end = j;
        if b.get(k) == Some(&b'[') {
            let mut o = k + 1;
            while o < b.len() && is_hspace(b[o]) {
                o += 1;
            }
            let o_start = o;
            while o < b.len()
                && !matches!(
                    b[o],
                    b']' | b'\r' | b'\n' | b';' | b'"' | b'\'' | b'\\' | b' ' | b'\t'
                )
            {
                o += 1;
            }
            let o_end = o;
            while o < b.len() && is_hspace(b[o]) {
                o += 1;
            }
            if b.get(o) != Some(&b']') {
                return None;
            }
            offset = Some(Span::new(o_start, o_end));
            key_end = o + 1;
        }
        // eq = hspace* "=" hspace*
        let mut e = key_end;
        while e < b.len() && is_hspace(b[e]) {
            e += 1;
        }
        if b.get(e) != Some(&b'=') {
            return None;
        }
        e += 1;
        while e < b.len() && is_hspace(b[e]) {
            e += 1;
        }
        // value = value_part ~ (hspace* ~ value_part)*
        let v_start = e;
        let mut v_end = e;
        let mut p = e;
        loop {
            match b.get(p) {
                Some(b'"') => {
                    let mut q = p + 1;
                    while q < b.len() && b[q] != b'"' {
                        if b[q] == b'\\' {
                            return None;
                        }
                        q += 1;
                    }
                    if q >= b.len() {
                        return None;
                    }
                    p = q + 1;
                }
                Some(b'\'') => {
                    let q = p + 1 + b[p + 1..].iter().position(|&c| c == b'\'')?;
                    if q == p + 1 {
                        return None; // '' is refused by php-fpm
                    }
                    p = q + 1;
                }
                Some(&c) if is_plain_value_char(c) => {
                    while p < b.len() && is_plain_value_char(b[p]) {
                        p += 1;
                    }
                }
                // "=", "$" or "\\": leave to pest.
                Some(b'=' | b'$' | b'\\') => return None,
                _ => break,
            }
            v_end = p;
            while p < b.len() && is_hspace(b[p]) {
                p += 1;
            }
        }
        // line_end = hspace* ~ (";" | newline | EOI)
        match b.get(p) {
            None | Some(b';' | b'\r' | b'\n') => {}
            _ => return None,
        }
        let value = (v_end > v_start).then(|| Span::new(v_start, v_end));
        let end = if value.is_some() { v_end } else { e };
        self.i = end;
        let entry = EntryRecord {
            start: start as u32,
            base_end: j as u32,
            key_end: key_end as u32,
            end: end as u32,
        };
        self.records.entry(self.text, entry, offset, value);
        Some(())
    }
}
