//! Addresses: `listen`, the `*_pass` directives and `server` in `upstream`, read the way
//! nginx's `ngx_parse_url` (`src/core/ngx_inet.c`) and the handlers that call it do.

use super::parse::{atoi, parse_size, parse_time};
use super::{has_variable, ValueProblem, Version};
use crate::syntax::nginx::Directive;

/// What `ngx_parse_url` makes of an address, as far as can be told without the host.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Url {
    /// Accepted.
    Ok,
    /// Refused, with nginx's `u->err`.
    Err(&'static str),
    /// A host name nginx would resolve now: the answer depends on the host's DNS.
    NeedsResolve,
}

/// How the caller sets up `ngx_url_t`.
#[derive(Clone, Copy)]
pub(super) struct UrlMode {
    /// `u.listen`: a bare port, `*` and port ranges are allowed, no URI.
    pub listen: bool,
    /// `u.uri_part`: a `/path` may follow the address (proxy_pass).
    pub uri_part: bool,
    /// `u.no_resolve`: a host name is kept as an upstream name, not resolved.
    pub no_resolve: bool,
}

/// `ngx_parse_url`.
pub(super) fn parse_url(url: &[u8], mode: UrlMode) -> Url {
    if url.len() >= 5 && url[..5].eq_ignore_ascii_case(b"unix:") {
        let mut path = &url[5..];
        if mode.uri_part {
            if let Some(colon) = path.iter().position(|&c| c == b':') {
                path = &path[..colon];
            }
        }
        if path.is_empty() {
            return Url::Err("no path in the unix domain socket");
        }
        // sun_path holds 108 bytes, the terminating NUL included.
        if path.len() + 1 > 108 {
            return Url::Err("too long path in the unix domain socket");
        }
        return Url::Ok;
    }
    if url.first() == Some(&b'[') {
        return parse_inet6_url(url, mode);
    }
    parse_inet_url(url, mode)
}

fn find(s: &[u8], from: usize, to: usize, c: u8) -> Option<usize> {
    s[from..to].iter().position(|&b| b == c).map(|i| from + i)
}

fn port_ok(n: Option<i64>) -> Option<i64> {
    n.filter(|n| (1..=65535).contains(n))
}

fn parse_inet_url(url: &[u8], mode: UrlMode) -> Url {
    let mut last = url.len();
    let mut port = find(url, 0, last, b':');
    let mut uri = find(url, 0, last, b'/');
    if let Some(args) = find(url, 0, last, b'?') {
        if uri.is_none_or(|u| args < u) {
            uri = Some(args);
        }
    }
    if let Some(u) = uri {
        if mode.listen || !mode.uri_part {
            return Url::Err("invalid host");
        }
        last = u;
        if port.is_some_and(|p| u < p) {
            port = None;
        }
    }
    if let Some(colon) = port {
        if let Err(e) = port_or_range(url, colon + 1, last, mode.listen) {
            return Url::Err(e);
        }
        last = colon;
    } else if uri.is_none() && mode.listen {
        // A bare port (or port range).
        let mut end = last;
        let mut deferred = None;
        let mut last_port = None;
        let mut is_port = true;
        if let Some(dash) = find(url, 0, last, b'-') {
            match atoi(&url[dash + 1..last]) {
                None => is_port = false,
                Some(n) if port_ok(Some(n)).is_none() => deferred = Some("invalid port"),
                Some(n) => last_port = Some(n),
            }
            end = dash;
        }
        if is_port {
            if let Some(n) = atoi(&url[..end]) {
                if let Some(err) = deferred {
                    return Url::Err(err);
                }
                if port_ok(Some(n)).is_none() {
                    return Url::Err("invalid port");
                }
                if last_port.is_some_and(|l| n > l) {
                    return Url::Err("invalid port range");
                }
                return Url::Ok;
            }
        }
    }
    let host = &url[..last];
    if host.is_empty() {
        return Url::Err("no host");
    }
    if mode.listen && host == b"*" {
        return Url::Ok;
    }
    if is_inet_addr(host) || mode.no_resolve {
        return Url::Ok;
    }
    Url::NeedsResolve
}

