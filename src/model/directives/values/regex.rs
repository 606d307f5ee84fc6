//! A conservative reader of PCRE2 pattern syntax: it finds only what PCRE2 certainly refuses
//! (unbalanced parentheses, an unclosed `[`, a quantifier with nothing to repeat, a `{n,m}`
//! out of order, an unterminated `(?#` comment, an unknown `(?` group), with PCRE2's own
//! message and offset. Everything it does not follow (extended mode, unusual escapes and
//! group forms) makes it give up rather than guess. No regex engine is involved.

/// What PCRE2 would make of a pattern.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Compiles, as far as this reader can tell; the number of capturing groups when sure.
    Ok { captures: Option<usize> },
    /// Refused: PCRE2's message and the byte offset it reports.
    Err {
        message: &'static str,
        offset: usize,
    },
    /// Something this reader does not follow.
    Unsure,
}

/// nginx's words for a pattern `pcre2_compile()` refuses (`ngx_regex_compile`).
pub fn nginx_message(pattern: &str, message: &str, offset: usize) -> String {
    match pattern.get(offset..) {
        Some(rest) if offset < pattern.len() => {
            format!("pcre2_compile() failed: {message} in \"{pattern}\" at \"{rest}\"")
        }
        _ => format!("pcre2_compile() failed: {message} in \"{pattern}\""),
    }
}

/// Whether the item just read can take a quantifier.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Nothing to repeat: the pattern's start, after `(` or `|`.
    Nothing,
    /// An atom: a literal, a class, a group.
    Atom,
    /// A quantifier with no lazy/possessive mark yet.
    Quantifier,
    /// Not sure (anchors, escapes, verbs, option settings).
    Unknown,
}

const NOTHING_TO_REPEAT: &str = "quantifier does not follow a repeatable item";

