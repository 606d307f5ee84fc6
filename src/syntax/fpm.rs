//! php-fpm configuration (php-fpm.conf and pool files): pest pairs -> lossless tree.
//!
//! The dialect is PHP's ini syntax as php-fpm 8 reads it: `[section]` headers, `key = value`
//! entries (with `php_value[...]`-style array keys), `;` comments. Entries before the first
//! section are kept; php-fpm treats them as `[global]`.
//!
//! The tree is flat: it keeps the file's shared text and, for each section, entry and comment,
//! only the offsets that cannot be read back from that text (16 bytes an entry). Names and
//! values are slices of the text, read through [`Section`] and [`Entry`] handles; the rare
//! value that is not a slice (an escape, several quoted parts) is computed once and kept
//! aside. Blanks are not stored: they are the bytes between the leaves
//! ([`Config::check_lossless`]).

mod fast;
pub mod values;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use pest::iterators::Pair;
use pest::Parser as _;

use super::SyntaxError;
use crate::source::{LineIndex, Span};

#[derive(pest_derive::Parser)]
#[grammar = "grammar/php_fpm.pest"]
struct FpmParser;

/// A parsed php-fpm file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    text: Arc<str>,
    /// `[name]` headers, brackets included.
    sections: Box<[Span]>,
    entries: Box<[EntryRecord]>,
    /// `; ...` up to, not including, the line end.
    comments: Box<[Span]>,
    /// What php reads from a piece (a value, an array offset, a section name) when that is
    /// neither the piece as written nor the inside of its quotes (`"a\"b"`, `'a' b`), by the
    /// piece's start offset, in order. Nearly always empty.
    computed: Box<[(u32, Box<str>)]>,
}

/// An entry as offsets into the text; the grammar gives the rest (see [`EntryRecord::eq_end`]
/// and [`EntryRecord::offset_span`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EntryRecord {
    /// Where the key starts.
    start: u32,
    /// Where the key's base name ends (after `php_admin_value` in
    /// `php_admin_value[memory_limit]`).
    base_end: u32,
    /// Where the key ends: after the `]` of an array key, at `base_end` otherwise.
    key_end: u32,
    /// Where the value ends; where the `=` and its blanks end when there is no value.
    end: u32,
}

impl EntryRecord {
    /// The end of the `=` and the blanks around it, which follow the key (`eq` in the grammar).
    fn eq_end(self, text: &[u8]) -> u32 {
        let at = skip_hspace(text, self.key_end as usize);
        debug_assert_eq!(text.get(at), Some(&b'='));
        skip_hspace(text, at + 1) as u32
    }

    /// The text between the brackets of an array key, blanks trimmed (`key_offset`).
    fn offset_span(self, text: &[u8]) -> Option<Span> {
        if self.key_end == self.base_end {
            return None;
        }
        // key_base " "* "[" hspace* key_offset hspace* "]"
        let mut start = self.base_end as usize;
        while text[start] == b' ' {
            start += 1;
        }
        debug_assert_eq!(text[start], b'[');
        let start = skip_hspace(text, start + 1);
        let close = self.key_end as usize - 1;
        let mut end = close;
        while end > start && is_hspace(text[end - 1]) {
            end -= 1;
        }
        // `\` escapes the character after it, a blank too: after an odd run of backslashes
        // (never inside quotes: a quoted string ends with its quote) the first blank belongs
        // to the offset.
        if end < close {
            let backslashes = text[start..end]
                .iter()
                .rev()
                .take_while(|&&c| c == b'\\')
                .count();
            if backslashes % 2 == 1 {
                end += 1;
            }
        }
        Some(Span::new(start, end))
    }
}

fn is_hspace(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn skip_hspace(text: &[u8], mut at: usize) -> usize {
    while text.get(at).copied().is_some_and(is_hspace) {
        at += 1;
    }
    at
}

/// What a piece means when it is not in [`Config::computed`]: itself, or the inside of the
/// quotes around it.
fn as_written(raw: &str) -> &str {
    let b = raw.as_bytes();
    match (b.first(), b.last()) {
        (Some(&q @ (b'"' | b'\'')), Some(&last)) if b.len() >= 2 && last == q => {
            &raw[1..raw.len() - 1]
        }
        _ => raw,
    }
}

/// A `[name]` header: a handle into its [`Config`].
#[derive(Clone, Copy)]
pub struct Section<'c> {
    config: &'c Config,
    index: u32,
}

impl<'c> Section<'c> {
    /// `[name]`, brackets included.
    pub fn span(self) -> Span {
        self.config.sections[self.index as usize]
    }

    /// The text between the brackets.
    pub fn name_span(self) -> Span {
        let s = self.span();
        Span::new(s.start as usize + 1, s.end as usize - 1)
    }

    /// The name as php-fpm sees it (quotes removed).
    pub fn name(self) -> &'c str {
        self.config.piece(self.name_span())
    }

    pub fn is_global(self) -> bool {
        self.name() == "global"
    }
}

/// `key = value`: a handle into its [`Config`].
#[derive(Clone, Copy)]
pub struct Entry<'c> {
    config: &'c Config,
    index: u32,
}