/// `ngx_inet_addr`: four dot-separated decimal parts, none above 255 (empty parts count as 0).
fn is_inet_addr(s: &[u8]) -> bool {
    let mut octet: u32 = 0;
    let mut dots = 0;
    for &c in s {
        match c {
            b'0'..=b'9' => {
                octet = octet * 10 + u32::from(c - b'0');
                if octet > 255 {
                    return false;
                }
            }
            b'.' => {
                octet = 0;
                dots += 1;
            }
            _ => return false,
        }
    }
    dots == 3
}

fn parse_inet6_url(url: &[u8], mode: UrlMode) -> Url {
    let mut last = url.len();
    let Some(close) = find(url, 1, last, b']') else {
        return Url::Err("invalid host");
    };
    let port = close + 1;
    if let Some(u) = find(url, port, last, b'/') {
        if mode.listen || !mode.uri_part {
            return Url::Err("invalid host");
        }
        last = u;
    }
    if port < last {
        if url[port] != b':' {
            return Url::Err("invalid host");
        }
        if let Err(e) = port_or_range(url, port + 1, last, mode.listen) {
            return Url::Err(e);
        }
    }
    let host = &url[1..close];
    if host.is_empty() {
        return Url::Err("no host");
    }
    if !is_inet6_addr(host) {
        return Url::Err("invalid IPv6 address");
    }
    Url::Ok
}

/// `ngx_inet6_addr`: eight groups of up to four hex digits, or fewer with one `::`, the last
/// two groups possibly an IPv4 address.
pub(super) fn is_inet6_addr(s: &[u8]) -> bool {
    let p = match s {
        [] => return false,
        [b':', rest @ ..] => rest,
        _ => s,
    };
    let mut zero = false;
    let mut digit: Option<usize> = None;
    let mut nibbles = 0;
    let mut n = 8;
    let mut i = 0;
    while i < p.len() {
        let c = p[i];
        i += 1;
        if c == b':' {
            if nibbles > 0 {
                digit = Some(i);
                n -= 1;
                if n > 0 {
                    nibbles = 0;
                    continue;
                }
            } else if !zero {
                digit = Some(i);
                zero = true;
                continue;
            }
            return false;
        }
        if c == b'.' && nibbles > 0 {
            let Some(from) = digit.filter(|_| n >= 2) else {
                return false;
            };
            if !is_inet_addr(&p[from..]) {
                return false;
            }
            n -= 1;
            break;
        }
        nibbles += 1;
        if nibbles > 4 || !c.is_ascii_hexdigit() {
            return false;
        }
    }
    if nibbles == 0 && !zero {
        return false;
    }
    n -= 1;
    if n > 0 {
        zero
    } else {
        !zero
    }
}

/// `ngx_ptocidr`: an IPv4 or IPv6 address with an optional `/bits`.
pub(super) fn is_cidr(s: &[u8]) -> bool {
    let (addr, mask) = match s.iter().position(|&c| c == b'/') {
        Some(slash) => (&s[..slash], Some(&s[slash + 1..])),
        None => (s, None),
    };
    let max = if is_inet_addr(addr) {
        32
    } else if is_inet6_addr(addr) {
        128
    } else {
        return false;
    };
    match mask {
        None => true,
        Some(m) => atoi(m).is_some_and(|bits| bits <= max),
    }
}

/// Whether a parameter that nginx `since` added is refused by the nginx being linted: only
/// when its version is known and older. None (unknown) when the version is not given.
fn added_in(since: Version, nginx: Option<Version>) -> Option<bool> {
    nginx.map(|v| v < since)
}

