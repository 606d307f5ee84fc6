//! Addresses on both sides of the join: what nginx's `fastcgi_pass` connects to and what
//! php-fpm's `listen` binds, and whether the one reaches the other.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where nginx connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Unix(String),
    Tcp {
        host: TargetHost,
        port: u16,
    },
    /// A bare name: an `upstream` block, or (if none) a host with no port, which nginx refuses.
    Upstream(String),
    /// Contains variables: only known at request time.
    Dynamic(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetHost {
    Ip(IpAddr),
    /// `localhost`: nginx resolves it at start-up and tries every address (::1 and 127.0.0.1).
    Localhost,
    /// Any other name (docker's `app`, `php-fpm`): resolved where it runs; only the port can be checked.
    Name(String),
}

/// What php-fpm binds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    Unix(String),
    Tcp { host: ListenHost, port: u16 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenHost {
    /// A bare port or `[::]`: every IPv6 address and, through mapped addresses, every IPv4 one.
    AnyDual,
    /// `0.0.0.0`: every IPv4 address.
    AnyV4,
    Ip(IpAddr),
    /// `localhost`: php-fpm binds only the first address the resolver returns, `::1` on Debian.
    Localhost,
    /// Another name: bound wherever it resolves; only the port can be checked.
    Name(String),
}

/// Parse an nginx `fastcgi_pass` (or upstream `server`) address.
pub fn parse_target(value: &str) -> Target {
    if value.contains('$') {
        return Target::Dynamic(value.to_owned());
    }
    if let Some(path) = value.strip_prefix("unix:") {
        // nginx allows a trailing ":" after the path in upstream servers.
        let path = path.strip_suffix(':').unwrap_or(path);
        return Target::Unix(path.to_owned());
    }
    let value = value.strip_prefix("fastcgi://").unwrap_or(value);
    match split_host_port(value) {
        Some((host, port)) => Target::Tcp {
            host: target_host(host),
            port,
        },
        None => Target::Upstream(value.to_owned()),
    }
}

fn target_host(host: &str) -> TargetHost {
    if host.eq_ignore_ascii_case("localhost") {
        return TargetHost::Localhost;
    }
    match parse_ip(host) {
        Some(ip) => TargetHost::Ip(ip),
        None => TargetHost::Name(host.to_owned()),
    }
}

/// Parse a php-fpm `listen` value.
pub fn parse_listen(value: &str) -> Option<Listen> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.starts_with('/') || (!value.contains(':') && value.parse::<u16>().is_err()) {
        return Some(Listen::Unix(value.to_owned()));
    }
    if let Ok(port) = value.parse::<u16>() {
        return Some(Listen::Tcp {
            host: ListenHost::AnyDual,
            port,
        });
    }
    let (host, port) = split_host_port(value)?;
    let host = if host == "::" || host == "*" {
        ListenHost::AnyDual
    } else if host == "0.0.0.0" {
        ListenHost::AnyV4
    } else if host.eq_ignore_ascii_case("localhost") {
        ListenHost::Localhost
    } else if let Some(ip) = parse_ip(host) {
        ListenHost::Ip(ip)
    } else {
        ListenHost::Name(host.to_owned())
    };
    Some(Listen::Tcp { host, port })
}

/// `host:port` or `[v6]:port`; None when there is no port.
fn split_host_port(value: &str) -> Option<(&str, u16)> {
    if let Some(rest) = value.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?.parse().ok()?;
        return Some((host, port));
    }
    let (host, port) = value.rsplit_once(':')?;
    if host.contains(':') {
        return None; // an unbracketed IPv6 address has no port
    }
    Some((host, port.parse().ok()?))
}

fn parse_ip(host: &str) -> Option<IpAddr> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.parse().ok()
}

/// Debian and most distributions make /var/run a symlink to /run.
pub fn normalize_socket_path(path: &str) -> &str {
    path.strip_prefix("/var")
        .filter(|rest| rest.starts_with("/run/"))
        .unwrap_or(path)
}

/// How a target meets a listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Connects.
    Yes,
    /// A name on either side: only the port agrees; the host could not be checked.
    PortOnly,
    /// nginx dials a name that is not loopback (docker's `app`) and php-fpm binds a loopback
    /// address only (`127.0.0.1:9000`): the port agrees, but such a pool accepts connections
    /// from its own host (its own container) alone. From another container: 502 (111).
    LoopbackOnly,
    No,
}

/// A host name that resolves to a loopback address everywhere (`/etc/hosts` of Debian,
/// RHEL, Alpine and docker images).
fn is_loopback_name(name: &str) -> bool {
    [
        "localhost",
        "ip6-localhost",
        "ip6-loopback",
        "localhost.localdomain",
    ]
    .iter()
    .any(|n| name.eq_ignore_ascii_case(n))
        || name.to_ascii_lowercase().ends_with(".localhost")
}

