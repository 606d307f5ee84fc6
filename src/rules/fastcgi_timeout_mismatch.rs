use std::collections::HashSet;

use crate::diagnostic::{Label, Severity};
use crate::fix::insert::nginx_lines_in_block;
use crate::fix::{Applicability, Edit, Fix};
use crate::model::address::{parse_target, Target};
use crate::model::fpm::{Pool, Setting};
use crate::model::nginx::{DirRef, Site};
use crate::model::units::parse_time_ms;
use crate::rules::buffers::header_span;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta, PARENTS_UNKNOWN};
use crate::syntax::fpm::values::parse_time_secs;

declare_rule! {
    /// ## What it does
    /// Joins each `fastcgi_pass` to the PHP-FPM pools it reaches (directly or through an
    /// `upstream`) and compares the timeouts on both sides:
    ///
    /// - (a) the pool's `request_terminate_timeout` is shorter than the location's
    ///   `fastcgi_read_timeout` (default 60s): php-fpm kills a slow request before nginx gives
    ///   up on it;
    /// - (b) `fastcgi_read_timeout` is shorter than the pool's `max_execution_time`
    ///   (`php_admin_value[...]` or `php_value[...]`) and no shorter
    ///   `request_terminate_timeout` stops PHP first: nginx gives up while PHP keeps working.
    ///
    /// ## Why it matters
    /// (a) The killed worker closes the connection, so a slow request answers 502 Bad Gateway
    /// instead of 504, with nginx logging
    /// `recv() failed (104: Connection reset by peer) while reading response header from upstream`
    /// and php-fpm logging `execution timed out (1.288600 sec), terminating`. A 502 reads as
    /// "PHP is down" and sends people looking in the wrong place; the work is cut mid-way
    /// (half-written files, open transactions rolled back).
    ///
    /// (b) nginx answers 504 Gateway Time-out and logs
    /// `upstream timed out (110: Connection timed out) while reading response header from upstream`
    /// while the worker keeps running, and stays busy, for the rest of its time: retries by
    /// impatient users pile up on a pool that is already slow. On Linux `max_execution_time`
    /// counts CPU time, so a script waiting on a database runs longer still.
    ///
    /// ## Example
    /// ```ini
    /// ; pool.d/www.conf
    /// [www]
    /// listen = /run/php/php8.2-fpm.sock
    /// request_terminate_timeout = 30s
    /// ```
    /// ```nginx
    /// server {
    ///     location ~ \.php$ {
    ///         fastcgi_read_timeout 120s;
    ///         fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```ini
    /// [www]
    /// listen = /run/php/php8.2-fpm.sock
    /// request_terminate_timeout = 30s
    /// ```
    /// ```nginx
    /// server {
    ///     location ~ \.php$ {
    ///         fastcgi_read_timeout 30s;   # at most the pool's request_terminate_timeout
    ///         fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: the fix aligns nginx's `fastcgi_read_timeout` with the pool, to its
    /// `request_terminate_timeout` for (a) and to its `max_execution_time` for (b). php-fpm
    /// checks its timeout on a heartbeat (up to a third of the timeout late), so at equal
    /// values nginx usually gives up first and answers 504; it is not guaranteed, and lowering
    /// the nginx side further, or raising the pool's, is a safer margin. Which side should move is a decision about how long requests may run; when
    /// the directive is set at an outer level, changing it changes every location below.
    ///
    /// Where no `fastcgi_read_timeout` is in the tree and the levels above the location are
    /// not either (a snippet no nginx.conf reaches), the 60s default is an assumption and the
    /// finding an info.
    ///
    /// ## References
    /// - nginx: `fastcgi_read_timeout` (ngx_http_fastcgi_module)
    /// - php-fpm: pool `request_terminate_timeout`; PHP: `max_execution_time`
    pub struct FastcgiTimeoutMismatch {
        name: "fastcgi-timeout-mismatch",
        category: Join,
        severity: Warning,
        fix: Sometimes,
    }
}

/// nginx's default `fastcgi_read_timeout`.
const DEFAULT_READ_MS: u64 = 60_000;

impl Rule for FastcgiTimeoutMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for site in cx.nginx.fastcgi_sites() {
            let read = cx
                .nginx
                .effective(site, "fastcgi_read_timeout")
                .last()
                .copied();
            let read_ms = match read {
                Some(d) => match d.arg(0).and_then(parse_time_ms) {
                    Some(ms) => ms,
                    None => continue,
                },
                None => DEFAULT_READ_MS,
            };
            let read_text = match read {
                Some(d) => format!("nginx's `fastcgi_read_timeout {}`", d.arg(0).unwrap_or("")),
                None => "nginx's default `fastcgi_read_timeout` of 60s".to_owned(),
            };
            for target in targets(cx, site) {
                for (_, pool, _, _) in cx.fpm.pools_reached(&target) {
                    let Some(listen) = pool.get("listen") else {
                        continue;
                    };
                    let key = (
                        pool.instance,
                        pool.name.clone(),
                        read.map_or((site.pass.file, site.pass.directive.span().start), |d| {
                            (d.file, d.directive.span().start)
                        }),
                    );
                    if !seen.insert(key) {
                        continue;
                    }
                    if let Some(mut f) = mismatch(cx, site, read, read_ms, &read_text, pool, listen)
                    {
                        // The 60s default rests on no outer level setting it.
                        if read.is_none() && !cx.nginx.levels_above_known(site) {
                            f.message = format!("{}; {PARENTS_UNKNOWN}", f.message);
                            f.severity = Some(Severity::Info);
                        }
                        out.push(f);
                    }
                }
            }
        }
        out
    }
}

