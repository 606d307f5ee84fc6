//! nginx configuration: pest pairs -> lossless tree.

use pest::iterators::Pair;
use pest::Parser as _;
use std::borrow::Cow;
use std::sync::Arc;

mod fast;

use super::SyntaxError;
use crate::source::{LineIndex, Span};

#[derive(pest_derive::Parser)]
#[grammar = "grammar/nginx.pest"]
struct NginxParser;

/// A parsed nginx file, stored flat: every word, directive and comment of the file sits in one
/// array per kind, in input order, and is read through [`Directive`], [`Word`] and [`Block`]
/// handles. Words are spans into the file's text, which the tree shares; a value is computed
/// when asked for. A 10,000-site tree holds millions of words: boxed nodes with their own
/// copies of every value took seven times the text's size, these arrays about as much as it.
///
/// The blanks between tokens are not stored either: every byte no leaf covers is a space, tab,
/// CR or LF, as [`Config::check_lossless`] verifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    text: Arc<str>,
    bom: bool,
    words: Vec<Span>,
    /// In pre-order: a block's directives follow the directive that opens it.
    directives: Vec<DirectiveData>,
    comments: Vec<Span>,
    /// The values of words whose escapes change them (`\"`, `\n`, ...), by word index.
    unescaped: Vec<(u32, Box<str>)>,
    /// The directives (by index, increasing) that end in a raw `*_by_lua_block` body.
    lua_bodies: Vec<u32>,
}

/// 16 bytes: a directive's words run up to the next directive's first word, and how it
/// ends follows from `end`, `close` and the short list of Lua bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DirectiveData {
    first_word: u32,
    /// The offset of the `;`, or of the `{` that opens a block or a Lua body.
    end: u32,
    /// The offset of the closing `}`; `end` for a `;`.
    close: u32,
    /// The index just past this directive's last descendant.
    subtree_end: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EndKind {
    Semicolon,
    Block,
    /// A `*_by_lua_block` body, kept as raw text.
    Raw,
}

/// What a file or block holds, in order: comments and directives.
#[derive(Clone, Copy, Debug)]
pub enum Node<'c> {
    Comment { span: Span },
    Directive(Directive<'c>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quote {
    None,
    Single,
    Double,
}

/// How a directive ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Semicolon {
        span: Span,
    },
    Block {
        open: Span,
        close: Span,
    },
    /// A `*_by_lua_block` body, kept as raw text.
    Raw {
        open: Span,
        body: Span,
        close: Span,
    },
}

/// One directive of a [`Config`].
#[derive(Clone, Copy)]
pub struct Directive<'c> {
    config: &'c Config,
    index: u32,
}

/// A block's contents: the directives and comments between its braces.
#[derive(Clone, Copy, Debug)]
pub struct Block<'c> {
    directive: Directive<'c>,
}

/// One word (token) of a directive.
#[derive(Clone, Copy)]
pub struct Word<'c> {
    config: &'c Config,
    index: u32,
}

/// A directive's words, or its arguments: a slice-like view.
#[derive(Clone, Copy)]
pub struct Words<'c> {
    config: &'c Config,
    start: u32,
    len: u32,
}

impl std::fmt::Debug for Directive<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Directive({:?} at {:?})", self.name(), self.span())
    }
}

impl std::fmt::Debug for Word<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Word({:?} at {:?})", self.value(), self.span())
    }
}

impl std::fmt::Debug for Words<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Directive<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.config, other.config) && self.index == other.index
    }
}

impl Eq for Directive<'_> {}

impl<'c> Word<'c> {
    /// The raw token, quotes included.
    pub fn span(self) -> Span {
        self.config.words[self.index as usize]
    }

    pub fn raw(self) -> &'c str {
        &self.config.text[self.span().range()]
    }

    pub fn quote(self) -> Quote {
        match self.raw().as_bytes().first() {
            Some(b'"') => Quote::Double,
            Some(b'\'') => Quote::Single,
            _ => Quote::None,
        }
    }

    /// The token as nginx sees it: quotes removed, `\"` `\'` `\\` `\t` `\r` `\n` unescaped.
    pub fn value(self) -> &'c str {
        // Hot: rules look directives up by name all the time. Bytes first, one slice at the end.
        let span = self.span();
        let (start, end) = match self.config.text.as_bytes()[span.start as usize] {
            b'"' | b'\'' => (span.start as usize + 1, span.end as usize - 1),
            _ => (span.start as usize, span.end as usize),
        };
        // Only words whose escapes change them are in the table, which is nearly always empty.
        let table = &self.config.unescaped;
        if !table.is_empty() {
            if let Ok(k) = table.binary_search_by_key(&self.index, |(i, _)| *i) {
                return &table[k].1;
            }
        }
        &self.config.text[start..end]
    }

    /// Whether the value is `s`; cheaper than comparing [`value`](Self::value).
    pub fn is(self, s: &str) -> bool {
        let raw = &self.config.text.as_bytes()[self.span().range()];
        match raw.first() {
            Some(b'"' | b'\'') => self.value() == s,
            // An unquoted word is its own value unless the table holds it.
            _ if self.config.unescaped.is_empty() => raw == s.as_bytes(),
            _ => self.value() == s,
        }
    }
}

impl<'c> Words<'c> {
    pub fn len(self) -> usize {
        self.len as usize
    }

    pub fn is_empty(self) -> bool {
        self.len == 0
    }

