//! Rendering a diagnosis in lint's formats. Each cause becomes a [`Diagnostic`] (its id as the
//! code, the predicting rule as the name, the config lines as labels, the rule's fix), so the
//! human, concise, SARIF and GitHub renderers draw it as they draw a finding; JSON has the
//! shape of its own that scripts read (`causes`, `lines_read`, `lines_unknown`).

use serde_json::{json, Value};

use super::engine::CauseId;
use super::logline::LogKind;
use super::{Cause, Diagnosis};
use crate::diagnostic::{Diagnostic, Severity};
use crate::report::{self, HumanOptions, Report};

fn kind_name(kind: LogKind) -> &'static str {
    match kind {
        LogKind::Nginx => "nginx",
        LogKind::Fpm => "php-fpm",
        LogKind::Kernel => "kernel",
    }
}

/// `seen 3 times between 2026-12-03 10:32:10 and 10:32:16; users got 502`
fn when(c: &Cause) -> String {
    let t = &c.tally;
    let times = match (t.first_seen, t.last_seen) {
        (Some(a), Some(b)) if a == b => format!(" at {a}"),
        (Some(a), Some(b)) => format!(" between {a} and {b}"),
        _ => String::new(),
    };
    format!(
        "seen {} time{}{times}; users got {}",
        t.count,
        if t.count == 1 { "" } else { "s" },
        c.id.status()
    )
}

fn to_diagnostic(c: &Cause) -> Diagnostic {
    let mut help = format!("{}.\n", when(c));
    for e in c.evidence() {
        help.push_str(&format!("{}:{}: {}\n", e.file, e.line, e.text));
    }
    for n in &c.tally.notes {
        help.push_str(&format!("{n}\n"));
    }
    help.push_str(&c.help);
    if let Some((code, name)) = c.rule {
        help.push_str(&format!(
            " `nginx-fpm-lint lint` predicts it: {code} {name}."
        ));
    }
    Diagnostic {
        code: c.id.as_str(),
        name: c.rule.map_or("", |(code, _)| code),
        severity: if c.id == CauseId::PhpFatal {
            Severity::Warning
        } else {
            Severity::Error
        },
        message: c.message.clone(),
        labels: c.labels.clone(),
        help: Some(help.into()),
        fix: c.fix.clone(),
    }
}

pub fn diagnostics(d: &Diagnosis) -> Vec<Diagnostic> {
    d.causes.iter().map(to_diagnostic).collect()
}

/// One line to close human and concise output.
pub fn summary(d: &Diagnosis) -> String {
    let causes = d.causes.len();
    let mut s = format!(
        "Read {} log line{} ({} of no known kind{}): ",
        d.lines_read,
        if d.lines_read == 1 { "" } else { "s" },
        d.lines_unknown,
        if d.lines_outside > 0 {
            format!(", {} outside --since/--until", d.lines_outside)
        } else {
            String::new()
        }
    );
    if causes == 0 {
        s.push_str("no cause of a 502, 504 or 404 found.");
    } else {
        s.push_str(&format!(
            "{causes} cause{} found.",
            if causes == 1 { "" } else { "s" }
        ));
    }
    s
}

pub fn human(d: &Diagnosis, opts: &HumanOptions) -> String {
    let diags = diagnostics(d);
    let report = Report::new(&diags, &d.lint.project.sources, &[], 0);
    let mut text = report::human::render(&report, opts);
    // The renderer ends with lint's summary ("Checked 0 files ..."): ours replaces it.
    let body = text.trim_end_matches('\n');
    text.truncate(body.rfind('\n').map_or(0, |i| i + 1));
    text.push_str(&summary(d));
    text.push('\n');
    text
}

