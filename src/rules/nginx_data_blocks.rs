//! What nginx refuses inside the blocks whose body is data rather than directives (`map`,
//! `geo`, `split_clients`, `types`, `charset_map`), read by the module's own handler
//! (`cf->handler`), and the nesting rules of `location` (`ngx_http_core_location`).
//! Called by the language walk ([`super::nginx_language`]) at each such block.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::diagnostic::Label;
use crate::model::directives::ctx;
use crate::model::directives::values::regex::{self, Verdict};
use crate::rules::nginx_language::Report;
use crate::rules::{Finding, LintContext};
use crate::source::FileId;
use crate::syntax::nginx::{Directive, End, Siblings};

/// The blocks nginx reads with a handler of their own, by name and the context they open in.
fn handler_block(name: &str, outer: u32) -> Option<Handler> {
    let http_or_stream = outer == ctx::HTTP || outer == ctx::STREAM;
    Some(match name {
        "map" if http_or_stream => Handler::Map,
        "geo" if http_or_stream => Handler::Geo,
        "split_clients" if http_or_stream => Handler::Other,
        "types" if outer & (ctx::HTTP | ctx::HTTP_SRV | ctx::HTTP_LOC) != 0 => Handler::Other,
        "charset_map" if outer == ctx::HTTP => Handler::CharsetMap,
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Handler {
    Map,
    Geo,
    CharsetMap,
    /// Only the `{` check (`split_clients`, `types`).
    Other,
}

/// The state a handler keeps across the entries of one block (includes read in place).
#[derive(Default)]
struct State {
    hostnames: bool,
    default_seen: bool,
    keys: HashSet<String>,
    ranges: bool,
    utf8: bool,
}

/// Checks the entries of a data block `d` (named `name`, in a block of kind `outer`).
pub(super) fn check_data_block(
    cx: &LintContext<'_, '_>,
    prefix: &Option<PathBuf>,
    file: FileId,
    d: Directive<'_>,
    outer: u32,
    out: &mut Report,
) {
    let Some(handler) = handler_block(d.name(), outer) else {
        return;
    };
    let Some(block) = d.block() else { return };
    let mut state = State {
        utf8: handler == Handler::CharsetMap
            && d.arg(1).is_some_and(|a| a.eq_ignore_ascii_case("utf-8")),
        ..State::default()
    };
    // `hostnames` makes keys wildcards, whose conflicts nginx decides by rules not followed
    // here: no duplicate check in such a map.
    state.hostnames = handler == Handler::Map
        && block
            .directives()
            .into_iter()
            .any(|e| e.args().is_empty() && e.name() == "hostnames");
    let mut reading = vec![file];
    entries(
        cx,
        prefix,
        file,
        block.directives(),
        handler,
        &mut state,
        &mut reading,
        out,
    );
}

#[allow(clippy::too_many_arguments)]
fn entries(
    cx: &LintContext<'_, '_>,
    prefix: &Option<PathBuf>,
    file: FileId,
    items: Siblings<'_>,
    handler: Handler,
    state: &mut State,
    reading: &mut Vec<FileId>,
    out: &mut Report,
) {
    for e in items {
        if let End::Block { open, .. } = e.end() {
            // ngx_conf_parse refuses a block wherever a handler reads the entries.
            out.arguments.push(Finding::new(
                "unexpected \"{\"",
                Label::primary(file, open, "a block inside a data block"),
            ));
            continue;
        }
        if !matches!(e.end(), End::Semicolon { .. }) {
            continue;
        }
        let n = e.words().len();
        let key = e.name();
        match handler {
            Handler::Map | Handler::Geo if n == 2 && key == "include" => {
                let targets = cx
                    .nginx_includes
                    .resolved(file, e.span().start, prefix)
                    .unwrap_or(&[]);
                for &t in targets {
                    if reading.contains(&t) || reading.len() > 20 {
                        continue;
                    }
                    let Some(config) = cx.project.nginx(t) else {
                        continue;
                    };
                    reading.push(t);
                    entries(
                        cx,
                        prefix,
                        t,
                        config.directives(),
                        handler,
                        state,
                        reading,
                        out,
                    );
                    reading.pop();
                }
            }
            Handler::Map => map_entry(file, e, n, state, out),
            Handler::Geo => geo_entry(file, e, n, state, out),
            Handler::CharsetMap => charset_entry(file, e, n, state, out),
            Handler::Other => {}
        }
    }
}

/// `ngx_http_map` (and `ngx_stream_map`, which says the same).
fn map_entry(file: FileId, e: Directive<'_>, n: usize, state: &mut State, out: &mut Report) {
    let key = e.name();
    if n == 1 && (key == "hostnames" || key == "volatile") {
        return;
    }
    if n != 2 {
        out.arguments.push(
            Finding::new(
                "invalid number of the map parameters",
                Label::primary(file, e.span(), "a map entry is a key and a value"),
            )
            .help("write `key value;` (quote a value that holds spaces)"),
        );
        return;
    }
    if key == "default" {
        if state.default_seen {
            out.duplicates.push(Finding::new(
                "duplicate default map parameter",
                Label::primary(file, e.name_word().span(), "a second `default`"),
            ));
        }
        state.default_seen = true;
        return;
    }
    if let Some(pattern) = key.strip_prefix('~') {
        let pattern = pattern.strip_prefix('*').unwrap_or(pattern);
        if let Verdict::Err { message, offset } = regex::check(pattern) {
            out.values.push(Finding::new(
                regex::nginx_message(pattern, message, offset),
                Label::primary(file, e.name_word().span(), "nginx compiles this regex"),
            ));
        }
        return;
    }
    if state.hostnames {
        return;
    }
    let plain = key.strip_prefix('\\').unwrap_or(key).to_ascii_lowercase();
    if !state.keys.insert(plain.clone()) {
        out.duplicates.push(
            Finding::new(
                format!("conflicting parameter \"{plain}\""),
                Label::primary(file, e.name_word().span(), "this key is already in the map"),
            )
            .help("nginx compares map keys ignoring case; remove one of the two entries"),
        );
    }
}

/// `ngx_http_geo` (and `ngx_stream_geo`): the entry shape and its network or range.
fn geo_entry(file: FileId, e: Directive<'_>, n: usize, state: &mut State, out: &mut Report) {
    let key = e.name();
    if n == 1 && key == "ranges" {
        state.ranges = true;
        return;
    }
    if n == 1 && key == "proxy_recursive" {
        return;
    }
    if n != 2 {
        out.arguments.push(
            Finding::new(
                "invalid number of the geo parameters",
                Label::primary(file, e.span(), "a geo entry is a network and a value"),
            )
            .help("write `network value;` (quote a value that holds spaces)"),
        );
        return;
    }
    let net_word = match key {
        "proxy" => e.args().first(),
        "default" => return,
        "delete" => e.args().first(),
        _ => Some(e.name_word()),
    };
    let Some(word) = net_word else { return };
    let net = word.value();
    let message = if state.ranges && key != "proxy" {
        (!range_ok(net)).then(|| format!("invalid range \"{net}\""))
    } else {
        (cidr_ok(net) == Some(false)).then(|| format!("invalid network \"{net}\""))
    };
    if let Some(message) = message {
        out.values.push(Finding::new(
            message,
            Label::primary(file, word.span(), "nginx cannot read this address"),
        ));
    }
}

/// `ngx_inet_addr`: four dot-separated decimal octets (empty ones read as 0); None where
/// nginx would not take it (255.255.255.255 is its error value too).
fn inet_addr(s: &str) -> Option<u32> {
    let (mut addr, mut octet, mut dots) = (0u32, 0u32, 0);
    for c in s.bytes() {
        match c {
            b'0'..=b'9' => {
                octet = octet * 10 + u32::from(c - b'0');
                if octet > 255 {
                    return None;
                }
            }
            b'.' => {
                addr = (addr << 8) + octet;
                octet = 0;
                dots += 1;
                if dots > 3 {
                    return None;
                }
            }
            _ => return None,
        }
    }
    if dots != 3 {
        return None;
    }
    let addr = (addr << 8) + octet;
    (addr != u32::MAX).then_some(addr)
}

/// `ngx_http_geo_cidr_value`: Some(false) only where nginx certainly refuses; IPv6 forms are
/// judged by the standard library only when it accepts them.
fn cidr_ok(net: &str) -> Option<bool> {
    if net == "255.255.255.255" {
        return Some(true);
    }
    let (addr, mask) = match net.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (net, None),
    };
    let max = if inet_addr(addr).is_some() {
        32
    } else if addr.contains(':') {
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return None;
        }
        128
    } else {
        return Some(false);
    };
    match mask {
        None => Some(true),
        Some(m) => {
            let ok = !m.is_empty()
                && m.bytes().all(|b| b.is_ascii_digit())
                && m.parse::<u32>().is_ok_and(|v| v <= max);
            Some(ok)
        }
    }
}

/// `ngx_http_geo_range`: `start-end`, both IPv4, in order.
fn range_ok(net: &str) -> bool {
    let Some((a, b)) = net.split_once('-') else {
        return false;
    };
    matches!((inet_addr(a), inet_addr(b)), (Some(s), Some(e)) if s <= e)
}

/// `ngx_hextoi` limited to a byte, as `ngx_http_charset_map` reads a code.
fn hex_byte(s: &str) -> Option<u8> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut v: u32 = 0;
    for b in s.bytes() {
        v = v
            .saturating_mul(16)
            .saturating_add((b as char).to_digit(16)?);
    }
    u8::try_from(v).ok()
}