/// `listen` in `http` (`ngx_http_core_listen`).
pub(super) fn listen(d: Directive<'_>, nginx: Option<Version>) -> Option<ValueProblem> {
    let args = d.args();
    let addr = args.first()?;
    let mode = UrlMode {
        listen: true,
        uri_part: false,
        no_resolve: false,
    };
    match parse_url(addr.value().as_bytes(), mode) {
        Url::Ok => {}
        Url::Err(err) => {
            return Some(ValueProblem::at(
                addr,
                format!("{err} in \"{}\" of the \"listen\" directive", addr.value()),
            ))
        }
        Url::NeedsResolve => return None,
    }
    for p in args.iter().skip(1) {
        let v = p.value();
        let problem = |message: String| Some(ValueProblem::at(p, message));
        if matches!(
            v,
            "default_server"
                | "default"
                | "bind"
                | "deferred"
                | "reuseport"
                | "ssl"
                | "http2"
                | "proxy_protocol"
        ) {
            continue;
        }
        if let Some(n) = v.strip_prefix("fastopen=") {
            if atoi(n.as_bytes()).is_none() {
                return problem(format!("invalid fastopen \"{v}\""));
            }
        } else if let Some(n) = v.strip_prefix("backlog=") {
            if !matches!(atoi(n.as_bytes()), Some(n) if n != 0) {
                return problem(format!("invalid backlog \"{v}\""));
            }
        } else if let Some(n) = v.strip_prefix("rcvbuf=") {
            if parse_size(n.as_bytes()).is_none() {
                return problem(format!("invalid rcvbuf \"{v}\""));
            }
        } else if let Some(n) = v.strip_prefix("sndbuf=") {
            if parse_size(n.as_bytes()).is_none() {
                return problem(format!("invalid sndbuf \"{v}\""));
            }
        } else if v.starts_with("accept_filter=") {
            // Linux has no accept filters: nginx logs that and goes on.
        } else if let Some(flag) = v.strip_prefix("ipv6only=") {
            if flag.starts_with('o') && flag != "on" && flag != "off" {
                return problem(format!("invalid ipv6only flags \"{flag}\""));
            } else if !flag.starts_with('o') {
                return problem(format!("invalid parameter \"{v}\""));
            }
        } else if let Some(k) = v.strip_prefix("so_keepalive=") {
            if k != "on" && k != "off" && !so_keepalive_ok(k.as_bytes()) {
                return problem(format!("invalid so_keepalive value: \"{k}\""));
            }
        } else if v == "quic" || v == "multipath" {
            let since = if v == "quic" {
                Version(1, 25, 0)
            } else {
                Version(1, 29, 7)
            };
            match added_in(since, nginx) {
                Some(true) => return problem(format!("invalid parameter \"{v}\"")),
                Some(false) => {}
                None => return None,
            }
        } else if v.starts_with("setfib=") {
            // FreeBSD's: what the host's nginx was built with decides.
            return None;
        } else {
            return problem(format!("invalid parameter \"{v}\""));
        }
    }
    None
}

/// `so_keepalive=idle:intvl:cnt`, each part optional, not all zero (Linux has the tunables).
fn so_keepalive_ok(s: &[u8]) -> bool {
    let mut parts = s.splitn(3, |&c| c == b':');
    let idle = parts.next().unwrap_or_default();
    let intvl = parts.next().unwrap_or_default();
    let cnt = parts.next().unwrap_or_default();
    let time = |p: &[u8]| {
        if p.is_empty() {
            Some(0)
        } else {
            parse_time(p, true)
        }
    };
    let (Some(idle), Some(intvl)) = (time(idle), time(intvl)) else {
        return false;
    };
    let cnt = if cnt.is_empty() { Some(0) } else { atoi(cnt) };
    let Some(cnt) = cnt else {
        return false;
    };
    idle != 0 || intvl != 0 || cnt != 0
}