impl<'c> Entry<'c> {
    /// The tree this entry is in.
    pub fn config(self) -> &'c Config {
        self.config
    }

    /// This entry's place among the file's entries ([`Config::entry`] gives it back).
    pub fn index(self) -> u32 {
        self.index
    }

    fn record(self) -> EntryRecord {
        self.config.entries[self.index as usize]
    }

    fn bytes(self) -> &'c [u8] {
        self.config.text.as_bytes()
    }

    /// From the key to the end of the value (or of the `=` and its blanks when there is no
    /// value).
    pub fn span(self) -> Span {
        let r = self.record();
        Span::new(r.start as usize, r.end as usize)
    }

    /// The whole key, brackets included.
    pub fn key_span(self) -> Span {
        let r = self.record();
        Span::new(r.start as usize, r.key_end as usize)
    }

    /// The key's base name: `php_admin_value` in `php_admin_value[memory_limit]`, the whole
    /// key otherwise (`listen`, `pm.max_children`).
    pub fn name(self) -> &'c str {
        &self.config.text[self.name_span().range()]
    }

    pub fn name_span(self) -> Span {
        let r = self.record();
        Span::new(r.start as usize, r.base_end as usize)
    }

    /// Whether this is an array key like `env[...]`.
    pub fn is_array(self) -> bool {
        let r = self.record();
        r.key_end != r.base_end
    }

    /// The text between the brackets of an array key, blanks trimmed.
    pub fn offset_span(self) -> Option<Span> {
        self.record().offset_span(self.bytes())
    }

    /// `memory_limit` in `php_admin_value[memory_limit]` (quotes removed).
    pub fn offset_name(self) -> Option<&'c str> {
        self.offset_span().map(|s| self.config.piece(s))
    }

    /// The `=` with the blanks around it.
    pub fn eq_span(self) -> Span {
        let r = self.record();
        Span::new(r.key_end as usize, r.eq_end(self.bytes()) as usize)
    }

    /// False for `key =` (php-fpm reads it as the empty string).
    pub fn has_value(self) -> bool {
        !self.value_span().is_empty()
    }

    /// The value's span (quotes included, no trailing blanks, no comment), or an empty span
    /// right after the `=` for `key =` (where a value goes).
    pub fn value_span(self) -> Span {
        let r = self.record();
        Span::new(r.eq_end(self.bytes()) as usize, r.end as usize)
    }

    /// The value as written (quotes included); `""` for `key =`.
    pub fn raw(self) -> &'c str {
        &self.config.text[self.value_span().range()]
    }

    /// The string PHP builds from the value; `""` for `key =`. Quotes removed, `\"` `\\` `\$`
    /// unescaped inside double quotes, blanks next to a double-quoted string dropped (as
    /// PHP's scanner does).
    ///
    /// Not done, because it needs more than the text: `${VAR}` expansion (see
    /// [`values::env_refs`]), constants and `&`/`|`/`~` expressions (`E_ALL & ~E_NOTICE` stays
    /// as written), and the `yes`/`no` -> `"1"`/`""` keyword conversion (see
    /// [`values::parse_fpm_bool`]).
    pub fn text(self) -> &'c str {
        self.config.piece(self.value_span())
    }

    /// Whether any part of the value was written in quotes.
    pub fn is_quoted(self) -> bool {
        self.raw().contains(['"', '\''])
    }

    /// Whether PHP reads the value as an expression (`E_ALL & ~E_DEPRECATED`): an operator
    /// outside quotes.
    pub fn is_expression(self) -> bool {
        let mut in_quote = None;
        let mut escaped = false;
        for c in self.raw().chars() {
            match (in_quote, c) {
                (Some('"'), _) if escaped => escaped = false,
                (Some('"'), '\\') => escaped = true,
                (Some(q), c) if c == q => in_quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => in_quote = Some(c),
                (None, '&' | '|' | '^' | '~' | '!' | '(' | ')') => return true,
                (None, _) => {}
            }
        }
        false
    }
}

// Handles are equal when they are the same node of the same tree.
impl PartialEq for Section<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.config, other.config) && self.index == other.index
    }
}

impl Eq for Section<'_> {}

impl PartialEq for Entry<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.config, other.config) && self.index == other.index
    }
}

impl Eq for Entry<'_> {}

// What a node says, not the whole tree it points into.
impl fmt::Debug for Section<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Section")
            .field("span", &self.span())
            .field("name", &self.name())
            .finish()
    }
}

impl fmt::Debug for Entry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("span", &self.span())
            .field("name", &self.name())
            .field("offset", &self.offset_name())
            .field("text", &self.text())
            .finish()
    }
}

/// One leaf-level piece of the file, in order (blanks are the gaps between them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'c> {
    Section(Section<'c>),
    Entry(Entry<'c>),
    /// `; ...` up to, not including, the line end.
    Comment(Span),
}

/// The sections, entries and comments of a [`Config`] in file order.
pub struct Items<'c> {
    config: &'c Config,
    section: usize,
    entry: usize,
    comment: usize,
}

impl<'c> Iterator for Items<'c> {
    type Item = Item<'c>;

    fn next(&mut self) -> Option<Item<'c>> {
        let c = self.config;
        let starts = [
            c.sections.get(self.section).map(|s| s.start),
            c.entries.get(self.entry).map(|e| e.start),
            c.comments.get(self.comment).map(|s| s.start),
        ];
        // Leaves never share a start.
        let (_, kind) = starts
            .into_iter()
            .enumerate()
            .filter_map(|(kind, start)| Some((start?, kind)))
            .min()?;
        Some(match kind {
            0 => {
                self.section += 1;
                Item::Section(c.section(self.section - 1))
            }
            1 => {
                self.entry += 1;
                Item::Entry(c.entry(self.entry - 1))
            }
            _ => {
                self.comment += 1;
                Item::Comment(c.comments[self.comment - 1])
            }
        })
    }
}

impl Config {
    /// The file's text, which the tree reads its names and values from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The byte order mark, if the file starts with one.
    pub fn bom(&self) -> Option<Span> {
        self.text
            .starts_with('\u{FEFF}')
            .then(|| Span::new(0, '\u{FEFF}'.len_utf8()))
    }

