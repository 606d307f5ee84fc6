//! From tallied log causes to the config lines behind them: the `fastcgi_pass` (or upstream
//! `server`) nginx dialled, the pool that listens there (or the one probably meant), the values
//! that set the limit that was hit, and the lint rule that predicts it with its fix.

use std::collections::HashSet;

use super::engine::{signal_name, CauseId, Evidence, Findings, Tally};
use super::logline::LogKind;
use crate::diagnostic::{Diagnostic, Label};
use crate::fix::Fix;
use crate::model::address::{normalize_socket_path, parse_target, Target};
use crate::model::fpm::{FpmModel, Pool};
use crate::model::nginx::{DirRef, NginxModel, Site};
use crate::project::Project;
use crate::source::{FileId, Span};

/// One cause the logs show, with the config lines behind it.
#[derive(Debug)]
pub struct Cause {
    pub id: CauseId,
    pub tally: Tally,
    pub message: String,
    pub help: String,
    pub labels: Vec<Label>,
    /// The lint rule that predicts it (`NFL101 fastcgi-pass-no-listener`), when it fired.
    pub rule: Option<(&'static str, &'static str)>,
    pub fix: Option<Fix>,
}

impl Cause {
    pub fn evidence(&self) -> impl Iterator<Item = &Evidence> {
        self.tally.evidence.values()
    }
}

/// What the join sees.
pub struct Config<'a, 'p> {
    pub project: &'p Project,
    pub nginx: &'a NginxModel<'p>,
    pub fpm: &'a FpmModel<'p>,
    /// What `lint` found in the same config: the rules that predict causes, and their fixes.
    pub lint: &'a [Diagnostic],
    /// Whether any config was given at all (else labels are empty and the help says so).
    pub has_config: bool,
    /// The server's live state (`--host`).
    pub live: Option<&'a super::live::LiveState>,
    /// Memory per worker where a pool sets no memory_limit (`--worker-memory`, or the live
    /// workers' average with `--host`).
    pub settings_worker_memory: u64,
}

/// Resolve every tally into a cause, most frequent first; PHP's own errors (500s) last.
pub fn causes(findings: Findings, cx: &Config<'_, '_>) -> Vec<Cause> {
    let mut out: Vec<Cause> = findings
        .tallies
        .into_iter()
        .map(|((id, _), tally)| resolve(id, tally, cx))
        .collect();
    // Several tallies can land on one cause and address once resolved (a pool named in
    // php-fpm's log and the socket nginx dialled): merge them.
    let mut merged: Vec<Cause> = Vec::new();
    for c in out.drain(..) {
        if let Some(m) = merged
            .iter_mut()
            .find(|m| m.id == c.id && m.labels == c.labels && m.message == c.message)
        {
            merge_tally(&mut m.tally, c.tally);
        } else {
            merged.push(c);
        }
    }
    name_what_marked_servers_down(&mut merged, cx);
    merged.sort_by(|a, b| {
        (a.id == CauseId::PhpFatal)
            .cmp(&(b.id == CauseId::PhpFatal))
            .then(b.tally.count.cmp(&a.tally.count))
            .then(a.id.cmp(&b.id))
    });
    merged
}

/// `no live upstreams` follows failures that marked every server of the upstream down: name
/// the causes whose lines are those servers.
fn name_what_marked_servers_down(causes: &mut [Cause], cx: &Config<'_, '_>) {
    for i in 0..causes.len() {
        if causes[i].id != CauseId::NoLiveUpstreams {
            continue;
        }
        let Some(name) = causes[i].tally.address.clone() else {
            continue;
        };
        let Some(up) = cx.nginx.upstreams.iter().find(|u| u.name == name) else {
            continue;
        };
        let (file, span) = (up.directive.file, up.directive.directive.span());
        let inside =
            |l: &Label| l.file == file && span.start <= l.span.start && l.span.end <= span.end;
        let why: Vec<String> = causes
            .iter()
            .filter(|c| c.id != CauseId::NoLiveUpstreams && c.labels.iter().any(inside))
            .map(|c| {
                format!(
                    "{} ({} time{})",
                    c.id.as_str(),
                    c.tally.count,
                    if c.tally.count == 1 { "" } else { "s" }
                )
            })
            .collect();
        if !why.is_empty() {
            causes[i].tally.notes.push(format!(
                "the servers of upstream `{name}` were marked down by: {}",
                why.join(", ")
            ));
        }
    }
}

