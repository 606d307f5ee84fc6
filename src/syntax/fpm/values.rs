//! Reading php-fpm values the way php-fpm and PHP do.
//!
//! All functions take a value's text (quotes already removed, see [`super::Entry::text`]) unless
//! said otherwise, and are pure: nothing here looks at the environment or the file system.

use std::borrow::Cow;
use std::ops::Range;

/// A PHP ini boolean, as `OnUpdateBool` reads `php_flag[...]`-style settings: `yes`, `on`,
/// `true`, `1` are true; `no`, `off`, `false`, `none`, `null`, `0` and the empty string are
/// false (keywords case-insensitive, surrounding blanks ignored). Anything else is `None`.
///
/// php-fpm's *own* boolean options (and `php_flag` / `php_admin_flag`, which php-fpm checks
/// itself before handing them to PHP) are stricter: see [`parse_fpm_bool`].
pub fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim_matches([' ', '\t']);
    const TRUE: [&str; 4] = ["yes", "on", "true", "1"];
    const FALSE: [&str; 6] = ["no", "off", "false", "none", "null", "0"];
    if t.is_empty() || FALSE.iter().any(|k| t.eq_ignore_ascii_case(k)) {
        Some(false)
    } else if TRUE.iter().any(|k| t.eq_ignore_ascii_case(k)) {
        Some(true)
    } else {
        None
    }
}

/// A boolean as php-fpm's `fpm_conf_set_boolean` accepts it. The ini scanner turns the bare
/// keywords `yes`/`on`/`true` into "1" and `no`/`off`/`false`/`none`/`null` into "", and php-fpm
/// then accepts only "1" and "". So `daemonize = 0` or `php_flag[x] = 0` is refused
/// ("invalid boolean value"), and a *quoted* `"yes"` is too (quotes stop the keyword rule).
///
/// `quoted` says whether the value was written with quotes (see [`super::Entry::is_quoted`]).
pub fn parse_fpm_bool(text: &str, quoted: bool) -> Option<bool> {
    let t = if quoted {
        text
    } else {
        text.trim_end_matches([' ', '\t'])
    };
    match t {
        "1" => Some(true),
        "" => Some(false),
        _ if quoted => None,
        _ if ["yes", "on", "true"]
            .iter()
            .any(|k| t.eq_ignore_ascii_case(k)) =>
        {
            Some(true)
        }
        _ if ["no", "off", "false", "none", "null"]
            .iter()
            .any(|k| t.eq_ignore_ascii_case(k)) =>
        {
            Some(false)
        }
        _ => None,
    }
}

/// A size as PHP reads `memory_limit`, `upload_max_filesize`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    Bytes(u64),
    /// `-1`: no limit.
    Unlimited,
}

/// Parse a PHP quantity: an integer with an optional `K`, `M` or `G` suffix (case-insensitive,
/// powers of 1024); `-1` means unlimited. Blanks around it are ignored.
///
/// `None` for anything else. PHP is lenient there (`128MB` is read as 128 *bytes*, with only a
/// warning since PHP 8.2), so `None` is worth reporting.
pub fn parse_size(text: &str) -> Option<Size> {
    let t = text.trim_matches([' ', '\t']);
    if t == "-1" {
        return Some(Size::Unlimited);
    }
    let (digits, factor) = match t.as_bytes().last()? {
        b'k' | b'K' => (&t[..t.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&t[..t.len() - 1], 1 << 20),
        b'g' | b'G' => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits
        .parse::<u64>()
        .ok()?
        .checked_mul(factor)
        .map(Size::Bytes)
}

/// Parse a duration as php-fpm's `fpm_conf_set_time` does (`request_terminate_timeout`,
/// `process_control_timeout`, ...): a number of seconds, optionally suffixed with `s`, `m`, `h`
/// or `d`. Suffixes are lowercase only: php-fpm refuses `10S` ("unknown suffix used in time
/// value"). `None` for that, for an empty value and for anything that is not digits.
///
/// php-fpm computes the seconds in a C `int` (`60 * atoi(val)`): a value out of its range wraps
/// (`4294967296s` is 0, no timeout; `4294967297s` is 1 s), and one that wraps below zero
/// is `None`, as what php-fpm then does is not a timeout anyone meant.
pub fn parse_time_secs(text: &str) -> Option<u64> {
    let (digits, factor) = match text.as_bytes().last()? {
        b's' => (&text[..text.len() - 1], 1u64),
        b'm' => (&text[..text.len() - 1], 60),
        b'h' => (&text[..text.len() - 1], 3600),
        b'd' => (&text[..text.len() - 1], 86_400),
        b'0'..=b'9' => (text, 1),
        _ => return None,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs = c_atoi(digits).wrapping_mul(factor as i32);
    u64::try_from(secs).ok()
}

/// glibc's `atoi`, which php-fpm stores its integers with: `(int) strtol(s)`, where strtol
/// saturates at the bounds of `long` and the cast keeps the low 32 bits. php-fpm 8.2 -t accepts
/// `pm.max_children = 4294967301` (read as 5) and refuses `2147483648` ("must be a positive
/// value": read as -2147483648). `t` is digits after an optional `-`.
pub fn c_atoi(t: &str) -> i32 {
    let (negative, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t),
    };
    let long = match digits.parse::<i64>() {
        Ok(n) if negative => -n,
        Ok(n) => n,
        Err(_) if negative => i64::MIN,
        Err(_) => i64::MAX,
    };
    long as i32
}

/// Replace every `$pool` with the pool's name, as php-fpm does for pool settings and for
/// `php_value`/`env` values (e.g. `listen = /run/php/$pool.sock`).
pub fn expand_pool<'a>(text: &'a str, pool_name: &str) -> Cow<'a, str> {
    if text.contains("$pool") {
        Cow::Owned(text.replace("$pool", pool_name))
    } else {
        Cow::Borrowed(text)
    }
}

