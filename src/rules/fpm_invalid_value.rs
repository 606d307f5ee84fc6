use crate::diagnostic::{Label, Severity};
use crate::model::fpm::Setting;
use crate::model::fpm_defaults::instance_is_whole;
use crate::model::fpm_entries::{atoi, lookup, parse_refusal, value_as_read, Lookup, Parser};
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a value php-fpm refuses while reading its configuration, as its parsers in
    /// `fpm_conf.c` read it: an integer that is not digits (`pm.max_requests = 500k`), a time
    /// whose suffix is not `s`, `m`, `h` or `d` (`request_terminate_timeout = 30x`, `10S`) or
    /// that is empty, a boolean that is none of yes/no/on/off/true/false/none/1/0 (also in
    /// `php_flag[...]` and `php_admin_flag[...]`), a `log_level` or `syslog.facility` it does
    /// not know, a negative `rlimit_core` (other than `unlimited`), an `env[...]` with an
    /// empty value, an array entry without a key (`php_value[] = 1`), an
    /// `access.suppress_path[]` that is keyed or does not start with `/`, a
    /// `process.priority` outside -19..20, and a `log_limit` below 512.
    ///
    /// Values a template fills in (`$VAR` for envsubst, `{{ var }}`), values written with a
    /// `${VAR}` not supplied (`--env`, `--env-file`, `[env]`), PHP
    /// expressions and bare words in capitals (PHP may read those as constants) are not
    /// judged. What depends on the host (users, groups, paths, ports, the event mechanisms
    /// the system has) is not checked either; nor is `listen.mode`, which php-fpm reads with
    /// `strtoul` and never refuses. Checks owned by other rules: `pm` itself and the
    /// process manager's numbers (`fpm-pm-invalid`, which reports `pm = dynamik`), `listen`
    /// (`fpm-listen-invalid`), `process.max` (`fpm-pm-invalid`).
    ///
    /// ## Why it matters
    /// php-fpm stops at the first value it cannot read and does not start (nor reload):
    /// `php-fpm -t` fails with, e.g.,
    /// `ERROR: [www.conf:12] unable to parse value for entry 'request_terminate_timeout': unknown suffix used in time value`
    /// or `ERROR: [pool www] process.priority must be included into [-19,20]`, then
    /// `ERROR: FPM initialization failed`.
    ///
    /// Booleans: the 8.1 and 8.2 sources take only what PHP's ini reader makes "1" or ""
    /// of (yes/no/on/off/true/false/none, unquoted); newer builds (Debian's php-fpm 8.2.36
    /// among them) also take `0` and the words in quotes. Only what every version refuses is
    /// reported.
    ///
    /// ## Example
    /// ```ini
    /// [www]
    /// listen = /run/php/php8.2-fpm.sock
    /// pm = static
    /// pm.max_children = 5
    /// request_terminate_timeout = 30x
    /// ```
    ///
    /// ## Use instead
    /// ```ini
    /// [www]
    /// listen = /run/php/php8.2-fpm.sock
    /// pm = static
    /// pm.max_children = 5
    /// request_terminate_timeout = 30s
    /// ```
    ///
    /// ## Fix safety
    /// No fix: what the value should have been is the author's choice.
    ///
    /// ## References
    /// - php-fpm: configuration (<https://www.php.net/manual/en/install.fpm.configuration.php>)
    /// - php-src: `sapi/fpm/fpm/fpm_conf.c` (`fpm_conf_set_integer`, `_time`, `_boolean`,
    ///   `_log_level`, `_syslog_facility`, `_rlimit_core`, `fpm_conf_ini_parser_array`,
    ///   `fpm_conf_process_all_pools`, `fpm_conf_post_process`)
    pub struct FpmInvalidValue {
        name: "fpm-invalid-value",
        category: Fpm,
        severity: Error,
        fix: Never,
    }
}

/// `ZLOG_MIN_LIMIT`.
const MIN_LOG_LIMIT: i64 = 512;