    pub fn get(self, i: usize) -> Option<Word<'c>> {
        (i < self.len as usize).then(|| Word {
            config: self.config,
            index: self.start + i as u32,
        })
    }

    pub fn first(self) -> Option<Word<'c>> {
        self.get(0)
    }

    pub fn last(self) -> Option<Word<'c>> {
        self.len.checked_sub(1).and_then(|i| self.get(i as usize))
    }

    pub fn iter(self) -> impl DoubleEndedIterator<Item = Word<'c>> + ExactSizeIterator {
        let config = self.config;
        (self.start..self.start + self.len).map(move |index| Word { config, index })
    }

    /// From the first word's start to the last one's end (empty for no words).
    pub fn span(self) -> Span {
        match (self.first(), self.last()) {
            (Some(first), Some(last)) => first.span().cover(last.span()),
            _ => Span::default(),
        }
    }

    /// The words from `i` on.
    pub fn skip(self, i: usize) -> Words<'c> {
        let i = (i as u32).min(self.len);
        Words {
            config: self.config,
            start: self.start + i,
            len: self.len - i,
        }
    }
}

impl<'c> Directive<'c> {
    fn data(self) -> &'c DirectiveData {
        &self.config.directives[self.index as usize]
    }

    fn kind(self) -> EndKind {
        let d = self.data();
        if d.close == d.end {
            EndKind::Semicolon
        } else if self.config.lua_bodies.binary_search(&self.index).is_ok() {
            EndKind::Raw
        } else {
            EndKind::Block
        }
    }

    /// From the name to the `;` or the closing `}`.
    pub fn span(self) -> Span {
        let d = self.data();
        Span {
            start: self.config.words[d.first_word as usize].start,
            end: d.close + 1,
        }
    }

    /// `words()[0]` is the name; the rest are the arguments.
    pub fn words(self) -> Words<'c> {
        let d = self.data();
        let next = self
            .config
            .directives
            .get(self.index as usize + 1)
            .map_or(self.config.words.len() as u32, |n| n.first_word);
        Words {
            config: self.config,
            start: d.first_word,
            len: next - d.first_word,
        }
    }

    pub fn name_word(self) -> Word<'c> {
        Word {
            config: self.config,
            index: self.data().first_word,
        }
    }

    pub fn name(self) -> &'c str {
        self.name_word().value()
    }

    /// Whether the directive is named `name` (cheaper than comparing [`name`](Self::name)).
    pub fn is(self, name: &str) -> bool {
        self.name_word().is(name)
    }

    pub fn args(self) -> Words<'c> {
        self.words().skip(1)
    }

    pub fn arg(self, i: usize) -> Option<&'c str> {
        self.args().get(i).map(Word::value)
    }

    pub fn end(self) -> End {
        let d = self.data();
        let at = |offset: u32| Span {
            start: offset,
            end: offset + 1,
        };
        match self.kind() {
            EndKind::Semicolon => End::Semicolon { span: at(d.end) },
            EndKind::Block => End::Block {
                open: at(d.end),
                close: at(d.close),
            },
            EndKind::Raw => End::Raw {
                open: at(d.end),
                body: Span {
                    start: d.end + 1,
                    end: d.close,
                },
                close: at(d.close),
            },
        }
    }

    pub fn block(self) -> Option<Block<'c>> {
        (self.kind() == EndKind::Block).then_some(Block { directive: self })
    }

    /// This directive and the ones after it at its level, then (past the end of its block)
    /// those after the block: bound it, e.g. with `take`.
    pub fn and_following(self) -> Siblings<'c> {
        siblings(self.config, self.index..self.config.directives.len() as u32)
    }

    pub fn children(self) -> Siblings<'c> {
        let d = self.data();
        let range = match self.kind() {
            EndKind::Block => self.index + 1..d.subtree_end,
            _ => 0..0,
        };
        siblings(self.config, range)
    }

    /// Comments between the words and before the end, in order (usually none).
    pub fn comments(self) -> &'c [Span] {
        let d = self.data();
        comments_in(self.config, self.span().start, d.end)
    }
}

impl<'c> Block<'c> {
    pub fn open(self) -> Span {
        let end = self.directive.data().end;
        Span {
            start: end,
            end: end + 1,
        }
    }

    pub fn close(self) -> Span {
        let close = self.directive.data().close;
        Span {
            start: close,
            end: close + 1,
        }
    }

    pub fn directives(self) -> Siblings<'c> {
        self.directive.children()
    }

    /// The comments and directives between the braces, in order.
    pub fn items(self) -> Vec<Node<'c>> {
        let d = self.directive;
        let range = d.index + 1..d.data().subtree_end;
        items_of(d.config, range, self.open().end, self.close().start)
    }
}

/// The directives at one level of `range` (a whole file's, or a block's descendants).
fn siblings(config: &Config, range: std::ops::Range<u32>) -> Siblings<'_> {
    Siblings {
        config,
        next: range.start,
        end: range.end,
    }
}

/// The directives of one level (a file's top level, or a block), in order.
#[derive(Clone)]
pub struct Siblings<'c> {
    config: &'c Config,
    next: u32,
    end: u32,
}

impl<'c> Iterator for Siblings<'c> {
    type Item = Directive<'c>;

    fn next(&mut self) -> Option<Directive<'c>> {
        if self.next >= self.end {
            return None;
        }
        let d = Directive {
            config: self.config,
            index: self.next,
        };
        self.next = d.data().subtree_end;
        Some(d)
    }
}