/// Read `pattern` as PCRE2 does in its first pass.
pub fn check(pattern: &str) -> Verdict {
    let s = pattern.as_bytes();
    let n = s.len();
    // Set once a quantifier follows an item whose repeatability this reader does not know
    // (an anchor, an assertion, an option setting): PCRE2 may refuse right there, so a later
    // finding would not be the one it reports.
    let mut doubt = false;
    let err = |message, offset, doubt: bool| {
        if doubt {
            Verdict::Unsure
        } else {
            Verdict::Err { message, offset }
        }
    };
    let mut depth = 0usize;
    let mut captures = 0usize;
    let mut captures_sure = true;
    let mut prev = Prev::Nothing;
    let mut i = 0;
    while i < n {
        let c = s[i];
        match c {
            b'\\' => {
                let Some(&e) = s.get(i + 1) else {
                    return err("\\ at end of pattern", n, doubt);
                };
                i += 2;
                match e {
                    b'Q' => {
                        // Literal up to `\E` or the end.
                        let rest = &s[i..];
                        match rest.windows(2).position(|w| w == b"\\E") {
                            Some(p) => i += p + 2,
                            None => i = n,
                        }
                        prev = Prev::Unknown;
                        continue;
                    }
                    b'E' => continue,
                    // Perl's case-changing escapes, which PCRE2 refuses.
                    b'F' | b'l' | b'L' | b'U' => {
                        return err(
                            "PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or \\u",
                            i,
                            doubt,
                        )
                    }
                    // Escapes that take an argument: skip it when it is plainly braced or
                    // bracketed, give up otherwise.
                    b'x' | b'o' | b'p' | b'P' | b'N' | b'g' | b'k' | b'u' => {
                        if i >= n && e != b'x' {
                            return Verdict::Unsure;
                        }
                        if let Some(&open) = s.get(i) {
                            let close = match open {
                                b'{' => Some(b'}'),
                                b'<' => Some(b'>'),
                                b'\'' => Some(b'\''),
                                _ => None,
                            };
                            if let Some(close) = close {
                                match s[i + 1..].iter().position(|&b| b == close) {
                                    Some(p) => i += p + 2,
                                    None => return Verdict::Unsure,
                                }
                            } else if matches!(e, b'k' | b'N' | b'p' | b'P' | b'u') {
                                return Verdict::Unsure;
                            }
                        }
                    }
                    b'c' => {
                        if i >= n || !s[i].is_ascii() {
                            return Verdict::Unsure;
                        }
                        i += 1;
                    }
                    _ => {}
                }
                // Assertions and `\K` may not take a quantifier; the rest are atoms.
                prev = if matches!(e, b'b' | b'B' | b'A' | b'z' | b'Z' | b'G' | b'K') {
                    Prev::Unknown
                } else {
                    Prev::Atom
                };
                continue;
            }
            b'[' => {
                match class_end(s, i) {
                    ClassEnd::At(end) => i = end + 1,
                    ClassEnd::Missing => {
                        return err("missing terminating ] for character class", n, doubt)
                    }
                    ClassEnd::BackslashAtEnd => return err("\\ at end of pattern", n, doubt),
                    ClassEnd::RangeOutOfOrder(at) => {
                        return err("range out of order in character class", at, doubt)
                    }
                    ClassEnd::Unsure => return Verdict::Unsure,
                }
                prev = Prev::Atom;
                continue;
            }
            b'(' => {
                let next = s.get(i + 1).copied();
                if next == Some(b'*') {
                    // A verb or an alpha assertion: `(*UTF)`, `(*MARK:x)`, `(*pla:...)`.
                    let name = s[i + 2..]
                        .iter()
                        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                        .count();
                    if !matches!(s.get(i + 2 + name), Some(b')' | b':')) {
                        return Verdict::Unsure;
                    }
                    depth += 1;
                    i += 2 + name;
                    prev = Prev::Unknown;
                    continue;
                }
                if next != Some(b'?') {
                    depth += 1;
                    captures += 1;
                    i += 1;
                    prev = Prev::Nothing;
                    continue;
                }
                // `(?...`
                let Some(&kind) = s.get(i + 2) else {
                    return err("missing closing parenthesis", n, doubt);
                };
                match kind {
                    b'#' => {
                        match s[i + 3..].iter().position(|&b| b == b')') {
                            Some(p) => i += 3 + p + 1,
                            None => return err("missing ) after (?# comment", n, doubt),
                        }
                        continue;
                    }
                    b':' | b'=' | b'!' | b'>' => {
                        depth += 1;
                        i += 3;
                        prev = Prev::Nothing;
                        continue;
                    }
                    b'|' => {
                        // Branch reset: group numbers are reused.
                        captures_sure = false;
                        depth += 1;
                        i += 3;
                        prev = Prev::Nothing;
                        continue;
                    }
                    b'<' | b'\'' | b'P' => {
                        let (at, close) = match (kind, s.get(i + 3)) {
                            (b'<', Some(b'=' | b'!')) => {
                                depth += 1;
                                i += 4;
                                prev = Prev::Nothing;
                                continue;
                            }
                            (b'<', _) => (i + 3, b'>'),
                            (b'\'', _) => (i + 3, b'\''),
                            (b'P', Some(b'<')) => (i + 4, b'>'),
                            _ => return Verdict::Unsure,
                        };
                        let name_len = s[at..]
                            .iter()
                            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                            .count();
                        let name_ok = name_len > 0 && !s[at].is_ascii_digit();
                        if !name_ok || s.get(at + name_len) != Some(&close) {
                            return Verdict::Unsure;
                        }
                        depth += 1;
                        captures += 1;
                        i = at + name_len + 1;
                        prev = Prev::Nothing;
                        continue;
                    }
                    b'(' | b'C' => {
                        // Conditions and callouts: a group that is not a capture.
                        captures_sure = false;
                        depth += 1;
                        i += 2;
                        prev = Prev::Unknown;
                        continue;
                    }
                    b'R' | b'&' | b'+' | b'0'..=b'9' => {
                        // Recursion and subroutine calls, `(?R)`, `(?1)`, `(?+1)`, `(?&name)`,
                        // followed when plainly written.
                        let at = i + 3;
                        let len = match kind {
                            b'R' => 0,
                            b'&' => s[at..]
                                .iter()
                                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                                .count(),
                            b'+' => s[at..].iter().take_while(|b| b.is_ascii_digit()).count(),
                            _ => {
                                s[at - 1..]
                                    .iter()
                                    .take_while(|b| b.is_ascii_digit())
                                    .count()
                                    - 1
                            }
                        };
                        if s.get(at + len) != Some(&b')')
                            || (len == 0 && matches!(kind, b'&' | b'+'))
                        {
                            return Verdict::Unsure;
                        }
                        i = at + len + 1;
                        prev = Prev::Atom;
                        continue;
                    }
                    b'-' if s.get(i + 3).is_some_and(u8::is_ascii_digit) => {
                        // `(?-1)`: a relative call.
                        let at = i + 3;
                        let len = s[at..].iter().take_while(|b| b.is_ascii_digit()).count();
                        if s.get(at + len) != Some(&b')') {
                            return Verdict::Unsure;
                        }
                        i = at + len + 1;
                        prev = Prev::Atom;
                        continue;
                    }
                    // Letters no PCRE2 version takes as an option or a group kind.
                    b'b' | b'c' | b'd' | b'e' | b'f' | b'g' | b'h' | b'j' | b'k' | b'l' | b'o'
                    | b'p' | b'q' | b't' | b'u' | b'v' | b'w' | b'y' | b'z' => {
                        return err("unrecognized character after (? or (?-", i + 2, doubt);
                    }
                    _ => {
                        // Option settings: `(?i)`, `(?-s:`, `(?^`.
                        let len = s[i + 2..]
                            .iter()
                            .take_while(|b| b.is_ascii_alphabetic() || matches!(b, b'-' | b'^'))
                            .count();
                        let flags = &s[i + 2..i + 2 + len];
                        if len == 0 || flags.iter().any(|f| matches!(f, b'x' | b'n')) {
                            // Extended mode changes what the rest means; `n` what captures.
                            return Verdict::Unsure;
                        }
                        match s.get(i + 2 + len) {
                            Some(b')') => {
                                i += 3 + len;
                                prev = Prev::Unknown;
                            }
                            Some(b':') => {
                                depth += 1;
                                i += 3 + len;
                                prev = Prev::Nothing;
                            }
                            _ => return Verdict::Unsure,
                        }
                        continue;
                    }
                }
            }
            b')' => {
                if depth == 0 {
                    return err("unmatched closing parenthesis", i, doubt);
                }
                depth -= 1;
                prev = Prev::Atom;
            }
            b'|' => prev = Prev::Nothing,
            b'*' | b'+' | b'?' => {
                match prev {
                    Prev::Nothing => return err(NOTHING_TO_REPEAT, i, doubt),
                    Prev::Quantifier if c == b'*' => return err(NOTHING_TO_REPEAT, i, doubt),
                    Prev::Quantifier => {
                        // `*?` lazy, `*+` possessive: the mark ends the quantifier.
                        prev = Prev::Unknown;
                        i += 1;
                        continue;
                    }
                    Prev::Atom => prev = Prev::Quantifier,
                    Prev::Unknown => doubt = true,
                }
            }
            b'{' => {
                if let Some((min, max, end)) = repeat_counts(s, i) {
                    if prev == Prev::Atom {
                        if min > 65535 || max.is_some_and(|m| m > 65535) {
                            return err("number too big in {} quantifier", end, doubt);
                        }
                        if max.is_some_and(|m| m < min) {
                            return err("numbers out of order in {} quantifier", end, doubt);
                        }
                        prev = Prev::Quantifier;
                        i = end + 1;
                        continue;
                    }
                    doubt |= prev == Prev::Unknown;
                    prev = Prev::Unknown;
                    i = end + 1;
                    continue;
                }
                prev = Prev::Atom;
            }
            b'^' | b'$' => prev = Prev::Unknown,
            _ => prev = Prev::Atom,
        }
        i += 1;
    }
    if depth > 0 {
        return err("missing closing parenthesis", n, doubt);
    }
    Verdict::Ok {
        captures: captures_sure.then_some(captures),
    }
}