    fn section(&self, index: usize) -> Section<'_> {
        Section {
            config: self,
            index: index as u32,
        }
    }

    /// The file's `index`th entry.
    pub fn entry(&self, index: usize) -> Entry<'_> {
        debug_assert!(index < self.entries.len());
        Entry {
            config: self,
            index: index as u32,
        }
    }

    /// What php reads from a piece of text: see [`Config::computed`].
    fn piece(&self, span: Span) -> &str {
        if span.is_empty() {
            return "";
        }
        match self
            .computed
            .binary_search_by_key(&span.start, |&(at, _)| at)
        {
            Ok(i) => &self.computed[i].1,
            Err(_) => as_written(&self.text[span.range()]),
        }
    }

    /// Expand `${VAR}` references in values and section names with the values php-fpm's
    /// environment will hold (`--env`, `--env-file`, `[env]`), as PHP's ini scanner does
    /// while reading the file. A piece whose references are not all supplied stays as
    /// written: it is unknown at lint time. Spans are unchanged (they still point at the
    /// `${VAR}` text). Returns how many pieces were expanded.
    pub fn expand_env(&mut self, env: &std::collections::BTreeMap<String, String>) -> usize {
        if env.is_empty() || !self.text.contains("${") {
            return 0;
        }
        let mut pieces: Vec<Span> = self
            .sections
            .iter()
            .map(|s| Span::new(s.start as usize + 1, s.end as usize - 1))
            .collect();
        pieces.extend((0..self.entries.len()).map(|i| self.entry(i).value_span()));
        let mut changed: Vec<(u32, Box<str>)> = Vec::new();
        for span in pieces {
            let raw = &self.text[span.range()];
            let refs = values::env_refs(raw);
            if refs.is_empty() || refs.iter().any(|r| !env.contains_key(r.name)) {
                continue;
            }
            let mut meant = self.piece(span).to_owned();
            for r in &refs {
                meant = meant.replace(&raw[r.range.clone()], &env[r.name]);
            }
            changed.push((span.start, meant.into()));
        }
        if changed.is_empty() {
            return 0;
        }
        let n = changed.len();
        let mut computed: Vec<(u32, Box<str>)> = std::mem::take(&mut self.computed).into_vec();
        computed.retain(|(at, _)| !changed.iter().any(|(c, _)| c == at));
        computed.extend(changed);
        computed.sort_by_key(|&(at, _)| at);
        self.computed = computed.into_boxed_slice();
        n
    }

    pub fn items(&self) -> Items<'_> {
        Items {
            config: self,
            section: 0,
            entry: 0,
            comment: 0,
        }
    }

    pub fn sections(&self) -> impl Iterator<Item = Section<'_>> + '_ {
        (0..self.sections.len()).map(|i| self.section(i))
    }

    /// Every entry with the section it is in (`None` before the first header: global scope).
    pub fn entries(&self) -> impl Iterator<Item = (Option<Section<'_>>, Entry<'_>)> + '_ {
        let mut next_section = 0;
        self.entries.iter().enumerate().map(move |(i, e)| {
            while self
                .sections
                .get(next_section)
                .is_some_and(|s| s.start < e.start)
            {
                next_section += 1;
            }
            let section = next_section.checked_sub(1).map(|s| self.section(s));
            (section, self.entry(i))
        })
    }

    /// The entries under every `[name]` header (php-fpm merges repeated sections).
    pub fn entries_in<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Entry<'a>> + 'a {
        self.entries()
            .filter(move |(s, _)| s.is_some_and(|s| s.name() == name))
            .map(|(_, e)| e)
    }

    /// Entries before the first header, which php-fpm reads as `[global]`.
    pub fn entries_before_sections(&self) -> impl Iterator<Item = Entry<'_>> + '_ {
        let first_section = self.sections.first().map_or(u32::MAX, |s| s.start);
        self.entries
            .iter()
            .take_while(move |e| e.start < first_section)
            .enumerate()
            .map(|(i, _)| self.entry(i))
    }

    /// `; ...` comments, in order.
    pub fn comments(&self) -> &[Span] {
        &self.comments
    }

    /// Every leaf span in input order; the bytes between them are blanks.
    pub fn leaves(&self) -> Vec<Span> {
        let mut out = Vec::with_capacity(self.entries.len() * 3 + self.comments.len() + 8);
        out.extend(self.bom());
        for item in self.items() {
            match item {
                Item::Comment(span) => out.push(span),
                Item::Section(s) => out.push(s.span()),
                Item::Entry(e) => {
                    out.push(e.key_span());
                    out.push(e.eq_span());
                    if e.has_value() {
                        out.push(e.value_span());
                    }
                }
            }
        }
        out
    }

    /// The leaves and the blanks between them, in order: together they cover the whole input.
    pub fn leaves_and_blanks(&self) -> Vec<Span> {
        super::with_blanks(self.leaves(), self.text.len())
    }

    /// Check that the tree accounts for its text: leaves in order and never overlapping, and
    /// every byte outside them a blank (space, tab, CR, LF). With [`print`](Self::print) this
    /// is the round-trip guarantee the tests and fuzzers hold the parser to.
    pub fn check_lossless(&self) -> Result<(), String> {
        super::check_leaves(&self.leaves(), self.text.as_bytes())
    }

    /// Print the tree back: the leaves and the blanks between them, read from the text.
    pub fn print(&self) -> String {
        super::print_spans(&self.leaves_and_blanks(), &self.text)
    }
}

/// A file's records as a parser finds them, in file order.
struct Records {
    sections: Vec<Span>,
    entries: Vec<EntryRecord>,
    comments: Vec<Span>,
    computed: Vec<(u32, Box<str>)>,
    /// Check that each entry record gives back the spans the parser found (what the record
    /// leaves out is derived from the text). Always for [`parse_reference`], which the
    /// differential tests and fuzzers run and the fast path must agree with.
    check_spans: bool,
}

impl Records {
    fn new(check_spans: bool) -> Self {
        Records {
            sections: Vec::new(),
            entries: Vec::new(),
            comments: Vec::new(),
            computed: Vec::new(),
            check_spans,
        }
    }

    fn section(&mut self, text: &str, span: Span) {
        self.note_piece(
            text,
            Span::new(span.start as usize + 1, span.end as usize - 1),
        );
        self.sections.push(span);
    }