/// The comments starting in `start..end`.
fn comments_in(config: &Config, start: u32, end: u32) -> &[Span] {
    let from = config.comments.partition_point(|c| c.start < start);
    let to = config.comments.partition_point(|c| c.start < end);
    &config.comments[from..to.max(from)]
}

/// The comments and directives of one level, in order: the directives of `range` at its top,
/// and the comments in `start..end` outside them.
fn items_of(config: &Config, range: std::ops::Range<u32>, start: u32, end: u32) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut at = start;
    for d in siblings(config, range) {
        let span = d.span();
        out.extend(
            comments_in(config, at, span.start)
                .iter()
                .map(|&span| Node::Comment { span }),
        );
        out.push(Node::Directive(d));
        at = span.end;
    }
    out.extend(
        comments_in(config, at, end)
            .iter()
            .map(|&span| Node::Comment { span }),
    );
    out
}

impl Config {
    /// The file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn bom(&self) -> Option<Span> {
        self.bom.then(|| Span::new(0, 3))
    }

    /// The top-level directives.
    pub fn directives(&self) -> Siblings<'_> {
        siblings(self, 0..self.directives.len() as u32)
    }

    /// Every directive at any depth, in input order.
    pub fn all_directives(&self) -> impl Iterator<Item = Directive<'_>> {
        (0..self.directives.len() as u32).map(move |index| Directive {
            config: self,
            index,
        })
    }

    /// The top-level comments and directives, in order.
    pub fn items(&self) -> Vec<Node<'_>> {
        items_of(
            self,
            0..self.directives.len() as u32,
            0,
            self.text.len() as u32,
        )
    }

    /// Every comment at any depth, in input order.
    pub fn comments(&self) -> &[Span] {
        &self.comments
    }

    /// The span of every token the tree holds (words, comments, `;`, braces, Lua bodies, the
    /// BOM), in input order. The bytes between them are blanks.
    pub fn leaves(&self) -> Vec<Span> {
        let mut out = Vec::with_capacity(self.words.len() + self.comments.len() * 2 + 1);
        out.extend(self.bom());
        out.extend(self.words.iter().copied());
        out.extend(self.comments.iter().copied());
        for d in self.all_directives() {
            match d.end() {
                End::Semicolon { span } => out.push(span),
                End::Block { open, close } => out.extend([open, close]),
                End::Raw { open, body, close } => out.extend([open, body, close]),
            }
        }
        out.sort();
        out
    }

    /// The leaves and the blanks between them, in order: together they cover the whole input.
    pub fn leaves_and_blanks(&self) -> Vec<Span> {
        super::with_blanks(self.leaves(), self.text.len())
    }

    /// Check that the tree accounts for `text`: leaves never overlap, and every byte outside
    /// them is a blank (space, tab, CR, LF). With [`print`](Self::print) this is the
    /// round-trip guarantee the tests and fuzzers hold the parser to.
    pub fn check_lossless(&self, text: &str) -> Result<(), String> {
        if self.text.len() != text.len() {
            return Err(format!(
                "tree covers {} bytes, input has {}",
                self.text.len(),
                text.len()
            ));
        }
        super::check_leaves(&self.leaves(), text.as_bytes())
    }

    /// Print the tree back: the leaves and the blanks between them, read from `text`.
    pub fn print(&self, text: &str) -> String {
        super::print_spans(&self.leaves_and_blanks(), text)
    }
}

/// Builds a [`Config`]'s arrays in input order; both parsers drive it.
struct TreeBuilder {
    words: Vec<Span>,
    directives: Vec<DirectiveData>,
    comments: Vec<Span>,
    unescaped: Vec<(u32, Box<str>)>,
    lua_bodies: Vec<u32>,
}

thread_local! {
    /// Each thread builds its trees in the same vectors and copies each result out at its
    /// exact size. Growing and then shrinking fresh vectors for every file of a large run left
    /// the allocator's pages holding the freed pieces between the trees it keeps (tens of
    /// megabytes of resident memory on 10,000 sites).
    static SCRATCH: std::cell::Cell<Option<Box<TreeBuilder>>> = const { std::cell::Cell::new(None) };
}

impl TreeBuilder {
    fn new() -> Box<Self> {
        SCRATCH.take().unwrap_or_else(|| {
            Box::new(TreeBuilder {
                words: Vec::new(),
                directives: Vec::new(),
                comments: Vec::new(),
                unescaped: Vec::new(),
                lua_bodies: Vec::new(),
            })
        })
    }

    /// Give the vectors back for the thread's next file.
    pub(super) fn recycle(mut self: Box<Self>) {
        // One unusually large file must not keep its vectors for the rest of the run.
        if self.words.capacity() > 1 << 20 {
            return;
        }
        self.words.clear();
        self.directives.clear();
        self.comments.clear();
        self.unescaped.clear();
        self.lua_bodies.clear();
        SCRATCH.set(Some(self));
    }

    fn word(&mut self, text: &str, span: Span) {
        let raw = &text[span.range()];
        let inner = match raw.as_bytes()[0] {
            b'"' | b'\'' => &raw[1..raw.len() - 1],
            _ => raw,
        };
        if inner.contains('\\') {
            if let Cow::Owned(value) = unescape(inner) {
                self.unescaped
                    .push((self.words.len() as u32, value.into_boxed_str()));
            }
        }
        self.words.push(span);
    }