/// The UTF-8 side of a `charset_map ... utf-8` entry: hex pairs whose first character
/// `ngx_utf8_decode` reads as a 2- or 3-byte sequence (nginx keeps at most U+FFFF).
fn utf8_ok(s: &str) -> bool {
    if s.len() % 2 != 0 {
        return false;
    }
    let Some(bytes) = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(hex_byte))
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    match bytes.as_slice() {
        [b0, b1, ..] if (0xc2..0xe0).contains(b0) => *b1 >= 0x80,
        [b0, b1, b2, ..] if (0xe0..0xf0).contains(b0) => {
            let u =
                (u32::from(b0 & 0x0f) << 12) | (u32::from(b1 & 0x3f) << 6) | u32::from(b2 & 0x3f);
            *b1 >= 0x80 && *b2 >= 0x80 && u > 0x7ff
        }
        _ => false,
    }
}

/// `ngx_http_charset_map`: two codes a line, the first a byte, the second a byte or (towards
/// utf-8) the character's UTF-8 bytes in hex.
fn charset_entry(file: FileId, e: Directive<'_>, n: usize, state: &State, out: &mut Report) {
    if n != 2 {
        out.arguments.push(
            Finding::new(
                "invalid parameters number",
                Label::primary(file, e.span(), "a charset_map entry is two codes"),
            )
            .help("write `80 E282AC;`: the code in the first charset, then in the second, in hex"),
        );
        return;
    }
    let src = e.name_word();
    let dst = e.args().first();
    let bad = if hex_byte(src.value()).is_none() {
        Some(src)
    } else {
        dst.filter(|w| {
            if state.utf8 {
                !utf8_ok(w.value())
            } else {
                hex_byte(w.value()).is_none()
            }
        })
    };
    if let Some(w) = bad {
        out.values.push(Finding::new(
            format!("invalid value \"{}\"", w.value()),
            Label::primary(file, w.span(), "not a code nginx reads here"),
        ));
    }
}

