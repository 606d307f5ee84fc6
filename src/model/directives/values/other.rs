//! More handlers of nginx's own: `allow`/`deny`, `error_log` levels, `open_file_cache`,
//! `directio`, `ssl_session_cache` and the `if_not_empty` of `fastcgi_param` and its kin.

use super::address::is_cidr;
use super::parse::{atoi, parse_offset, parse_size, parse_time};
use super::{has_variable, ValueProblem};
use crate::syntax::nginx::{Directive, Word};

fn at(w: Word<'_>, message: String) -> Option<ValueProblem> {
    Some(ValueProblem::at(w, message))
}

/// `allow`/`deny address | CIDR | unix: | all` (`ngx_http_access_rule`); names are refused.
pub(super) fn access_rule(d: Directive<'_>) -> Option<ValueProblem> {
    let w = d.args().first()?;
    let v = w.value();
    if v == "all" || v == "unix:" || is_cidr(v.as_bytes()) {
        return None;
    }
    at(w, format!("invalid parameter \"{v}\""))
}

/// `error_log file [level ...]` (`ngx_log_set_levels`): one of the eight levels, or
/// `debug_*` levels alone.
pub(super) fn error_log(d: Directive<'_>) -> Option<ValueProblem> {
    const LEVELS: [&str; 8] = [
        "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
    ];
    const DEBUG: [&str; 7] = [
        "debug_core",
        "debug_alloc",
        "debug_mutex",
        "debug_event",
        "debug_http",
        "debug_mail",
        "debug_stream",
    ];
    let mut level = false;
    let mut debug = false;
    for w in d.args().iter().skip(1) {
        let v = w.value();
        if LEVELS.contains(&v) {
            if level || debug {
                return at(w, format!("duplicate log level \"{v}\""));
            }
            level = true;
        } else if DEBUG.contains(&v) {
            if level {
                return at(w, format!("invalid log level \"{v}\""));
            }
            debug = true;
        } else {
            return at(w, format!("invalid log level \"{v}\""));
        }
    }
    None
}

/// `open_file_cache off | max=N [inactive=time]` (`ngx_http_core_open_file_cache`).
pub(super) fn open_file_cache(d: Directive<'_>) -> Option<ValueProblem> {
    let mut max = false;
    let mut off = false;
    for w in d.args().iter() {
        let v = w.value();
        let ok = if let Some(n) = v.strip_prefix("max=") {
            max = matches!(atoi(n.as_bytes()), Some(n) if n > 0);
            max
        } else if let Some(t) = v.strip_prefix("inactive=") {
            parse_time(t.as_bytes(), true).is_some()
        } else if v == "off" {
            off = true;
            true
        } else {
            false
        };
        if !ok {
            return at(w, format!("invalid \"open_file_cache\" parameter \"{v}\""));
        }
    }
    (!off && !max).then(|| {
        ValueProblem::at(
            d.name_word(),
            "\"open_file_cache\" must have the \"max\" parameter".into(),
        )
    })
}

/// `directio off | size`.
pub(super) fn directio(d: Directive<'_>) -> Option<ValueProblem> {
    let w = d.args().first()?;
    let v = w.value();
    (v != "off" && parse_offset(v.as_bytes()).is_none())
        .then(|| ValueProblem::at(w, "\"directio\" directive invalid value".into()))
}

/// `ssl_session_cache off | none | [builtin[:size]] [shared:name:size]`.
pub(super) fn ssl_session_cache(d: Directive<'_>) -> Option<ValueProblem> {
    for w in d.args().iter() {
        let v = w.value();
        let invalid = || at(w, format!("invalid session cache \"{v}\""));
        if matches!(v, "off" | "none" | "builtin") {
            continue;
        }
        if let Some(n) = v.strip_prefix("builtin:").filter(|n| !n.is_empty()) {
            if atoi(n.as_bytes()).is_none() {
                return invalid();
            }
            continue;
        }
        if let Some(rest) = v.strip_prefix("shared:").filter(|r| !r.is_empty()) {
            // Without a second colon nginx reads past the value: left to it.
            let (name, size) = rest.split_once(':')?;
            if name.is_empty() {
                return invalid();
            }
            match parse_size(size.as_bytes()) {
                None => return invalid(),
                // Eight pages: 32k with 4 KiB pages, more with larger ones.
                Some(n) if n < 8 * 4096 => {
                    return at(w, format!("session cache \"{v}\" is too small"))
                }
                Some(_) => continue,
            }
        }
        return invalid();
    }
    None
}

/// `fastcgi_param name value [if_not_empty]` (`ngx_http_upstream_param_set_slot`).
pub(super) fn param(d: Directive<'_>) -> Option<ValueProblem> {
    let w = d.args().get(2)?;
    (w.value() != "if_not_empty")
        .then(|| ValueProblem::at(w, format!("invalid parameter \"{}\"", w.value())))
}