/// `fastcgi_pass` and its kin: the address is an upstream name or an address, read now unless
/// it holds a variable.
pub(super) fn pass(name: &str, d: Directive<'_>) -> Option<ValueProblem> {
    let w = d.args().first()?;
    let v = w.value();
    if has_variable(v) {
        return None;
    }
    let bytes = v.as_bytes();
    let strip = |schemes: &[&str]| {
        schemes
            .iter()
            .find(|s| bytes.len() >= s.len() && bytes[..s.len()].eq_ignore_ascii_case(s.as_bytes()))
            .map_or(0, |s| s.len())
    };
    let (skip, uri_part) = match name {
        "proxy_pass" => {
            let n = strip(&["http://", "https://"]);
            if n == 0 {
                return Some(ValueProblem::at(w, "invalid URL prefix".into()));
            }
            (n, true)
        }
        "grpc_pass" => (strip(&["grpc://", "grpcs://"]), false),
        "uwsgi_pass" => (strip(&["uwsgi://", "suwsgi://"]), false),
        _ => (0, false),
    };
    let url = &v[skip..];
    let mode = UrlMode {
        listen: false,
        uri_part,
        no_resolve: true,
    };
    match parse_url(url.as_bytes(), mode) {
        Url::Err(err) => Some(ValueProblem::at(w, format!("{err} in upstream \"{url}\""))),
        Url::Ok | Url::NeedsResolve => None,
    }
}

/// `server` in an `upstream` block (`ngx_http_upstream_server`): its parameters, then its
/// address.
pub(super) fn upstream_server(d: Directive<'_>, nginx: Option<Version>) -> Option<ValueProblem> {
    let args = d.args();
    let addr = args.first()?;
    for p in args.iter().skip(1) {
        let v = p.value();
        let ok = if let Some(n) = v.strip_prefix("weight=") {
            matches!(atoi(n.as_bytes()), Some(n) if n != 0)
        } else if let Some(n) = v
            .strip_prefix("max_conns=")
            .or_else(|| v.strip_prefix("max_fails="))
        {
            atoi(n.as_bytes()).is_some()
        } else if let Some(t) = v.strip_prefix("fail_timeout=") {
            parse_time(t.as_bytes(), true).is_some()
        } else if v == "backup" || v == "down" {
            true
        } else if v == "resolve" || v.starts_with("service=") || v == "drain" {
            let since = if v == "drain" {
                Version(1, 29, 6)
            } else {
                Version(1, 27, 3)
            };
            match added_in(since, nginx) {
                Some(true) => false,
                // What a later nginx checks of them (a resolver, a zone) is left to it.
                Some(false) | None => return None,
            }
        } else if v.starts_with("route=") || v.starts_with("slow_start=") {
            // nginx Plus parameters: not judged.
            return None;
        } else {
            false
        };
        if !ok {
            return Some(ValueProblem::at(p, format!("invalid parameter \"{v}\"")));
        }
    }
    let mode = UrlMode {
        listen: false,
        uri_part: false,
        no_resolve: false,
    };
    match parse_url(addr.value().as_bytes(), mode) {
        Url::Err(err) => Some(ValueProblem::at(
            addr,
            format!("{err} in upstream \"{}\"", addr.value()),
        )),
        Url::Ok | Url::NeedsResolve => None,
    }
}

