//! nginx's number, size and time parsers (`ngx_atoi`, `ngx_parse_size`, `ngx_parse_offset`,
//! `ngx_parse_time` in `src/core/ngx_string.c` and `src/core/ngx_parse.c`), with the limits
//! of a 64-bit build: every result is an `ngx_int_t`, `size_t` or `off_t` bounded by
//! `i64::MAX`. None is what nginx calls `NGX_ERROR`.

const MAX: i64 = i64::MAX;

/// `ngx_atoi`: ASCII digits only, no sign, no blanks, not empty, no overflow.
pub fn atoi(s: &[u8]) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
    }
    Some(value)
}

/// `ngx_parse_size`: a number with an optional `k`/`K` or `m`/`M` suffix.
pub fn parse_size(s: &[u8]) -> Option<i64> {
    scaled(s, &[(b'k', 1024), (b'm', 1024 * 1024)])
}

/// `ngx_parse_offset`: like a size, and `g`/`G` as well.
pub fn parse_offset(s: &[u8]) -> Option<i64> {
    scaled(
        s,
        &[
            (b'k', 1024),
            (b'm', 1024 * 1024),
            (b'g', 1024 * 1024 * 1024),
        ],
    )
}

fn scaled(s: &[u8], units: &[(u8, i64)]) -> Option<i64> {
    let (&last, head) = s.split_last()?;
    let (digits, scale) = match units.iter().find(|(u, _)| last.to_ascii_lowercase() == *u) {
        Some(&(_, scale)) => (head, scale),
        None => (s, 1),
    };
    let n = atoi(digits)?;
    (n <= MAX / scale).then(|| n * scale)
}