/// Does nginx, connecting to `target`, reach php-fpm listening on `listen`?
pub fn reaches(target: &Target, listen: &Listen) -> Reach {
    match (target, listen) {
        (Target::Unix(a), Listen::Unix(b)) => {
            if normalize_socket_path(a) == normalize_socket_path(b) {
                Reach::Yes
            } else {
                Reach::No
            }
        }
        (
            Target::Tcp { host, port },
            Listen::Tcp {
                host: lhost,
                port: lport,
            },
        ) => {
            if port != lport {
                return Reach::No;
            }
            tcp_hosts_meet(host, lhost)
        }
        _ => Reach::No,
    }
}

fn tcp_hosts_meet(target: &TargetHost, listen: &ListenHost) -> Reach {
    use ListenHost as L;
    use TargetHost as T;
    match (target, listen) {
        (T::Name(n), L::Ip(ip)) if ip.is_loopback() && !is_loopback_name(n) => Reach::LoopbackOnly,
        (T::Name(n), L::Localhost) if !is_loopback_name(n) => Reach::LoopbackOnly,
        (T::Name(_), _) | (_, L::Name(_)) => Reach::PortOnly,
        (_, L::AnyDual) => Reach::Yes,
        (T::Ip(IpAddr::V4(_)) | T::Localhost, L::AnyV4) => Reach::Yes,
        (T::Ip(IpAddr::V6(v6)), L::AnyV4) => bool_reach(v6.to_ipv4_mapped().is_some()),
        // nginx tries every address localhost resolves to, so it finds 127.0.0.1 or ::1.
        (T::Localhost, L::Ip(ip)) => bool_reach(ip.is_loopback()),
        (T::Localhost, L::Localhost) => Reach::Yes,
        // php-fpm bound ::1 only (the resolver's first answer on Debian).
        (T::Ip(ip), L::Localhost) => bool_reach(*ip == IpAddr::V6(Ipv6Addr::LOCALHOST)),
        (T::Ip(a), L::Ip(b)) => bool_reach(same_ip(*a, *b)),
    }
}

fn bool_reach(b: bool) -> Reach {
    if b {
        Reach::Yes
    } else {
        Reach::No
    }
}

fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    canon(a) == canon(b)
}

impl Listen {
    /// How nginx should write a `fastcgi_pass` that reaches this listener, keeping the host
    /// nginx already uses where that host is a name (docker service names).
    pub fn as_nginx_target(&self, current: &Target) -> String {
        match self {
            Listen::Unix(path) => format!("unix:{path}"),
            Listen::Tcp { host, port } => {
                if let Target::Tcp {
                    host: TargetHost::Name(name),
                    ..
                } = current
                {
                    if !matches!(host, ListenHost::Localhost | ListenHost::Ip(_)) {
                        return format!("{name}:{port}");
                    }
                }
                match host {
                    ListenHost::AnyDual | ListenHost::AnyV4 => {
                        format!("{}:{port}", Ipv4Addr::LOCALHOST)
                    }
                    ListenHost::Localhost => format!("[::1]:{port}"),
                    ListenHost::Ip(IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
                    ListenHost::Ip(ip) => format!("{ip}:{port}"),
                    ListenHost::Name(name) => format!("{name}:{port}"),
                }
            }
        }
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Unix(p) => write!(f, "unix:{p}"),
            Listen::Tcp { host, port } => match host {
                ListenHost::AnyDual => write!(f, "port {port} on all addresses"),
                ListenHost::AnyV4 => write!(f, "0.0.0.0:{port}"),
                ListenHost::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]:{port}"),
                ListenHost::Ip(ip) => write!(f, "{ip}:{port}"),
                ListenHost::Localhost => write!(f, "localhost:{port} (bound on ::1 only)"),
                ListenHost::Name(n) => write!(f, "{n}:{port}"),
            },
        }
    }
}