/// `{n}`, `{n,}`, `{n,m}` at `at`: (n, m, offset of `}`). Other forms are literals or
/// version-dependent (`{,m}`, blanks inside) and are not read as quantifiers here.
fn repeat_counts(s: &[u8], at: usize) -> Option<(u64, Option<u64>, usize)> {
    let number = |from: usize| {
        let len = s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
        let value = s[from..from + len]
            .iter()
            .try_fold(0u64, |v, &d| {
                v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
            .unwrap_or(u64::MAX);
        (len > 0).then_some((value, from + len))
    };
    let (min, after) = number(at + 1)?;
    match s.get(after)? {
        b'}' => Some((min, Some(min), after)),
        b',' => match s.get(after + 1)? {
            b'}' => Some((min, None, after + 1)),
            _ => {
                let (max, end) = number(after + 1)?;
                (s.get(end) == Some(&b'}')).then_some((min, Some(max), end))
            }
        },
        _ => None,
    }
}

enum ClassEnd {
    At(usize),
    Missing,
    BackslashAtEnd,
    /// `[z-a]`: the offset of the range's end.
    RangeOutOfOrder(usize),
    Unsure,
}

/// Where the class opened at `at` ends.
fn class_end(s: &[u8], at: usize) -> ClassEnd {
    let n = s.len();
    let mut i = at + 1;
    if s.get(i) == Some(&b'^') {
        i += 1;
    }
    // The last literal, which a `-` may make the start of a range.
    let mut range_start: Option<u8> = None;
    // A `]` first is a literal.
    if s.get(i) == Some(&b']') {
        range_start = Some(b']');
        i += 1;
    }
    while i < n {
        match s[i] {
            b']' => return ClassEnd::At(i),
            b'\\' => {
                match s.get(i + 1) {
                    None => return ClassEnd::BackslashAtEnd,
                    // Escapes with arguments, and quoting: not followed inside a class.
                    Some(b'Q' | b'p' | b'P' | b'x' | b'o' | b'c' | b'N' | b'g' | b'k' | b'u') => {
                        return ClassEnd::Unsure
                    }
                    _ => {}
                }
                range_start = None;
                i += 2;
            }
            b'-' if range_start.is_some() => {
                match s.get(i + 1) {
                    Some(&end) if end.is_ascii() && !matches!(end, b']' | b'\\' | b'[') => {
                        if range_start.is_some_and(|start| end < start) {
                            return ClassEnd::RangeOutOfOrder(i + 1);
                        }
                        range_start = None;
                        i += 2;
                    }
                    // `[a-]`, or an end this reader does not weigh.
                    Some(b']') => i += 1,
                    _ => return ClassEnd::Unsure,
                }
            }
            b'[' if matches!(s.get(i + 1), Some(b':' | b'.' | b'=')) => {
                // A POSIX class `[:alpha:]`: followed when plainly written, else give up.
                let mark = s[i + 1];
                let body = s[i + 2..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphabetic() || **b == b'^')
                    .count();
                let end = i + 2 + body;
                if s.get(end) == Some(&mark) && s.get(end + 1) == Some(&b']') {
                    range_start = None;
                    i = end + 2;
                } else {
                    return ClassEnd::Unsure;
                }
            }
            c => {
                range_start = c.is_ascii().then_some(c);
                i += 1;
            }
        }
    }
    ClassEnd::Missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(pattern: &str) -> (&'static str, usize) {
        match check(pattern) {
            Verdict::Err { message, offset } => (message, offset),
            other => panic!("{pattern:?}: {other:?}"),
        }
    }

    /// nginx 1.22 with PCRE2: `location ~ "a\lb"` fails with `PCRE2 does not support \F,
    /// \L, \l, \N{name}, \U, or \u in "a\lb" at "b"` (and so for \U, \F, \L).
    #[test]
    fn case_changing_escapes_are_refused() {
        for p in [r"a\lb", r"x\Uy", r"q\Fz", r"a\Lb"] {
            let (message, offset) = err(p);
            assert!(message.starts_with("PCRE2 does not support \\F"), "{p}");
            assert_eq!(offset, 3, "{p}");
        }
    }

    #[test]
    fn valid_patterns_pass() {
        for p in [
            r"^/index\.php(/|$)",
            r"^(.+\.php)(/.+)$",
            r"\.(jpg|jpeg|png|gif|ico|css|js)$",
            r"^/(?:wp-admin|wp-login\.php)",
            r"(?i)\.php$",
            r"^/(?<app>[a-z]+)/",
            r"[[:alpha:]]+",
            r"[]a]",
            r"[^]a]",
            r"a{2,3}b{2}c{2,}",
            r"a{,3}",
            r"\Q(\E",
            r"[(]",
            r"a*?b+?c??d*+",
            r"(?#comment)x",
            r"(*UTF)x",
            r"\d{1,3}",
            r"x{}",
        ] {
            assert!(
                matches!(check(p), Verdict::Ok { .. }),
                "{p}: {:?}",
                check(p)
            );
        }
    }

    #[test]
    fn refusals_with_pcre2_offsets() {
        assert_eq!(err("(a"), ("missing closing parenthesis", 2));
        assert_eq!(err("a)b"), ("unmatched closing parenthesis", 1));
        assert_eq!(err("[a"), ("missing terminating ] for character class", 2));
        assert_eq!(err("[]"), ("missing terminating ] for character class", 2));
        assert_eq!(err("*a"), (NOTHING_TO_REPEAT, 0));
        assert_eq!(err("a**"), (NOTHING_TO_REPEAT, 2));
        assert_eq!(err("a|*"), (NOTHING_TO_REPEAT, 2));
        assert_eq!(err("(+)"), (NOTHING_TO_REPEAT, 1));
        assert_eq!(err("a{3,2}"), ("numbers out of order in {} quantifier", 5));
        assert_eq!(err("x{99999}"), ("number too big in {} quantifier", 7));
        assert_eq!(err("(?z)"), ("unrecognized character after (? or (?-", 2));
        assert_eq!(err("(?"), ("missing closing parenthesis", 2));
        assert_eq!(err("a(?#x"), ("missing ) after (?# comment", 5));
    }

    #[test]
    fn captures_are_counted_when_sure() {
        assert_eq!(
            check(r"^(.+\.php)(/.+)$"),
            Verdict::Ok { captures: Some(2) }
        );
        assert_eq!(check(r"^(?:a)(?<n>b)"), Verdict::Ok { captures: Some(1) });
        assert_eq!(check(r"(?|(a)|(b))"), Verdict::Ok { captures: None });
    }

    #[test]
    fn gives_up_on_what_it_does_not_follow() {
        assert_eq!(check("(?x) ( # a comment"), Verdict::Unsure);
        assert_eq!(check(r"\k"), Verdict::Unsure);
    }

    #[test]
    fn nginx_wording() {
        assert_eq!(
            nginx_message("(a", "missing closing parenthesis", 2),
            "pcre2_compile() failed: missing closing parenthesis in \"(a\""
        );
        assert_eq!(
            nginx_message("a)b", "unmatched closing parenthesis", 1),
            "pcre2_compile() failed: unmatched closing parenthesis in \"a)b\" at \")b\""
        );
    }
}
