//! nginx's units: sizes (`4k`, `1m`) and times (`60s`, `1m30s`), as ngx_parse_size and
//! ngx_parse_time read them.

/// A size in bytes: a number with an optional k/K or m/M (and, for offsets, g/G) suffix.
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
    digits.parse::<u64>().ok()?.checked_mul(mult)
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
/// is seconds, as for nginx's timeouts.
pub fn parse_time_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u64>().ok()?.checked_mul(1000);
    }
    let mut total: u64 = 0;
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
                Some('M') => (2_592_000_000, 1),
                Some('y') => (31_536_000_000, 1),
                None => (1000, 0),
                _ => return None,
            }
        };
        total = total.checked_add(n.checked_mul(unit_ms)?)?;
        rest = &rest[len..];
        rest = rest.trim_start();
    }
    Some(total)
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
}
