//! php-fpm configuration (php-fpm.conf and pool files): pest pairs -> lossless tree.
//!
//! The dialect is PHP's ini syntax as php-fpm 8 reads it: `[section]` headers, `key = value`
//! entries (with `php_value[...]`-style array keys), `;` comments. Entries before the first
//! section are kept; php-fpm treats them as `[global]`.

mod fast;
pub mod values;

use pest::iterators::Pair;
use pest::Parser as _;
use serde::Serialize;

use super::{SmallText, SyntaxError};
use crate::source::{LineCol, LineIndex, Span};

#[derive(pest_derive::Parser)]
#[grammar = "grammar/php_fpm.pest"]
struct FpmParser;

/// A parsed php-fpm file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    pub bom: Option<Span>,
    pub items: Vec<Item>,
    pub len: u32,
}

/// One leaf-level piece of the file, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Item {
    /// Blanks and line ends (including those after a value).
    Space {
        span: Span,
    },
    /// `; ...` up to, not including, the line end.
    Comment {
        span: Span,
    },
    // Boxed: blanks and comments outnumber settings, and an item is only as small as its
    // largest kind.
    Section(Box<Section>),
    Entry(Box<Entry>),
}

/// A `[name]` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Section {
    /// `[name]`, brackets included.
    pub span: Span,
    pub at: LineCol,
    /// The name as php-fpm sees it (quotes removed).
    pub name: SmallText,
    /// The text between the brackets.
    pub name_span: Span,
}

/// `key = value`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// From the key to the end of the value (or of the `=` when there is no value).
    pub span: Span,
    pub at: LineCol,
    pub key: Key,
    /// The `=` with the blanks around it.
    pub eq: Span,
    /// `None` for `key =` (php-fpm reads it as the empty string).
    pub value: Option<Value>,
}

/// An entry's key: `pm.max_children`, or `php_admin_value[memory_limit]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Key {
    /// The whole key, brackets included.
    pub span: Span,
    /// `php_admin_value` in `php_admin_value[memory_limit]`; the whole key otherwise.
    pub base: SmallText,
    pub base_span: Span,
    /// `memory_limit` in `php_admin_value[memory_limit]` (quotes removed), with the span of
    /// its text between the brackets (blanks trimmed).
    pub offset: Option<(SmallText, Span)>,
}

/// An entry's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Value {
    /// The value as written: quotes included, no trailing blanks, no comment.
    pub span: Span,
    pub raw: SmallText,
    /// The string PHP builds: quotes removed, `\"` `\\` `\$` unescaped inside double quotes,
    /// blanks next to a double-quoted string dropped (as PHP's scanner does).
    ///
    /// Not done, because it needs more than the text: `${VAR}` expansion (see
    /// [`values::env_refs`]), constants and `&`/`|`/`~` expressions (`E_ALL & ~E_NOTICE` stays
    /// as written), and the `yes`/`no` -> `"1"`/`""` keyword conversion (see
    /// [`values::parse_fpm_bool`]).
    pub text: SmallText,
    /// Whether any part was written in quotes.
    pub quoted: bool,
}