pub fn concise(d: &Diagnosis, quiet: bool) -> String {
    let mut out = String::new();
    for c in &d.causes {
        let at = c
            .labels
            .iter()
            .find(|l| l.primary)
            .map(|l| {
                let f = d.lint.project.sources.get(l.file);
                format!("{}:{}", f.name, f.line_col(l.span.start as usize))
            })
            .or_else(|| {
                c.evidence()
                    .next()
                    .map(|e| format!("{}:{}:1", e.file, e.line))
            })
            .unwrap_or_else(|| "-".to_owned());
        let rule = c
            .rule
            .map(|(code, _)| format!(" {code}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{at}: error[{}{rule}] {} ({})\n",
            c.id.as_str(),
            c.message,
            when(c)
        ));
    }
    if !quiet {
        out.push_str(&summary(d));
        out.push('\n');
    }
    out
}

pub fn json(d: &Diagnosis) -> String {
    let diags = diagnostics(d);
    let report = Report::new(&diags, &d.lint.project.sources, &[], 0);
    // Labels and fixes in exactly lint's JSON shape.
    let lint_json = report::json::to_value(&report);
    let rendered = lint_json["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let causes: Vec<Value> = d
        .causes
        .iter()
        .zip(rendered)
        .map(|(c, r)| {
            json!({
                "cause": c.id.as_str(),
                "count": c.tally.count,
                "status": c.id.status(),
                "message": c.message,
                "help": c.help,
                "first_seen": c.tally.first_seen.map(|s| s.to_string()),
                "last_seen": c.tally.last_seen.map(|s| s.to_string()),
                "evidence": c.tally.evidence.iter().map(|(k, e)| json!({
                    "log": kind_name(*k),
                    "file": e.file,
                    "line": e.line,
                    "text": e.text,
                })).collect::<Vec<_>>(),
                "notes": c.tally.notes,
                "labels": r["labels"],
                "rule": c.rule.map(|(code, name)| json!({"code": code, "name": name})),
                "fix": r["fix"],
            })
        })
        .collect();
    let value = json!({
        "version": 1,
        "causes": causes,
        "lines_read": d.lines_read,
        "lines_unknown": d.lines_unknown,
        "lines_outside": d.lines_outside,
        "log_errors": d.log_errors.iter().map(|(p, e)| json!({"file": p.display().to_string(), "message": e})).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&value).expect("JSON values always serialize");
    s.push('\n');
    s
}

/// `diagnose --list`: every cause, what shows it, what it means, and the rule that predicts it.
pub fn list() -> String {
    let mut out = String::new();
    for id in CauseId::ALL {
        let (shows, means) = describe(id);
        let rules = super::predicted_by(id);
        out.push_str(&format!(
            "{} (HTTP {})\n  shown by: {shows}\n  means:    {means}\n  check:    {}\n  predicted by: {}\n\n",
            id.as_str(),
            id.status(),
            check(id),
            if rules.is_empty() {
                "-".to_owned()
            } else {
                rules.join(", ")
            }
        ));
    }
    out
}

/// What to look at first, for `--list`.
fn check(id: CauseId) -> &'static str {
    match id {
        CauseId::ListenMismatch => "`fastcgi_pass` against each pool's `listen`; `ls -l` the socket directory",
        CauseId::BackendDown => "`systemctl status php*-fpm` and its log; the kernel's log for an OOM kill; a stale socket file",
        CauseId::SocketPermission => "`ls -l` the socket; `ps -o user= -C nginx`; listen.owner, listen.group, listen.mode",
        CauseId::HeaderTooBig => "fastcgi_buffer_size where the location passes to PHP; the size of the app's cookies",
        CauseId::ScriptNotFound => "`fastcgi_param SCRIPT_FILENAME` and `root`; that the file exists where php-fpm runs",
        CauseId::NoLiveUpstreams => "the causes logged just before it, for each server of the upstream",
        CauseId::PoolExhausted => "pm.max_children and listen.backlog of the pool; the slow log; memory for more workers",
        CauseId::UpstreamTimeout => "fastcgi_read_timeout against request_terminate_timeout and max_execution_time; the slow script",
        CauseId::RequestTerminated => "the script php-fpm names; request_terminate_timeout against fastcgi_read_timeout",
        CauseId::WorkerCrashed => "`coredumpctl`; extensions loaded (`php -m`); PHP's version",
        CauseId::OomKilled => "`dmesg`; pm.max_children x memory per worker against the RAM or the container's limit",
        CauseId::ClientNotAllowed => "listen.allowed_clients against the address nginx connects from",
        CauseId::FpmStartFailed => "`php-fpm -t`; the socket's directory; another process on the port (`ss -ltnp`)",
        CauseId::UpstreamReset => "php-fpm's and the kernel's logs for the same minutes",
        CauseId::PhpFatal => "the application's code at the file and line PHP names",
    }
}

fn describe(id: CauseId) -> (&'static str, &'static str) {
    match id {
        CauseId::ListenMismatch => ("nginx `connect() to ADDR failed (2: ...)` or `(111: ...)`, where no pool of the config listens on ADDR", "fastcgi_pass names the wrong socket or port: fix the config, restarting php-fpm will not help"),
        CauseId::BackendDown => ("the same connect() errors, to an address a pool of the config listens on (111 on a unix socket: a stale socket left by a killed master)", "php-fpm is not running: start it, then find out why it stopped"),
        CauseId::SocketPermission => ("nginx `connect() to unix:... failed (13: Permission denied)`", "the worker user may not open the pool's socket: listen.owner/group/mode"),
        CauseId::HeaderTooBig => ("nginx `upstream sent too big header while reading response header from upstream`", "the response headers (cookies, redirects) exceed fastcgi_buffer_size"),
        CauseId::ScriptNotFound => ("nginx `FastCGI sent in stderr: \"Primary script unknown\"` (a 404)", "SCRIPT_FILENAME names no file where php-fpm runs"),
        CauseId::NoLiveUpstreams => ("nginx `no live upstreams while connecting to upstream`", "every server of the upstream failed max_fails times; the other causes say why"),
        CauseId::PoolExhausted => ("nginx `(11: Resource temporarily unavailable)` on a unix socket or `upstream timed out (110) while connecting`; php-fpm `server reached pm.max_children setting`, `seems busy`, `maximum number of processes has been reached`", "every worker was busy and the accept queue (listen.backlog) overflowed"),
        CauseId::UpstreamTimeout => ("nginx `upstream timed out (110: ...) while reading response header from upstream` (a 504)", "the script ran longer than fastcgi_read_timeout"),
        CauseId::RequestTerminated => ("php-fpm `execution timed out (N sec), terminating` with nginx's `recv() failed (104: ...)` for the same request", "request_terminate_timeout killed the script before nginx gave up"),
        CauseId::WorkerCrashed => ("php-fpm `child N exited on signal 11 (SIGSEGV)` (any signal but 9, 15 and 3) with nginx's 104", "PHP or an extension crashed"),
        CauseId::OomKilled => ("the kernel's `Out of memory: Killed process N (php-fpm...)` / `Memory cgroup out of memory: ...` and/or php-fpm `child N exited on signal 9 (SIGKILL)`, with nginx's 104 or `upstream prematurely closed`", "pm.max_children x memory per worker is more than the machine (or container) has"),
        CauseId::ClientNotAllowed => ("php-fpm `Connection disallowed: IP address ... has been dropped`, with nginx's 104", "listen.allowed_clients leaves out nginx's address"),
        CauseId::FpmStartFailed => ("php-fpm `unable to bind listening socket` (98 in use, 2 missing directory), `unknown entry`, `FPM initialization failed`", "php-fpm refused its configuration and is not running"),
        CauseId::UpstreamReset => ("nginx `recv() failed (104: ...)` or `upstream prematurely closed` that no php-fpm or kernel line given explains", "the backend went away mid-request; give php-fpm's and the kernel's logs to tell why"),
        CauseId::PhpFatal => ("nginx `FastCGI sent in stderr: \"PHP message: PHP Fatal error: ...\"` (a 500)", "an application error, reported after the gateway causes"),
    }
}