impl Rule for FpmInvalidValue {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let version = cx.settings.php_version;
        for globals in &cx.fpm.globals {
            for s in globals {
                out.extend(parse_problem(s, None, version));
            }
            let last = |key: &str| {
                globals
                    .iter()
                    .rev()
                    .find(|s| !s.entry().is_array() && s.key().eq_ignore_ascii_case(key))
            };
            if let Some(s) = last("process.priority") {
                out.extend(priority_problem(s, None));
            }
            if let Some(s) = last("log_limit") {
                if let Some(n) = int_of(s).filter(|&n| n < MIN_LOG_LIMIT) {
                    out.push(finding(
                        s,
                        format!(
                            "`log_limit = {n}`: log_limit must be greater than {MIN_LOG_LIMIT}"
                        ),
                        "ERROR: log_limit must be greater than 512".into(),
                    ));
                }
            }
        }
        for pool in &cx.fpm.pools {
            for s in &pool.entries {
                out.extend(parse_problem(s, Some(&pool.name), version));
            }
            if let Some(s) = pool.get("request_slowlog_trace_depth") {
                if let Some(n) = int_of(&s).filter(|&n| n < 0) {
                    out.push(finding(
                        &s,
                        format!("'request_slowlog_trace_depth' ({n}) must be a positive value (pool [{}])", pool.name),
                        format!("ERROR: [pool {}] 'request_slowlog_trace_depth' ({n}) must be a positive value", pool.name),
                    ));
                }
            }
            if let Some(s) = pool.get("process.priority") {
                if let Some(mut f) = priority_problem(&s, Some(&pool.name)) {
                    if !instance_is_whole(cx.project, cx.fpm, pool) {
                        let help = format!(
                            "{} The linted files are not the whole php-fpm configuration: ignore this if a file not linted sets process.priority after this one",
                            f.help.as_deref().unwrap_or_default()
                        );
                        f = f.severity(Severity::Warning).help(help);
                    }
                    out.push(f);
                }
            }
        }
        out
    }
}

fn finding(s: &Setting<'_>, message: String, log: String) -> Finding {
    Finding::new(
        message,
        Label::primary(s.file, s.value_span(), "refused by php-fpm"),
    )
    .help(format!(
        "php-fpm refuses to start (and `php-fpm -t` fails): it logs `{log}`, then `FPM initialization failed`."
    ))
}

fn int_of(s: &Setting<'_>) -> Option<i64> {
    let v = value_as_read(s.entry())?;
    let digits = v.strip_prefix('-').unwrap_or(&v);
    digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| i64::from(atoi(&v)))
}

/// What the entry's value parser refuses, as php-fpm reads the line.
fn parse_problem(
    s: &Setting<'_>,
    pool: Option<&str>,
    version: crate::model::fpm_entries::PhpVersion,
) -> Option<Finding> {
    let e = s.entry();
    if s.is_from_env() {
        return None;
    }
    let Lookup::Known(entry) = lookup(pool.is_none(), e.name(), e.is_array(), version) else {
        return None;
    };
    // `pm = dynamik` is fpm-pm-invalid's; a string is anything.
    if entry.parser == Parser::Pm || entry.parser == Parser::String {
        return None;
    }
    let value = value_as_read(e)?;
    if looks_templated(s.written()) {
        return None;
    }
    let key = e.offset_name().unwrap_or("");
    let why = parse_refusal(entry, &value, key)?;
    let place = pool.map_or("[global]".to_owned(), |p| format!("pool [{p}]"));
    let shown = format!(
        "{} = {}",
        &e.config().text()[e.key_span().range()],
        s.written()
    );
    Some(finding(
        s,
        format!("{why} ({place}: `{}`)", shown.trim_end()),
        format!("ERROR: [FILE:LINE] {why}"),
    ))
}

/// A value a template engine fills in before php-fpm reads the file (`$clear_env` for
/// envsubst, `{{ pm_max }}` for Jinja): php-fpm never sees it as written.
fn looks_templated(written: &str) -> bool {
    let v = written.trim().trim_matches(['"', '\'']);
    let shell_var = v
        .strip_prefix('$')
        .and_then(|rest| rest.bytes().next())
        .is_some_and(|b| b == b'_' || b.is_ascii_alphabetic());
    shell_var || v.contains("{{")
}

/// `process.priority` outside -19..20 (64 is php-fpm's "unset").
fn priority_problem(s: &Setting<'_>, pool: Option<&str>) -> Option<Finding> {
    let n = int_of(s)?;
    if n == 64 || (-19..=20).contains(&n) {
        return None;
    }
    let words = "process.priority must be included into [-19,20]";
    let log = match pool {
        Some(p) => format!("ERROR: [pool {p}] {words}"),
        None => format!("ERROR: {words}"),
    };
    let place = pool.map_or("[global]".to_owned(), |p| format!("pool [{p}]"));
    Some(finding(
        s,
        format!("{words} ({place}: `process.priority = {n}`)"),
        log,
    ))
}