/// `ngx_parse_time`: `30`, `30s`, `1h 30m`, `500ms`, `1y2M3w4d5h6m7s8ms`. Units must come
/// largest first, each at most once; a blank ends a part like `s` does. `is_sec` gives
/// seconds (no `ms`); otherwise milliseconds, where `y` and `M` are refused as well.
pub fn parse_time(s: &[u8], is_sec: bool) -> Option<i64> {
    #[derive(Clone, Copy, PartialEq, PartialOrd)]
    enum Step {
        Start,
        Year,
        Month,
        Week,
        Day,
        Hour,
        Min,
        Sec,
        Msec,
        Last,
    }
    let mut step = if is_sec { Step::Start } else { Step::Month };
    let mut valid = false;
    let mut value: i64 = 0;
    let mut total: i64 = 0;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c.is_ascii_digit() {
            value = value.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
            valid = true;
            continue;
        }
        const MIN: i64 = 60;
        const HOUR: i64 = 60 * MIN;
        const DAY: i64 = 24 * HOUR;
        let (next, mut scale) = match c {
            b'y' if step <= Step::Start => (Step::Year, 365 * DAY),
            b'M' if step < Step::Month => (Step::Month, 30 * DAY),
            b'w' if step < Step::Week => (Step::Week, 7 * DAY),
            b'd' if step < Step::Day => (Step::Day, DAY),
            b'h' if step < Step::Hour => (Step::Hour, HOUR),
            b'm' if s.get(i) == Some(&b's') => {
                if is_sec || step >= Step::Msec {
                    return None;
                }
                i += 1;
                (Step::Msec, 1)
            }
            b'm' if step < Step::Min => (Step::Min, MIN),
            b's' if step < Step::Sec => (Step::Sec, 1),
            b' ' if step < Step::Sec => (Step::Last, 1),
            _ => return None,
        };
        step = next;
        let mut max = MAX / scale;
        if step != Step::Msec && !is_sec {
            scale *= 1000;
            max /= 1000;
        }
        if value > max {
            return None;
        }
        value *= scale;
        total = total.checked_add(value)?;
        value = 0;
        while s.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    if !valid {
        return None;
    }
    if !is_sec {
        value = value.checked_mul(1000)?;
    }
    total.checked_add(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_takes_plain_digits_only() {
        assert_eq!(atoi(b"0"), Some(0));
        assert_eq!(atoi(b"0042"), Some(42));
        assert_eq!(atoi(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(atoi(b"9223372036854775808"), None);
        for bad in [&b""[..], b"-1", b"+1", b" 1", b"1 ", b"1.5", b"0x10", b"1k"] {
            assert_eq!(atoi(bad), None, "{:?}", std::str::from_utf8(bad));
        }
    }

    #[test]
    fn sizes_scale_by_powers_of_1024_in_either_case() {
        assert_eq!(parse_size(b"512"), Some(512));
        assert_eq!(parse_size(b"8k"), Some(8 * 1024));
        assert_eq!(parse_size(b"8K"), Some(8192));
        assert_eq!(parse_size(b"20m"), Some(20 * 1048576));
        assert_eq!(parse_size(b"20M"), Some(20_971_520));
        // `g` is for offsets only.
        assert_eq!(parse_size(b"1g"), None);
        assert_eq!(parse_offset(b"1g"), Some(1_073_741_824));
        assert_eq!(parse_offset(b"2G"), Some(2_147_483_648));
        for bad in [
            &b""[..],
            b"k",
            b"1kb",
            b"1.5m",
            b"-1",
            b" 1k",
            b"1 k",
            b"1t",
        ] {
            assert_eq!(parse_size(bad), None, "{:?}", std::str::from_utf8(bad));
        }
    }

    #[test]
    fn sizes_refuse_what_overflows_after_scaling() {
        // i64::MAX / 1024 = 9007199254740991 (1024 * 9007199254740991 = 2^63 - 1024).
        assert_eq!(
            parse_size(b"9007199254740991k"),
            Some(9_007_199_254_740_991 * 1024)
        );
        assert_eq!(parse_size(b"9007199254740992k"), None);
        // i64::MAX / 2^30 = 8589934591.
        assert_eq!(parse_offset(b"8589934591g"), Some(8_589_934_591 << 30));
        assert_eq!(parse_offset(b"8589934592g"), None);
    }

    #[test]
    fn times_in_seconds() {
        assert_eq!(parse_time(b"30", true), Some(30));
        assert_eq!(parse_time(b"30s", true), Some(30));
        assert_eq!(parse_time(b"5m", true), Some(300));
        assert_eq!(parse_time(b"1h 30m", true), Some(5400));
        assert_eq!(parse_time(b"1h30m", true), Some(5400));
        assert_eq!(parse_time(b"1d", true), Some(86400));
        assert_eq!(parse_time(b"1w", true), Some(604_800));
        assert_eq!(parse_time(b"1M", true), Some(2_592_000));
        assert_eq!(parse_time(b"1y", true), Some(31_536_000));
        // 1y 1M 1w 1d 1h 1m 1s = 31536000 + 2592000 + 604800 + 86400 + 3600 + 60 + 1.
        assert_eq!(parse_time(b"1y1M1w1d1h1m1s", true), Some(34_822_861));
        // A blank ends a unitless part, which then counts as seconds.
        assert_eq!(parse_time(b"1 2", true), Some(3));
        // Blanks after a unit are skipped: `1s 2` is 1s plus 2 unitless seconds.
        assert_eq!(parse_time(b"1s 2", true), Some(3));
    }

    #[test]
    fn times_in_milliseconds() {
        assert_eq!(parse_time(b"30", false), Some(30_000));
        assert_eq!(parse_time(b"500ms", false), Some(500));
        assert_eq!(parse_time(b"1s500ms", false), Some(1500));
        assert_eq!(parse_time(b"2m", false), Some(120_000));
        assert_eq!(parse_time(b"1d", false), Some(86_400_000));
        assert_eq!(parse_time(b"1w", false), Some(604_800_000));
        // Months and years are refused where milliseconds are read.
        assert_eq!(parse_time(b"1M", false), None);
        assert_eq!(parse_time(b"1y", false), None);
    }

    #[test]
    fn times_refuse_disorder_repeats_and_strangers() {
        for bad in [
            &b""[..],
            b"s",
            b"30x",
            b"1m1h",
            b"1s1s",
            b"1ms",
            b"-1",
            b"1.5s",
            b"1S",
            b"1H",
            b"1s 2m",
        ] {
            assert_eq!(
                parse_time(bad, true),
                None,
                "{:?}",
                std::str::from_utf8(bad)
            );
        }
        assert_eq!(parse_time(b"1s1ms", true), None);
        assert_eq!(parse_time(b"1ms1s", false), None);
        assert_eq!(parse_time(b"9223372036854775807", true), Some(i64::MAX));
        assert_eq!(parse_time(b"9223372036854775808", true), None);
        // i64::MAX / 1000 = 9223372036854775.
        assert_eq!(
            parse_time(b"9223372036854775", false),
            Some(9_223_372_036_854_775_000)
        );
        assert_eq!(parse_time(b"9223372036854776", false), None);
    }
}