/// `try_files file ... uri | =code`: a last `=code` must be a number up to 999.
pub(super) fn try_files(d: Directive<'_>) -> Option<ValueProblem> {
    let w = d.args().last()?;
    let v = w.value();
    let code = v.strip_prefix('=')?;
    if has_variable(v) {
        return None;
    }
    (!matches!(atoi(code.as_bytes()), Some(c) if c <= 999))
        .then(|| ValueProblem::at(w, format!("invalid code \"{v}\"")))
}

/// `fastcgi_cache_path path [levels=1:2] keys_zone=name:size [inactive=time] ...` and its
/// kin (`ngx_http_file_cache_set_slot`).
pub(super) fn cache_path(name: &str, d: Directive<'_>) -> Option<ValueProblem> {
    let mut zone = false;
    for w in d.args().iter().skip(1) {
        let v = w.value();
        let bad = |what: &str| at(w, format!("invalid {what} value \"{v}\""));
        if let Some(levels) = v.strip_prefix("levels=") {
            if !levels_ok(levels.as_bytes()) {
                return at(w, format!("invalid \"levels\" \"{v}\""));
            }
        } else if let Some(flag) = v.strip_prefix("use_temp_path=") {
            if flag != "on" && flag != "off" {
                return at(
                    w,
                    format!("invalid use_temp_path value \"{v}\", it must be \"on\" or \"off\""),
                );
            }
        } else if let Some(z) = v.strip_prefix("keys_zone=") {
            let Some((zone_name, size)) = z.split_once(':') else {
                return at(w, format!("invalid keys zone size \"{v}\""));
            };
            match parse_size(size.as_bytes()) {
                None => return at(w, format!("invalid keys zone size \"{v}\"")),
                // Two pages: 8k with 4 KiB pages, more with larger ones.
                Some(n) if n < 2 * 4096 => return at(w, format!("keys zone \"{v}\" is too small")),
                Some(n) => zone = !zone_name.is_empty() && n > 0,
            }
        } else if let Some(t) = v.strip_prefix("inactive=") {
            if parse_time(t.as_bytes(), true).is_none() {
                return bad("inactive");
            }
        } else if let Some(o) = v.strip_prefix("max_size=") {
            if parse_offset(o.as_bytes()).is_none() {
                return bad("max_size");
            }
        } else if let Some(o) = v.strip_prefix("min_free=") {
            if parse_offset(o.as_bytes()).is_none() {
                return bad("min_free");
            }
        } else if let Some(n) = v.strip_prefix("loader_files=") {
            if atoi(n.as_bytes()).is_none() {
                return bad("loader_files");
            }
        } else if let Some(n) = v.strip_prefix("manager_files=") {
            if atoi(n.as_bytes()).is_none() {
                return bad("manager_files");
            }
        } else if let Some((key, t)) = [
            "loader_sleep=",
            "loader_threshold=",
            "manager_sleep=",
            "manager_threshold=",
        ]
        .iter()
        .find_map(|k| v.strip_prefix(k).map(|t| (k, t)))
        {
            if parse_time(t.as_bytes(), false).is_none() {
                return bad(&key[..key.len() - 1]);
            }
        } else if v.starts_with("purger") {
            // nginx Plus: not judged.
            return None;
        } else {
            return at(w, format!("invalid parameter \"{v}\""));
        }
    }
    (!zone).then(|| {
        ValueProblem::at(
            d.name_word(),
            format!("\"{name}\" must have \"keys_zone\" parameter"),
        )
    })
}

/// `levels=1:2`: up to three levels of one or two characters.
fn levels_ok(v: &[u8]) -> bool {
    let mut p = 0;
    let mut n = 0;
    while n < 3 && p < v.len() {
        if !matches!(v[p], b'1' | b'2') {
            return false;
        }
        p += 1;
        if p == v.len() {
            break;
        }
        let c = v[p];
        p += 1;
        if c == b':' && n < 2 && p < v.len() {
            n += 1;
            continue;
        }
        return false;
    }
    true
}

/// `fastcgi_cache_valid [code ...] time` (`ngx_http_file_cache_valid_set_slot`).
pub(super) fn cache_valid(d: Directive<'_>) -> Option<ValueProblem> {
    let args = d.args();
    let time = args.last()?;
    if parse_time(time.value().as_bytes(), true).is_none() {
        return at(time, format!("invalid time value \"{}\"", time.value()));
    }
    for w in args.iter().take(args.len() - 1) {
        let v = w.value();
        if v != "any" && !matches!(atoi(v.as_bytes()), Some(s) if (100..=599).contains(&s)) {
            return at(w, format!("invalid status \"{v}\""));
        }
    }
    None
}
