use std::collections::HashMap;

use crate::diagnostic::{Label, Severity};
use crate::fix::insert::fpm_lines_in_section;
use crate::fix::{Applicability, Edit, Fix};
use crate::model::address::{Listen, Target};
use crate::model::fpm::Pool;
use crate::model::fpm_defaults::{parse_fpm_int, PmStyle, PoolPm, PACKAGED_MAX_CHILDREN};
use crate::model::nginx::{DirRef, Site};
use crate::model::units;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::source::Language;
use crate::syntax::fpm::values;

declare_rule! {
    /// ## What it does
    /// Flags PHP-FPM pools that nginx sends requests to and that run out of workers easily:
    ///
    /// - `pm.max_children` below the `min-max-children` setting, 6 by default: the packaged
    ///   default of 5 is flagged unless `min-max-children` is 5 or lower;
    /// - `listen.backlog` below the `min-listen-backlog` setting (64) on a unix socket;
    /// - no bound on a request's run time: `request_terminate_timeout` unset or 0 and no
    ///   `php_admin_value[max_execution_time]` (or `php_value`) in the pool.
    ///
    /// A pool counts as used when a `fastcgi_pass` (directly or through an `upstream`
    /// server) reaches its `listen`. A pool no site routes to gets one info saying so
    /// (a stock `apt-get install nginx php8.2-fpm` has no PHP site yet). When the linted
    /// paths hold no nginx configuration at all, or some `fastcgi_pass` could not be
    /// joined (variables, an upstream not in the tree, an address from the environment),
    /// every pool is checked, and the finding says so.
    ///
    /// ## Why it matters
    /// - **max_children**: the sixth concurrent PHP request waits in the socket's queue;
    ///   php-fpm logs `WARNING: [pool www] server reached pm.max_children setting (5), consider raising it`
    ///   (`max_children setting` with `pm = ondemand`; nothing with `pm = static`). A request
    ///   that waits longer than nginx's `fastcgi_read_timeout` (60s) answers 504 Gateway
    ///   Time-out and nginx logs
    ///   `upstream timed out (110: Connection timed out) while reading response header from upstream`.
    /// - **listen.backlog**: once that many connections wait, the kernel refuses the next at
    ///   once and the request answers 502; nginx logs
    ///   `connect() to unix:/run/php/php8.2-fpm.sock failed (11: Resource temporarily unavailable) while connecting to upstream`.
    /// - **request_terminate_timeout**: php.ini's `max_execution_time` (30s by default)
    ///   still stops a script that burns CPU, but on Linux it counts CPU time only: time spent
    ///   waiting on the network, a database, a lock or `sleep()` is not bounded. A script
    ///   stuck there keeps its worker until the wait ends; the client got a 504 long ago,
    ///   but the worker stays busy, and a few such requests exhaust the pool. A pool that
    ///   sets `max_execution_time` itself is taken to have chosen its bound.
    ///
    /// ## Example
    /// ```ini
    /// [www]
    /// listen = /run/php/php8.2-fpm.sock
    /// listen.backlog = 8
    /// pm = dynamic
    /// pm.max_children = 5
    /// pm.min_spare_servers = 1
    /// pm.max_spare_servers = 3
    /// ```
    ///
    /// ## Use instead
    /// ```ini
    /// [www]
    /// listen = /run/php/php8.2-fpm.sock
    /// pm = dynamic
    /// pm.max_children = 20
    /// pm.min_spare_servers = 2
    /// pm.max_spare_servers = 6
    /// request_terminate_timeout = 60s
    /// ```
    ///
    /// ## Fix safety
    /// - `pm.max_children`: no fix; how many workers fit depends on memory (see
    ///   `fpm-memory-overcommit` and `--memory`).
    /// - `listen.backlog`: unsafe fix to 511 (php-fpm's default outside Linux); it changes
    ///   how overload is shed.
    /// - `request_terminate_timeout`: unsafe fix setting it to the longest
    ///   `fastcgi_read_timeout` of the locations that pass to the pool (60s by default): past
    ///   that nginx has already answered 504. It kills scripts meant to run longer.
    ///
    /// ## References
    /// - php-fpm: pool directives `pm.max_children`, `listen.backlog`,
    ///   `request_terminate_timeout`, `php_admin_value`
    ///   (<https://www.php.net/manual/en/install.fpm.configuration.php>)
    /// - nginx: `fastcgi_read_timeout` (ngx_http_fastcgi_module)
    pub struct FpmPoolExhaustion {
        name: "fpm-pool-exhaustion",
        category: Fpm,
        severity: Warning,
        fix: Sometimes,
    }
}