    fn comment(&mut self, span: Span) {
        self.comments.push(span);
    }

    /// Start a directive whose words come next; returns its index for [`finish`](Self::finish).
    fn start_directive(&mut self) -> usize {
        self.directives.push(DirectiveData {
            first_word: self.words.len() as u32,
            end: 0,
            close: 0,
            subtree_end: 0,
        });
        self.directives.len() - 1
    }

    /// Forget a directive started at `index` and everything after it (a parser backing out).
    fn truncate(&mut self, index: usize, words: usize, comments: usize, unescaped: usize) {
        self.directives.truncate(index);
        self.words.truncate(words);
        self.comments.truncate(comments);
        self.unescaped.truncate(unescaped);
        self.lua_bodies.retain(|&i| (i as usize) < index);
    }

    /// The directive's words were all added (and its block's directives, if any); it ends
    /// at `end` (`;` or `{`), and a block or a Lua body closes at `close`.
    fn finish(&mut self, index: usize, kind: EndKind, end: u32, close: u32) {
        let subtree_end = self.directives.len() as u32;
        let d = &mut self.directives[index];
        d.end = end;
        d.close = close;
        d.subtree_end = subtree_end;
        if kind == EndKind::Raw {
            self.lua_bodies.push(index as u32);
        }
    }

    fn build(mut self: Box<Self>, text: Arc<str>) -> Config {
        let config = Config {
            bom: text.starts_with('\u{FEFF}'),
            text,
            words: self.words.as_slice().to_vec(),
            directives: self.directives.as_slice().to_vec(),
            comments: self.comments.as_slice().to_vec(),
            unescaped: std::mem::take(&mut self.unescaped),
            lua_bodies: self.lua_bodies.as_slice().to_vec(),
        };
        self.recycle();
        config
    }
}

/// How deep blocks (and braces in a Lua body) may nest. pest's parser, the tree builder and
/// the tree's own drop all recurse once per level, so without a bound a file of 10,000 `a {`
/// would overflow the stack. Real configurations nest fewer than ten levels; 200 also leaves
/// room for a test thread's 2 MiB stack in a debug build.
pub const MAX_NESTING: usize = 200;

/// Parse one nginx file whose text the caller keeps shared (a project's files): the tree
/// reads its words from it.
pub fn parse_shared(text: Arc<str>) -> Result<Config, SyntaxError> {
    if too_deep(&text).is_none() {
        if let Some(tree) = fast::parse(&text) {
            let config = tree.build(text);
            check_semantics_of_syntax(&config, &LineIndex::default())?;
            return Ok(config);
        }
    }
    parse_reference_shared(text)
}

/// Parse one nginx file.
pub fn parse(text: &str) -> Result<Config, SyntaxError> {
    parse_shared(text.into())
}

/// Parse with the pest grammar alone: the reference [`parse`] must agree with (it takes a
/// hand-written fast path whenever it can). For differential tests and fuzzing.
#[doc(hidden)]
pub fn parse_reference(text: &str) -> Result<Config, SyntaxError> {
    parse_reference_shared(text.into())
}

fn parse_reference_shared(text: Arc<str>) -> Result<Config, SyntaxError> {
    let lines = LineIndex::new(&text);
    if let Some(offset) = too_deep(&text) {
        return Err(SyntaxError {
            span: Span::new(offset, offset + 1),
            at: lines.line_col(&text, offset),
            message: format!(
                "blocks nest more than {MAX_NESTING} levels deep here; not parsed further"
            ),
        });
    }
    let pairs = match NginxParser::parse(Rule::config, &text) {
        Ok(p) => p,
        Err(e) => return Err(explain_failure(&text, &lines, &e)),
    };
    let mut builder = Builder {
        text: &text,
        tree: TreeBuilder::new(),
    };
    let config_pair = pairs
        .into_iter()
        .next()
        .expect("config rule always yields one pair");
    for p in config_pair.into_inner() {
        match p.as_rule() {
            Rule::bom | Rule::EOI => {}
            _ => builder.node(p),
        }
    }
    let tree = builder.tree;
    let config = tree.build(text.clone());
    check_semantics_of_syntax(&config, &lines)?;
    Ok(config)
}

fn span_of(p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

struct Builder<'a> {
    text: &'a str,
    tree: Box<TreeBuilder>,
}

impl Builder<'_> {
    /// Blanks are not stored.
    fn node(&mut self, p: Pair<'_, Rule>) {
        match p.as_rule() {
            Rule::space => {}
            Rule::comment => self.tree.comment(span_of(&p)),
            Rule::directive => self.directive(p),
            r => unreachable!("unexpected rule {r:?} among items"),
        }
    }

    fn directive(&mut self, p: Pair<'_, Rule>) {
        let inner = p
            .into_inner()
            .next()
            .expect("directive has one alternative");
        let index = self.tree.start_directive();
        let mut raw_open = None;
        for part in inner.into_inner() {
            match part.as_rule() {
                Rule::dquoted | Rule::squoted | Rule::bare | Rule::lua_block_name => {
                    self.tree.word(self.text, span_of(&part))
                }
                Rule::space => {}
                Rule::comment => self.tree.comment(span_of(&part)),
                Rule::semicolon => {
                    let at = span_of(&part).start;
                    self.tree.finish(index, EndKind::Semicolon, at, at);
                }
                Rule::block => {
                    let mut open = 0;
                    let mut close = 0;
                    for part in part.into_inner() {
                        match part.as_rule() {
                            Rule::open_brace => open = span_of(&part).start,
                            Rule::close_brace => close = span_of(&part).start,
                            _ => self.node(part),
                        }
                    }
                    self.tree.finish(index, EndKind::Block, open, close);
                }
                Rule::raw_open => raw_open = Some(span_of(&part).start),
                Rule::raw_body => {}
                Rule::raw_close => {
                    let open = raw_open.expect("raw_open precedes raw_close");
                    let close = span_of(&part).start;
                    self.tree.finish(index, EndKind::Raw, open, close);
                }
                r => unreachable!("unexpected rule {r:?} in directive"),
            }
        }
    }
}

