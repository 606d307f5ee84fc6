//! Directives with handlers of their own in nginx's http modules: the rewrite module's
//! `return`, `if`, `rewrite` and `set`, and `error_page`, `location`, `server_name`,
//! `keepalive_timeout`, `expires`, `add_header`, `limit_req(_zone)`, `log_format` and
//! `fastcgi_split_path_info`.

use super::parse::{atoi, parse_size, parse_time};
use super::regex::{self, Verdict};
use super::{has_variable, ValueProblem};
use crate::syntax::nginx::{Directive, Word};

/// A pattern nginx compiles now: PCRE2's refusal in nginx's words, at `word`.
fn compile(word: Word<'_>, pattern: &str) -> Result<Option<usize>, Option<ValueProblem>> {
    match regex::check(pattern) {
        Verdict::Ok { captures } => Ok(captures),
        Verdict::Err { message, offset } => Err(Some(ValueProblem::at(
            word,
            regex::nginx_message(pattern, message, offset),
        ))),
        Verdict::Unsure => Err(None),
    }
}

fn regex_problem(word: Word<'_>, pattern: &str) -> Option<ValueProblem> {
    compile(word, pattern).err().flatten()
}

/// `return code [text]`, `return URL` (`ngx_http_rewrite_return`).
pub(super) fn return_code(d: Directive<'_>) -> Option<ValueProblem> {
    let args = d.args();
    let first = args.first()?;
    let v = first.value();
    let invalid = || {
        Some(ValueProblem::at(
            first,
            format!("invalid return code \"{v}\""),
        ))
    };
    match atoi(v.as_bytes()) {
        Some(code) if code > 999 => invalid(),
        Some(_) => None,
        None if args.len() == 1
            && ["http://", "https://", "$scheme"]
                .iter()
                .any(|p| v.starts_with(p)) =>
        {
            None
        }
        None => invalid(),
    }
}

/// `rewrite regex replacement [flag]` (`ngx_http_rewrite`).
pub(super) fn rewrite(d: Directive<'_>) -> Option<ValueProblem> {
    let args = d.args();
    let (pattern, replacement) = (args.get(0)?, args.get(1)?);
    if replacement.value().is_empty() {
        return Some(ValueProblem::at(replacement, "empty replacement".into()));
    }
    if let Err(problem) = compile(pattern, pattern.value()) {
        return problem;
    }
    let flag = args.get(2)?;
    (!matches!(flag.value(), "last" | "break" | "redirect" | "permanent"))
        .then(|| ValueProblem::at(flag, format!("invalid parameter \"{}\"", flag.value())))
}

/// `set $variable value` (`ngx_http_rewrite_set`): the name must start with `$`.
pub(super) fn set(d: Directive<'_>) -> Option<ValueProblem> {
    let name = d.args().first()?;
    (!name.value().starts_with('$'))
        .then(|| ValueProblem::at(name, format!("invalid variable name \"{}\"", name.value())))
}

/// `if (condition)` (`ngx_http_rewrite_if_condition`), token by token as nginx reads it.
pub(super) fn if_condition(d: Directive<'_>) -> Option<ValueProblem> {
    let args = d.args();
    let n = args.len();
    if n == 0 || n > 8 {
        return None;
    }
    // nginx's `value[]`: 1-based, the parentheses trimmed in place as it goes.
    let mut vals: [&str; 10] = [""; 10];
    for (i, w) in args.iter().enumerate() {
        vals[i + 1] = w.value();
    }
    let word = |i: usize| args.get(i.max(1) - 1).or(args.first());
    let invalid = |i: usize, v: &str| {
        Some(ValueProblem::at(
            word(i)?,
            format!("invalid condition \"{v}\""),
        ))
    };
    let mut last = n;
    if !vals[1].starts_with('(') {
        return invalid(1, vals[1]);
    }
    let cur = if vals[1].len() == 1 {
        2
    } else {
        vals[1] = &vals[1][1..];
        1
    };
    if !vals[last].ends_with(')') {
        return invalid(last, vals[last]);
    }
    if vals[last].len() == 1 {
        last -= 1;
    } else {
        vals[last] = &vals[last][..vals[last].len() - 1];
    }
    let p = vals[cur];
    if p.len() > 1 && p.starts_with('$') {
        if cur != last && cur + 2 != last {
            return invalid(cur, p);
        }
        if cur == last {
            return None;
        }
        let op = vals[cur + 1];
        return match op {
            "=" | "!=" => None,
            "~" | "~*" | "!~" | "!~*" => regex_problem(word(last)?, vals[last]),
            _ => Some(ValueProblem::at(
                word(cur + 1)?,
                format!("unexpected \"{op}\" in condition"),
            )),
        };
    }
    let b = p.as_bytes();
    let test = match b {
        [b'-', t] => Some(*t),
        [b'!', b'-', t] => Some(*t),
        _ => None,
    };
    if let Some(t) = test {
        if cur + 1 == last && matches!(t, b'f' | b'd' | b'e' | b'x') {
            return None;
        }
    }
    invalid(cur, p)
}