    /// `offset` and `value` are the spans the parser found; the record must give them back.
    fn entry(&mut self, text: &str, entry: EntryRecord, offset: Option<Span>, value: Option<Span>) {
        if self.check_spans {
            assert_eq!(entry.offset_span(text.as_bytes()), offset, "{text:?}");
            assert_eq!(
                value.map_or(entry.end, |v| v.start),
                entry.eq_end(text.as_bytes()),
                "{text:?}"
            );
        }
        if let Some(o) = offset {
            self.note_piece(text, o);
        }
        if let Some(v) = value {
            self.note_piece(text, v);
        }
        self.entries.push(entry);
    }

    fn comment(&mut self, span: Span) {
        self.comments.push(span);
    }

    /// Keep what php reads from `span` if the text alone does not give it.
    fn note_piece(&mut self, text: &str, span: Span) {
        let raw = &text[span.range()];
        if !raw.contains(['"', '\'']) {
            return;
        }
        let meant = ini_text(raw);
        if meant != as_written(raw) {
            self.computed.push((span.start, meant.into()));
        }
    }

    fn finish(self, text: Arc<str>) -> Config {
        debug_assert!(self.computed.is_sorted_by_key(|&(at, _)| at));
        Config {
            text,
            sections: self.sections.into_boxed_slice(),
            entries: self.entries.into_boxed_slice(),
            comments: self.comments.into_boxed_slice(),
            computed: self.computed.into_boxed_slice(),
        }
    }
}

/// Parse one php-fpm file whose text the caller keeps shared (a project's files): the tree
/// reads from the same copy.
pub fn parse_shared(text: Arc<str>) -> Result<Config, SyntaxError> {
    // Common shapes take a hand-written path that finds pest's exact tree; the rest (and
    // every error) goes through the grammar.
    match fast::parse(&text) {
        Some(records) => Ok(records.finish(text)),
        None => parse_with_pest(text, cfg!(debug_assertions)),
    }
}

/// Parse one php-fpm file (the tree keeps a copy of `text`).
pub fn parse(text: &str) -> Result<Config, SyntaxError> {
    parse_shared(text.into())
}

/// Parse with the pest grammar alone: the reference [`parse`] must agree with. For
/// differential tests and fuzzing.
#[doc(hidden)]
pub fn parse_reference(text: &str) -> Result<Config, SyntaxError> {
    parse_with_pest(text.into(), true)
}

fn parse_with_pest(text: Arc<str>, check_spans: bool) -> Result<Config, SyntaxError> {
    let b = Builder { text: &text };
    let pairs = FpmParser::parse(Rule::config, &text).map_err(|e| {
        // The grammar has a catch-all for every line, so this is not expected; stay useful.
        let offset = match e.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((s, _)) => s,
        };
        b.error(Span::empty(offset), "php-fpm cannot parse this".into())
    })?;
    let config_pair = pairs.into_iter().next().expect("config yields one pair");
    let mut records = Records::new(check_spans);
    for p in config_pair.into_inner() {
        match p.as_rule() {
            // Found again from the text when asked for.
            Rule::bom | Rule::EOI => {}
            _ => b.item(p, &mut records)?,
        }
    }
    Ok(records.finish(text))
}

fn span_of(p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

/// A key as the grammar splits it.
struct KeySpans {
    span: Span,
    base_end: u32,
    offset: Option<Span>,
}

struct Builder<'a> {
    text: &'a str,
}