/// One `${VAR}` (or PHP 8.3+ `${VAR:-default}`) reference in a value.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EnvRef<'a> {
    pub name: &'a str,
    pub fallback: Option<&'a str>,
    /// Byte range of `${...}` in the string given to [`env_refs`].
    pub range: Range<usize>,
}

/// The environment references in a value. PHP expands them while reading the file, from
/// php-fpm's own environment, so they cannot be resolved at lint time.
///
/// Pass the *raw* value ([`super::Entry::raw`]): references inside single quotes are not
/// expanded by PHP and are skipped; a bare `$VAR` (no braces) is literal text to PHP and is
/// not a reference.
pub fn env_refs(raw: &str) -> Vec<EnvRef<'_>> {
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut in_double = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' if !in_double => {
                // Raw string: skip to the closing quote.
                i = raw[i + 1..]
                    .find('\'')
                    .map_or(bytes.len(), |j| i + 1 + j + 1);
                continue;
            }
            b'"' => in_double = !in_double,
            b'\\' if in_double => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                if let Some(j) = raw[i + 2..].find('}') {
                    let end = i + 2 + j;
                    let inner = &raw[i + 2..end];
                    let (name, fallback) = match inner.split_once(":-") {
                        Some((n, f)) => (n, Some(f)),
                        None => (inner, None),
                    };
                    out.push(EnvRef {
                        name: name.trim_matches([' ', '\t']),
                        fallback,
                        range: i..end + 1,
                    });
                    i = end + 1;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_booleans() {
        for t in ["yes", "On", "TRUE", "1", " on "] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for t in ["no", "Off", "false", "none", "null", "0", "", "  "] {
            assert_eq!(parse_bool(t), Some(false), "{t}");
        }
        assert_eq!(parse_bool("2"), None);
        assert_eq!(parse_bool("yess"), None);
    }

    #[test]
    fn fpm_booleans_are_stricter() {
        assert_eq!(parse_fpm_bool("yes", false), Some(true));
        assert_eq!(parse_fpm_bool("Off", false), Some(false));
        assert_eq!(parse_fpm_bool("1", false), Some(true));
        assert_eq!(parse_fpm_bool("", false), Some(false));
        assert_eq!(parse_fpm_bool("0", false), None);
        assert_eq!(parse_fpm_bool("yes", true), None);
        assert_eq!(parse_fpm_bool("1", true), Some(true));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("128M"), Some(Size::Bytes(128 << 20)));
        assert_eq!(parse_size("2g"), Some(Size::Bytes(2 << 30)));
        assert_eq!(parse_size("512k"), Some(Size::Bytes(512 << 10)));
        assert_eq!(parse_size("1024"), Some(Size::Bytes(1024)));
        assert_eq!(parse_size(" 8M "), Some(Size::Bytes(8 << 20)));
        assert_eq!(parse_size("-1"), Some(Size::Unlimited));
        assert_eq!(parse_size("128MB"), None);
        assert_eq!(parse_size("M"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("-2"), None);
        assert_eq!(parse_size("99999999999999999999G"), None);
    }

    #[test]
    fn times() {
        assert_eq!(parse_time_secs("30"), Some(30));
        assert_eq!(parse_time_secs("30s"), Some(30));
        assert_eq!(parse_time_secs("5m"), Some(300));
        assert_eq!(parse_time_secs("2h"), Some(7200));
        assert_eq!(parse_time_secs("1d"), Some(86_400));
        assert_eq!(parse_time_secs("0"), Some(0));
        assert_eq!(parse_time_secs("10S"), None);
        assert_eq!(parse_time_secs("s"), None);
        assert_eq!(parse_time_secs(""), None);
        // Seconds in a C int, as php-fpm computes them.
        assert_eq!(parse_time_secs("2147483647"), Some(2147483647));
        assert_eq!(parse_time_secs("4294967296s"), Some(0));
        assert_eq!(parse_time_secs("4294967297s"), Some(1));
        assert_eq!(parse_time_secs("2147483648"), None);
        assert_eq!(parse_time_secs("35791394m"), Some(35791394 * 60));
        assert_eq!(parse_time_secs("35791395m"), None);
        assert_eq!(parse_time_secs("99999999999999999999"), None);
        assert_eq!(parse_time_secs("1.5m"), None);
    }

    #[test]
    fn pool_expansion() {
        assert_eq!(
            expand_pool("/run/php/$pool.sock", "www"),
            "/run/php/www.sock"
        );
        assert_eq!(expand_pool("$pool-$pool", "a"), "a-a");
        assert!(matches!(expand_pool("/tmp/x", "a"), Cow::Borrowed(_)));
    }

    #[test]
    fn environment_references() {
        let raw = r#"${HOME}/x "${A:-b}" '${NOT}' $LITERAL "\${B}""#;
        let refs = env_refs(raw);
        let names: Vec<_> = refs.iter().map(|r| (r.name, r.fallback)).collect();
        assert_eq!(names, [("HOME", None), ("A", Some("b"))]);
        assert_eq!(&raw[refs[0].range.clone()], "${HOME}");
        assert_eq!(&raw[refs[1].range.clone()], "${A:-b}");
    }
}
