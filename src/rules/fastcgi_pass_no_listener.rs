use crate::diagnostic::Label;
use crate::diagnostic::Severity;
use crate::fix::{Applicability, Edit, Fix};
use crate::model::address::{parse_target, similarity, Listen, Target, TargetHost};
use crate::model::fpm::{Pool, Setting};
use crate::model::nginx::{DirRef, Site};
use crate::rules::join_scope::JoinScope;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::source::{FileId, Language};
use crate::syntax::nginx::{Quote, Word};

declare_rule! {
    /// ## What it does
    /// Flags a `fastcgi_pass` whose address, directly or through an `upstream`, matches no
    /// PHP-FPM pool's `listen` in the linted tree.
    ///
    /// ## Why it matters
    /// Every request to that location answers 502 Bad Gateway. nginx logs
    /// `connect() to unix:/run/php/php8.1-fpm.sock failed (2: No such file or directory) while connecting to upstream`
    /// for a socket, or `connect() failed (111: Connection refused) while connecting to upstream`
    /// for a TCP port. When every server of an upstream is dead, nginx logs `no live upstreams`.
    /// Neither `nginx -t` nor `php-fpm -t` can see this: each reads only its own half.
    ///
    /// Addresses are matched as the kernel would: `/var/run` is `/run`; a pool listening on a
    /// bare port or `[::]` accepts 127.0.0.1 and ::1; a pool listening on `localhost:9000`
    /// binds only `::1` (the resolver's first answer on Debian), so nginx's `127.0.0.1:9000`
    /// is refused; a docker service name (`app:9000`) is matched on its port.
    ///
    /// The tree may be partial, so "no listener" is an error only where the tree holds the
    /// PHP-FPM half that would hold such a pool: a php-fpm.conf (its `include=` says where every
    /// pool is), or pools of that PHP version or listening in that place (the socket's
    /// directory; TCP for a TCP address). Otherwise the finding is a warning and its fix a
    /// guess. An upstream that comes from a packaged file the tree does not contain (RHEL's
    /// `conf.d/php-fpm.conf`) is an assumption too: a warning, unless the platform was
    /// declared. Not joined at all:
    /// - a Debian-style versioned socket (`/run/php/php7.4-fpm.sock`) for a PHP version whose
    ///   configuration the tree does not hold, when the tree does not hold `/etc/php/` itself
    ///   (fastcgi-pass-unverifiable names what is missing);
    /// - a FastCGI application that is not PHP-FPM: a socket named for another daemon
    ///   (fcgiwrap's `/run/fcgiwrap.socket`, mailman, munin, cgit, uwsgi, hhvm...), or a
    ///   location whose `SCRIPT_FILENAME` names a `.cgi`, `.pl` or `.py` script or `cgi-bin`;
    /// - a pass that never forwards a request: its location answers every request itself
    ///   (an unconditional `return`, `fastcgi_cache_purge zone key`), or its server does
    ///   (a `return` at server level runs before any location is chosen).
    ///
    /// On Debian and Ubuntu, `/run/php/php-fpm.sock` reaches the `www` pool of a
    /// `pool.d/www.conf` that listens on a unix socket: `phpX.Y-fpm.service` runs
    /// `php-fpm-socket-helper install /run/php/php-fpm.sock /etc/php/X.Y/fpm/pool.d/www.conf XY`
    /// after start, which installs that socket as the `php-fpm.sock` alternative (the highest
    /// version wins).
    ///
    /// ## Example
    /// ```nginx
    /// server {
    ///     location ~ \.php$ {
    ///         include fastcgi.conf;
    ///         fastcgi_pass unix:/run/php/php8.1-fpm.sock;
    ///     }
    /// }
    /// ```
    /// ```ini
    /// ; file: etc/php/8.2/fpm/pool.d/www.conf
    /// [www]
    /// listen = /run/php/php8.2-fpm.sock
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// server {
    ///     location ~ \.php$ {
    ///         include fastcgi.conf;
    ///         fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    ///     }
    /// }
    /// ```
    /// ```ini
    /// [www]
    /// listen = /run/php/php8.2-fpm.sock
    /// ```
    ///
    /// When a PHP-FPM file could not be parsed, the pools of the files that did parse are
    /// joined as usual; a pass none of them serves is then a warning, since the broken file
    /// might define its listener (the syntax error is reported on its own, exit code 2).
    ///
    /// ## Fix safety
    /// The fix rewrites the address to the pool's listener. It is safe when the tree has
    /// exactly one listener it could mean, and unsafe (a guess: the closest one) when it has
    /// several.
    ///
    /// ## References
    /// - nginx: `fastcgi_pass` (ngx_http_fastcgi_module), `upstream` (ngx_http_upstream_module)
    /// - php-fpm: pool `listen` directive
    pub struct FastcgiPassNoListener {
        name: "fastcgi-pass-no-listener",
        category: Join,
        severity: Error,
        fix: Sometimes,
    }
}