fn merge_tally(into: &mut Tally, from: Tally) {
    into.count += from.count;
    into.first_seen = match (into.first_seen, from.first_seen) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    into.last_seen = match (into.last_seen, from.last_seen) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    for (k, v) in from.evidence {
        into.evidence.entry(k).or_insert(v);
    }
    for p in from.pools {
        if !into.pools.contains(&p) {
            into.pools.push(p);
        }
    }
    for n in from.notes {
        if !into.notes.contains(&n) {
            into.notes.push(n);
        }
    }
}

/// A `fastcgi_pass` (or upstream `server`) whose address nginx dialled, with its site.
struct Pass<'s, 'p> {
    site: &'s Site<'p>,
    directive: DirRef<'p>,
    word: Span,
    target: Target,
}

/// The passes whose target is the address in nginx's log line, preferring the server block
/// the line names. nginx logs a TCP upstream by the address it resolved, so a name in the
/// config (`app:9000`) matches by port.
fn passes_for<'s, 'p>(
    address: &str,
    server: Option<&str>,
    host: Option<&str>,
    path: Option<&str>,
    nginx: &'s NginxModel<'p>,
) -> Vec<Pass<'s, 'p>> {
    let logged = parse_target(address);
    let mut exact = Vec::new();
    let mut by_port = Vec::new();
    for site in nginx.fastcgi_sites() {
        // `no live upstreams` names the upstream, not a server: the pass that names it.
        if let Target::Upstream(name) = &logged {
            if let Some(word) = site.pass.directive.args().first() {
                if word.value() == name {
                    exact.push(Pass {
                        site,
                        directive: site.pass,
                        word: word.span(),
                        target: logged.clone(),
                    });
                }
            }
            continue;
        }
        for (directive, word, target) in nginx.pass_targets(site) {
            let m = match (&logged, &target) {
                (Target::Unix(a), Target::Unix(b)) => {
                    (normalize_socket_path(a) == normalize_socket_path(b)).then_some(true)
                }
                (Target::Tcp { host: h1, port: p1 }, Target::Tcp { host: h2, port: p2 })
                    if p1 == p2 =>
                {
                    Some(h1 == h2)
                }
                _ => None,
            };
            let pass = Pass {
                site,
                directive,
                word: word.span(),
                target,
            };
            match m {
                Some(true) => exact.push(pass),
                Some(false) => by_port.push(pass),
                None => {}
            }
        }
    }
    let mut found = if exact.is_empty() { by_port } else { exact };
    // nginx's `server:` field is the server block's first server_name; `host:` the Host header.
    let named: Vec<usize> = found
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            let names = server_names(p.site);
            [server, host.map(|h| h.split(':').next().unwrap_or(h))]
                .into_iter()
                .flatten()
                .filter(|n| !n.is_empty())
                .any(|n| names.iter().any(|s| s == n))
        })
        .map(|(i, _)| i)
        .collect();
    if !named.is_empty() {
        let mut i = 0;
        found.retain(|_| {
            let keep = named.contains(&i);
            i += 1;
            keep
        });
    }
    // Several locations can pass to one address: keep those that can serve the logged path.
    if let Some(path) = path {
        if found
            .iter()
            .any(|p| location_may_serve(p.site, path) != Some(false))
        {
            found.retain(|p| location_may_serve(p.site, path) != Some(false));
        }
    }
    // One label per directive, however many sites share it (a snippet).
    let mut seen = HashSet::new();
    found.retain(|p| seen.insert((p.directive.file, p.word)));
    found.truncate(4);
    found
}