/// nginx's unescaping of a token: `\"`, `\'`, `\\` lose the backslash; `\t` `\r` `\n` become
/// control characters; any other `\x` stays as written (regexes keep their escapes).
pub fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let replaced = match chars.peek() {
                Some(&n @ ('"' | '\'' | '\\')) => Some(n),
                Some('t') => Some('\t'),
                Some('r') => Some('\r'),
                Some('n') => Some('\n'),
                _ => None,
            };
            if let Some(r) = replaced {
                out.push(r);
                chars.next();
                continue;
            }
        }
        out.push(c);
    }
    if out == raw {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(out)
    }
}

/// Syntax nginx checks beyond tokens that we can check without knowing every module:
/// the shape of `if (...)`.
fn check_semantics_of_syntax(config: &Config, lines: &LineIndex) -> Result<(), SyntaxError> {
    for d in config.all_directives() {
        if d.name() == "if" && d.name_word().quote() == Quote::None {
            check_if(d, config.text(), lines)?;
        }
    }
    Ok(())
}

fn check_if(d: Directive<'_>, text: &str, lines: &LineIndex) -> Result<(), SyntaxError> {
    let err = |span: Span, message: String| SyntaxError {
        span,
        at: if lines.line_count() > 0 {
            lines.line_col(text, span.start as usize)
        } else {
            // The fast path passes an empty index; build one only for the error.
            LineIndex::new(text).line_col(text, span.start as usize)
        },
        message,
    };
    let args = d.args();
    if d.block().is_none() {
        return Err(err(
            d.name_word().span(),
            "\"if\" needs a block: if (condition) { ... }".into(),
        ));
    }
    let (Some(first), Some(last)) = (args.first(), args.last()) else {
        return Err(err(
            d.name_word().span(),
            "invalid number of arguments in \"if\" directive".into(),
        ));
    };
    if !first.value().starts_with('(') {
        return Err(err(
            first.span(),
            format!(
                "invalid condition \"{}\": it must start with \"(\"",
                first.value()
            ),
        ));
    }
    if !last.value().ends_with(')') {
        return Err(err(
            last.span(),
            format!("invalid condition \"{}\": missing \")\"", last.value()),
        ));
    }
    // Inside the parentheses: a variable, or `var op value`, or `-f`/`!-f` style test + operand.
    let mut inner: Vec<&str> = args.iter().map(Word::value).collect();
    let n = inner.len();
    inner[0] = &inner[0][1..];
    inner[n - 1] = inner[n - 1].strip_suffix(')').unwrap_or(inner[n - 1]);
    // Drop only the tokens that held nothing but a parenthesis: `( $a` or `"x" )`. nginx
    // reads values, not quotes: a last argument `")"` is the closing parenthesis too, while
    // an empty quoted operand (`$a != ""`) stays.
    if n > 1 && last.value() == ")" {
        inner.pop();
    }
    if n > 1 && first.value() == "(" {
        inner.remove(0);
    }
    let ok = match inner.as_slice() {
        [] => false,
        [single] => single.starts_with('$'),
        [op, _] => matches!(
            *op,
            "-f" | "!-f" | "-d" | "!-d" | "-e" | "!-e" | "-x" | "!-x"
        ),
        [var, op, _] => {
            var.starts_with('$') && matches!(*op, "=" | "!=" | "~" | "~*" | "!~" | "!~*")
        }
        _ => false,
    };
    if !ok {
        let span = first.span().cover(last.span());
        return Err(err(
            span,
            format!("invalid condition \"{}\"", text[span.range()].trim()),
        ));
    }
    Ok(())
}