/// How `ngx_http_core_location` reads a location's name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LocKind {
    Prefix,
    Exact,
    Regex,
    Named,
}

fn location_name<'p>(d: Directive<'p>) -> Option<(LocKind, &'p str)> {
    let args = d.args();
    match args.len() {
        2 => {
            let kind = match args.first()?.value() {
                "=" => LocKind::Exact,
                "~" | "~*" => LocKind::Regex,
                "^~" => LocKind::Prefix,
                _ => return None,
            };
            Some((kind, args.get(1)?.value()))
        }
        1 => {
            let s = args.first()?.value();
            Some(if let Some(rest) = s.strip_prefix('=') {
                (LocKind::Exact, rest)
            } else if let Some(rest) = s.strip_prefix("^~") {
                (LocKind::Prefix, rest)
            } else if let Some(rest) = s.strip_prefix('~') {
                (LocKind::Regex, rest.strip_prefix('*').unwrap_or(rest))
            } else if s.starts_with('@') {
                (LocKind::Named, s)
            } else {
                (LocKind::Prefix, s)
            })
        }
        _ => None,
    }
}

/// The nesting rules of `ngx_http_core_location` for the locations written directly in the
/// location `outer`.
pub(super) fn nested_locations(file: FileId, outer: Directive<'_>, out: &mut Report) {
    let Some(block) = outer.block() else { return };
    let Some((outer_kind, outer_name)) = location_name(outer) else {
        return;
    };
    for d in block.directives() {
        if !d.is("location") || d.block().is_none() {
            continue;
        }
        let Some((kind, name)) = location_name(d) else {
            continue;
        };
        let message = if outer_kind == LocKind::Exact {
            format!("location \"{name}\" cannot be inside the exact location \"{outer_name}\"")
        } else if outer_kind == LocKind::Named {
            format!("location \"{name}\" cannot be inside the named location \"{outer_name}\"")
        } else if kind == LocKind::Named {
            format!("named location \"{name}\" can be on the server level only")
        } else if kind != LocKind::Regex && !name.starts_with(outer_name) {
            format!("location \"{name}\" is outside location \"{outer_name}\"")
        } else {
            continue;
        };
        let span = d.args().span();
        out.not_allowed.push(
            Finding::new(message, Label::primary(file, span, "this nested location")).label(
                Label::secondary(file, outer.args().span(), "inside this location"),
            ),
        );
    }
}

