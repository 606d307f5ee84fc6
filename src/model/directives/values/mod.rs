//! Values nginx checks while it reads the configuration, with nginx's own words for each
//! refusal (`nginx -t` prints them after `[emerg]`).
//!
//! Only what nginx refuses without the host is checked: no files, DNS names, certificates or
//! users. A value nginx resolves at run time (one with a variable, where the directive takes
//! variables) is left alone, and so is anything these checks are unsure of: a false error is
//! worse than a missed one. The rules are those of nginx 1.22 (what Debian ships); where a later
//! nginx accepts more (`listen ... quic`, `server ... resolve`), the value is not flagged.

mod address;
mod other;
pub mod parse;
pub mod regex;
mod script;

use super::{arg_count_ok, DirectiveSpec, ValueKind, Version};
use crate::source::Span;
use crate::syntax::nginx::{Directive, Word};

/// A value nginx refuses: its message (nginx's words) and the offending argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueProblem {
    pub message: String,
    pub span: Span,
}

impl ValueProblem {
    fn at(word: Word<'_>, message: String) -> ValueProblem {
        ValueProblem {
            message,
            span: word.span(),
        }
    }
}

/// What nginx would say of `d`'s arguments, read as the directive `spec` describes. None when
/// nginx accepts them, when the argument count is wrong (another rule's finding), or when the
/// answer depends on the host or on other directives. The nginx version is not known: a
/// parameter that a later nginx added (`listen ... quic`) is not flagged.
pub fn check(spec: &DirectiveSpec, d: Directive<'_>) -> Option<ValueProblem> {
    check_for_version(spec, d, None)
}

/// [`check`] for a known nginx version (the `nginx-version` setting): parameters added after
/// it are refused as that nginx refuses them (`invalid parameter "quic"` before 1.25.0).
pub fn check_for_version(
    spec: &DirectiveSpec,
    d: Directive<'_>,
    nginx: Option<Version>,
) -> Option<ValueProblem> {
    let args = d.args();
    if !arg_count_ok(spec.args, args.len()) {
        return None;
    }
    if let Some(answer) = by_name(spec, d, nginx) {
        return answer;
    }
    let name = spec.name;
    let first = args.first()?;
    let v = first.value().as_bytes();
    let invalid_value = || ValueProblem::at(first, format!("\"{name}\" directive invalid value"));
    let problem = slot(spec, args, first, v, invalid_value)?;
    // A standard slot takes no variables, but a later nginx may read the same directive
    // through a slot that does (`limit_rate` since 1.17.0): a `$` is left to nginx.
    if args.iter().any(|w| has_variable(w.value())) {
        return None;
    }
    Some(problem)
}

/// The standard `ngx_conf_set_*_slot` readers.
fn slot(
    spec: &DirectiveSpec,
    args: crate::syntax::nginx::Words<'_>,
    first: Word<'_>,
    v: &[u8],
    invalid_value: impl Fn() -> ValueProblem,
) -> Option<ValueProblem> {
    let name = spec.name;
    match spec.value {
        ValueKind::Custom | ValueKind::Str => None,
        ValueKind::Flag => {
            (!v.eq_ignore_ascii_case(b"on") && !v.eq_ignore_ascii_case(b"off")).then(|| {
                ValueProblem::at(
                    first,
                    format!(
                        "invalid value \"{}\" in \"{name}\" directive, it must be \"on\" or \"off\"",
                        first.value()
                    ),
                )
            })
        }
        ValueKind::Number => match parse::atoi(v) {
            None => Some(ValueProblem::at(
                first,
                format!("\"{name}\" directive invalid number"),
            )),
            Some(n) => bounds(name, n).map(|message| ValueProblem::at(first, message)),
        },
        ValueKind::Size => parse::parse_size(v).is_none().then(invalid_value),
        ValueKind::Offset => parse::parse_offset(v).is_none().then(invalid_value),
        ValueKind::Msec => parse::parse_time(v, false).is_none().then(invalid_value),
        ValueKind::Sec => parse::parse_time(v, true).is_none().then(invalid_value),
        ValueKind::Enum(words) => {
            (!words.iter().any(|w| w.as_bytes().eq_ignore_ascii_case(v))).then(|| {
                ValueProblem::at(first, format!("invalid value \"{}\"", first.value()))
            })
        }
        ValueKind::Bitmask(words) => args
            .iter()
            .find(|a| {
                !words
                    .iter()
                    .any(|w| w.as_bytes().eq_ignore_ascii_case(a.value().as_bytes()))
            })
            .map(|a| ValueProblem::at(a, format!("invalid value \"{}\"", a.value()))),
    }
}

/// The bounds nginx puts on some numbers (`ngx_conf_check_num_bounds`).
fn bounds(name: &str, n: i64) -> Option<String> {
    let (low, high) = match name {
        "gzip_comp_level" => (1, 9),
        "limit_conn_status" | "limit_req_status" => (400, 599),
        "uwsgi_modifier1" | "uwsgi_modifier2" => (0, 255),
        _ => return None,
    };
    (n < low || n > high).then(|| format!("value must be between {low} and {high}"))
}