impl Builder<'_> {
    fn error(&self, span: Span, message: String) -> SyntaxError {
        // Built here only: one error a file, and no tree needs lines.
        let at = LineIndex::new(self.text).line_col(self.text, span.start as usize);
        SyntaxError { span, at, message }
    }

    fn item(&self, p: Pair<'_, Rule>, records: &mut Records) -> Result<(), SyntaxError> {
        let span = span_of(&p);
        match p.as_rule() {
            Rule::space => {}
            Rule::comment => records.comment(span),
            Rule::section => {
                let name = p.into_inner().next().expect("section has a name");
                debug_assert_eq!(
                    span_of(&name),
                    Span::new(span.start as usize + 1, span.end as usize - 1)
                );
                records.section(self.text, span);
            }
            Rule::entry => self.entry(p, records)?,
            Rule::xml_config => return Err(self.xml_error(span)),
            Rule::bad_hash_line => {
                return Err(self.error(
                    first_char(self.text, span),
                    "\"#\" comments are not accepted by php-fpm (PHP 7+); use \";\"".into(),
                ))
            }
            Rule::bad_key_only => {
                let key = self.key(p.into_inner().next().expect("bad_key_only has a key"));
                return Err(self.error(
                    key.span,
                    format!(
                        "\"{}\" has no \"=\" and no value; php-fpm refuses it (\"value is NULL for a ZEND_INI_PARSER_ENTRY\"); write \"{} = value\" or comment it out with \";\"",
                        &self.text[key.span.range()],
                        &self.text[key.span.range()],
                    ),
                ));
            }
            Rule::bad_section => {
                return Err(self.error(
                    first_char(self.text, span),
                    "unterminated section header: \"[\" without \"]\" on the same line".into(),
                ))
            }
            Rule::bad_line => return Err(self.bad_line(span)),
            r => unreachable!("unexpected rule {r:?} among items"),
        }
        Ok(())
    }

    fn xml_error(&self, span: Span) -> SyntaxError {
        let start = span.start as usize + self.text[span.range()].find("<?xml").unwrap_or(0);
        self.error(
            Span::new(start, start + "<?xml".len()),
            "this is PHP 5.2's XML php-fpm configuration; php-fpm 5.3 and later read only the INI format ([pool] sections and \"key = value\" lines)".into(),
        )
    }

    fn entry(&self, p: Pair<'_, Rule>, records: &mut Records) -> Result<(), SyntaxError> {
        let mut key = None;
        let mut eq = Span::default();
        let mut value = None;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::key => key = Some(self.key(part)),
                Rule::eq => eq = span_of(&part),
                Rule::value => value = Some(span_of(&part)),
                Rule::bad_value => return Err(self.bad_value(span_of(&part))),
                r => unreachable!("unexpected rule {r:?} in entry"),
            }
        }
        let key = key.expect("entry has a key");
        debug_assert_eq!(key.span.end, eq.start);
        let record = EntryRecord {
            start: key.span.start,
            base_end: key.base_end,
            key_end: key.span.end,
            end: value.map_or(eq.end, |v| v.end),
        };
        records.entry(self.text, record, key.offset, value);
        Ok(())
    }

    fn key(&self, p: Pair<'_, Rule>) -> KeySpans {
        let span = span_of(&p);
        let mut base_end = span.end;
        let mut offset = None;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::key_base => base_end = span_of(&part).end,
                Rule::key_offset => offset = Some(span_of(&part)),
                r => unreachable!("unexpected rule {r:?} in key"),
            }
        }
        KeySpans {
            span,
            base_end,
            offset,
        }
    }

    /// What follows a value that php cannot read; `span` runs to the end of the line.
    fn bad_value(&self, span: Span) -> SyntaxError {
        let rest = &self.text[span.range()];
        let here = first_char(self.text, span);
        if rest.starts_with('=') {
            return self.error(
                here,
                "\"=\" inside a value must be quoted: php-fpm refuses `key = a=b` (syntax error, unexpected '='); write `key = \"a=b\"`".into(),
            );
        }
        if rest.starts_with("''") {
            return self.error(
                Span::new(here.start as usize, here.start as usize + 2),
                "'' (an empty single-quoted string) is a syntax error for php-fpm; write \"\" or leave the value empty".into(),
            );
        }
        if rest.starts_with('"') {
            return self.error(
                here,
                "unterminated double-quoted string: this \" is never closed".into(),
            );
        }
        if rest.starts_with('\'') {
            return self.error(
                here,
                "unterminated single-quoted string: this ' is never closed".into(),
            );
        }
        if rest.starts_with("${") {
            return self.error(
                Span::new(here.start as usize, here.start as usize + 2),
                "unterminated \"${\": the variable reference needs a closing \"}\" on the same line"
                    .into(),
            );
        }
        self.error(
            here,
            format!("php-fpm cannot read the value here (unexpected {rest:?})"),
        )
    }

    /// A line that is neither a section, an entry nor a comment.
    fn bad_line(&self, span: Span) -> SyntaxError {
        let line = &self.text[span.range()];
        let first = line.chars().next().unwrap_or(' ');
        // Point at the first character that cannot continue a key.
        let key_len = line
            .find(|c: char| {
                matches!(
                    c,
                    '=' | '\t'
                        | ';'
                        | '&'
                        | '|'
                        | '^'
                        | '$'
                        | '~'
                        | '('
                        | ')'
                        | '{'
                        | '}'
                        | '!'
                        | '"'
                        | '['
                        | ']'
                )
            })
            .unwrap_or(line.len());
        if key_len == 0 {
            let message = match first {
                '=' => "a line cannot start with \"=\": the key is missing".to_owned(),
                ']' => "unexpected \"]\" without a matching \"[\"".to_owned(),
                c => format!("unexpected {c:?} at the start of a line: expected \"key = value\", \"[section]\" or a \";\" comment"),
            };
            return self.error(first_char(self.text, span), message);
        }
        let key = line[..key_len].trim_end_matches(' ');
        let rest = &line[key_len..];
        let at = span.start as usize + key_len;
        let bad = first_char(self.text, Span::new(at, span.end as usize));
        let message = if rest.starts_with('[') {
            format!("unterminated \"[\" in key \"{key}\": expected \"{key}[name] = value\"")
        } else if rest.starts_with('\t') {
            format!("a tab after \"{key}\" ends the key; php-fpm reads the rest of the line as an error; use spaces, or put \"=\" next")
        } else {
            format!(
                "{:?} cannot appear in a key (after \"{key}\"): expected \"=\"",
                rest.chars().next().unwrap_or(' ')
            )
        };
        self.error(bad, message)
    }
}

/// The span of the first character of `span`.
fn first_char(text: &str, span: Span) -> Span {
    let start = span.start as usize;
    let len = text[start..].chars().next().map_or(0, char::len_utf8);
    Span::new(start, start + len)
}

/// The string PHP's ini scanner builds from a value (or a section name, or an offset) that the
/// grammar accepted: quotes removed, escapes in double quotes resolved, blanks next to a
/// double-quoted string dropped.
pub fn ini_text(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['"', '\'']) {
        return Cow::Borrowed(raw);
    }
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    // Blanks are held back until we know whether a double quote follows (which eats them).
    let mut pending = 0..0;
    let mut after_dq = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' => {
                let start = i;
                while i < b.len() && matches!(b[i], b' ' | b'\t') {
                    i += 1;
                }
                if !after_dq {
                    pending = start..i;
                }
                continue;
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() {
                    match b[j] {
                        // `\"` at the end of a line (or input) closes: see the grammar.
                        b'\\'
                            if b.get(j + 1) == Some(&b'"')
                                && matches!(b.get(j + 2), None | Some(b'\r' | b'\n')) =>
                        {
                            j += 1;
                            break;
                        }
                        b'\\' => j += 2,
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                let end = j.min(b.len());
                unescape_dq(&raw[start..end], &mut out);
                pending = 0..0;
                after_dq = true;
                i = end + 1;
                continue;
            }
            _ => {}
        }
        out.push_str(&raw[pending.clone()]);
        pending = 0..0;
        after_dq = false;
        if b[i] == b'\'' {
            let end = raw[i + 1..].find('\'').map_or(b.len(), |j| i + 1 + j);
            out.push_str(&raw[i + 1..end]);
            i = end + 1;
        } else {
            // Copy up to the next quote or blank in one go.
            let end = raw[i..]
                .find(['"', '\'', ' ', '\t'])
                .map_or(b.len(), |j| i + j);
            out.push_str(&raw[i..end]);
            i = end;
        }
    }
    Cow::Owned(out)
}