/// How alike a dead target and a listener are, for picking the listener the author meant.
/// Higher is closer; 0 means "only in the same tree".
pub fn similarity(target: &Target, listen: &Listen) -> u32 {
    match (target, listen) {
        (Target::Unix(a), Listen::Unix(b)) => {
            let (a, b) = (normalize_socket_path(a), normalize_socket_path(b));
            let same_dir = a.rsplit_once('/').map(|x| x.0) == b.rsplit_once('/').map(|x| x.0);
            let distance = edit_distance(a, b) as u32;
            100u32.saturating_sub(distance * 5) + if same_dir { 50 } else { 0 }
        }
        (Target::Tcp { port: a, .. }, Listen::Tcp { port: b, .. }) => {
            if a == b {
                140 // same port, wrong host (localhost vs 127.0.0.1)
            } else {
                100u32.saturating_sub((*a as i32 - *b as i32).unsigned_abs().min(100))
            }
        }
        _ => 10,
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(target: &str, listen: &str) -> Reach {
        reaches(&parse_target(target), &parse_listen(listen).unwrap())
    }

    #[test]
    fn parses_targets() {
        assert_eq!(
            parse_target("unix:/run/php/php8.2-fpm.sock"),
            Target::Unix("/run/php/php8.2-fpm.sock".into())
        );
        assert_eq!(
            parse_target("php-upstream"),
            Target::Upstream("php-upstream".into())
        );
        assert!(matches!(parse_target("$backend"), Target::Dynamic(_)));
        assert_eq!(
            parse_target("[::1]:9000"),
            Target::Tcp {
                host: TargetHost::Ip("::1".parse().unwrap()),
                port: 9000
            }
        );
        assert_eq!(
            parse_target("app:9000"),
            Target::Tcp {
                host: TargetHost::Name("app".into()),
                port: 9000
            }
        );
    }

    #[test]
    fn parses_listens() {
        assert_eq!(
            parse_listen("9000"),
            Some(Listen::Tcp {
                host: ListenHost::AnyDual,
                port: 9000
            })
        );
        assert_eq!(
            parse_listen("[::]:9000"),
            Some(Listen::Tcp {
                host: ListenHost::AnyDual,
                port: 9000
            })
        );
        assert_eq!(
            parse_listen("/run/php/x.sock"),
            Some(Listen::Unix("/run/php/x.sock".into()))
        );
        assert_eq!(
            parse_listen("localhost:9000"),
            Some(Listen::Tcp {
                host: ListenHost::Localhost,
                port: 9000
            })
        );
    }

    #[test]
    fn unix_sockets_match_by_path() {
        assert_eq!(
            r("unix:/run/php/php8.2-fpm.sock", "/run/php/php8.2-fpm.sock"),
            Reach::Yes
        );
        assert_eq!(
            r(
                "unix:/var/run/php/php8.2-fpm.sock",
                "/run/php/php8.2-fpm.sock"
            ),
            Reach::Yes
        );
        assert_eq!(
            r("unix:/run/php/php8.1-fpm.sock", "/run/php/php8.2-fpm.sock"),
            Reach::No
        );
        assert_eq!(r("unix:/run/php/php-fpm.sock", "127.0.0.1:9000"), Reach::No);
    }

    #[test]
    fn tcp_hosts() {
        assert_eq!(r("127.0.0.1:9000", "9000"), Reach::Yes);
        assert_eq!(r("[::1]:9000", "9000"), Reach::Yes);
        assert_eq!(r("[::1]:9000", "0.0.0.0:9000"), Reach::No);
        assert_eq!(r("127.0.0.1:9000", "127.0.0.1:9001"), Reach::No);
        // php-fpm binds localhost to ::1 only, nginx dials 127.0.0.1: 502 (111).
        assert_eq!(r("127.0.0.1:9000", "localhost:9000"), Reach::No);
        assert_eq!(r("[::1]:9000", "127.0.0.1:9000"), Reach::No);
        assert_eq!(r("[::1]:9000", "localhost:9000"), Reach::Yes);
        assert_eq!(r("localhost:9000", "127.0.0.1:9000"), Reach::Yes);
        assert_eq!(r("app:9000", "9000"), Reach::PortOnly);
        assert_eq!(r("app:9000", "0.0.0.0:9000"), Reach::PortOnly);
        // Bound to loopback, dialled by a service name: only the pool's own host connects.
        assert_eq!(r("app:9000", "127.0.0.1:9000"), Reach::LoopbackOnly);
        assert_eq!(r("app:9000", "[::1]:9000"), Reach::LoopbackOnly);
        assert_eq!(r("app:9000", "localhost:9000"), Reach::LoopbackOnly);
        assert_eq!(r("ip6-localhost:9000", "[::1]:9000"), Reach::PortOnly);
        assert_eq!(r("app:9000", "127.0.0.1:9001"), Reach::No);
    }

    #[test]
    fn suggested_targets() {
        let l = parse_listen("9001").unwrap();
        assert_eq!(
            l.as_nginx_target(&parse_target("127.0.0.1:9000")),
            "127.0.0.1:9001"
        );
        assert_eq!(l.as_nginx_target(&parse_target("app:9000")), "app:9001");
        let l = parse_listen("localhost:9000").unwrap();
        assert_eq!(
            l.as_nginx_target(&parse_target("127.0.0.1:9000")),
            "[::1]:9000"
        );
    }

    #[test]
    fn near_misses_rank_first() {
        let t = parse_target("unix:/run/php/php8.1-fpm.sock");
        let close = similarity(&t, &parse_listen("/run/php/php8.2-fpm.sock").unwrap());
        let far = similarity(&t, &parse_listen("/srv/app/other.sock").unwrap());
        let tcp = similarity(&t, &parse_listen("9000").unwrap());
        assert!(close > far && far > tcp, "{close} {far} {tcp}");
    }
}