impl Rule for FastcgiPassNoListener {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        // With no pools, or a pool whose address only the environment knows, nothing can be
        // called dead: fastcgi-pass-unverifiable says so instead.
        if cx.fpm.is_empty() || cx.fpm.unknown_listeners().next().is_some() {
            return Vec::new();
        }
        let out = self.check_joined(cx);
        // A PHP-FPM file that failed to parse may hold the listener: the pools that parsed
        // are joined as usual, and a pass none of them serves is only a warning.
        match unparsed_fpm_file(cx) {
            Some(path) => out
                .into_iter()
                .map(|f| broken_file_may_hold_it(f, path))
                .collect(),
            None => out,
        }
    }
}

/// Downgrade a dead-pass finding when a PHP-FPM file could not be read.
fn broken_file_may_hold_it(mut f: Finding, path: &str) -> Finding {
    f.message.push_str(&format!(
        "; PHP-FPM file {path} could not be parsed and might define that listener"
    ));
    if let Some(fix) = f.fix.as_mut() {
        fix.applicability = Applicability::Unsafe;
    }
    f.severity(crate::diagnostic::Severity::Warning)
}

impl FastcgiPassNoListener {
    fn check_joined(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let listeners = cx.fpm.listeners();
        let scope = JoinScope::of(cx);
        // Not joined: another FastCGI application, or a PHP version whose configuration the
        // tree does not hold (fastcgi-pass-unverifiable names it).
        let not_joined = |site: &Site<'_>, t: &Target| {
            cx.nginx.passes_to_other_fastcgi_app(site, t) || scope.missing_version(t).is_some()
        };
        let mut out = Vec::new();
        // Each dead upstream server is reported once, however many locations pass to it.
        let mut dead_servers: Vec<DeadServer<'_, '_>> = Vec::new();
        for site in cx.nginx.fastcgi_sites() {
            let Some(word) = site.pass.directive.args().first() else {
                continue;
            };
            match parse_target(word.value()) {
                Target::Dynamic(_) => {}
                Target::Upstream(name) => {
                    let Some(upstream) = cx.nginx.upstream(site.root, &name) else {
                        continue;
                    };
                    let live: Vec<_> = upstream.live_servers().collect();
                    let dead: Vec<(&DirRef<'_>, Word<'_>, Target)> = live
                        .iter()
                        .filter_map(|s| {
                            let w = s.directive.args().first()?;
                            let t = parse_target(w.value());
                            (!matches!(t, Target::Dynamic(_) | Target::Upstream(_))
                                && !not_joined(site, &t)
                                && !reached(&t, cx))
                            .then_some((*s, w, t))
                        })
                        .collect();
                    let all_dead = !live.is_empty() && dead.len() == live.len();
                    for (server, w, t) in dead {
                        match dead_servers
                            .iter_mut()
                            .find(|u| u.word.span() == w.span() && u.server.file == server.file)
                        {
                            Some(entry) => entry.users.push((site.pass.file, word)),
                            None => dead_servers.push(DeadServer {
                                half_held: scope.holds_half(&t),
                                server,
                                word: w,
                                target: t,
                                upstream: name.clone(),
                                users: vec![(site.pass.file, word)],
                                all_dead,
                            }),
                        }
                    }
                }
                t if is_other_host_without_tcp_pools(&t, cx) => {}
                t if not_joined(site, &t) => {}
                t => {
                    if !reached(&t, cx) {
                        let mut f = dead_target(site.pass.file, word, &t, &listeners, &[]);
                        f.message =
                            format!("`fastcgi_pass {}` reaches no PHP-FPM pool", word.value());
                        out.push(partial_half(f, &scope, &t));
                    }
                }
            }
        }
        let mut taken: Vec<Listen> = Vec::new();
        for DeadServer {
            server,
            word: w,
            target: t,
            upstream: name,
            users,
            all_dead,
            half_held,
        } in dead_servers
        {
            let mut f = dead_target(server.file, w, &t, &listeners, &taken);
            if !half_held {
                f = partial_half(f, &scope, &t);
            }
            // An upstream from a packaged file the tree lacks (RHEL's conf.d/php-fpm.conf) is
            // an assumption unless the platform was declared.
            let packaged = cx.project.sources.get(server.file).is_builtin();
            let assumed = packaged && !cx.settings.platform_basis.is_declared();
            if assumed {
                f.severity = Some(Severity::Warning);
                f.help = f.help.map(|h| {
                    format!(
                        "{h} The upstream comes from a packaged file the tree does not contain, assumed as {} ships it: add the file as deployed, or {}.",
                        cx.settings.cited_platform(),
                        crate::model::platform::SETTLE_HINT
                    )
                    .into()
                });
                // Nothing to edit: the file is not in the tree.
                f.fix = None;
            }
            if let Some(edit) = f.fix.as_ref().and_then(|fix| fix.edits.first()) {
                if let Some((_, l, _)) = listeners
                    .iter()
                    .find(|(_, l, _)| quote_like(w, &l.as_nginx_target(&t)) == edit.replacement)
                {
                    taken.push(l.clone());
                }
            }
            f.message = format!(
                "upstream `{name}` server `{}` reaches no PHP-FPM pool",
                w.value()
            );
            if all_dead {
                f.message.push_str(&format!(
                    "; every server of `{name}` is dead, so nginx logs `no live upstreams`"
                ));
            }
            if assumed {
                f.message.push_str(&format!(
                    " (assuming the packaged `{}` of current {})",
                    cx.project
                        .sources
                        .get(server.file)
                        .name
                        .split_once("/etc/nginx/")
                        .map_or("", |(_, rel)| rel),
                    cx.settings.platform.display()
                ));
            }
            let (file, first) = users[0];
            let more = match users.len() {
                1 => String::new(),
                n => format!(
                    " (and {} more location{})",
                    n - 1,
                    if n == 2 { "" } else { "s" }
                ),
            };
            out.push(f.label(Label::secondary(
                file,
                first.span(),
                format!("passes to upstream `{name}`{more}"),
            )));
        }
        out
    }
}