impl Rule for FpmPoolExhaustion {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        // Without the nginx half the pool may be reached from anywhere: check it. With it,
        // only the pools nginx routes to carry load (unless some pass could not be joined).
        let no_nginx = cx.project.files_of(Language::Nginx).next().is_none();
        let (routing, unjoined) = routing_sites(cx);
        let mut out = Vec::new();
        for (i, pool) in cx.fpm.pools.iter().enumerate() {
            let listen = pool.listen();
            let sites: &[&Site<'_>] = routing.get(&i).map_or(&[], Vec::as_slice);
            let note = if !sites.is_empty() {
                ""
            } else if no_nginx {
                " The linted paths hold no nginx configuration, so this pool was checked as if it served requests."
            } else if unjoined {
                " Some fastcgi_pass could not be joined to a pool (variables, an upstream not in the linted files, an address from the environment), so this pool was checked as if it served requests."
            } else {
                let (file, span) = pool.header();
                out.push(
                    Finding::new(
                        format!(
                            "no site routes to pool [{}]: its load checks (pm.max_children, listen.backlog, request_terminate_timeout) were skipped",
                            pool.name
                        ),
                        Label::primary(file, span, "no site routes here"),
                    )
                    .severity(Severity::Info)
                    .help("no fastcgi_pass in the linted nginx configuration reaches this pool's listen address. If another host or a configuration not linted sends it requests, lint that too (or drop the pool)."),
                );
                continue;
            };
            let read_timeout_s = sites
                .iter()
                .map(|s| read_timeout_ms(cx, s))
                .max()
                .unwrap_or(60_000)
                .div_ceil(1000);
            out.extend(max_children(cx, pool, note, read_timeout_s));
            if let Some((Listen::Unix(path), _)) = &listen {
                out.extend(backlog(cx, pool, path, note));
            }
            out.extend(terminate_timeout(cx, pool, note, read_timeout_s));
        }
        out
    }
}

/// The FastCGI locations whose `fastcgi_pass` (or upstream) reaches each pool, by pool index:
/// one indexed lookup per site rather than every site per pool.
/// Also whether some pass could not be joined at all (a variable, an upstream not in the
/// linted files, a pool whose address only the environment knows).
fn routing_sites<'a, 'p>(cx: &'a LintContext<'a, 'p>) -> (HashMap<usize, Vec<&'a Site<'p>>>, bool) {
    let mut by_pool: HashMap<usize, Vec<&'a Site<'p>>> = HashMap::new();
    let mut unjoined = cx.fpm.unknown_listeners().next().is_some();
    for site in cx.nginx.fastcgi_sites() {
        let targets = cx.nginx.pass_targets(site);
        unjoined |= targets
            .iter()
            .any(|(_, _, t)| matches!(t, Target::Dynamic(_) | Target::Upstream(_)));
        let mut pools: Vec<usize> = targets
            .iter()
            .flat_map(|(_, _, t)| cx.fpm.pools_reached(t))
            .map(|(i, _, _, _)| i)
            .collect();
        pools.sort_unstable();
        pools.dedup();
        for i in pools {
            by_pool.entry(i).or_default().push(site);
        }
    }
    (by_pool, unjoined)
}