/// The port in `url[start..last]`, or for `listen` a range `8000-8010`, as nginx reads it.
fn port_or_range(url: &[u8], start: usize, last: usize, listen: bool) -> Result<(), &'static str> {
    let mut end = last;
    let mut last_port = None;
    if listen {
        if let Some(dash) = find(url, start, last, b'-') {
            last_port = Some(port_ok(atoi(&url[dash + 1..last])).ok_or("invalid port")?);
            end = dash;
        }
    }
    let first = port_ok(atoi(&url[start..end])).ok_or("invalid port")?;
    if last_port.is_some_and(|l| first > l) {
        return Err("invalid port range");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTEN: UrlMode = UrlMode {
        listen: true,
        uri_part: false,
        no_resolve: false,
    };
    const PASS: UrlMode = UrlMode {
        listen: false,
        uri_part: false,
        no_resolve: true,
    };

    #[test]
    fn listen_addresses() {
        assert_eq!(parse_url(b"80", LISTEN), Url::Ok);
        assert_eq!(parse_url(b"127.0.0.1:8080", LISTEN), Url::Ok);
        assert_eq!(parse_url(b"*:80", LISTEN), Url::Ok);
        assert_eq!(parse_url(b"[::]:443", LISTEN), Url::Ok);
        assert_eq!(parse_url(b"unix:/run/x.sock", LISTEN), Url::Ok);
        assert_eq!(parse_url(b"8000-8010", LISTEN), Url::Ok);
        assert_eq!(parse_url(b"70000", LISTEN), Url::Err("invalid port"));
        assert_eq!(parse_url(b"0", LISTEN), Url::Err("invalid port"));
        assert_eq!(parse_url(b"127.0.0.1:0", LISTEN), Url::Err("invalid port"));
        assert_eq!(
            parse_url(b"8010-8000", LISTEN),
            Url::Err("invalid port range")
        );
        assert_eq!(parse_url(b":80", LISTEN), Url::Err("no host"));
        assert_eq!(parse_url(b"/x", LISTEN), Url::Err("invalid host"));
        assert_eq!(parse_url(b"[::1", LISTEN), Url::Err("invalid host"));
        assert_eq!(parse_url(b"[]:80", LISTEN), Url::Err("no host"));
        assert_eq!(
            parse_url(b"[::g]:80", LISTEN),
            Url::Err("invalid IPv6 address")
        );
        assert_eq!(
            parse_url(b"unix:", LISTEN),
            Url::Err("no path in the unix domain socket")
        );
        assert_eq!(parse_url(b"example.com:80", LISTEN), Url::NeedsResolve);
    }

    #[test]
    fn upstream_addresses() {
        assert_eq!(parse_url(b"php", PASS), Url::Ok);
        assert_eq!(parse_url(b"127.0.0.1:9000", PASS), Url::Ok);
        assert_eq!(parse_url(b"/run/php.sock", PASS), Url::Err("invalid host"));
        assert_eq!(
            parse_url(b"127.0.0.1:90000", PASS),
            Url::Err("invalid port")
        );
        assert_eq!(parse_url(b"127.0.0.1:", PASS), Url::Err("invalid port"));
        // A bare port is a host name outside `listen`.
        assert_eq!(parse_url(b"9000", PASS), Url::Ok);
        let long = format!("unix:/{}", "a".repeat(107));
        assert_eq!(
            parse_url(long.as_bytes(), PASS),
            Url::Err("too long path in the unix domain socket")
        );
        assert_eq!(parse_url(&long.as_bytes()[..long.len() - 1], PASS), Url::Ok);
    }

    #[test]
    fn inet_addr_as_nginx_reads_it() {
        assert!(is_inet_addr(b"10.0.0.1"));
        assert!(is_inet_addr(b"1..2.3"));
        assert!(!is_inet_addr(b"1.2.3"));
        assert!(!is_inet_addr(b"1.2.3.256"));
        assert!(!is_inet_addr(b"localhost"));
    }

    #[test]
    fn inet6_addr_as_nginx_reads_it() {
        for ok in [
            &b"::"[..],
            b"::1",
            b"fe80::1",
            b"2001:db8:0:0:0:0:0:1",
            b"::ffff:192.0.2.1",
            b"1:2:3:4:5:6::",
        ] {
            assert!(is_inet6_addr(ok), "{:?}", std::str::from_utf8(ok));
        }
        for bad in [
            &b""[..],
            b"1:2:3:4:5:6:7",
            b"1:2:3:4:5:6:7:8:9",
            b"1::2::3",
            b"12345::",
            b"::g",
            b"1.2.3.4",
            b":::",
            // Seven groups and a `::` standing for none: nginx refuses it.
            b"1:2:3:4:5:6:7::",
        ] {
            assert!(!is_inet6_addr(bad), "{:?}", std::str::from_utf8(bad));
        }
        assert!(is_cidr(b"10.0.0.0/8"));
        assert!(is_cidr(b"2001:db8::/32"));
        assert!(!is_cidr(b"10.0.0.0/33"));
        assert!(!is_cidr(b"10.0.0/8"));
        assert!(!is_cidr(b"localhost"));
    }

    #[test]
    fn keepalive_tunables() {
        assert!(so_keepalive_ok(b"30m::10"));
        assert!(so_keepalive_ok(b"1h"));
        assert!(!so_keepalive_ok(b"::"));
        assert!(!so_keepalive_ok(b"0:0:0"));
        assert!(!so_keepalive_ok(b"x"));
        assert!(!so_keepalive_ok(b"1::x"));
    }
}