/// Directives with a handler of their own, or a standard slot with more to it. Some(None)
/// when the directive is known here and nginx accepts it (or the answer is unsure); None when
/// the standard slot of `spec.value` decides.
fn by_name(
    spec: &DirectiveSpec,
    d: Directive<'_>,
    nginx: Option<Version>,
) -> Option<Option<ValueProblem>> {
    let args = d.args();
    let http = spec.module.starts_with("ngx_http_");
    Some(match spec.name {
        // `ngx_conf_set_bufs_slot`: a count and a size, neither zero.
        "fastcgi_buffers"
        | "gunzip_buffers"
        | "gzip_buffers"
        | "proxy_buffers"
        | "scgi_buffers"
        | "uwsgi_buffers"
        | "output_buffers"
        | "large_client_header_buffers"
            if http =>
        {
            bufs(spec.name, d)
        }
        "listen" if spec.module == "ngx_http_core_module" => address::listen(d, nginx),
        "server" if spec.module == "ngx_http_upstream_module" => address::upstream_server(d, nginx),
        "fastcgi_pass" | "scgi_pass" | "uwsgi_pass" | "grpc_pass" | "proxy_pass"
        | "memcached_pass"
            if http =>
        {
            address::pass(spec.name, d)
        }
        "return" if spec.module == "ngx_http_rewrite_module" => script::return_code(d),
        "if" if spec.module == "ngx_http_rewrite_module" => script::if_condition(d),
        "rewrite" if spec.module == "ngx_http_rewrite_module" => script::rewrite(d),
        "set" if spec.module == "ngx_http_rewrite_module" => script::set(d),
        "error_page" if spec.module == "ngx_http_core_module" => script::error_page(d),
        "location" if spec.module == "ngx_http_core_module" => script::location(d),
        "server_name" if spec.module == "ngx_http_core_module" => script::server_name(d),
        "keepalive_timeout" if spec.module == "ngx_http_core_module" => {
            script::keepalive_timeout(d)
        }
        "expires" if spec.module == "ngx_http_headers_filter_module" => script::expires(d),
        "add_header" if spec.module == "ngx_http_headers_filter_module" => script::add_header(d),
        "limit_req" if spec.module == "ngx_http_limit_req_module" => script::limit_req(d),
        "limit_req_zone" if spec.module == "ngx_http_limit_req_module" => script::limit_req_zone(d),
        "log_format" if spec.module == "ngx_http_log_module" => script::log_format(d),
        "fastcgi_split_path_info" if spec.module == "ngx_http_fastcgi_module" => {
            script::split_path_info(d)
        }
        "allow" | "deny" if spec.module == "ngx_http_access_module" => other::access_rule(d),
        "error_log"
            if matches!(
                spec.module,
                "ngx_errlog_module"
                    | "ngx_http_core_module"
                    | "ngx_stream_core_module"
                    | "ngx_mail_core_module"
            ) =>
        {
            other::error_log(d)
        }
        "open_file_cache" if spec.module == "ngx_http_core_module" => other::open_file_cache(d),
        "directio" if spec.module == "ngx_http_core_module" => other::directio(d),
        "ssl_session_cache" if spec.module == "ngx_http_ssl_module" => other::ssl_session_cache(d),
        "fastcgi_param" | "uwsgi_param" | "scgi_param" if http => other::param(d),
        "try_files" if http => other::try_files(d),
        "fastcgi_cache_path" | "proxy_cache_path" | "scgi_cache_path" | "uwsgi_cache_path"
            if http =>
        {
            other::cache_path(spec.name, d)
        }
        "fastcgi_cache_valid" | "proxy_cache_valid" | "scgi_cache_valid" | "uwsgi_cache_valid"
            if http =>
        {
            other::cache_valid(d)
        }
        "worker_processes" if spec.module == "ngx_core_module" => {
            let w = args.first()?;
            (!w.is("auto") && parse::atoi(w.value().as_bytes()).is_none())
                .then(|| ValueProblem::at(w, "\"worker_processes\" directive invalid value".into()))
        }
        "worker_connections" if spec.module == "ngx_event_core_module" => {
            let w = args.first()?;
            parse::atoi(w.value().as_bytes())
                .is_none()
                .then(|| ValueProblem::at(w, format!("invalid number \"{}\"", w.value())))
        }
        _ => return None,
    })
}

/// `ngx_conf_set_bufs_slot`: `8 4k`, a count and a size, neither zero.
fn bufs(name: &str, d: Directive<'_>) -> Option<ValueProblem> {
    let args = d.args();
    let (count, size) = (args.get(0)?, args.get(1)?);
    let bad = if !matches!(parse::atoi(count.value().as_bytes()), Some(n) if n > 0) {
        count
    } else if !matches!(parse::parse_size(size.value().as_bytes()), Some(n) if n > 0) {
        size
    } else {
        return None;
    };
    Some(ValueProblem::at(
        bad,
        format!("\"{name}\" directive invalid value"),
    ))
}

/// Whether nginx's script compiler sees a variable in `s` (`ngx_http_script_variables_count`
/// counts every `$`): such a value is only resolved per request.
fn has_variable(s: &str) -> bool {
    s.contains('$')
}

#[cfg(test)]
mod tests;
