//! nginx configuration: pest pairs -> lossless tree.

use pest::iterators::Pair;
use pest::Parser as _;
use serde::Serialize;

mod fast;

use super::{SmallText, SyntaxError};
use crate::source::{LineCol, LineIndex, Span};

#[derive(pest_derive::Parser)]
#[grammar = "grammar/nginx.pest"]
struct NginxParser;

/// A parsed nginx file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    pub bom: Option<Span>,
    pub items: Vec<Node>,
    pub len: u32,
}

/// What a file or block holds: comments and directives. The blanks between them are not
/// stored (a 10,000-site tree would hold millions): every byte no leaf covers is a space,
/// tab, CR or LF, as [`Config::check_lossless`] verifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Node {
    Comment { span: Span },
    // Boxed: a node is only as small as its largest kind, and comments need 8 bytes.
    Directive(Box<Directive>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Directive {
    pub span: Span,
    pub at: LineCol,
    /// `words[0]` is the name; the rest are the arguments.
    pub words: Vec<Word>,
    /// Comments between the words and before the end, in order (usually none).
    pub comments: Vec<Span>,
    pub end: End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quote {
    None,
    Single,
    Double,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Word {
    /// The raw token, quotes included.
    pub span: Span,
    pub quote: Quote,
    /// The token as nginx sees it: quotes removed, `\"` `\'` `\\` `\t` `\r` `\n` unescaped.
    pub value: SmallText,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum End {
    Semicolon {
        span: Span,
    },
    Block(Block),
    /// A `*_by_lua_block` body, kept as raw text.
    Raw {
        open: Span,
        body: Span,
        close: Span,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Block {
    pub open: Span,
    pub items: Vec<Node>,
    pub close: Span,
}

impl Directive {
    pub fn name(&self) -> &str {
        &self.words[0].value
    }

    pub fn args(&self) -> &[Word] {
        &self.words[1..]
    }

    pub fn arg(&self, i: usize) -> Option<&str> {
        self.words.get(i + 1).map(|w| w.value.as_str())
    }

    pub fn block(&self) -> Option<&Block> {
        match &self.end {
            End::Block(b) => Some(b),
            _ => None,
        }
    }

    pub fn children(&self) -> impl Iterator<Item = &Directive> {
        self.block().into_iter().flat_map(|b| directives(&b.items))
    }
}

/// The directives among `items`, skipping trivia.
pub fn directives(items: &[Node]) -> impl Iterator<Item = &Directive> {
    items.iter().filter_map(|n| match n {
        Node::Directive(d) => Some(&**d),
        _ => None,
    })
}

impl Config {
    pub fn directives(&self) -> impl Iterator<Item = &Directive> {
        directives(&self.items)
    }

    /// The span of every token the tree holds (words, comments, `;`, braces, Lua bodies, the
    /// BOM), in input order. The bytes between them are blanks.
    pub fn leaves(&self) -> Vec<Span> {
        let mut out = Vec::new();
        out.extend(self.bom);
        leaves_of(&self.items, &mut out);
        out.sort();
        out
    }

    /// The leaves and the blanks between them, in order: together they cover the whole input.
    pub fn leaves_and_blanks(&self) -> Vec<Span> {
        let mut out = Vec::new();
        let mut at = 0;
        for leaf in self.leaves() {
            if leaf.start > at {
                out.push(Span::new(at as usize, leaf.start as usize));
            }
            at = at.max(leaf.end);
            out.push(leaf);
        }
        if self.len > at {
            out.push(Span::new(at as usize, self.len as usize));
        }
        out
    }

    /// Check that the tree accounts for `text`: leaves never overlap, and every byte outside
    /// them is a blank (space, tab, CR, LF). With [`print`](Self::print) this is the
    /// round-trip guarantee the tests and fuzzers hold the parser to.
    pub fn check_lossless(&self, text: &str) -> Result<(), String> {
        if self.len as usize != text.len() {
            return Err(format!(
                "tree covers {} bytes, input has {}",
                self.len,
                text.len()
            ));
        }
        let mut at = 0u32;
        for leaf in self.leaves() {
            if leaf.start < at {
                return Err(format!("leaf {leaf:?} overlaps the one ending at {at}"));
            }
            let gap = &text.as_bytes()[at as usize..leaf.start as usize];
            if let Some(k) = gap.iter().position(|&c| !is_ws(c)) {
                return Err(format!(
                    "byte {} is in no leaf and not a blank",
                    at as usize + k
                ));
            }
            at = leaf.end;
        }
        let tail = &text.as_bytes()[at as usize..];
        match tail.iter().position(|&c| !is_ws(c)) {
            Some(k) => Err(format!(
                "byte {} is in no leaf and not a blank",
                at as usize + k
            )),
            None => Ok(()),
        }
    }

    /// Print the tree back: the leaves and the blanks between them, read from `text`.
    pub fn print(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for s in self.leaves_and_blanks() {
            out.push_str(&text[s.range()]);
        }
        out
    }
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn leaves_of(items: &[Node], out: &mut Vec<Span>) {
    for n in items {
        match n {
            Node::Comment { span } => out.push(*span),
            Node::Directive(d) => {
                out.extend(d.words.iter().map(|w| w.span));
                out.extend(d.comments.iter().copied());
                match &d.end {
                    End::Semicolon { span } => out.push(*span),
                    End::Block(b) => {
                        out.push(b.open);
                        leaves_of(&b.items, out);
                        out.push(b.close);
                    }
                    End::Raw { open, body, close } => out.extend([*open, *body, *close]),
                }
            }
        }
    }
}

/// How deep blocks (and braces in a Lua body) may nest. pest's parser, the tree builder and
/// the tree's own drop all recurse once per level, so without a bound a file of 10,000 `a {`
/// would overflow the stack. Real configurations nest fewer than ten levels; 200 also leaves
/// room for a test thread's 2 MiB stack in a debug build.
pub const MAX_NESTING: usize = 200;

/// Parse one nginx file whose text the caller keeps shared (a project's files).
pub fn parse_shared(text: std::sync::Arc<str>) -> Result<Config, SyntaxError> {
    parse(&text)
}

/// Parse one nginx file.
pub fn parse(text: &str) -> Result<Config, SyntaxError> {
    if too_deep(text).is_none() {
        if let Some(config) = fast::parse(text) {
            check_semantics_of_syntax(&config.items, text, &LineIndex::default())?;
            return Ok(config);
        }
    }
    parse_reference(text)
}

/// Parse with the pest grammar alone: the reference [`parse`] must agree with (it takes a
/// hand-written fast path whenever it can). For differential tests and fuzzing.
#[doc(hidden)]
pub fn parse_reference(text: &str) -> Result<Config, SyntaxError> {
    let lines = LineIndex::new(text);
    if let Some(offset) = too_deep(text) {
        return Err(SyntaxError {
            span: Span::new(offset, offset + 1),
            at: lines.line_col(text, offset),
            message: format!(
                "blocks nest more than {MAX_NESTING} levels deep here; not parsed further"
            ),
        });
    }
    let pairs = match NginxParser::parse(Rule::config, text) {
        Ok(p) => p,
        Err(e) => return Err(explain_failure(text, &lines, &e)),
    };
    let builder = Builder {
        text,
        lines: &lines,
    };
    let config_pair = pairs
        .into_iter()
        .next()
        .expect("config rule always yields one pair");
    let mut bom = None;
    let mut items = Vec::new();
    for p in config_pair.into_inner() {
        match p.as_rule() {
            Rule::bom => bom = Some(span_of(&p)),
            Rule::EOI => {}
            _ => items.extend(builder.node(p)),
        }
    }
    let config = Config {
        bom,
        items,
        len: text.len() as u32,
    };
    check_semantics_of_syntax(&config.items, text, &lines)?;
    Ok(config)
}

fn span_of(p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

struct Builder<'a> {
    text: &'a str,
    lines: &'a LineIndex,
}

impl Builder<'_> {
    fn at(&self, offset: u32) -> LineCol {
        self.lines.line_col(self.text, offset as usize)
    }

    /// None for blanks, which the tree does not store.
    fn node(&self, p: Pair<'_, Rule>) -> Option<Node> {
        match p.as_rule() {
            Rule::space => None,
            Rule::comment => Some(Node::Comment { span: span_of(&p) }),
            Rule::directive => Some(Node::Directive(Box::new(self.directive(p)))),
            r => unreachable!("unexpected rule {r:?} among items"),
        }
    }

    fn directive(&self, p: Pair<'_, Rule>) -> Directive {
        let span = span_of(&p);
        let inner = p
            .into_inner()
            .next()
            .expect("directive has one alternative");
        let mut words = Vec::new();
        let mut comments = Vec::new();
        let mut end = None;
        let mut raw_open = None;
        let mut raw_body = None;
        for part in inner.into_inner() {
            match part.as_rule() {
                Rule::dquoted | Rule::squoted | Rule::bare | Rule::lua_block_name => {
                    words.push(self.word(part))
                }
                Rule::space => {}
                Rule::comment => comments.push(span_of(&part)),
                Rule::semicolon => {
                    end = Some(End::Semicolon {
                        span: span_of(&part),
                    })
                }
                Rule::block => end = Some(End::Block(self.block(part))),
                Rule::raw_open => raw_open = Some(span_of(&part)),
                Rule::raw_body => raw_body = Some(span_of(&part)),
                Rule::raw_close => {
                    end = Some(End::Raw {
                        open: raw_open.expect("raw_open precedes raw_close"),
                        body: raw_body.expect("raw_body precedes raw_close"),
                        close: span_of(&part),
                    })
                }
                r => unreachable!("unexpected rule {r:?} in directive"),
            }
        }
        Directive {
            span,
            at: self.at(span.start),
            words,
            comments,
            end: end.expect("grammar guarantees an end"),
        }
    }

    fn block(&self, p: Pair<'_, Rule>) -> Block {
        let mut open = Span::default();
        let mut close = Span::default();
        let mut items = Vec::new();
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::open_brace => open = span_of(&part),
                Rule::close_brace => close = span_of(&part),
                _ => items.extend(self.node(part)),
            }
        }
        Block { open, items, close }
    }

    fn word(&self, p: Pair<'_, Rule>) -> Word {
        let span = span_of(&p);
        let raw = p.as_str();
        let (quote, inner) = match p.as_rule() {
            Rule::dquoted => (Quote::Double, &raw[1..raw.len() - 1]),
            Rule::squoted => (Quote::Single, &raw[1..raw.len() - 1]),
            _ => (Quote::None, raw),
        };
        Word {
            span,
            quote,
            value: unescape(inner),
        }
    }
}

/// nginx's unescaping of a token: `\"`, `\'`, `\\` lose the backslash; `\t` `\r` `\n` become
/// control characters; any other `\x` stays as written (regexes keep their escapes).
pub fn unescape(raw: &str) -> SmallText {
    if !raw.contains('\\') {
        return SmallText::new(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some(&n @ ('"' | '\'' | '\\')) => {
                    out.push(n);
                    chars.next();
                    continue;
                }
                Some('t') => {
                    out.push('\t');
                    chars.next();
                    continue;
                }
                Some('r') => {
                    out.push('\r');
                    chars.next();
                    continue;
                }
                Some('n') => {
                    out.push('\n');
                    chars.next();
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out.into()
}

/// Syntax nginx checks beyond tokens that we can check without knowing every module:
/// the shape of `if (...)`.
fn check_semantics_of_syntax(
    items: &[Node],
    text: &str,
    lines: &LineIndex,
) -> Result<(), SyntaxError> {
    // Iterative walk: deep nesting must not exhaust the stack.
    let mut stack: Vec<&[Node]> = vec![items];
    while let Some(items) = stack.pop() {
        for d in directives(items) {
            if d.name() == "if" && d.words[0].quote == Quote::None {
                check_if(d, text, lines)?;
            }
            if let Some(b) = d.block() {
                stack.push(&b.items);
            }
        }
    }
    Ok(())
}

fn check_if(d: &Directive, text: &str, lines: &LineIndex) -> Result<(), SyntaxError> {
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
            d.words[0].span,
            "\"if\" needs a block: if (condition) { ... }".into(),
        ));
    }
    let (Some(first), Some(last)) = (args.first(), args.last()) else {
        return Err(err(
            d.words[0].span,
            "invalid number of arguments in \"if\" directive".into(),
        ));
    };
    if !first.value.starts_with('(') {
        return Err(err(
            first.span,
            format!(
                "invalid condition \"{}\": it must start with \"(\"",
                first.value
            ),
        ));
    }
    if !last.value.ends_with(')') {
        return Err(err(
            last.span,
            format!("invalid condition \"{}\": missing \")\"", last.value),
        ));
    }
    // Inside the parentheses: a variable, or `var op value`, or `-f`/`!-f` style test + operand.
    let mut inner: Vec<&str> = args.iter().map(|w| w.value.as_str()).collect();
    let n = inner.len();
    inner[0] = &inner[0][1..];
    inner[n - 1] = inner[n - 1].strip_suffix(')').unwrap_or(inner[n - 1]);
    // Drop only the tokens that held nothing but a parenthesis: `( $a` or `"x" )`.
    // An empty quoted operand (`$a != ""`) stays.
    if n > 1 && inner[n - 1].is_empty() && args[n - 1].quote == Quote::None {
        inner.pop();
    }
    if inner.first().is_some_and(|s| s.is_empty())
        && args[0].quote == Quote::None
        && args[0].value == "("
    {
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
        let span = first.span.cover(last.span);
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
                let is_lua = lua_name_at(text, directive_start);
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

/// Whether the grammar's `lua_block_name` matches at `start`: `[A-Za-z0-9_]+` ending in
/// `_by_lua_block`, then white space or "{".
fn lua_block_name_at(bytes: &[u8], start: usize) -> bool {
    let len = bytes[start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    bytes[start..start + len].ends_with(b"_by_lua_block")
        && matches!(
            bytes.get(start + len),
            Some(b' ' | b'\t' | b'\r' | b'\n' | b'{')
        )
}

fn lua_name_at(text: &str, start: usize) -> bool {
    let name: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    name.ends_with("_by_lua_block")
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
        let c = roundtrip("user www-data; # who\nhttp {\n  server { listen 80; }\n}\n# end");
        assert_eq!(names(&c), ["user", "http"]);
        let http = c.directives().nth(1).unwrap();
        let server = http.children().next().unwrap();
        assert_eq!(server.children().next().unwrap().arg(0), Some("80"));
        assert_eq!(server.at, LineCol { line: 3, column: 3 });
    }

    #[test]
    fn quoting_and_escapes() {
        let c = roundtrip("add_header X \"a \\\"b\\\" c\" 'd\\'e' f\\ g;");
        let d = c.directives().next().unwrap();
        let v: Vec<_> = d.args().iter().map(|w| w.value.as_str()).collect();
        assert_eq!(v, ["X", "a \"b\" c", "d'e", "f\\ g"]);
        assert_eq!(d.args()[1].quote, Quote::Double);
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
    }

    #[test]
    fn lua_blocks_are_raw() {
        let c = roundtrip(
            "content_by_lua_block {\n  local t = { a = \"}\" } -- }\n  ngx.say([[}]])\n}\n",
        );
        assert!(matches!(
            c.directives().next().unwrap().end,
            End::Raw { .. }
        ));
    }

    #[test]
    fn crlf_bom_and_no_final_newline() {
        let text = "\u{FEFF}events {\r\n}\r\n# tail";
        let c = roundtrip(text);
        assert!(c.bom.is_some());
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
                .flatten();
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