fn read_timeout_ms(cx: &LintContext<'_, '_>, site: &Site<'_>) -> u64 {
    cx.nginx
        .effective(site, "fastcgi_read_timeout")
        .last()
        .and_then(|d: &DirRef<'_>| d.arg(0))
        .and_then(units::parse_time_ms)
        .unwrap_or(60_000)
}

fn max_children(
    cx: &LintContext<'_, '_>,
    pool: &Pool<'_>,
    note: &str,
    read_timeout_s: u64,
) -> Option<Finding> {
    let pm = PoolPm::read(pool);
    let (n, s) = pm.max_children()?;
    let min = i64::from(cx.settings.min_max_children);
    // Below 1 is fpm-pm-invalid's. One threshold: the packaged 5 is flagged only because the
    // default minimum is 6, so lowering the setting to 5 accepts it.
    if n < 1 || n >= min {
        return None;
    }
    let why = if n == PACKAGED_MAX_CHILDREN {
        format!("the packaged default; min-max-children is {min}")
    } else {
        format!("below min-max-children = {min}")
    };
    let log = match pm.style() {
        Some(PmStyle::Static) => "nothing (a static pool does not warn)".to_owned(),
        Some(PmStyle::Ondemand) => format!(
            "`WARNING: [pool {}] server reached max_children setting ({n}), consider raising it`",
            pool.name
        ),
        _ => format!(
            "`WARNING: [pool {}] server reached pm.max_children setting ({n}), consider raising it`",
            pool.name
        ),
    };
    Some(
        Finding::new(
            format!(
                "pool [{}] runs at most {n} PHP worker{} (`pm.max_children = {n}`, {why})",
                pool.name,
                if n == 1 { "" } else { "s" }
            ),
            Label::primary(
                s.file,
                s.value_span(),
                format!("{n} concurrent request{} at most", if n == 1 { "" } else { "s" }),
            ),
        )
        .help(format!(
            "request {} waits in the socket queue; php-fpm logs {log}, and a request still waiting after fastcgi_read_timeout ({read_timeout_s}s) answers 504 Gateway Time-out. Raise pm.max_children as far as memory allows (each worker may use up to its memory_limit; check with --memory).{note}",
            n.saturating_add(1)
        )),
    )
}

fn backlog(cx: &LintContext<'_, '_>, pool: &Pool<'_>, path: &str, note: &str) -> Option<Finding> {
    let s = pool.get("listen.backlog")?;
    let n = parse_fpm_int(s.text())?;
    let min = i64::from(cx.settings.min_listen_backlog);
    // -1 is the kernel's maximum (somaxconn).
    if n < 0 || n >= min {
        return None;
    }
    let to = 511.max(min);
    Some(
        Finding::new(
            format!(
                "pool [{}]: `listen.backlog = {n}` lets only {n} connections wait on {path}",
                pool.name
            ),
            Label::primary(s.file, s.value_span(), format!("below {min}")),
        )
        .help(format!(
            "when every worker is busy and {n} connections already wait, the next request answers 502 at once; nginx logs `connect() to unix:{path} failed (11: Resource temporarily unavailable) while connecting to upstream`. Remove the line (the kernel's maximum on Linux) or raise it.{note}"
        ))
        .fix(Some(Fix::new(
            format!("raise listen.backlog to {to}"),
            Applicability::Unsafe,
            vec![Edit::replace(s.file, s.value_span(), to.to_string())],
        ))),
    )
}

fn terminate_timeout(
    cx: &LintContext<'_, '_>,
    pool: &Pool<'_>,
    note: &str,
    read_timeout_s: u64,
) -> Option<Finding> {
    let current = pool.get("request_terminate_timeout");
    if let Some(s) = current {
        if values::parse_time_secs(s.text()) != Some(0) {
            return None;
        }
    }
    let bounded = ["php_admin_value", "php_value"]
        .iter()
        .any(|base| pool.get_array(base, "max_execution_time").is_some());
    if bounded {
        return None;
    }
    let value = format!("{read_timeout_s}s");
    let (label, edit) = match current {
        Some(s) => (
            Label::primary(s.file, s.value_span(), "0: no limit"),
            Some(Edit::replace(s.file, s.value_span(), value.clone())),
        ),
        None => {
            let (file, span) = pool.header();
            let file = pool.listen().map_or(file, |(_, s)| s.file);
            let edit = cx.project.fpm(file).and_then(|config| {
                fpm_lines_in_section(
                    file,
                    &cx.project.sources.get(file).text,
                    config,
                    &pool.name,
                    &[format!("request_terminate_timeout = {value}")],
                )
            });
            (
                Label::primary(pool.header().0, span, "no request_terminate_timeout"),
                edit,
            )
        }
    };
    Some(
        Finding::new(
            format!(
                "pool [{}] puts no wall-clock limit on a request: request_terminate_timeout is {} and the pool sets no max_execution_time",
                pool.name,
                if current.is_some() { "0" } else { "unset" }
            ),
            label,
        )
        .help(format!(
            "php.ini's max_execution_time (30s unless php.ini changes it) still stops a script that uses that much CPU time, but on Linux it does not count time spent waiting on the network, a database, a lock or sleep(): a script stuck there holds its worker until the wait ends. nginx answers 504 after fastcgi_read_timeout ({read_timeout_s}s), the worker stays busy, and a few such requests exhaust the pool. Set request_terminate_timeout to bound the wall-clock time.{note}"
        ))
        .fix(edit.map(|e| {
            Fix::new(
                format!("set request_terminate_timeout = {value} (nginx's fastcgi_read_timeout)"),
                Applicability::Unsafe,
                vec![e],
            )
        })),
    )
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::rules::fpm_pm_invalid::doc_examples::check;
    use crate::settings::Settings;

    #[test]
    fn docs_examples() {
        let (bad, good) = check(
            &super::FpmPoolExhaustion::META,
            "php-fpm.d/www.conf",
            &Settings::default(),
        );
        // The example shows all three: max_children 5, backlog 8, no terminate timeout.
        assert_eq!(bad, [Severity::Warning; 3]);
        assert!(good.is_empty(), "{good:?}");
    }
}