/// Where a site's `fastcgi_pass` connects: its address, or each live server of its upstream.
fn targets(cx: &LintContext<'_, '_>, site: &Site<'_>) -> Vec<Target> {
    let Some(word) = site.pass.directive.args().first() else {
        return Vec::new();
    };
    match parse_target(word.value()) {
        Target::Dynamic(_) => Vec::new(),
        Target::Upstream(name) => cx
            .nginx
            .upstream(site.root, &name)
            .map(|u| {
                u.live_servers()
                    .filter_map(|s| s.arg(0).map(parse_target))
                    .filter(|t| !matches!(t, Target::Dynamic(_) | Target::Upstream(_)))
                    .collect()
            })
            .unwrap_or_default(),
        t => vec![t],
    }
}

fn secs(ms: u64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn mismatch(
    cx: &LintContext<'_, '_>,
    site: &Site<'_>,
    read: Option<DirRef<'_>>,
    read_ms: u64,
    read_text: &str,
    pool: &Pool<'_>,
    listen: Setting<'_>,
) -> Option<Finding> {
    let terminate = pool
        .get("request_terminate_timeout")
        .and_then(|s| Some((s, parse_time_secs(s.text())?.checked_mul(1000)?)))
        .filter(|&(_, ms)| ms > 0);
    let max_exec = pool
        .get_array("php_admin_value", "max_execution_time")
        .or_else(|| pool.get_array("php_value", "max_execution_time"))
        .and_then(|s| Some((s, s.text().trim().parse::<u64>().ok()?.checked_mul(1000)?)))
        .filter(|&(_, ms)| ms > 0);

    let primary = match read {
        Some(d) => Label::primary(
            d.file,
            header_span(&d),
            format!("nginx waits {}", secs(read_ms)),
        ),
        None => Label::primary(
            site.pass.file,
            header_span(&site.pass),
            "nginx waits the default 60s here",
        ),
    };
    let pool_label = Label::secondary(
        listen.file,
        listen.value_span(),
        format!("pool [{}] listens here", pool.name),
    );

    if let Some((setting, term_ms)) = terminate.filter(|&(_, ms)| ms < read_ms) {
        let f = Finding::new(
            format!(
                "pool [{}] kills requests after `request_terminate_timeout = {}`, before {read_text} runs out: slow requests answer 502, not 504",
                pool.name,
                setting.text()
            ),
            primary,
        )
        .label(Label::secondary(
            setting.file,
            setting.value_span(),
            format!("php-fpm kills the worker after {}", secs(term_ms)),
        ))
        .label(pool_label)
        .help(
            "nginx logs `recv() failed (104: Connection reset by peer) while reading response header from upstream` and php-fpm logs `execution timed out ... terminating`. Make `fastcgi_read_timeout` at most `request_terminate_timeout` so nginx answers a clean 504 first, or raise `request_terminate_timeout`.",
        )
        .fix(read_fix(cx, site, read, term_ms));
        return Some(f);
    }
    let (setting, exec_ms) = max_exec?;
    if read_ms >= exec_ms || terminate.is_some_and(|(_, t)| t < exec_ms) {
        return None;
    }
    Some(
        Finding::new(
            format!(
                "{read_text} is shorter than pool [{}]'s `max_execution_time` of {}: nginx answers 504 while PHP keeps working",
                pool.name,
                secs(exec_ms)
            ),
            primary,
        )
        .label(Label::secondary(
            setting.file,
            setting.value_span(),
            format!("PHP may run {}", secs(exec_ms)),
        ))
        .label(pool_label)
        .help(
            "nginx logs `upstream timed out (110: Connection timed out) while reading response header from upstream` and the worker stays busy until PHP stops it. Raise `fastcgi_read_timeout` to the time PHP may run, or lower `max_execution_time` (and bound wall time with `request_terminate_timeout`).",
        )
        .fix(read_fix(cx, site, read, exec_ms)),
    )
}

/// Set the site's `fastcgi_read_timeout` to `ms`: rewrite the directive in effect, or add one
/// at the top of the site's location.
fn read_fix(
    cx: &LintContext<'_, '_>,
    site: &Site<'_>,
    read: Option<DirRef<'_>>,
    ms: u64,
) -> Option<Fix> {
    let value = secs(ms);
    let edit = match read {
        Some(d) => {
            if cx.project.sources.get(d.file).is_builtin() {
                return None;
            }
            Edit::replace(d.file, d.directive.args().first()?.span(), value.clone())
        }
        None => {
            let location = site.chain.iter().rev().find(|d| d.name() == "location")?;
            if cx.project.sources.get(location.file).is_builtin() {
                return None;
            }
            let text = &cx.project.sources.get(location.file).text;
            nginx_lines_in_block(
                location.file,
                text,
                location.directive,
                &[format!("fastcgi_read_timeout {value};")],
            )?
        }
    };
    Some(Fix::new(
        format!("set `fastcgi_read_timeout {value}`"),
        Applicability::Unsafe,
        vec![edit],
    ))
}