/// `error_page code ... [=[response]] uri` (`ngx_http_core_error_page`).
pub(super) fn error_page(d: Directive<'_>) -> Option<ValueProblem> {
    let args = d.args();
    let n = args.len();
    if n < 2 {
        return None;
    }
    let invalid = |w: Word<'_>| {
        Some(ValueProblem::at(
            w,
            format!("invalid value \"{}\"", w.value()),
        ))
    };
    let answer = args.get(n - 2)?;
    let codes_end = if answer.value().starts_with('=') {
        if n == 2 {
            return invalid(answer);
        }
        let rest = &answer.value()[1..];
        if !rest.is_empty() && atoi(rest.as_bytes()).is_none() {
            return invalid(answer);
        }
        n - 2
    } else {
        n - 1
    };
    for w in args.iter().take(codes_end) {
        match atoi(w.value().as_bytes()) {
            None | Some(499) => return invalid(w),
            Some(code) if !(300..=599).contains(&code) => {
                return Some(ValueProblem::at(
                    w,
                    format!("value \"{}\" must be between 300 and 599", w.value()),
                ))
            }
            Some(_) => {}
        }
    }
    None
}

/// `location [modifier] uri` (`ngx_http_core_location`): the modifier, and the regex.
pub(super) fn location(d: Directive<'_>) -> Option<ValueProblem> {
    let args = d.args();
    if args.len() == 2 {
        let (modifier, name) = (args.get(0)?, args.get(1)?);
        return match modifier.value() {
            "=" | "^~" => None,
            "~" | "~*" => regex_problem(name, name.value()),
            m => Some(ValueProblem::at(
                modifier,
                format!("invalid location modifier \"{m}\""),
            )),
        };
    }
    let name = args.first()?;
    let v = name.value();
    let pattern = v.strip_prefix("~*").or_else(|| v.strip_prefix('~'))?;
    regex_problem(name, pattern)
}

/// `server_name` (`ngx_http_core_server_name`): wildcard shapes and regexes.
pub(super) fn server_name(d: Directive<'_>) -> Option<ValueProblem> {
    for w in d.args().iter() {
        let v = w.value();
        let b = v.as_bytes();
        if (b.first() == Some(&b'*') && (b.len() < 3 || b[1] != b'.'))
            || (b.first() == Some(&b'.') && b.len() < 2)
        {
            return Some(ValueProblem::at(
                w,
                format!("server name \"{v}\" is invalid"),
            ));
        }
        if let Some(pattern) = v.strip_prefix('~') {
            if pattern.is_empty() {
                return Some(ValueProblem::at(
                    w,
                    format!("empty regex in server name \"{v}\""),
                ));
            }
            if let Err(problem) = compile(w, pattern) {
                return problem;
            }
        }
    }
    None
}

/// `keepalive_timeout timeout [header_timeout]`: milliseconds, then seconds.
pub(super) fn keepalive_timeout(d: Directive<'_>) -> Option<ValueProblem> {
    let args = d.args();
    let invalid = |w: Word<'_>| {
        Some(ValueProblem::at(
            w,
            "\"keepalive_timeout\" directive invalid value".into(),
        ))
    };
    let timeout = args.first()?;
    if parse_time(timeout.value().as_bytes(), false).is_none() {
        return invalid(timeout);
    }
    let header = args.get(1)?;
    if parse_time(header.value().as_bytes(), true).is_none() {
        return invalid(header);
    }
    None
}

