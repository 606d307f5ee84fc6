//! nginx's units: sizes (`4k`, `1m`) and times (`60s`, `1m30s`), as ngx_parse_size and
//! ngx_parse_time read them.

/// The largest size, offset or time nginx reads (`NGX_MAX_SIZE_T_VALUE`, `NGX_MAX_OFF_T_VALUE`,
/// `NGX_MAX_INT_T_VALUE` on 64 bits): `nginx -t` says "invalid value" above it (checked with
/// nginx 1.22: `fastcgi_buffer_size 9223372036854775807` is read, `...808` refused).
pub const NGX_MAX_VALUE: u64 = i64::MAX as u64;

/// A size in bytes: a number with an optional k/K or m/M (and, for offsets, g/G) suffix.
/// None above [`NGX_MAX_VALUE`], as nginx refuses it.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1024),
        b'm' | b'M' => (&s[..s.len() - 1], 1024 * 1024),
        b'g' | b'G' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits
        .parse::<u64>()
        .ok()?
        .checked_mul(mult)
        .filter(|&n| n <= NGX_MAX_VALUE)
}

/// A size as a user writes one on the command line or in `.nginx-fpm-lint.toml`: a whole
/// number, an optional space and an optional unit `k`, `m`, `g`, `t`, each alone or followed
/// by `b` or `ib`, in any case (`2G`, `2GB`, `2gb`, `2048M`, `512MiB`, `32k`), or `b`/`B`
/// for bytes. Every unit counts in 1024s, as nginx, php.ini and free(1) do, so `2GB` is
/// 2 GiB. None for anything else, and on overflow.
pub fn parse_user_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(digits_end);
    if digits.is_empty() {
        return None;
    }
    let power = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 1,
        "m" | "mb" | "mib" => 2,
        "g" | "gb" | "gib" => 3,
        "t" | "tb" | "tib" => 4,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1024u64.pow(power))
}

/// Format bytes the way a config author would write them (`32k`, `1m`, `4088`).
pub fn format_size(bytes: u64) -> String {
    const M: u64 = 1024 * 1024;
    if bytes >= M && bytes % M == 0 {
        format!("{}m", bytes / M)
    } else if bytes >= 1024 && bytes % 1024 == 0 {
        format!("{}k", bytes / 1024)
    } else {
        bytes.to_string()
    }
}

/// A time in milliseconds: one or more number+unit groups (`ms s m h d w M y`); a bare number
/// is seconds, as for nginx's timeouts. None above [`NGX_MAX_VALUE`] milliseconds, which nginx
/// refuses (`9223372036854775807ms` is read, `9223372036854776s` refused).
pub fn parse_time_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .ok()?
            .checked_mul(1000)
            .filter(|&n| n <= NGX_MAX_VALUE);
    }
    let mut total: u64 = 0;
    let mut last_unit: Option<u64> = None;
    let mut rest = s;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end == 0 {
            return None;
        }
        let n: u64 = rest[..digits_end].parse().ok()?;
        rest = &rest[digits_end..];
        let (unit_ms, len) = if rest.starts_with("ms") {
            (1, 2)
        } else {
            match rest.chars().next() {
                Some('s') => (1000, 1),
                Some('m') => (60_000, 1),
                Some('h') => (3_600_000, 1),
                Some('d') => (86_400_000, 1),
                Some('w') => (604_800_000, 1),
                // `M` and `y` are for times in seconds only: nginx refuses them in a
                // millisecond time such as a timeout ("invalid value").
                None => (1000, 0),
                _ => return None,
            }
        };
        // Units go from the largest down, each once, as ngx_parse_time requires (`1s1m` is
        // refused); a bare number last is seconds.
        if last_unit.is_some_and(|u| unit_ms >= u) {
            return None;
        }
        last_unit = Some(unit_ms);
        total = total.checked_add(n.checked_mul(unit_ms)?)?;
        rest = &rest[len..];
        rest = rest.trim_start();
    }
    (total <= NGX_MAX_VALUE).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4k"), Some(4096));
        assert_eq!(parse_size("32K"), Some(32768));
        assert_eq!(parse_size("1m"), Some(1048576));
        assert_eq!(parse_size("4088"), Some(4088));
        assert_eq!(parse_size("4kb"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(format_size(32768), "32k");
        assert_eq!(format_size(1048576), "1m");
        assert_eq!(format_size(4088), "4088");
    }

    #[test]
    fn times() {
        assert_eq!(parse_time_ms("60"), Some(60_000));
        assert_eq!(parse_time_ms("60s"), Some(60_000));
        assert_eq!(parse_time_ms("1m30s"), Some(90_000));
        assert_eq!(parse_time_ms("500ms"), Some(500));
        assert_eq!(parse_time_ms("1h"), Some(3_600_000));
        assert_eq!(parse_time_ms("abc"), None);
    }

    /// The limits nginx 1.22 showed in `nginx -t` (read / "invalid value").
    #[test]
    fn the_largest_values_nginx_reads() {
        assert_eq!(parse_size("9223372036854775807"), Some(i64::MAX as u64));
        assert_eq!(parse_size("9223372036854775808"), None);
        assert_eq!(
            parse_size("9007199254740991k"),
            Some(9007199254740991 * 1024)
        );
        assert_eq!(parse_size("9007199254740992k"), None);
        assert_eq!(parse_size("99999999999999999999"), None);
        assert_eq!(
            parse_time_ms("9223372036854775807ms"),
            Some(i64::MAX as u64)
        );
        assert_eq!(parse_time_ms("9223372036854775808ms"), None);
        assert_eq!(
            parse_time_ms("9223372036854775s"),
            Some(9_223_372_036_854_775_000)
        );
        assert_eq!(parse_time_ms("9223372036854776s"), None);
        assert_eq!(parse_time_ms("9223372036854776"), None);
        assert_eq!(
            parse_time_ms("106751991167d"),
            Some(106751991167 * 86_400_000)
        );
        assert_eq!(parse_time_ms("106751991168d"), None);
        assert_eq!(
            parse_time_ms("15250284452w"),
            Some(15250284452 * 604_800_000)
        );
        assert_eq!(parse_time_ms("15250284453w"), None);
        assert_eq!(parse_time_ms("1y"), None);
        assert_eq!(parse_time_ms("1M"), None);
        assert_eq!(parse_time_ms("1s1m"), None);
        assert_eq!(parse_time_ms("1m1m"), None);
    }

    #[test]
    fn user_sizes_as_people_write_them() {
        const K: u64 = 1024;
        const G: u64 = K * K * K;
        for (text, bytes) in [
            ("2G", 2 * G),
            ("2GB", 2 * G),
            ("2g", 2 * G),
            ("2gb", 2 * G),
            ("2 GiB", 2 * G),
            ("2048M", 2 * G),
            ("512MiB", 512 * K * K),
            ("32k", 32 * K),
            ("32KB", 32 * K),
            ("1T", 1024 * G),
            ("4096", 4096),
            ("4096b", 4096),
        ] {
            assert_eq!(parse_user_size(text), Some(bytes), "{text}");
        }
        for bad in ["", "G", "2X", "2GBs", "-1G", "1.5G", "99999999999T"] {
            assert_eq!(parse_user_size(bad), None, "{bad}");
        }
    }
}