/// PHP's unescaping inside double quotes: `\"`, `\\`, `\$` lose the backslash; any other
/// backslash stays.
fn unescape_dq(s: &str, out: &mut String) {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.clone().next() {
                Some(n @ ('"' | '\\' | '$')) => {
                    out.push(n);
                    chars.next();
                }
                _ => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::LineCol;

    fn roundtrip(text: &str) -> Config {
        let c = parse(text).unwrap_or_else(|e| panic!("{e} in {text:?}"));
        c.check_lossless().unwrap();
        crate::syntax::leaves_cover(c.leaves_and_blanks(), text.len()).unwrap();
        assert_eq!(c.print(), text);
        c
    }

    fn first(c: &Config) -> Entry<'_> {
        c.entries().next().expect("one entry").1
    }

    /// The text php reads from the first entry's value.
    fn text_of(text: &str) -> String {
        first(&roundtrip(text)).text().to_owned()
    }

    fn line_col(c: &Config, span: Span) -> LineCol {
        LineIndex::new(c.text()).line_col(c.text(), span.start as usize)
    }

    fn err(text: &str) -> SyntaxError {
        match parse(text) {
            Ok(c) => panic!("accepted {text:?}: {c:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn sections_entries_comments() {
        let text = "; top\n[global]\npid = /run/php-fpm.pid ; trailing\n\n[www]\nlisten = /run/php/www.sock\npm.max_children=5\n";
        let c = roundtrip(text);
        let names: Vec<_> = c.sections().map(|s| s.name()).collect();
        assert_eq!(names, ["global", "www"]);
        assert!(c.sections().next().unwrap().is_global());
        let www = c.sections().nth(1).unwrap();
        assert_eq!(line_col(&c, www.span()), LineCol { line: 5, column: 1 });
        assert_eq!(&text[www.name_span().range()], "www");
        let all: Vec<_> = c
            .entries()
            .map(|(s, e)| (s.map(|s| s.name()), e.name(), e.text()))
            .collect();
        assert_eq!(
            all,
            [
                (Some("global"), "pid", "/run/php-fpm.pid"),
                (Some("www"), "listen", "/run/php/www.sock"),
                (Some("www"), "pm.max_children", "5"),
            ]
        );
        let listen = c.entries_in("www").next().unwrap();
        assert_eq!(line_col(&c, listen.span()), LineCol { line: 6, column: 1 });
        assert_eq!(&text[listen.value_span().range()], "/run/php/www.sock");
        assert_eq!(c.comments().len(), 2);
        let kinds: Vec<_> = c
            .items()
            .map(|i| match i {
                Item::Section(_) => 's',
                Item::Entry(_) => 'e',
                Item::Comment(_) => 'c',
            })
            .collect();
        assert_eq!(kinds, ['c', 's', 'e', 'c', 's', 'e', 'e']);
        // Blanks are the gaps between leaves.
        // Two comments, two headers, three entries of key, "=" and value.
        assert_eq!(c.leaves().len(), 2 + 2 + 3 * 3);
    }

    #[test]
    fn entries_before_any_section_are_kept() {
        let c = roundtrip("include=/etc/php/fpm/pool.d/*.conf\n[www]\nuser = www-data\n");
        let first_names: Vec<_> = c.entries_before_sections().map(|e| e.name()).collect();
        assert_eq!(first_names, ["include"]);
        assert_eq!(c.entries().next().unwrap().0, None);
        assert_eq!(first(&c).text(), "/etc/php/fpm/pool.d/*.conf");
        assert_eq!(c.entries().nth(1).unwrap().0, c.sections().next());
        let none = roundtrip("a = 1\nb = 2\n");
        assert_eq!(none.entries_before_sections().count(), 2);
    }

    #[test]
    fn array_keys() {
        let text = "php_admin_value[ memory_limit ] = 128M\n";
        let c = roundtrip(text);
        let e = first(&c);
        assert_eq!(e.name(), "php_admin_value");
        assert!(e.is_array());
        assert_eq!(e.offset_name(), Some("memory_limit"));
        assert_eq!(&text[e.offset_span().unwrap().range()], "memory_limit");
        assert_eq!(
            &text[e.key_span().range()],
            "php_admin_value[ memory_limit ]"
        );
        assert_eq!(&text[e.eq_span().range()], " = ");
        for k in ["php_value", "php_flag", "php_admin_flag", "env"] {
            let c = roundtrip(&format!("{k}[x.y] = 1"));
            let e = first(&c);
            assert_eq!((e.name(), e.offset_name()), (k, Some("x.y")));
        }
        assert_eq!(text_of("env[PATH]=/usr/bin:/bin"), "/usr/bin:/bin");
        let c = roundtrip("listen = 1\n");
        assert!(!first(&c).is_array());
        assert_eq!(first(&c).offset_name(), None);
    }

    #[test]
    fn array_offsets_as_the_grammar_splits_them() {
        // (key, offset span text, offset name); pest checks the spans through the records.
        let cases = [
            ("k[] = v", "", ""),
            ("k[ ] = v", "", ""),
            ("k [x] = v", "x", "x"),
            ("k[\t a b \t] = v", "a b", "a b"),
            ("k[\"a ]\" ] = v", "\"a ]\"", "a ]"),
            ("k['a'b] = v", "'a'b", "ab"),
            ("k[\"a\\\"b\"] = v", "\"a\\\"b\"", "a\"b"),
            // An escaped blank belongs to the offset; an escaped backslash does not escape it.
            ("k[a\\ ] = v", "a\\ ", "a\\ "),
            ("k[a\\  ] = v", "a\\ ", "a\\ "),
            ("k[a\\\\ ] = v", "a\\\\", "a\\\\"),
            ("k[a\\\\\\ ] = v", "a\\\\\\ ", "a\\\\\\ "),
            ("k[a\\]] = v", "a\\]", "a\\]"),
        ];
        for (text, span, name) in cases {
            let c = roundtrip(text);
            assert_eq!(c, parse_reference(text).unwrap(), "{text:?}");
            let e = first(&c);
            assert_eq!(&text[e.offset_span().unwrap().range()], span, "{text:?}");
            assert_eq!(e.offset_name(), Some(name), "{text:?}");
        }
    }

    #[test]
    fn bare_values_keep_inner_spaces_not_trailing_ones() {
        let text = "php_admin_value[sendmail_path] = /usr/sbin/sendmail -t -i  \t; c\n";
        let c = roundtrip(text);
        let e = first(&c);
        assert_eq!(e.text(), "/usr/sbin/sendmail -t -i");
        assert_eq!(e.raw(), "/usr/sbin/sendmail -t -i");
        assert_eq!(&text[e.value_span().range()], "/usr/sbin/sendmail -t -i");
        assert!(!e.is_quoted());
    }

    #[test]
    fn quoted_values() {
        let c = roundtrip(r#"a = "x \"y\" ${HOME} \d \\ ; not a comment""#);
        let e = first(&c);
        assert_eq!(e.text(), r#"x "y" ${HOME} \d \ ; not a comment"#);
        assert!(e.is_quoted());
        assert_eq!(text_of("a = 'raw \\n ; \"x'"), "raw \\n ; \"x");
        // Blanks next to a double-quoted string are dropped; other blanks stay.
        assert_eq!(text_of("a = \"a\" b"), "ab");
        assert_eq!(text_of("a = b \"c\""), "bc");
        assert_eq!(text_of("a = 'a' b"), "a b");
        assert_eq!(text_of("a = \"\""), "");
        assert_eq!(text_of("a = \"a\"é"), "aé");
        // php's Windows-path rule: `\"` at the end of the line closes the string.
        assert_eq!(text_of("a = \"C:\\dir\\\"\n"), "C:\\dir\\");
        // Double quotes may span lines.
        assert_eq!(text_of("a = \"x\ny\"\n"), "x\ny");
    }

    #[test]
    fn only_values_that_are_not_slices_are_kept_aside() {
        let c = roundtrip("[\"www\"]\na = \"x\"\nb = 'y'\nc = z\nd[\"o\"] = 1\n");
        assert!(c.computed.is_empty());
        assert_eq!(c.sections().next().unwrap().name(), "www");
        let texts: Vec<_> = c.entries().map(|(_, e)| e.text()).collect();
        assert_eq!(texts, ["x", "y", "z", "1"]);
        assert_eq!(c.entries().nth(3).unwrap().1.offset_name(), Some("o"));
        let c = roundtrip("a = \"x\\\"\" 'y'\nb = plain\nc = 'p''q'\n");
        let texts: Vec<_> = c.entries().map(|(_, e)| e.text()).collect();
        assert_eq!(texts, ["x\"y", "plain", "pq"]);
        assert_eq!(c.computed.len(), 2);
    }

    #[test]
    fn empty_values_and_expressions() {
        let c = roundtrip("slowlog =\n");
        let e = first(&c);
        assert!(!e.has_value());
        assert_eq!((e.text(), e.raw()), ("", ""));
        assert_eq!(e.value_span(), Span::empty(9));
        assert_eq!(e.span(), Span::new(0, 9));
        let c = roundtrip("access.log = ; off\n");
        assert!(!first(&c).has_value());
        assert_eq!(first(&c).span(), Span::new(0, 13));
        let c = roundtrip("php_admin_value[error_reporting] = E_ALL & ~E_DEPRECATED & ~E_STRICT");
        let e = first(&c);
        assert_eq!(e.text(), "E_ALL & ~E_DEPRECATED & ~E_STRICT");
        assert!(e.is_expression());
        assert!(!first(&roundtrip("a = \"x & y\"")).is_expression());
        assert_eq!(text_of("env[X] = $X"), "$X");
        assert_eq!(text_of("env[X] = ${X}/bin"), "${X}/bin");
        assert_eq!(text_of("a = {}"), "{}");
        assert_eq!(
            text_of("listen = 127.0.0.1:9000 # port"),
            "127.0.0.1:9000 # port"
        );
    }

    #[test]
    fn keys_with_spaces() {
        assert_eq!(first(&roundtrip("my key = 1")).name(), "my key");
        let c = roundtrip("  pm = dynamic");
        assert_eq!(
            line_col(&c, first(&c).span()),
            LineCol { line: 1, column: 3 }
        );
    }

    #[test]
    fn line_endings_bom_unicode_and_odd_files() {
        let text = "\u{FEFF}[www]\r\nuser = nobody\r\n; café ☕\r\nlisten = /run/ü.sock";
        let c = roundtrip(text);
        assert_eq!(c.bom(), Some(Span::new(0, 3)));
        let e = c.entries().nth(1).unwrap().1;
        assert_eq!(e.text(), "/run/ü.sock");
        assert_eq!(first(&c).text(), "nobody");
        assert_eq!(line_col(&c, e.span()), LineCol { line: 4, column: 1 });
        let empty = roundtrip("");
        assert_eq!(empty.items().count(), 0);
        assert_eq!(empty.bom(), None);
        assert_eq!(roundtrip("; only\n;comments").entries().count(), 0);
        let blank = roundtrip("\n\n  \n");
        assert_eq!(
            (blank.items().count(), blank.leaves_and_blanks().len()),
            (0, 1)
        );
        // Old Mac line ends.
        assert_eq!(roundtrip("a = 1\rb = 2\r").entries().count(), 2);
    }

    #[test]
    fn lossless_check_finds_a_tree_that_misses_text() {
        let mut c = roundtrip("[www]\na = 1 ; c\n");
        c.comments = Box::new([]);
        assert!(c.check_lossless().unwrap_err().contains("byte 12"));
    }

    #[test]
    fn quoted_section_names() {
        let c = roundtrip("[\"my pool\"]\n");
        assert_eq!(c.sections().next().unwrap().name(), "my pool");
        let c = roundtrip("[\"a\\\"b\" c]\n");
        assert_eq!(c.sections().next().unwrap().name(), "a\"bc");
    }

    #[test]
    fn hash_comments_are_refused() {
        let e = err("\n### To catch\ncatch_workers_output = yes\n");
        assert_eq!(e.at, LineCol { line: 2, column: 1 });
        assert!(e.message.contains("\"#\" comments are not accepted"), "{e}");
        assert_eq!(e.span, Span::new(1, 2));
        let e = err("[www]\n  #listen = 9000\n");
        assert_eq!(e.at, LineCol { line: 2, column: 3 });
    }

    #[test]
    fn xml_config_is_refused() {
        let e = err("<?xml version=\"1.0\" ?>\n<configuration>\n</configuration>\n");
        assert_eq!(e.at, LineCol { line: 1, column: 1 });
        assert!(e.message.contains("XML"), "{e}");
        let e = err("\u{FEFF}<?xml version=\"1.0\" ?>");
        assert_eq!(e.at, LineCol { line: 1, column: 2 });
    }

    #[test]
    fn key_without_value_is_refused() {
        let e = err("[www]\nuser = a\ncatch_workers_output\n");
        assert_eq!(e.at, LineCol { line: 3, column: 1 });
        assert!(e.message.contains("no \"=\""), "{e}");
        assert!(e.message.contains("value is NULL"), "{e}");
        let e = err("env[X] ; c");
        assert_eq!(e.at, LineCol { line: 1, column: 1 });
        assert_eq!(e.span, Span::new(0, 6));
    }

    #[test]
    fn unterminated_strings_and_sections() {
        let e = err("[www]\nlisten = \"/run/a.sock\n");
        assert_eq!(
            e.at,
            LineCol {
                line: 2,
                column: 10
            }
        );
        assert!(e.message.contains("unterminated double-quoted"), "{e}");
        let e = err("a = 'x\n");
        assert_eq!(e.at, LineCol { line: 1, column: 5 });
        assert!(e.message.contains("unterminated single-quoted"), "{e}");
        let e = err("a = 1\n[www\nb = 2\n");
        assert_eq!(e.at, LineCol { line: 2, column: 1 });
        assert!(e.message.contains("unterminated section"), "{e}");
        let e = err("a = ${HOME\n");
        assert_eq!(e.at, LineCol { line: 1, column: 5 });
        let e = err("php_value[x = 1\n");
        assert_eq!(
            e.at,
            LineCol {
                line: 1,
                column: 10
            }
        );
        assert!(e.message.contains("unterminated \"[\""), "{e}");
    }

    #[test]
    fn other_refusals() {
        let e = err("env[A] = a=b\n");
        assert_eq!(
            e.at,
            LineCol {
                line: 1,
                column: 11
            }
        );
        assert!(e.message.contains("must be quoted"), "{e}");
        assert_eq!(text_of("env[A] = \"a=b\""), "a=b");
        let e = err("a = ''\n");
        assert!(e.message.contains("empty single-quoted"), "{e}");
        let e = err("= 1\n");
        assert!(e.message.contains("key is missing"), "{e}");
        let e = err("a\tb = 1\n");
        assert_eq!(e.at, LineCol { line: 1, column: 2 });
        let e = err("a(b) = 1\n");
        assert_eq!(e.at, LineCol { line: 1, column: 2 });
    }

    #[test]
    fn ini_text_fast_path_and_mixtures() {
        assert!(matches!(
            ini_text("plain text"),
            Cow::Borrowed("plain text")
        ));
        assert_eq!(ini_text("'a' \"b\" c"), "abc");
        assert_eq!(ini_text("x 'a b' y"), "x a b y");
    }

    #[test]
    fn fast_path_agrees_with_pest() {
        let cases = [
            "",
            "\u{FEFF}[www]\n",
            "[global]\npid = /run/php-fpm.pid\n",
            "; c\r\n[www] ; trailing\nuser = www-data ; who\n\tgroup\t=\twww-data\t\n",
            "listen = 127.0.0.1 9000\nkey =\nkey2 = ;c\n",
            "php_admin_value[memory_limit] = 256M\nenv[ X ] = \"a b\"'c'd\n",
            "php_value [x]= 1\nk[] = v\n",
            "a b c = d e\n",
            "k = \"multi\nline\"\n",
            "k = 'x'\"y\" z\n",
            "clé = valeur é\n",
            "k = a #b\n",
            "k = a=b\n",
            "k = ''\n",
            "k = \"a\\\"\n",
            "k = ${HOME}\n",
            "# hash\n",
            "[unterminated\n",
            "key only\n",
            "  <?xml version=\"1.0\"?>",
            "k = \"open\n",
            "]\n",
            "=x\n",
            "k = v\r\n\r",
        ];
        for text in cases {
            let reference = parse_reference(text);
            if let Some(fast) = fast::parse(text) {
                assert_eq!(Ok(fast.finish(text.into())), reference, "{text:?}");
            }
            assert_eq!(parse(text), reference, "{text:?}");
        }
        for text in &cases[..12] {
            assert!(fast::parse(text).is_some(), "{text:?}");
        }
    }

    #[test]
    fn an_entry_is_small() {
        // The point of the flat layout: a pool file's 28 settings in under half a kilobyte.
        assert_eq!(std::mem::size_of::<EntryRecord>(), 16);
    }
}