/// `expires [modified] time | epoch | max | off` (`ngx_http_headers_expires`).
pub(super) fn expires(d: Directive<'_>) -> Option<ValueProblem> {
    let args = d.args();
    let say = |w: Word<'_>, what: &str| {
        Some(ValueProblem::at(w, format!("\"expires\" directive {what}")))
    };
    let modified = args.len() == 2;
    if modified && args.first()?.value() != "modified" {
        return say(args.first()?, "invalid value");
    }
    let w = args.last()?;
    let v = w.value();
    if has_variable(v) {
        return None;
    }
    if !modified && matches!(v, "epoch" | "max" | "off") {
        return None;
    }
    let (daily, time) = if let Some(t) = v.strip_prefix('@') {
        if modified {
            return say(w, "daily time cannot be used with \"modified\" parameter");
        }
        (true, t)
    } else {
        (false, v.strip_prefix(['+', '-']).unwrap_or(v))
    };
    match parse_time(time.as_bytes(), true) {
        None => say(w, "invalid value"),
        Some(t) if daily && t > 24 * 60 * 60 => {
            say(w, "daily time value must be less than 24 hours")
        }
        Some(_) => None,
    }
}

/// `add_header name value [always]`.
pub(super) fn add_header(d: Directive<'_>) -> Option<ValueProblem> {
    let flag = d.args().get(2)?;
    (flag.value() != "always")
        .then(|| ValueProblem::at(flag, format!("invalid parameter \"{}\"", flag.value())))
}

/// `limit_req_zone key zone=name:size rate=rate` (`ngx_http_limit_req_zone`).
pub(super) fn limit_req_zone(d: Directive<'_>) -> Option<ValueProblem> {
    let args = d.args();
    let mut zone = false;
    for w in args.iter().skip(1) {
        let v = w.value();
        let problem = |m: String| Some(ValueProblem::at(w, m));
        if let Some(z) = v.strip_prefix("zone=") {
            let Some((_, size)) = z.split_once(':') else {
                return problem(format!("invalid zone size \"{v}\""));
            };
            match parse_size(size.as_bytes()) {
                None => return problem(format!("invalid zone size \"{v}\"")),
                // Eight pages; 32k with 4 KiB pages, more with larger ones.
                Some(n) if n < 8 * 4096 => return problem(format!("zone \"{v}\" is too small")),
                Some(_) => zone = true,
            }
        } else if let Some(rate) = v.strip_prefix("rate=") {
            let digits = rate
                .strip_suffix("r/s")
                .or_else(|| rate.strip_suffix("r/m"))
                .unwrap_or(rate);
            if !matches!(atoi(digits.as_bytes()), Some(r) if r > 0) {
                return problem(format!("invalid rate \"{v}\""));
            }
        } else {
            return problem(format!("invalid parameter \"{v}\""));
        }
    }
    (!zone).then(|| {
        ValueProblem::at(
            d.name_word(),
            "\"limit_req_zone\" must have \"zone\" parameter".into(),
        )
    })
}

/// `limit_req zone=name [burst=n] [nodelay | delay=n]` (`ngx_http_limit_req`).
pub(super) fn limit_req(d: Directive<'_>) -> Option<ValueProblem> {
    let mut zone = false;
    for w in d.args().iter() {
        let v = w.value();
        let problem = |m: String| Some(ValueProblem::at(w, m));
        if v.starts_with("zone=") {
            zone = true;
        } else if let Some(n) = v.strip_prefix("burst=") {
            if !matches!(atoi(n.as_bytes()), Some(b) if b > 0) {
                return problem(format!("invalid burst value \"{v}\""));
            }
        } else if let Some(n) = v.strip_prefix("delay=") {
            if !matches!(atoi(n.as_bytes()), Some(b) if b > 0) {
                return problem(format!("invalid delay value \"{v}\""));
            }
        } else if v != "nodelay" {
            return problem(format!("invalid parameter \"{v}\""));
        }
    }
    (!zone).then(|| {
        ValueProblem::at(
            d.name_word(),
            "\"limit_req\" must have \"zone\" parameter".into(),
        )
    })
}

/// `log_format name [escape=default|json|none] string ...`: the escaping.
pub(super) fn log_format(d: Directive<'_>) -> Option<ValueProblem> {
    let w = d.args().get(1)?;
    let escape = w.value().strip_prefix("escape=")?;
    (!matches!(escape, "json" | "none" | "default"))
        .then(|| ValueProblem::at(w, format!("unknown log format escaping \"{escape}\"")))
}

/// `fastcgi_split_path_info regex`: it must compile and have two captures.
pub(super) fn split_path_info(d: Directive<'_>) -> Option<ValueProblem> {
    let w = d.args().first()?;
    match compile(w, w.value()) {
        Err(problem) => problem,
        Ok(Some(n)) if n != 2 => Some(ValueProblem::at(
            w,
            format!("pattern \"{}\" must have 2 captures", w.value()),
        )),
        Ok(_) => None,
    }
}
