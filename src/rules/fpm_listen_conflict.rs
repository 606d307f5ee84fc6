use std::collections::HashMap;
use std::net::IpAddr;

use crate::diagnostic::{Label, Severity};
use crate::model::address::{normalize_socket_path, reaches, Listen, ListenHost, Reach, Target};
use crate::model::fpm::{Pool, Setting};
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::source::FileId;

declare_rule! {
    /// ## What it does
    /// Flags two PHP-FPM pools that bind the same address: the same unix socket path
    /// (`/var/run` is `/run`), or the same TCP port on overlapping hosts (a bare port or
    /// `[::]` overlaps every address, `0.0.0.0` every IPv4 address, `127.0.0.1` itself).
    ///
    /// Pools of one php-fpm master are an error. Pools of different masters in the tree
    /// (several php-fpm.conf, or pool directories no php-fpm.conf includes) are a warning:
    /// they clash only if both masters run on one host at once, which a tree holding one
    /// configuration per PHP version may not do. Pools of the same name in files of one
    /// directory are taken for one pool (docker's `docker.conf` and `zz-docker.conf` each
    /// carry a `[global]` section, but one master includes both).
    ///
    /// ## Why it matters
    /// php-fpm does not start, so every request answers 502 Bad Gateway. When the two
    /// `listen` values are written alike, `php-fpm -t` catches it and logs
    /// `ERROR: [pool two] unable to set listen address as it's already used in another pool 'www'`.
    /// When they differ but overlap (`9000` and `127.0.0.1:9000`), `php-fpm -t` passes and the
    /// start fails with
    /// `ERROR: unable to bind listening socket for address '127.0.0.1:9000': Address already in use (98)`.
    /// A second master on a socket already in use logs
    /// `ERROR: Another FPM instance seems to already listen on /run/php/php-fpm.sock`.
    ///
    /// ## Example
    /// ```ini
    /// [www]
    /// listen = 9000
    ///
    /// [api]
    /// listen = 127.0.0.1:9000
    /// ```
    ///
    /// ## Use instead
    /// ```ini
    /// [www]
    /// listen = 127.0.0.1:9000
    ///
    /// [api]
    /// listen = 127.0.0.1:9001
    /// ```
    ///
    /// ## Fix safety
    /// No fix: which pool should move, and where nginx should then send its requests, is the
    /// author's choice.
    ///
    /// ## References
    /// - php-fpm: pool directive `listen`
    ///   (<https://www.php.net/manual/en/install.fpm.configuration.php>)
    pub struct FpmListenConflict {
        name: "fpm-listen-conflict",
        category: Fpm,
        severity: Error,
        fix: Never,
    }
}

impl Rule for FpmListenConflict {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let listeners = cx.fpm.listeners();
        let mut out = Vec::new();
        // Only listeners on one socket path or one port can overlap: bucket them so a tree of
        // thousands of pools is not compared pairwise. Buckets keep the listeners' order.
        let mut buckets: HashMap<BindKey<'_>, Vec<usize>> = HashMap::new();
        // Cross-master clashes are grouped: one finding per address, however many masters.
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut group_of: HashMap<usize, usize> = HashMap::new();
        for j in 0..listeners.len() {
            let (pj, lj, sj) = &listeners[j];
            let earlier = buckets.entry(bind_key(lj)).or_default();
            let mut grouped = false;
            for &i in earlier.iter() {
                let (pi, li, si) = &listeners[i];
                if !overlap(li, lj) {
                    continue;
                }
                if pi.instance == pj.instance {
                    out.push(same_master(pi, si, pj, sj, lj));
                    break;
                }
                if in_own_container(cx, pi) && in_own_container(cx, pj) {
                    // Two masters laid out as the official php image's each run in a container
                    // of their own, with its own network and file system: nothing is shared.
                    continue;
                }
                if pi.name == pj.name && same_dir(cx, si.file, sj.file) {
                    // Two files of one pool directory, each with a [global] section (docker's
                    // docker.conf and zz-docker.conf): one master includes both, so they are
                    // one pool, not two.
                    continue;
                }
                if !grouped {
                    grouped = true;
                    let g = match group_of.get(&i) {
                        Some(&g) => {
                            groups[g].push(j);
                            g
                        }
                        None => {
                            groups.push(vec![i, j]);
                            group_of.insert(i, groups.len() - 1);
                            groups.len() - 1
                        }
                    };
                    group_of.entry(j).or_insert(g);
                }
            }
            earlier.push(j);
        }
        for g in groups {
            out.push(across_masters(&g, &listeners));
        }
        out
    }
}

/// Whether the pool's master is laid out as the official php image's (`zz-docker.conf`, or
/// `/usr/local/etc/php-fpm.d`): a container of its own.
fn in_own_container(cx: &LintContext<'_, '_>, pool: &Pool<'_>) -> bool {
    let Some(instance) = cx.fpm.instances.get(pool.instance) else {
        return false;
    };
    instance.files.iter().any(|&f| {
        let name = &cx.project.sources.get(f).name;
        name.ends_with("zz-docker.conf") || name.contains("usr/local/etc/php-fpm")
    })
}

fn same_dir(cx: &LintContext<'_, '_>, a: FileId, b: FileId) -> bool {
    let dir = |f: FileId| {
        std::path::Path::new(&cx.project.sources.get(f).name)
            .parent()
            .map(|p| p.to_path_buf())
    };
    dir(a) == dir(b)
}