/// A docker-style service name (`xhgui:9000`) when no pool in the tree listens on TCP: that
/// host's PHP-FPM configuration is simply not here (fastcgi-pass-unverifiable says so).
pub(crate) fn is_other_host_without_tcp_pools(target: &Target, cx: &LintContext<'_, '_>) -> bool {
    matches!(
        target,
        Target::Tcp {
            host: TargetHost::Name(_),
            ..
        }
    ) && !cx.fpm.has_tcp_listener()
}

/// The first PHP-FPM file that could not be parsed, if any.
pub(crate) fn unparsed_fpm_file<'a>(cx: &'a LintContext<'_, '_>) -> Option<&'a str> {
    cx.project
        .problems
        .iter()
        .find(|p| {
            p.span
                .is_some_and(|(id, _)| cx.project.sources.get(id).language == Language::PhpFpm)
        })
        .map(|p| p.path.as_str())
}

/// An upstream server nothing listens on, and the locations that pass to its upstream.
struct DeadServer<'a, 'p> {
    server: &'a DirRef<'p>,
    word: Word<'p>,
    target: Target,
    upstream: String,
    users: Vec<(FileId, Word<'p>)>,
    all_dead: bool,
    half_held: bool,
}

/// Where the tree lacks the half that would hold a pool on `target` (no php-fpm.conf, and
/// no pool of that version or in that place), the finding is a warning that says so, and
/// its fix a guess.
fn partial_half(mut f: Finding, scope: &JoinScope, target: &Target) -> Finding {
    if scope.holds_half(target) {
        return f;
    }
    f.severity = Some(Severity::Warning);
    f.help = f.help.map(|h| {
        format!("{h} The tree holds pool files but no php-fpm.conf, and none of its pools listens in that place: a pool it does not hold may listen there. Lint the php-fpm.conf with the pools to settle it.").into()
    });
    if let Some(fix) = &mut f.fix {
        fix.applicability = Applicability::Unsafe;
    }
    f
}

fn reached(target: &Target, cx: &LintContext<'_, '_>) -> bool {
    !cx.fpm.pools_reached(target).is_empty()
}

fn errno_line(target: &Target, word: &str) -> String {
    match target {
        Target::Unix(_) => format!("connect() to {word} failed (2: No such file or directory) while connecting to upstream"),
        _ => "connect() failed (111: Connection refused) while connecting to upstream".to_owned(),
    }
}

fn dead_target(
    file: FileId,
    word: Word<'_>,
    target: &Target,
    listeners: &[(&Pool<'_>, Listen, Setting<'_>)],
    taken: &[Listen],
) -> Finding {
    // Distinct listeners, closest first; ones another server of the same upstream was pointed
    // at go last, so two dead servers are not both sent to one pool.
    let mut ranked: Vec<&(&Pool<'_>, Listen, Setting<'_>)> = Vec::new();
    for l in listeners {
        if !ranked.iter().any(|r| r.1 == l.1) {
            ranked.push(l);
        }
    }
    ranked.sort_by_key(|(_, l, _)| (taken.contains(l), std::cmp::Reverse(similarity(target, l))));

    let primary = Label::primary(file, word.span(), "nothing listens here");
    let mut finding = Finding::new(String::new(), primary).help(format!(
        "requests here answer 502 Bad Gateway; nginx logs `{}`. Point fastcgi_pass at an address a pool listens on, or change the pool's `listen`.",
        errno_line(target, word.value())
    ));
    if let Some((pool, listen, setting)) = ranked.first() {
        finding = finding.label(Label::secondary(
            setting.file,
            setting.value_span(),
            format!(
                "pool [{}] listens on {listen}{}",
                pool.name,
                crate::diagnostic::PROBABLY_MEANT
            ),
        ));
        let replacement = quote_like(word, &listen.as_nginx_target(target));
        let applicability = if ranked.len() == 1 {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        };
        finding = finding.fix(Some(Fix::new(
            format!("point it at {replacement} (pool [{}])", pool.name),
            applicability,
            vec![Edit::replace(file, word.span(), replacement)],
        )));
    }
    finding
}

/// Keep the author's quoting when rewriting a word; quote a value that would not be one
/// nginx token bare (a socket path with a space, `;`, `{`...).
pub(crate) fn quote_like(word: Word<'_>, value: &str) -> String {
    let needs_quotes = value.is_empty()
        || value
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ';' | '{' | '}' | '#' | '"' | '\'' | '\\'));
    let escaped = |q: char| value.replace('\\', "\\\\").replace(q, &format!("\\{q}"));
    match word.quote() {
        Quote::Single => format!("'{}'", escaped('\'')),
        Quote::Double => format!("\"{}\"", escaped('"')),
        Quote::None if needs_quotes => format!("\"{}\"", escaped('"')),
        Quote::None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::quote_like;
    use crate::syntax::nginx;

    fn quoted_like(text: &str, address: &str) -> String {
        let c = nginx::parse(&format!("fastcgi_pass {text};")).unwrap();
        let w = c.directives().next().unwrap().args().first().unwrap();
        quote_like(w, address)
    }

    #[test]
    fn rewritten_addresses_stay_one_token() {
        assert_eq!(quoted_like("a", "unix:/run/x.sock"), "unix:/run/x.sock");
        assert_eq!(quoted_like("'a'", "unix:/run/x.sock"), "'unix:/run/x.sock'");
        let odd = quoted_like("a", "unix:/run/a{b};c.sock");
        let c = nginx::parse(&format!("fastcgi_pass {odd};")).unwrap();
        assert_eq!(
            c.directives().next().unwrap().arg(0).unwrap(),
            "unix:/run/a{b};c.sock"
        );
    }
}
