use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::diagnostic::Label;
use crate::fix::{Applicability, Edit, Fix};
use crate::model::address::{reaches, Listen, Reach, Target, TargetHost};
use crate::model::fpm::Pool;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::syntax::fpm::values;

declare_rule! {
    /// ## What it does
    /// Flags a TCP PHP-FPM pool whose `listen.allowed_clients` does not contain the address
    /// nginx connects from, for a `fastcgi_pass` that reaches the pool.
    ///
    /// nginx connecting to `127.0.0.1` comes from `127.0.0.1`, to `[::1]` from `::1`, and to
    /// `localhost` from whichever of the two answers. For any other address (another host,
    /// a docker service name) the source address depends on the network, so the rule stays
    /// quiet.
    ///
    /// php-fpm splits the list on commas and takes each entry as written: an entry with a
    /// blank (`10.0.0.1, 127.0.0.1`) or a host name (`localhost`) is not an address, php-fpm
    /// ignores it (logging `Wrong IP address ' 127.0.0.1' in listen.allowed_clients`), and a
    /// list with no valid entry drops every connection.
    ///
    /// ## Why it matters
    /// php-fpm accepts the connection and closes it at once, so every request answers
    /// 502 Bad Gateway. nginx logs
    /// `recv() failed (104: Connection reset by peer) while reading response header from upstream`,
    /// or, when php-fpm closes before the request has arrived,
    /// `upstream prematurely closed connection while reading response header from upstream`
    /// (both seen with nginx 1.22 and php-fpm 8.2; which one is timing). php-fpm logs `Connection disallowed: IP address '127.0.0.1' has been dropped.` only
    /// when the pool sets `catch_workers_output = yes` (the worker writes it to stderr).
    ///
    /// ## Example
    /// ```ini
    /// [app]
    /// listen = 127.0.0.1:9000
    /// listen.allowed_clients = 10.0.0.5, 127.0.0.1   ; " 127.0.0.1" is not an address
    /// ```
    /// ```nginx
    /// server {
    ///     location ~ \.php$ {
    ///         include fastcgi.conf;
    ///         fastcgi_pass 127.0.0.1:9000;
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```ini
    /// [app]
    /// listen = 127.0.0.1:9000
    /// listen.allowed_clients = 10.0.0.5,127.0.0.1
    /// ```
    /// ```nginx
    /// server {
    ///     location ~ \.php$ {
    ///         include fastcgi.conf;
    ///         fastcgi_pass 127.0.0.1:9000;
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// The fix rewrites the list with blanks removed, `localhost` replaced by the loopback
    /// address nginx uses, and nginx's address appended when it is still missing. It is
    /// safe: it only lets in what the author listed or the nginx that already passes here.
    ///
    /// ## References
    /// - php-fpm: pool directive `listen.allowed_clients`
    /// - nginx: `fastcgi_pass`
    pub struct FpmAllowedClientsExcludesNginx {
        name: "fpm-allowed-clients-excludes-nginx",
        category: Join,
        severity: Error,
        fix: Always,
    }
}

impl Rule for FpmAllowedClientsExcludesNginx {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for site in cx.nginx.fastcgi_sites() {
            for (pass, word, target) in cx.nginx.pass_targets(site) {
                let Target::Tcp { host, port } = &target else {
                    continue;
                };
                let candidates: &[IpAddr] = match host {
                    TargetHost::Ip(ip) if ip.is_loopback() => &[loopback_of(*ip)],
                    TargetHost::Localhost => &[
                        IpAddr::V4(Ipv4Addr::LOCALHOST),
                        IpAddr::V6(Ipv6Addr::LOCALHOST),
                    ],
                    _ => continue,
                };
                for (i, pool, listen, reach) in cx.fpm.pools_reached(&target) {
                    if reach != Reach::Yes {
                        continue;
                    }
                    // The addresses nginx can arrive from at this listener.
                    let sources: Vec<IpAddr> = candidates
                        .iter()
                        .copied()
                        .filter(|ip| {
                            let t = Target::Tcp {
                                host: TargetHost::Ip(*ip),
                                port: *port,
                            };
                            reaches(&t, &listen) == Reach::Yes
                        })
                        .collect();
                    if sources.is_empty() || !seen.insert(i) {
                        continue;
                    }
                    if let Some(f) = check_pool(pool, &listen, &sources) {
                        out.push(f.label(Label::secondary(
                            pass.file,
                            word.span(),
                            format!("nginx connects from {}", sources[0]),
                        )));
                    }
                }
            }
        }
        out
    }
}

/// Where the kernel takes the source address from for a loopback destination.
fn loopback_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    canon(a) == canon(b)
}

fn check_pool(pool: &Pool<'_>, listen: &Listen, sources: &[IpAddr]) -> Option<Finding> {
    let setting = pool.get("listen.allowed_clients")?;
    if !values::env_refs(setting.text()).is_empty() {
        return None;
    }
    let value = pool.value("listen.allowed_clients").unwrap_or_default();
    // Empty means "any address".
    if value.trim().is_empty() {
        return None;
    }
    // As php-fpm reads it: split on commas, each entry parsed as written.
    let entries: Vec<&str> = value.split(',').collect();
    let valid: Vec<IpAddr> = entries.iter().filter_map(|e| e.parse().ok()).collect();
    if sources
        .iter()
        .any(|s| valid.iter().any(|v| same_ip(*s, *v)))
    {
        return None;
    }
    let invalid: Vec<&str> = entries
        .iter()
        .copied()
        .filter(|e| e.parse::<IpAddr>().is_err() && !e.is_empty())
        .collect();
    let source = sources[0];
    let mut message = format!(
        "pool [{}] ({listen}) drops connections from {source}: `listen.allowed_clients = {}` does not allow it",
        pool.name,
        value.trim()
    );
    if !invalid.is_empty() {
        let shown: Vec<String> = invalid.iter().map(|e| format!("`{e}`")).collect();
        message.push_str(&format!(
            "; php-fpm ignores {} (not an IP address as written: no blanks, no host names)",
            shown.join(", ")
        ));
        if valid.is_empty() {
            message.push_str(", so it drops every connection");
        }
    }
    // The list as the author meant it, plus nginx's address.
    let mut fixed: Vec<String> = Vec::new();
    for e in &entries {
        let e = e.trim();
        let e = if e.eq_ignore_ascii_case("localhost") {
            source.to_string()
        } else {
            e.to_owned()
        };
        if !e.is_empty() && !fixed.contains(&e) {
            fixed.push(e);
        }
    }
    if !fixed
        .iter()
        .any(|e| e.parse::<IpAddr>().is_ok_and(|ip| same_ip(ip, source)))
    {
        fixed.push(source.to_string());
    }
    let mut replacement = fixed.join(",");
    if setting.entry().is_quoted() {
        replacement = format!("\"{replacement}\"");
    }
    Some(
        Finding::new(
            message,
            Label::primary(
                setting.file,
                setting.value_span(),
                format!("{source} is not allowed"),
            ),
        )
        .help("requests answer 502 Bad Gateway; nginx logs `recv() failed (104: Connection reset by peer) while reading response header from upstream` (or `upstream prematurely closed connection`). Add nginx's address to listen.allowed_clients (comma-separated, no blanks).")
        .fix(Some(Fix::new(
            format!("allow {replacement} in listen.allowed_clients"),
            Applicability::Safe,
            vec![Edit::replace(setting.file, setting.value_span(), replacement.clone())],
        ))),
    )
}