/// Checks of single directives whose readers go beyond the table's value kinds: the optional
/// parameters of `access_log` (`ngx_http_log_set_log`, `ngx_stream_log_set_log`) and the
/// method of `use` (`ngx_event_use`).
pub(super) fn single_directive(file: FileId, d: Directive<'_>, outer: u32, out: &mut Report) {
    let args = d.args();
    match d.name() {
        "access_log" if outer != ctx::EVENTS => {
            let bad = if args.first().is_some_and(|w| w.value() == "off") {
                args.get(1)
            } else {
                args.iter().skip(2).find(|w| {
                    let v = w.value();
                    !(v.starts_with("buffer=")
                        || v.starts_with("flush=")
                        || v.starts_with("if=")
                        || v == "gzip"
                        || v.starts_with("gzip="))
                })
            };
            if let Some(w) = bad {
                out.values.push(
                    Finding::new(
                        format!("invalid parameter \"{}\"", w.value()),
                        Label::primary(file, w.span(), "not a parameter of access_log"),
                    )
                    .help("after the path and the format name, access_log takes only buffer=, gzip[=level], flush= and if="),
                );
            }
        }
        "use" if outer == ctx::EVENTS => {
            // Every connection method nginx has had on any platform; a build has a few of them.
            const METHODS: &[&str] = &[
                "select",
                "poll",
                "epoll",
                "kqueue",
                "eventport",
                "/dev/poll",
                "iocp",
                "rtsig",
                "aio",
            ];
            if let Some(w) = args.first().filter(|w| !METHODS.contains(&w.value())) {
                out.values.push(
                    Finding::new(
                        format!("invalid event type \"{}\"", w.value()),
                        Label::primary(file, w.span(), "not a connection method of nginx"),
                    )
                    .help("nginx chooses the best method itself; the methods are select, poll, epoll (Linux), kqueue (BSD, macOS), eventport and /dev/poll (Solaris)"),
                );
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_codes_as_ngx_hextoi_reads_them() {
        assert_eq!(hex_byte("80"), Some(0x80));
        assert_eq!(hex_byte("fF"), Some(0xff));
        assert_eq!(hex_byte("00000000000000000000ff"), Some(0xff));
        assert_eq!(hex_byte("100"), None);
        assert_eq!(hex_byte("8x"), None);
        assert_eq!(hex_byte(""), None);
        assert_eq!(hex_byte("+1"), None);
    }

    #[test]
    fn utf8_side_keeps_two_and_three_byte_characters() {
        // U+2500 (E2 94 80) and U+00A0 (C2 A0).
        assert!(utf8_ok("E29480"));
        assert!(utf8_ok("c2a0"));
        // ASCII, a 4-byte character (U+1F600), a truncated one, an overlong one, odd length.
        assert!(!utf8_ok("41"));
        assert!(!utf8_ok("F09F9880"));
        assert!(!utf8_ok("E294"));
        assert!(!utf8_ok("E08080"));
        assert!(!utf8_ok("E2948"));
        assert!(!utf8_ok(""));
    }

    #[test]
    fn geo_networks_and_ranges_as_ngx_ptocidr_reads_them() {
        assert_eq!(cidr_ok("10.0.0.0/8"), Some(true));
        assert_eq!(cidr_ok("10.1.2.3/8"), Some(true)); // nginx only warns
        assert_eq!(cidr_ok("255.255.255.255"), Some(true));
        assert_eq!(cidr_ok("255.255.255.255/32"), Some(false));
        assert_eq!(cidr_ok("10.0.00/8"), Some(false));
        assert_eq!(cidr_ok("10.0.0.0/33"), Some(false));
        assert_eq!(cidr_ok("10.0.0.0/"), Some(false));
        assert_eq!(cidr_ok("defaulr"), Some(false));
        assert_eq!(cidr_ok("2001:db8::/32"), Some(true));
        assert_eq!(cidr_ok("2001:db8::zz"), None);
        assert!(range_ok("10.0.0.1-10.0.0.9"));
        assert!(!range_ok("10.0.0.9-10.0.0.1"));
        assert!(!range_ok("10.0.0.9"));
    }
}