/// Whether the site's innermost location can serve `path`: `Some(false)` only when it surely
/// cannot (an exact match for another path, a prefix the path lacks, a `\.php$` regex for a
/// path not ending in .php); regexes are otherwise not evaluated.
fn location_may_serve(site: &Site<'_>, path: &str) -> Option<bool> {
    let loc = site.chain.iter().rev().find(|d| d.is("location"))?;
    let args: Vec<&str> = loc.directive.args().iter().map(|w| w.value()).collect();
    match args.as_slice() {
        ["=", exact] => Some(*exact == path),
        ["^~", prefix] => Some(path.starts_with(prefix)),
        ["~" | "~*", regex] => {
            let php_suffix = regex.ends_with("\\.php$") && !regex.contains('|');
            if php_suffix && !regex.starts_with('^') {
                Some(path.to_ascii_lowercase().ends_with(".php"))
            } else {
                None
            }
        }
        [named] if named.starts_with('@') => Some(false),
        [prefix] => Some(path.starts_with(prefix)),
        _ => None,
    }
}

fn server_names(site: &Site<'_>) -> Vec<String> {
    site.chain
        .iter()
        .rev()
        .find(|d| d.is("server"))
        .and_then(|s| s.directive.block())
        .map(|b| {
            b.directives()
                .filter(|d| d.is("server_name"))
                .flat_map(|d| d.args().iter().map(|w| w.value().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn pool_setting_label(pool: &Pool<'_>, key: &str, message: String) -> Option<Label> {
    pool.get(key)
        .map(|s| Label::secondary(s.file, s.value_span(), message))
}

fn pool_header_label(pool: &Pool<'_>, message: String) -> Label {
    let (file, span) = pool.header();
    Label::secondary(file, span, message)
}

fn pool_named<'a, 'p>(fpm: &'a FpmModel<'p>, name: &str) -> Option<&'a Pool<'p>> {
    fpm.pools.iter().find(|p| p.name == name)
}

fn resolve(id: CauseId, mut tally: Tally, cx: &Config<'_, '_>) -> Cause {
    let address = tally.address.clone().unwrap_or_default();
    let passes = if address.is_empty() {
        Vec::new()
    } else {
        passes_for(
            &address,
            tally.server.as_deref(),
            tally.host.as_deref(),
            tally.path.as_deref(),
            cx.nginx,
        )
    };
    let mut labels: Vec<Label> = passes
        .iter()
        .map(|p| {
            Label::secondary(
                p.directive.file,
                p.word,
                format!("nginx connects to {address} here"),
            )
        })
        .collect();
    // Pools nginx reached at that address, or that the logs named.
    let mut pools: Vec<&Pool<'_>> = Vec::new();
    for p in &passes {
        for (_, pool, _, _) in cx.fpm.pools_reached(&p.target) {
            if !pools.iter().any(|q| std::ptr::eq(*q, pool)) {
                pools.push(pool);
            }
        }
    }
    if passes.is_empty() && !address.is_empty() {
        let target = parse_target(&address);
        for (_, pool, _, _) in cx.fpm.pools_reached(&target) {
            if !pools.iter().any(|q| std::ptr::eq(*q, pool)) {
                pools.push(pool);
            }
        }
    }
    for name in &tally.pools {
        if let Some(pool) = pool_named(cx.fpm, name) {
            if !pools.iter().any(|q| std::ptr::eq(*q, pool)) {
                pools.push(pool);
            }
        }
    }
    let pool_names = pools
        .iter()
        .map(|p| format!("[{}]", p.name))
        .collect::<Vec<_>>()
        .join(", ");

    let mut id = id;
    let (message, help, rule_codes): (String, String, &[&str]) = match id {
        CauseId::BackendDown | CauseId::ListenMismatch => {
            let errno = tally.errno.unwrap_or(2);
            let stale = errno == 111 && address.starts_with("unix:");
            if !pools.is_empty() {
                id = CauseId::BackendDown;
                for pool in &pools {
                    if let Some(l) = pool_setting_label(
                        pool,
                        "listen",
                        format!("pool [{}] listens here: is its php-fpm running?", pool.name),
                    ) {
                        labels.push(l);
                    }
                }
                // Debian's service is named for the version its pool files are under.
                let service = pools
                    .iter()
                    .find_map(|p| {
                        let file = p.header().0;
                        crate::model::platform::path_php_version(&cx.project.tree_path(file)?)
                    })
                    .map_or_else(|| "php*-fpm".to_owned(), |v| format!("php{v}-fpm"));
                (
                    format!(
                        "php-fpm is not answering on {address}, where pool {pool_names} listens: the service is stopped or was killed"
                    ),
                    format!(
                        "{}check the service (`systemctl status {service}`, `journalctl -u {service}`), start it, then find out why it stopped: its log, and the kernel's for an OOM kill.",
                        if stale {
                            "the socket file is still there but no master accepts on it (111): php-fpm was killed without removing it. "
                        } else {
                            ""
                        }
                    ),
                    &[],
                )
            } else if cx.fpm.is_empty() {
                (
                    format!("nothing answers on {address} (errno {errno})"),
                    "no PHP-FPM configuration was given, so a wrong address cannot be told from a stopped php-fpm: pass the pool files too, or check that php-fpm runs and listens there.".to_owned(),
                    &["NFL101"],
                )
            } else {
                id = CauseId::ListenMismatch;
                (
                    format!("no PHP-FPM pool of the configuration listens on {address}: nginx dials the wrong address"),
                    "point fastcgi_pass at the address a pool listens on (or make the pool listen here); restarting php-fpm will not help.".to_owned(),
                    &["NFL101", "NFL105"],
                )
            }
        }
        CauseId::SocketPermission => {
            for pool in &pools {
                for key in ["listen.owner", "listen.group", "listen.mode", "listen.acl_users", "listen.acl_groups"] {
                    if let Some(l) = pool_setting_label(pool, key, format!("pool [{}]: {key}", pool.name)) {
                        labels.push(l);
                    }
                }
            }
            for (_, user) in &cx.nginx.users {
                labels.push(Label::secondary(
                    user.file,
                    user.directive.span(),
                    "nginx workers run as this user",
                ));
            }
            (
                format!("the nginx worker may not open the socket {address} (13: Permission denied)"),
                "make the socket's owner or group the nginx worker's (listen.owner/listen.group), or listen.mode 0666; check with `ls -l` on the socket and `ps -o user= -C nginx`.".to_owned(),
                &["NFL102"],
            )
        }
        CauseId::HeaderTooBig => (
            format!("the PHP response headers outgrew nginx's fastcgi_buffer_size (upstream {address})"),
            "raise fastcgi_buffer_size (32k covers most applications) where the location passes to PHP.".to_owned(),
            &["NFL201", "NFL202"],
        ),
        CauseId::ScriptNotFound => (
            "php-fpm found no script at the SCRIPT_FILENAME nginx sent (\"Primary script unknown\"): users got 404".to_owned(),
            "check `fastcgi_param SCRIPT_FILENAME` (usually `$document_root$fastcgi_script_name`) and the `root` of that server; the file must exist where php-fpm runs.".to_owned(),
            &["NFL203"],
        ),
        CauseId::NoLiveUpstreams => (
            format!("every server of the upstream was marked down (max_fails){}", if address.is_empty() { String::new() } else { format!(": {address}") }),
            "look at the causes above for what marked them down; nginx retries them after fail_timeout.".to_owned(),
            &["NFL101"],
        ),
        CauseId::PoolExhausted => {
            for pool in &pools {
                for key in ["pm", "pm.max_children", "listen.backlog", "pm.max_spare_servers"] {
                    if let Some(l) = pool_setting_label(pool, key, format!("pool [{}]: {key}", pool.name)) {
                        labels.push(l);
                    }
                }
                if pool.get("pm.max_children").is_none() {
                    labels.push(pool_header_label(pool, format!("pool [{}] sets no pm.max_children", pool.name)));
                }
            }
            let how = if tally.errno == Some(11) {
                "the socket's accept queue (listen.backlog) was full (11: Resource temporarily unavailable)"
            } else if tally.timed_out_connecting {
                "nginx timed out connecting: the pool's accept queue did not drain"
            } else {
                "every worker was busy"
            };
            (
                format!("PHP-FPM pool {} ran out of workers: {how}", if pool_names.is_empty() { "?".to_owned() } else { pool_names.clone() }),
                "raise pm.max_children if memory allows (see fpm-memory-overcommit), find the slow requests (slowlog), and raise listen.backlog for bursts.".to_owned(),
                &["NFL302", "NFL303"],
            )
        }
        CauseId::UpstreamTimeout => {
            for p in &passes {
                if let Some(d) = cx.nginx.effective(p.site, "fastcgi_read_timeout").last() {
                    labels.push(Label::secondary(d.file, d.directive.span(), "nginx waits this long for the response header"));
                }
            }
            for pool in &pools {
                if let Some(l) = pool_setting_label(pool, "request_terminate_timeout", format!("pool [{}] stops a request after this", pool.name)) {
                    labels.push(l);
                }
            }
            (
                format!("PHP took longer than nginx's fastcgi_read_timeout to answer (upstream {address}): users got 504"),
                "make the slow script faster, or raise fastcgi_read_timeout together with the pool's request_terminate_timeout (keep php-fpm's the shorter) and max_execution_time.".to_owned(),
                &["NFL106"],
            )
        }
        CauseId::RequestTerminated => {
            for pool in &pools {
                if let Some(l) = pool_setting_label(pool, "request_terminate_timeout", format!("pool [{}] kills a request after this", pool.name)) {
                    labels.push(l);
                }
            }
            for p in &passes {
                if let Some(d) = cx.nginx.effective(p.site, "fastcgi_read_timeout").last() {
                    labels.push(Label::secondary(d.file, d.directive.span(), "nginx would have waited this long"));
                }
            }
            (
                format!("php-fpm killed a request that outran request_terminate_timeout (pool {pool_names}); nginx saw the connection reset"),
                "find the slow script (the php-fpm line names it; enable slowlog), or raise request_terminate_timeout (and max_execution_time) below fastcgi_read_timeout.".to_owned(),
                &["NFL106"],
            )
        }
        CauseId::WorkerCrashed => {
            for pool in &pools {
                labels.push(pool_header_label(pool, format!("pool [{}]", pool.name)));
            }
            (
                format!("a PHP-FPM worker crashed{}", tally.notes.first().map(|n| format!(": {n}")).unwrap_or_default()),
                "a crash is a bug in PHP or an extension: look for a core dump (`coredumpctl`), disable recently added extensions (opcache JIT, xdebug), and update PHP.".to_owned(),
                &[],
            )
        }
        CauseId::OomKilled => {
            for pool in &cx.fpm.pools {
                if let Some(l) = pool_setting_label(pool, "pm.max_children", format!("pool [{}]: up to this many workers", pool.name)) {
                    labels.push(l);
                }
                if let Some(s) = pool.get_array("php_admin_value", "memory_limit").or_else(|| pool.get_array("php_value", "memory_limit")) {
                    labels.push(Label::secondary(s.file, s.value_span(), format!("pool [{}]: memory per worker", pool.name)));
                }
            }
            let killed_with_kernel = tally.evidence.contains_key(&LogKind::Kernel);
            let (parts, total) = crate::rules::fpm_memory_overcommit::arithmetic(
                cx.fpm,
                cx.settings_worker_memory,
            );
            if !parts.is_empty() {
                tally.notes.push(format!(
                    "the pools may take up to {total} in all: {}",
                    parts.join(" + ")
                ));
            }
            (
                if killed_with_kernel {
                    "the kernel's OOM killer killed php-fpm: its workers wanted more memory than there was".to_owned()
                } else {
                    format!("a PHP-FPM worker was killed with SIGKILL ({}); the kernel's log was not given, but that is what the OOM killer sends", signal_name(9))
                },
                "pm.max_children x memory per worker must fit in the RAM left after the database and the rest: lower pm.max_children, set php_admin_value[memory_limit], or add memory (`nginx-fpm-lint lint --memory SIZE` checks it).".to_owned(),
                &["NFL303"],
            )
        }
        CauseId::ClientNotAllowed => {
            for pool in cx.fpm.pools.iter().filter(|p| p.get("listen.allowed_clients").is_some()) {
                if let Some(l) = pool_setting_label(pool, "listen.allowed_clients", format!("pool [{}] accepts only these", pool.name)) {
                    labels.push(l);
                }
            }
            (
                format!("php-fpm dropped nginx's connection: its address is not in listen.allowed_clients{}", tally.notes.first().map(|n| format!(" ({n})")).unwrap_or_default()),
                "add nginx's address to listen.allowed_clients (comma-separated, no blanks).".to_owned(),
                &["NFL104"],
            )
        }
        CauseId::FpmStartFailed => {
            if !address.is_empty() {
                for pool in cx.fpm.pools.iter() {
                    if pool.value("listen").is_some_and(|l| l == address) {
                        if let Some(l) = pool_setting_label(pool, "listen", format!("pool [{}] binds this", pool.name)) {
                            labels.push(l);
                        }
                    }
                }
            }
            let why = match tally.errno {
                Some(98) => format!("{address} is already in use (98): another pool or process holds it"),
                Some(2) => format!("the directory of {address} does not exist (2)"),
                Some(13) => format!("php-fpm may not create {address} (13)"),
                _ => tally.notes.first().cloned().unwrap_or_else(|| "php-fpm refused its configuration".to_owned()),
            };
            (
                format!("php-fpm did not start: {why}"),
                "run `php-fpm -t` (php-fpm8.2 -t) to see every refusal, fix the configuration, then start the service.".to_owned(),
                &["NFL103", "NFL301"],
            )
        }
        CauseId::UpstreamReset => (
            format!("the PHP backend closed the connection mid-request (upstream {address}); the logs given do not say why"),
            "give php-fpm's log (and the kernel's, for OOM kills) with more --log flags: they tell a killed, crashed or timed-out worker apart.".to_owned(),
            &["NFL104", "NFL106"],
        ),
        CauseId::PhpFatal => (
            format!("PHP stopped with a fatal error{}: users got 500", tally.notes.first().map(|n| format!(": {n}")).unwrap_or_default()),
            "an application error, not a gateway one: fix the code the message names.".to_owned(),
            &[],
        ),
    };
    // The rule that predicts it: a lint finding of one of the cause's rules that touches a
    // place of the cause (the same fastcgi_pass, any line of the same pool).
    let mut places: Vec<(FileId, Span)> = labels.iter().map(|l| (l.file, l.span)).collect();
    for pool in &pools {
        places.extend(pool.headers.iter().copied());
        places.extend(pool.entries.iter().map(|s| (s.file, s.entry().span())));
    }
    let touches = |d: &Diagnostic| {
        d.labels.iter().any(|l| {
            places
                .iter()
                .any(|&(file, span)| file == l.file && overlaps(span, l.span))
        })
    };
    let predicted = cx
        .lint
        .iter()
        .filter(|d| rule_codes.contains(&d.code))
        .find(|d| touches(d));
    if let Some(d) = predicted {
        for l in &d.labels {
            if !labels.iter().any(|c| c.file == l.file && c.span == l.span) {
                labels.push(Label::secondary(l.file, l.span, l.message.clone()));
            }
        }
    }
    if let Some(live) = cx.live {
        for note in live_notes(id, &pools, &address, cx, live) {
            tally.notes.push(note);
        }
    }
    // The primary label: the nginx line nginx dialled from, else the first one.
    if let Some(first) = labels.first_mut() {
        first.primary = true;
    }
    dedup_labels(&mut labels);
    Cause {
        id,
        tally,
        message,
        help: if cx.has_config {
            help
        } else {
            format!("{help} (No configuration was given: pass the nginx and PHP-FPM config paths to see the lines behind it.)")
        },
        labels,
        rule: predicted.map(|d| (d.code, d.name)),
        fix: predicted.and_then(|d| d.fix.clone()),
    }
}

fn overlaps(a: Span, b: Span) -> bool {
    a.start < b.end && b.start < a.end || a == b
}

fn dedup_labels(labels: &mut Vec<Label>) {
    let mut seen: HashSet<(FileId, Span)> = HashSet::new();
    labels.retain(|l| seen.insert((l.file, l.span)));
}

/// What the live server says about a cause: is the master running, is the socket there, who
/// may open it, how much memory there is.
fn live_notes(
    id: CauseId,
    pools: &[&Pool<'_>],
    address: &str,
    cx: &Config<'_, '_>,
    live: &super::live::LiveState,
) -> Vec<String> {
    use super::live::SocketState;
    let mut notes = Vec::new();
    let socket_note = |path: &str| match live.socket(path) {
        SocketState::Missing => format!("live: {path} does not exist"),
        SocketState::NotASocket => format!("live: {path} exists but is not a socket"),
        SocketState::Socket { uid, gid, mode } => format!(
            "live: {path} is a socket owned by {}:{} with mode {mode:04o}",
            live.user_name(uid),
            live.group_name(gid)
        ),
    };
    let master_note = |pool: &Pool<'_>| {
        let pid_path = cx
            .fpm
            .globals
            .get(pool.instance)
            .and_then(|g| g.iter().rev().find(|s| s.key() == "pid"))
            .map(|s| s.text().to_owned());
        let workers = live.pool_workers(&pool.name).count();
        match pid_path.as_deref().map(|p| (p, live.pid_file(p))) {
            Some((p, Some(pid))) if live.runs(pid) => format!(
                "live: pool [{}]'s php-fpm master runs (pid {pid} from {p}) with {workers} worker{}",
                pool.name,
                if workers == 1 { "" } else { "s" }
            ),
            Some((p, Some(pid))) => format!(
                "live: pool [{}]'s php-fpm master is not running (pid {pid} in {p} is gone)",
                pool.name
            ),
            // php-fpm removes its pid file when it stops.
            Some((p, None)) => format!(
                "live: pool [{}]'s php-fpm master is not running (no pid file {p})",
                pool.name
            ),
            _ if workers > 0 => format!(
                "live: {workers} worker{} of pool [{}] run",
                if workers == 1 { "" } else { "s" },
                pool.name
            ),
            _ => {
                let masters = live.fpm_masters().count();
                format!(
                    "live: no worker of pool [{}] runs ({masters} php-fpm master{} in all)",
                    pool.name,
                    if masters == 1 { "" } else { "s" }
                )
            }
        }
    };
    let unix_path = address.strip_prefix("unix:");
    match id {
        CauseId::BackendDown | CauseId::ListenMismatch | CauseId::FpmStartFailed => {
            for pool in pools {
                notes.push(master_note(pool));
            }
            if let Some(path) = unix_path {
                notes.push(socket_note(path));
            } else if let Some(port) = address
                .rsplit(':')
                .next()
                .and_then(|p| p.parse::<u16>().ok())
            {
                let listening = live.tcp_listening.contains(&port);
                notes.push(format!(
                    "live: {} listens on TCP port {port}",
                    if listening { "something" } else { "nothing" }
                ));
            }
        }
        CauseId::SocketPermission => {
            if let Some(path) = unix_path {
                notes.push(socket_note(path));
            }
            let users = live.nginx_worker_users();
            if !users.is_empty() {
                notes.push(format!("live: nginx workers run as {}", users.join(", ")));
            }
        }
        CauseId::OomKilled | CauseId::PoolExhausted => {
            if let (Some(total), Some(avail)) = (live.mem_total, live.mem_available) {
                notes.push(format!(
                    "live: {} of memory, {} available{}",
                    crate::model::units::format_size(total),
                    crate::model::units::format_size(avail),
                    live.cgroup_limit
                        .map(|l| format!(
                            "; this cgroup may use {}",
                            crate::model::units::format_size(l)
                        ))
                        .unwrap_or_default()
                ));
            }
            let all: Vec<&Pool<'_>> = if id == CauseId::OomKilled {
                cx.fpm.pools.iter().collect()
            } else {
                pools.to_vec()
            };
            for pool in all {
                let rss: Vec<u64> = live.pool_workers(&pool.name).map(|p| p.rss).collect();
                if let Some(max) = rss.iter().max() {
                    let avg = rss.iter().sum::<u64>() / rss.len() as u64;
                    notes.push(format!(
                        "live: pool [{}] runs {} worker{} of {} on average ({} the largest)",
                        pool.name,
                        rss.len(),
                        if rss.len() == 1 { "" } else { "s" },
                        crate::model::units::format_size(avg),
                        crate::model::units::format_size(*max)
                    ));
                }
            }
        }
        _ => {}
    }
    notes
}