impl Value {
    /// Whether PHP reads the value as an expression (`E_ALL & ~E_DEPRECATED`): an operator
    /// outside quotes.
    pub fn is_expression(&self) -> bool {
        let mut in_quote = None;
        let mut escaped = false;
        for c in self.raw.chars() {
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

impl Key {
    /// Whether this is an array key like `env[...]`.
    pub fn is_array(&self) -> bool {
        self.offset.is_some()
    }

    /// The offset's text, if any.
    pub fn offset_name(&self) -> Option<&str> {
        self.offset.as_ref().map(|(s, _)| s.as_str())
    }
}

impl Entry {
    /// The key's base name (`listen`, `php_admin_value`, ...).
    pub fn name(&self) -> &str {
        &self.key.base
    }

    /// The value's text; `""` for `key =`.
    pub fn text(&self) -> &str {
        self.value.as_ref().map_or("", |v| v.text.as_str())
    }

    /// The value's span, or an empty span right after the `=` for `key =` (where a value goes).
    pub fn value_span(&self) -> Span {
        self.value
            .as_ref()
            .map_or(Span::empty(self.eq.end as usize), |v| v.span)
    }
}

impl Section {
    pub fn is_global(&self) -> bool {
        self.name == "global"
    }
}

impl Config {
    pub fn sections(&self) -> impl Iterator<Item = &Section> {
        self.items.iter().filter_map(|i| match i {
            Item::Section(s) => Some(&**s),
            _ => None,
        })
    }

    /// Every entry with the section it is in (`None` before the first header: global scope).
    pub fn entries(&self) -> impl Iterator<Item = (Option<&Section>, &Entry)> {
        let mut current = None;
        self.items.iter().filter_map(move |i| match i {
            Item::Section(s) => {
                current = Some(&**s);
                None
            }
            Item::Entry(e) => Some((current, &**e)),
            _ => None,
        })
    }

    /// The entries under every `[name]` header (php-fpm merges repeated sections).
    pub fn entries_in<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries()
            .filter(move |(s, _)| s.is_some_and(|s| s.name == name))
            .map(|(_, e)| e)
    }

    /// Entries before the first header, which php-fpm reads as `[global]`.
    pub fn entries_before_sections(&self) -> impl Iterator<Item = &Entry> {
        self.entries()
            .take_while(|(s, _)| s.is_none())
            .map(|(_, e)| e)
    }

    /// Every leaf span in input order.
    pub fn leaves(&self) -> Vec<Span> {
        let mut out = Vec::with_capacity(self.items.len() * 2 + 1);
        out.extend(self.bom);
        for i in &self.items {
            match i {
                Item::Space { span } | Item::Comment { span } => out.push(*span),
                Item::Section(s) => out.push(s.span),
                Item::Entry(e) => {
                    out.push(e.key.span);
                    out.push(e.eq);
                    out.extend(e.value.as_ref().map(|v| v.span));
                }
            }
        }
        out
    }

    /// Print the tree back: the leaves in order, read from `text`.
    pub fn print(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for s in self.leaves() {
            out.push_str(&text[s.range()]);
        }
        out
    }
}

/// Parse one php-fpm file whose text the caller keeps shared (a project's files).
pub fn parse_shared(text: std::sync::Arc<str>) -> Result<Config, SyntaxError> {
    parse(&text)
}

/// Parse one php-fpm file.
pub fn parse(text: &str) -> Result<Config, SyntaxError> {
    // Common shapes take a hand-written path that builds pest's exact tree; the rest (and
    // every error) goes through the grammar.
    match fast::parse(text) {
        Some(config) => Ok(config),
        None => parse_reference(text),
    }
}

/// Parse with the pest grammar alone: the reference [`parse`] must agree with. For
/// differential tests and fuzzing.
#[doc(hidden)]
pub fn parse_reference(text: &str) -> Result<Config, SyntaxError> {
    let lines = LineIndex::new(text);
    let b = Builder {
        text,
        lines: &lines,
    };
    let pairs = FpmParser::parse(Rule::config, text).map_err(|e| {
        // The grammar has a catch-all for every line, so this is not expected; stay useful.
        let offset = match e.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((s, _)) => s,
        };
        b.error(Span::empty(offset), "php-fpm cannot parse this".into())
    })?;
    let config_pair = pairs.into_iter().next().expect("config yields one pair");
    let mut bom = None;
    let mut items = Vec::new();
    for p in config_pair.into_inner() {
        match p.as_rule() {
            Rule::bom => bom = Some(span_of(&p)),
            Rule::EOI => {}
            _ => items.push(b.item(p)?),
        }
    }
    Ok(Config {
        bom,
        items,
        len: text.len() as u32,
    })
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

    fn error(&self, span: Span, message: String) -> SyntaxError {
        SyntaxError {
            span,
            at: self.at(span.start),
            message,
        }
    }

    fn item(&self, p: Pair<'_, Rule>) -> Result<Item, SyntaxError> {
        let span = span_of(&p);
        Ok(match p.as_rule() {
            Rule::space => Item::Space { span },
            Rule::comment => Item::Comment { span },
            Rule::section => {
                let name = p.into_inner().next().expect("section has a name");
                let name_span = span_of(&name);
                Item::Section(Box::new(Section {
                    span,
                    at: self.at(span.start),
                    name: ini_text(name.as_str()),
                    name_span,
                }))
            }
            Rule::entry => Item::Entry(Box::new(self.entry(p)?)),
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
        })
    }

    fn xml_error(&self, span: Span) -> SyntaxError {
        let start = span.start as usize + self.text[span.range()].find("<?xml").unwrap_or(0);
        self.error(
            Span::new(start, start + "<?xml".len()),
            "this is PHP 5.2's XML php-fpm configuration; php-fpm 5.3 and later read only the INI format ([pool] sections and \"key = value\" lines)".into(),
        )
    }

    fn entry(&self, p: Pair<'_, Rule>) -> Result<Entry, SyntaxError> {
        let start = p.as_span().start();
        let mut key = None;
        let mut eq = Span::default();
        let mut value = None;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::key => key = Some(self.key(part)),
                Rule::eq => eq = span_of(&part),
                Rule::value => {
                    let raw = part.as_str();
                    value = Some(Value {
                        span: span_of(&part),
                        raw: SmallText::new(raw),
                        text: ini_text(raw),
                        quoted: raw.contains(['"', '\'']),
                    })
                }
                Rule::bad_value => return Err(self.bad_value(span_of(&part))),
                r => unreachable!("unexpected rule {r:?} in entry"),
            }
        }
        let end = value.as_ref().map_or(eq.end, |v: &Value| v.span.end);
        Ok(Entry {
            span: Span::new(start, end as usize),
            at: self.at(start as u32),
            key: key.expect("entry has a key"),
            eq,
            value,
        })
    }

    fn key(&self, p: Pair<'_, Rule>) -> Key {
        let span = span_of(&p);
        let mut base = String::new();
        let mut base_span = span;
        let mut offset = None;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::key_base => {
                    base = part.as_str().to_owned();
                    base_span = span_of(&part);
                }
                Rule::key_offset => offset = Some((ini_text(part.as_str()), span_of(&part))),
                r => unreachable!("unexpected rule {r:?} in key"),
            }
        }
        Key {
            span,
            base: base.into(),
            base_span,
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
pub fn ini_text(raw: &str) -> SmallText {
    if !raw.contains(['"', '\'']) {
        return SmallText::new(raw);
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
    out.into()
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

    fn roundtrip(text: &str) -> Config {
        let c = parse(text).unwrap_or_else(|e| panic!("{e} in {text:?}"));
        crate::syntax::leaves_cover(c.leaves(), text.len()).unwrap();
        assert_eq!(c.print(text), text);
        c
    }

    fn entry(text: &str) -> Entry {
        let c = roundtrip(text);
        let e = c.entries().next().expect("one entry").1.clone();
        e
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
        let names: Vec<_> = c.sections().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["global", "www"]);
        assert!(c.sections().next().unwrap().is_global());
        let www = c.sections().nth(1).unwrap();
        assert_eq!(www.at, LineCol { line: 5, column: 1 });
        assert_eq!(&text[www.name_span.range()], "www");
        let all: Vec<_> = c
            .entries()
            .map(|(s, e)| (s.map(|s| s.name.as_str()), e.name(), e.text()))
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
        assert_eq!(listen.at, LineCol { line: 6, column: 1 });
        assert_eq!(&text[listen.value_span().range()], "/run/php/www.sock");
        let comments = c
            .items
            .iter()
            .filter(|i| matches!(i, Item::Comment { .. }))
            .count();
        assert_eq!(comments, 2);
    }

    #[test]
    fn entries_before_any_section_are_kept() {
        let c = roundtrip("include=/etc/php/fpm/pool.d/*.conf\n[www]\nuser = www-data\n");
        let first: Vec<_> = c.entries_before_sections().map(|e| e.name()).collect();
        assert_eq!(first, ["include"]);
        assert_eq!(c.entries().next().unwrap().0, None);
        assert_eq!(
            c.entries().next().unwrap().1.text(),
            "/etc/php/fpm/pool.d/*.conf"
        );
    }

    #[test]
    fn array_keys() {
        let text = "php_admin_value[ memory_limit ] = 128M\n";
        let e = entry(text);
        assert_eq!(e.key.base, "php_admin_value");
        assert!(e.key.is_array());
        let (name, span) = e.key.offset.clone().unwrap();
        assert_eq!(name, "memory_limit");
        assert_eq!(&text[span.range()], "memory_limit");
        assert_eq!(&text[e.key.span.range()], "php_admin_value[ memory_limit ]");
        for k in ["php_value", "php_flag", "php_admin_flag", "env"] {
            let e = entry(&format!("{k}[x.y] = 1"));
            assert_eq!((e.name(), e.key.offset_name()), (k, Some("x.y")));
        }
        assert_eq!(entry("env[PATH]=/usr/bin:/bin").text(), "/usr/bin:/bin");
    }

    #[test]
    fn bare_values_keep_inner_spaces_not_trailing_ones() {
        let text = "php_admin_value[sendmail_path] = /usr/sbin/sendmail -t -i  \t; c\n";
        let e = entry(text);
        let v = e.value.unwrap();
        assert_eq!(v.text, "/usr/sbin/sendmail -t -i");
        assert_eq!(&text[v.span.range()], "/usr/sbin/sendmail -t -i");
        assert!(!v.quoted);
    }

    #[test]
    fn quoted_values() {
        let v = entry(r#"a = "x \"y\" ${HOME} \d \\ ; not a comment""#)
            .value
            .unwrap();
        assert_eq!(v.text, r#"x "y" ${HOME} \d \ ; not a comment"#);
        assert!(v.quoted);
        assert_eq!(entry("a = 'raw \\n ; \"x'").text(), "raw \\n ; \"x");
        // Blanks next to a double-quoted string are dropped; other blanks stay.
        assert_eq!(entry("a = \"a\" b").text(), "ab");
        assert_eq!(entry("a = b \"c\"").text(), "bc");
        assert_eq!(entry("a = 'a' b").text(), "a b");
        assert_eq!(entry("a = \"\"").text(), "");
        // php's Windows-path rule: `\"` at the end of the line closes the string.
        assert_eq!(entry("a = \"C:\\dir\\\"\n").text(), "C:\\dir\\");
        // Double quotes may span lines.
        assert_eq!(entry("a = \"x\ny\"\n").text(), "x\ny");
    }

    #[test]
    fn empty_values_and_expressions() {
        let e = entry("slowlog =\n");
        assert_eq!(e.value, None);
        assert_eq!(e.text(), "");
        assert_eq!(e.value_span(), Span::empty(9));
        let e = entry("access.log = ; off\n");
        assert_eq!(e.value, None);
        let v = entry("php_admin_value[error_reporting] = E_ALL & ~E_DEPRECATED & ~E_STRICT")
            .value
            .unwrap();
        assert_eq!(v.text, "E_ALL & ~E_DEPRECATED & ~E_STRICT");
        assert!(v.is_expression());
        assert!(!entry("a = \"x & y\"").value.unwrap().is_expression());
        assert_eq!(entry("env[X] = $X").text(), "$X");
        assert_eq!(entry("env[X] = ${X}/bin").text(), "${X}/bin");
        assert_eq!(entry("a = {}").text(), "{}");
        assert_eq!(
            entry("listen = 127.0.0.1:9000 # port").text(),
            "127.0.0.1:9000 # port"
        );
    }

    #[test]
    fn keys_with_spaces() {
        assert_eq!(entry("my key = 1").name(), "my key");
        assert_eq!(entry("  pm = dynamic").at, LineCol { line: 1, column: 3 });
    }

    #[test]
    fn line_endings_bom_unicode_and_odd_files() {
        let text = "\u{FEFF}[www]\r\nuser = nobody\r\n; café ☕\r\nlisten = /run/ü.sock";
        let c = roundtrip(text);
        assert_eq!(c.bom, Some(Span::new(0, 3)));
        let e = c.entries().nth(1).unwrap().1;
        assert_eq!(e.text(), "/run/ü.sock");
        assert_eq!(c.entries().next().unwrap().1.text(), "nobody");
        assert_eq!(e.at, LineCol { line: 4, column: 1 });
        let empty = roundtrip("");
        assert!(empty.items.is_empty());
        assert_eq!(roundtrip("; only\n;comments").entries().count(), 0);
        assert_eq!(roundtrip("\n\n  \n").items.len(), 1);
        // Old Mac line ends.
        assert_eq!(roundtrip("a = 1\rb = 2\r").entries().count(), 2);
    }

    #[test]
    fn quoted_section_names() {
        let c = roundtrip("[\"my pool\"]\n");
        assert_eq!(c.sections().next().unwrap().name, "my pool");
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
        assert_eq!(entry("env[A] = \"a=b\"").text(), "a=b");
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
        assert_eq!(ini_text("plain text"), "plain text");
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
                assert_eq!(Ok(fast), reference, "{text:?}");
            }
            assert_eq!(parse(text), reference, "{text:?}");
        }
        for text in &cases[..12] {
            assert!(fast::parse(text).is_some(), "{text:?}");
        }
    }
}