fn pool_value(pool: &Pool<'_>) -> String {
    pool.value("listen").unwrap_or_default()
}

fn same_master(
    first: &Pool<'_>,
    first_setting: &Setting<'_>,
    second: &Pool<'_>,
    second_setting: &Setting<'_>,
    listen: &Listen,
) -> Finding {
    let (a, b) = (pool_value(first), pool_value(second));
    let log = if a == b {
        format!(
            "ERROR: [pool {}] unable to set listen address as it's already used in another pool '{}'",
            second.name, first.name
        )
    } else if let Listen::Unix(path) = listen {
        format!("ERROR: Another FPM instance seems to already listen on {path}")
    } else {
        format!(
            "ERROR: unable to bind listening socket for address '{b}': Address already in use (98)"
        )
    };
    let message = if a == b {
        format!(
            "pools [{}] and [{}] both listen on `{b}`",
            first.name, second.name
        )
    } else {
        format!(
            "pool [{}] listens on `{b}`, which overlaps `{a}` of pool [{}]",
            second.name, first.name
        )
    };
    Finding::new(
        message,
        Label::primary(
            second_setting.file,
            second_setting.value_span(),
            format!("pool [{}] binds this", second.name),
        ),
    )
    .label(Label::secondary(
        first_setting.file,
        first_setting.value_span(),
        format!("already bound by pool [{}]", first.name),
    ))
    .help(format!(
        "php-fpm does not start, so every request answers 502 Bad Gateway; it logs `{log}`. Give each pool its own socket path or port, and point nginx's fastcgi_pass at the one it means."
    ))
}

fn across_masters(group: &[usize], listeners: &[(&Pool<'_>, Listen, Setting<'_>)]) -> Finding {
    let (p0, l0, s0) = &listeners[group[0]];
    let (p1, _, s1) = &listeners[group[1]];
    let log = match l0 {
        Listen::Unix(path) => {
            format!("ERROR: Another FPM instance seems to already listen on {path}")
        }
        _ => format!(
            "ERROR: unable to bind listening socket for address '{}': Address already in use (98)",
            pool_value(p1)
        ),
    };
    let mut f = Finding::new(
        format!(
            "pool [{}] binds `{}`, as does pool [{}] of another php-fpm master{}",
            p1.name,
            pool_value(p1),
            p0.name,
            if group.len() > 2 {
                format!(" ({} masters in all)", group.len())
            } else {
                String::new()
            }
        ),
        Label::primary(
            s1.file,
            s1.value_span(),
            format!("pool [{}] binds this", p1.name),
        ),
    )
    .label(Label::secondary(
        s0.file,
        s0.value_span(),
        format!("also bound by pool [{}]", p0.name),
    ))
    .severity(Severity::Warning)
    .help(format!(
        "if these masters run on one host at once, the second to start fails (every request it should serve answers 502); it logs `{log}`. Give each its own address, or ignore this if only one of them ever runs."
    ));
    for &k in &group[2..] {
        let (p, _, s) = &listeners[k];
        f = f.label(Label::secondary(
            s.file,
            s.value_span(),
            format!("also bound by pool [{}]", p.name),
        ));
    }
    f
}

/// What two listeners must share to overlap at all.
#[derive(PartialEq, Eq, Hash)]
enum BindKey<'a> {
    Path(&'a str),
    Port(u16),
}

fn bind_key(listen: &Listen) -> BindKey<'_> {
    match listen {
        Listen::Unix(path) => BindKey::Path(normalize_socket_path(path)),
        Listen::Tcp { port, .. } => BindKey::Port(*port),
    }
}

/// Whether binding `b` fails once `a` is bound.
fn overlap(a: &Listen, b: &Listen) -> bool {
    match (a, b) {
        // The join's own rule for paths (`/var/run` is `/run`).
        (Listen::Unix(pa), Listen::Unix(_)) => reaches(&Target::Unix(pa.clone()), b) == Reach::Yes,
        (Listen::Tcp { host: ha, port: pa }, Listen::Tcp { host: hb, port: pb }) => {
            pa == pb && hosts_overlap(ha, hb)
        }
        _ => false,
    }
}

fn hosts_overlap(a: &ListenHost, b: &ListenHost) -> bool {
    use ListenHost as H;
    // php-fpm binds `localhost` to the resolver's first answer, ::1 on Debian.
    let ip = |h: &H| match h {
        H::Localhost => Some(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)),
        H::Ip(ip) => Some(canonical(*ip)),
        _ => None,
    };
    match (a, b) {
        // Names resolve where php-fpm runs: only the same name is known to clash.
        (H::Name(x), H::Name(y)) => x.eq_ignore_ascii_case(y),
        (H::Name(_), _) | (_, H::Name(_)) => false,
        // A dual-stack wildcard takes the port on every address.
        (H::AnyDual, _) | (_, H::AnyDual) => true,
        (H::AnyV4, H::AnyV4) => true,
        (H::AnyV4, h) | (h, H::AnyV4) => ip(h).is_some_and(|ip| ip.is_ipv4()),
        _ => ip(a) == ip(b),
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::rules::fpm_pm_invalid::doc_examples::check;
    use crate::settings::Settings;

    #[test]
    fn docs_examples() {
        let (bad, good) = check(
            &super::FpmListenConflict::META,
            "php-fpm.d/www.conf",
            &Settings::default(),
        );
        assert_eq!(bad, [Severity::Error]);
        assert!(good.is_empty(), "{good:?}");
    }
}