/// Turn a pest failure into nginx's own wording, by re-reading the input the way nginx's
/// tokenizer does until it hits the problem. Only runs on the error path.
fn explain_failure(
    text: &str,
    lines: &LineIndex,
    fallback: &pest::error::Error<Rule>,
) -> SyntaxError {
    let at = |offset: usize, message: String| {
        let end = text[offset..]
            .chars()
            .next()
            .map_or(offset, |c| offset + c.len_utf8());
        SyntaxError {
            span: Span::new(offset, end),
            at: lines.line_col(text, offset),
            message,
        }
    };
    let bytes = text.as_bytes();
    let mut i = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    let mut depth = 0usize;
    let mut open_braces: Vec<usize> = Vec::new();
    let mut words = 0usize; // tokens in the current directive
    let mut directive_start = 0usize;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b';' | b'{' if words == 0 => return at(i, format!("unexpected \"{}\"", c as char)),
            b';' => {
                words = 0;
                i += 1;
            }
            b'{' => {
                let is_lua = lua_block_name_at(bytes, directive_start);
                words = 0;
                if is_lua {
                    match skip_lua_body(bytes, i + 1) {
                        Some(end) => i = end + 1,
                        None => {
                            return at(
                                i,
                                "unexpected end of file in Lua block, expecting \"}\"".into(),
                            )
                        }
                    }
                } else {
                    open_braces.push(i);
                    depth += 1;
                    i += 1;
                }
            }
            b'}' if words > 0 => return at(i, "unexpected \"}\"".into()),
            b'}' if depth == 0 => return at(i, "unexpected \"}\"".into()),
            b'}' => {
                depth -= 1;
                open_braces.pop();
                i += 1;
            }
            b'"' | b'\'' => {
                if words == 0 {
                    directive_start = i;
                }
                words += 1;
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return at(start, format!("unexpected end of file: the quoted string opened here is never closed with {}", c as char)),
                        Some(b'\\') => i += 2,
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                match bytes.get(i) {
                    None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{' | b')') => {}
                    Some(_) => {
                        let ch = text[i..].chars().next().unwrap_or('?');
                        return at(i, format!("unexpected \"{ch}\" after a quoted string (nginx needs a space here)"));
                    }
                }
            }
            _ => {
                if words == 0 {
                    directive_start = i;
                }
                words += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'$' if bytes.get(i + 1) == Some(&b'{') => i += 2,
                        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{' => break,
                        _ => i += 1,
                    }
                }
                i = i.min(bytes.len());
            }
        }
    }
    let end = text.len();
    if words > 0 {
        return at(
            end,
            "unexpected end of file, expecting \";\" or \"}\"".into(),
        );
    }
    if let Some(&open) = open_braces.last() {
        let open_at = lines.line_col(text, open);
        return at(
            end,
            format!(
                "unexpected end of file, expecting \"}}\" (to close the block opened at {open_at})"
            ),
        );
    }
    // The tokenizer found nothing; report what pest saw.
    let offset = match fallback.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    at(offset.min(end), "syntax error".into())
}

/// The offset of the first "{" that opens level `MAX_NESTING + 1`, reading tokens as nginx
/// does (braces in comments, quoted strings and words do not count; a Lua body's braces do).
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    // Fast path for every real file: too few braces to get that deep.
    if bytes.iter().filter(|&&b| b == b'{').count() <= MAX_NESTING {
        return None;
    }
    let mut i = 0;
    let mut depth = 0usize;
    let mut words = 0usize;
    let mut directive_start = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            // Only reached where a token starts, where "#" always opens a comment.
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b';' => {
                words = 0;
                i += 1;
            }
            b'{' => {
                if words == 1 && lua_block_name_at(bytes, directive_start) {
                    match lua_depth_scan(bytes, i + 1, depth + 1) {
                        Ok(end) => i = end,
                        Err(at) => return Some(at),
                    }
                } else {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Some(i);
                    }
                    i += 1;
                }
                words = 0;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                words = 0;
                i += 1;
            }
            q @ (b'"' | b'\'') => {
                if words == 0 {
                    directive_start = i;
                }
                words += 1;
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            _ => {
                if words == 0 {
                    directive_start = i;
                }
                words += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'$' if bytes.get(i + 1) == Some(&b'{') => i += 2,
                        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'{' => break,
                        _ => i += 1,
                    }
                }
            }
        }
    }
    None
}

/// Walk a Lua body from just after its "{" the way the grammar's `lua_chunk` does, with the
/// body's brace at level `depth`. Ok: the offset after the closing "}" (or the end of the
/// text); Err: the offset of a "{" past `MAX_NESTING`.
fn lua_depth_scan(bytes: &[u8], mut i: usize, mut depth: usize) -> Result<usize, usize> {
    let base = depth;
    if depth > MAX_NESTING {
        return Err(i - 1);
    }
    // `[` `=`* `[`: the level of a long bracket starting at `j`, if one does.
    let long_open = |j: usize| -> Option<(usize, usize)> {
        if bytes.get(j) != Some(&b'[') {
            return None;
        }
        let eqs = bytes[j + 1..].iter().take_while(|&&b| b == b'=').count();
        (bytes.get(j + 1 + eqs) == Some(&b'[')).then_some((eqs, j + 2 + eqs))
    };
    let skip_long = |mut j: usize, eqs: usize| -> usize {
        while j < bytes.len() {
            if bytes[j] == b']'
                && bytes[j + 1..].iter().take(eqs).all(|&b| b == b'=')
                && bytes.get(j + 1 + eqs) == Some(&b']')
            {
                return j + 2 + eqs;
            }
            j += 1;
        }
        j
    };
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(i);
                }
                i += 1;
            }
            b'}' if depth == base => return Ok(i + 1),
            b'}' => {
                depth -= 1;
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i += 2;
                if let Some((eqs, after)) = long_open(i) {
                    i = skip_long(after, eqs);
                } else {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
            }
            b'[' if long_open(i).is_some() => {
                let (eqs, after) = long_open(i).unwrap_or((0, i + 1));
                i = skip_long(after, eqs);
            }
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(i)
}

/// The length of the grammar's `lua_block_name` at `start`, if it matches there:
/// `[A-Za-z0-9_]+` ending in `_by_lua_block`, bare or in matching quotes, then white space or
/// "{". nginx strips the quotes before the Lua module sees the name, so both are a Lua block.
pub(super) fn lua_block_name_len(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = match bytes.get(start) {
        Some(&q @ (b'"' | b'\'')) => Some(q),
        _ => None,
    };
    let name_start = start + usize::from(quote.is_some());
    let len = bytes[name_start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    let mut end = name_start + len;
    if len <= "_by_lua_block".len() || !bytes[name_start..end].ends_with(b"_by_lua_block") {
        return None;
    }
    if let Some(q) = quote {
        if bytes.get(end) != Some(&q) {
            return None;
        }
        end += 1;
    }
    matches!(bytes.get(end), Some(b' ' | b'\t' | b'\r' | b'\n' | b'{')).then_some(end - start)
}

fn lua_block_name_at(bytes: &[u8], start: usize) -> bool {
    lua_block_name_len(bytes, start).is_some()
}

/// Skip a Lua body starting after its "{"; returns the offset of the closing "}".
fn skip_lua_body(bytes: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) -> Config {
        let c = parse(text).unwrap_or_else(|e| panic!("{e} in {text:?}"));
        c.check_lossless(text).unwrap();
        assert_eq!(c.print(text), text);
        c
    }

    fn names(c: &Config) -> Vec<&str> {
        c.directives().map(|d| d.name()).collect()
    }

    #[test]
    fn directives_blocks_comments() {
        let text = "user www-data; # who\nhttp {\n  server { listen 80; }\n}\n# end";
        let c = roundtrip(text);
        assert_eq!(names(&c), ["user", "http"]);
        let http = c.directives().nth(1).unwrap();
        let server = http.children().next().unwrap();
        assert_eq!(server.children().next().unwrap().arg(0), Some("80"));
        let at = LineIndex::new(text).line_col(text, server.span().start as usize);
        assert_eq!((at.line, at.column), (3, 3));
        assert_eq!(c.comments().len(), 2);
        assert!(matches!(c.items()[1], Node::Comment { .. }));
    }

    #[test]
    fn flat_layout_keeps_levels_words_and_comments_apart() {
        let text = "a 1 # in a\n 2;\nb { # top of b\n  c x { d; } # after c\n  e y z;\n}\nf;\n";
        let c = roundtrip(text);
        let top: Vec<_> = c.directives().map(|d| d.name()).collect();
        assert_eq!(top, ["a", "b", "f"]);
        let a = c.directives().next().unwrap();
        assert_eq!(
            a.args().iter().map(Word::value).collect::<Vec<_>>(),
            ["1", "2"]
        );
        assert_eq!(
            a.comments().len(),
            1,
            "the comment between a's words is a's"
        );
        let b = c.directives().nth(1).unwrap();
        // A block directive's words stop at its brace, though its children's words follow.
        assert_eq!(b.words().len(), 1);
        let block = b.block().unwrap();
        let kinds: Vec<String> = block
            .items()
            .iter()
            .map(|n| match n {
                Node::Comment { span } => text[span.range()].to_string(),
                Node::Directive(d) => d.name().to_string(),
            })
            .collect();
        assert_eq!(kinds, ["# top of b", "c", "# after c", "e"]);
        let inner: Vec<_> = b
            .children()
            .flat_map(|d| d.children())
            .map(|d| d.name())
            .collect();
        assert_eq!(inner, ["d"]);
        assert_eq!(b.children().nth(1).unwrap().arg(1), Some("z"));
        assert!(matches!(b.end(), End::Block { .. }));
        assert_eq!(c.all_directives().count(), 6);
    }

    #[test]
    fn quoting_and_escapes() {
        let c = roundtrip("add_header X \"a \\\"b\\\" c\" 'd\\'e' f\\ g;");
        let d = c.directives().next().unwrap();
        let v: Vec<_> = d.args().iter().map(|w| w.value()).collect();
        assert_eq!(v, ["X", "a \"b\" c", "d'e", "f\\ g"]);
        assert_eq!(d.args().get(1).unwrap().quote(), Quote::Double);
    }

    #[test]
    fn variables_and_braces_in_words() {
        let c = roundtrip("set $a ${b}c; location ~ \"^/x{2}$\" { return 200 ${a}; }");
        let d = c.directives().next().unwrap();
        assert_eq!(d.arg(1), Some("${b}c"));
        assert_eq!(c.directives().nth(1).unwrap().arg(1), Some("^/x{2}$"));
    }

    #[test]
    fn hash_inside_word_is_not_a_comment() {
        let c = roundtrip("return 200 a#b;");
        assert_eq!(c.directives().next().unwrap().arg(1), Some("a#b"));
    }

    #[test]
    fn if_conditions() {
        roundtrip("if ($request_method = POST) { return 405; }");
        roundtrip("if (!-f $request_filename) { return 404; }");
        roundtrip("if ($http_x = \"a b\") { return 404; }");
        roundtrip("if ($slow) { limit_rate 10k; }");
        let e = parse("if ($a = b { return 404; }").unwrap_err();
        assert!(e.message.contains("missing \")\""), "{e}");
        let e = parse("if $a { }").unwrap_err();
        assert!(e.message.contains("invalid condition"), "{e}");
        // nginx 1.22 reads values, not quotes: a quoted ")" closes the condition (accepted),
        // and one too many is refused ("invalid condition \"$uri\"").
        roundtrip("if ( $uri ~ \"files\" \")\" { return 404; }");
        let e = parse("if ( $uri ~ \"files\" \")\" ) { return 404; }").unwrap_err();
        assert!(e.message.contains("invalid condition"), "{e}");
    }

    #[test]
    fn lua_blocks_are_raw() {
        let c = roundtrip(
            "content_by_lua_block {\n  local t = { a = \"}\" } -- }\n  ngx.say([[}]])\n}\n",
        );
        assert!(matches!(
            c.directives().next().unwrap().end(),
            End::Raw { .. }
        ));
    }

    #[test]
    fn quoted_lua_block_names_are_lua_blocks() {
        // nginx strips the quotes before the Lua module reads the block raw, so Lua that is
        // not nginx syntax (a table `{ 1, 2, 3 }`, strings holding ";" "{" and quotes) is fine.
        let lua = " {\n  local t = { 1, 2, 3 }\n  local s = \"a;b{c'\" .. '}\"' -- ; {\n  ngx.say(#t, s)\n}\n";
        for name in [
            "\"rewrite_by_lua_block\"",
            "'content_by_lua_block'",
            "access_by_lua_block",
        ] {
            let text = format!("location / {{\n{name}{lua}}}\n");
            assert_eq!(parse(&text), parse_reference(&text), "{text}");
            let c = roundtrip(&text);
            let location = c.directives().next().unwrap();
            let block = location.children().next().unwrap();
            assert_eq!(block.name(), name.trim_matches(['"', '\'']));
            assert!(matches!(block.end(), End::Raw { .. }), "{text}");
        }
        // A quote that does not close right after the name is an ordinary word.
        assert!(lua_block_name_len(b"\"x_by_lua_block {", 0).is_none());
        assert!(lua_block_name_len(b"\"x_by_lua_block' {", 0).is_none());
        assert_eq!(lua_block_name_len(b"'x_by_lua_block'{", 0), Some(16));
    }

    #[test]
    fn crlf_bom_and_no_final_newline() {
        let text = "\u{FEFF}events {\r\n}\r\n# tail";
        let c = roundtrip(text);
        assert!(c.bom().is_some());
        roundtrip("server_name café.example;\n");
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let cases = [
            (
                "http {\n  server {\n",
                "unexpected end of file, expecting \"}\"",
                3,
            ),
            ("events {}\n}\n", "unexpected \"}\"", 2),
            (
                "listen 80\n",
                "unexpected end of file, expecting \";\" or \"}\"",
                2,
            ),
            ("root \"/var/www;\n", "never closed", 1),
            ("server { listen 80 }\n", "unexpected \"}\"", 1),
            (";\n", "unexpected \";\"", 1),
            ("root \"a\"b;\n", "unexpected \"b\"", 1),
        ];
        for (text, want, line) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.message.contains(want), "{text:?}: got {e}");
            assert_eq!(e.at.line, line, "{text:?}: got {e}");
        }
    }

    #[test]
    fn deep_nesting_is_a_positioned_error_not_a_stack_overflow() {
        let ok = format!(
            "{}{}",
            "a {\n".repeat(MAX_NESTING),
            "}\n".repeat(MAX_NESTING)
        );
        roundtrip(&ok);
        for depth in [MAX_NESTING + 1, 10_000] {
            let text = format!("{}{}", "a {\n".repeat(depth), "}\n".repeat(depth));
            let e = parse(&text).unwrap_err();
            assert!(e.message.contains("nest more than"), "{e}");
            assert_eq!(e.at.line as usize, MAX_NESTING + 1);
        }
        // Braces in comments, quotes and words do not count.
        roundtrip(&"# {\nx \"{\" '{' a${b}c;\n".repeat(1000));
        let lua = format!(
            "content_by_lua_block {{ {} }}",
            "local t = {}; -- {\n s = '{' .. [[{]]\n".repeat(300)
        );
        roundtrip(&lua);
        let lua = format!(
            "content_by_lua_block {{ {}{} }}",
            "{".repeat(10_000),
            "}".repeat(10_000)
        );
        assert!(parse(&lua).unwrap_err().message.contains("nest more than"));
    }

    #[test]
    fn fast_path_agrees_with_pest() {
        let cases = [
            "",
            "\u{FEFF}",
            "a;",
            "a b c;\n",
            "# only\r\n# comments\r",
            "a \"b c\" 'd' e\\ f ${g}h;",
            "if ($a = \"b\") { return 404; }",
            "a \"x\") ;",
            "a \"x\")b;",
            "http { server { listen 80; # c\n } }\n",
            "a # c\n b # d\r\n ;",
            "a\\",
            "a\\;",
            "a \"\\\"\";",
            "content_by_lua_block { local t = { a = \"}\" } -- }\n ngx.say([==[}]==]) }",
            "content_by_lua_block\n# c\n{ '}' [[ ] ]] --[[ } ]] }",
            "content_by_lua_block x;",
            "content_by_lua_block { [[ }",
            "content_by_lua_block { \"abc\n} ",
            "x_by_lua_block_by_lua_block{ }",
            "_by_lua_block { a; }",
            "café \"é\" 'ü' \\é;",
            "a {",
            "a }",
            "}",
            ";",
            "a \"b",
            "a \"b\"c;",
        ];
        for text in cases {
            let fast = too_deep(text)
                .is_none()
                .then(|| fast::parse(text))
                .flatten()
                .map(|tree| tree.build(text.into()));
            let reference = parse_reference(text);
            if let Some(fast) = fast {
                assert_eq!(Ok(fast), reference, "{text:?}");
            }
            assert_eq!(parse(text), reference, "{text:?}");
        }
        // The fast path must take every one of these that parses.
        for text in cases {
            if parse_reference(text).is_ok() {
                assert!(fast::parse(text).is_some(), "{text:?}");
            }
        }
    }
}
