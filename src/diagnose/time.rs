//! Log timestamps: nginx's `2026/12/03 08:58:18`, php-fpm's `[03-Dec-2026 08:58:18]`, the
//! kernel's seconds since boot `[  472.991234]`, and the clock forms of `dmesg -T`, journald
//! (`Dec 03 08:58:18`, `2026-12-03T08:58:18+0000`) and syslog.
//!
//! Clock times are kept as written (the server's local wall clock, which nginx, php-fpm and
//! journald all print): an offset, when one is printed, is ignored so the forms compare.

use std::fmt;

/// When a line was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stamp {
    /// Wall-clock microseconds since 1970-01-01 00:00:00 of the same (unknown) time zone.
    Clock(i64),
    /// Microseconds since boot (raw `dmesg`); comparable with clock times only once the boot
    /// time is known.
    Uptime(i64),
}

impl Stamp {
    pub fn is_uptime(self) -> bool {
        matches!(self, Stamp::Uptime(_))
    }

    /// A wall-clock stamp, converting an uptime one with the boot time when it is known.
    pub fn to_clock(self, boot: Option<i64>) -> Option<i64> {
        match self {
            Stamp::Clock(us) => Some(us),
            Stamp::Uptime(us) => boot.map(|b| b + us),
        }
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Stamp::Clock(us) => f.write_str(&format_clock(us)),
            Stamp::Uptime(us) => write!(f, "{}.{:06}s after boot", us / 1_000_000, us % 1_000_000),
        }
    }
}

/// `2026-12-03 08:58:18` for microseconds since the epoch.
pub fn format_clock(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the well-known era arithmetic).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Microseconds since the epoch of a calendar time; `None` when a field is out of range.
pub fn clock(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> Option<Stamp> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(s);
    Some(Stamp::Clock(secs * 1_000_000 + i64::from(micros)))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month(name: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == name).map(|i| i as u32 + 1)
}

fn digits(s: &str, at: usize, len: usize) -> Option<u32> {
    let part = s.get(at..at + len)?;
    if part.bytes().all(|b| b.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

/// `HH:MM:SS` at `at`.
fn hms(s: &str, at: usize) -> Option<(u32, u32, u32)> {
    let b = s.as_bytes();
    if b.get(at + 2) != Some(&b':') || b.get(at + 5) != Some(&b':') {
        return None;
    }
    Some((
        digits(s, at, 2)?,
        digits(s, at + 3, 2)?,
        digits(s, at + 6, 2)?,
    ))
}

/// `.123456` (any number of digits) at the start of `s`: microseconds and its length.
fn fraction(s: &str) -> (u32, usize) {
    let Some(rest) = s.strip_prefix('.') else {
        return (0, 0);
    };
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    let mut micros = 0u32;
    for (i, b) in rest
        .bytes()
        .take(6)
        .take_while(u8::is_ascii_digit)
        .enumerate()
    {
        micros += u32::from(b - b'0') * 10u32.pow(5 - i as u32);
    }
    (micros, n + 1)
}

/// nginx: `2026/12/03 08:58:18` at the start of the line.
pub fn nginx_prefix(line: &str) -> Option<(Stamp, &str)> {
    let b = line.as_bytes();
    if b.len() < 19 || b[4] != b'/' || b[7] != b'/' || b[10] != b' ' {
        return None;
    }
    let (h, mi, s) = hms(line, 11)?;
    let stamp = clock(
        i64::from(digits(line, 0, 4)?),
        digits(line, 5, 2)?,
        digits(line, 8, 2)?,
        h,
        mi,
        s,
        0,
    )?;
    Some((stamp, &line[19..]))
}

/// php-fpm: `[03-Dec-2026 08:58:18]` (with `.123456` at log_level debug).
pub fn fpm_prefix(line: &str) -> Option<(Stamp, &str)> {
    let inner = line.strip_prefix('[')?;
    let b = inner.as_bytes();
    if b.len() < 20 || b[2] != b'-' || b[6] != b'-' || b[11] != b' ' {
        return None;
    }
    let (h, mi, s) = hms(inner, 12)?;
    let (micros, flen) = fraction(&inner[20..]);
    let rest = inner[20 + flen..].strip_prefix(']')?;
    let stamp = clock(
        i64::from(digits(inner, 7, 4)?),
        month(&inner[3..6])?,
        digits(inner, 0, 2)?,
        h,
        mi,
        s,
        micros,
    )?;
    Some((stamp, rest))
}

/// Raw dmesg: `[  472.991234] ` -> (uptime, rest).
pub fn strip_dmesg_stamp(line: &str) -> Option<(Stamp, &str)> {
    let inner = line.strip_prefix('[')?;
    let end = inner.find(']')?;
    let num = inner[..end].trim_start();
    let (secs, frac) = num.split_once('.').unwrap_or((num, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let (micros, _) = fraction(&format!(".{frac}"));
    Some((
        Stamp::Uptime(secs * 1_000_000 + i64::from(micros)),
        &inner[end + 1..],
    ))
}

/// The year a syslog stamp without one (`Dec  3 08:58:18`) is taken to be in.
fn assumed_year() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    civil_from_days(now.div_euclid(86_400)).0
}

/// The stamp of a kernel or syslog-style line, and what follows it. The bool says whether a
/// `HOST IDENT[PID]: ` part follows (journald, syslog), as opposed to the message (dmesg).
pub fn syslog_prefix(line: &str) -> Option<(Option<Stamp>, &str, bool)> {
    // dmesg: `[  472.991234] msg`
    if let Some((stamp, rest)) = strip_dmesg_stamp(line) {
        return Some((Some(stamp), rest.strip_prefix(' ').unwrap_or(rest), false));
    }
    // dmesg -T: `[Thu Dec  3 10:40:00 2026] msg`
    if let Some(inner) = line.strip_prefix('[') {
        let end = inner.find(']')?;
        let stamp = ctime(&inner[..end])?;
        let rest = &inner[end + 1..];
        return Some((Some(stamp), rest.strip_prefix(' ').unwrap_or(rest), false));
    }
    // journald short-iso / rsyslog RFC 3339: `2026-12-03T10:40:00[.ffffff][+0000|+00:00|Z] `
    let b = line.as_bytes();
    if b.len() > 19 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' {
        let (h, mi, s) = hms(line, 11)?;
        let (micros, flen) = fraction(&line[19..]);
        let after = &line[19 + flen..];
        let zone_len = after.find(' ')?;
        let stamp = clock(
            i64::from(digits(line, 0, 4)?),
            digits(line, 5, 2)?,
            digits(line, 8, 2)?,
            h,
            mi,
            s,
            micros,
        )?;
        return Some((Some(stamp), &after[zone_len + 1..], true));
    }
    // journald default / syslog: `Dec 03 10:40:00 ` or `Dec  3 10:40:00 `
    let mo = month(line.get(..3)?)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let day: u32 = line.get(4..6)?.trim_start().parse().ok()?;
    let (h, mi, s) = hms(line, 7)?;
    let (micros, flen) = fraction(&line[15..]);
    let rest = line[15 + flen..].strip_prefix(' ')?;
    let stamp = clock(assumed_year(), mo, day, h, mi, s, micros)?;
    Some((Some(stamp), rest, true))
}

/// `Thu Dec  3 10:40:00 2026`
fn ctime(s: &str) -> Option<Stamp> {
    let mut parts = s.split_whitespace();
    let _weekday = parts.next()?;
    let mo = month(parts.next()?)?;
    let day: u32 = parts.next()?.parse().ok()?;
    let t = parts.next()?;
    let year: i64 = parts.next()?.parse().ok()?;
    let (h, mi, sec) = hms(t, 0)?;
    clock(year, mo, day, h, mi, sec, 0)
}

/// `HOST IDENT[PID]: message` -> (ident, pid, message).
pub fn host_ident(rest: &str) -> Option<(&str, Option<u32>, &str)> {
    let (_host, rest) = rest.split_once(' ')?;
    let (tag, message) = rest.split_once(": ")?;
    if tag.contains(' ') {
        return None;
    }
    let (ident, pid) = match tag.split_once('[') {
        Some((ident, pid)) => (ident, pid.trim_end_matches(']').parse().ok()),
        None => (tag, None),
    };
    Some((ident, pid, message))
}

/// A `--since`/`--until` value: `2026-12-03 09:00[:SS]`, `2026-12-03T09:00`, or an age such as
/// `2h`, `30m`, `45s`, `1d` before `now` (wall-clock microseconds).
pub fn parse_bound(s: &str, now: i64) -> Result<i64, String> {
    let s = s.trim();
    if let Some(unit) = s.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let n: i64 = s[..s.len() - 1]
            .parse()
            .map_err(|_| format!("expected an age like 2h or 30m, got {s:?}"))?;
        let secs = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(format!("unknown unit {unit:?} in {s:?} (s, m, h or d)")),
        };
        return Ok(now.saturating_sub(n.saturating_mul(secs).saturating_mul(1_000_000)));
    }
    let bad = || format!("expected a time like \"2026-12-03 09:00\" or an age like 2h, got {s:?}");
    let b = s.as_bytes();
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b' ' || b[10] == b'T') {
        return Err(bad());
    }
    let with_secs = if b.len() >= 19 {
        s.to_owned()
    } else {
        format!("{s}:00")
    };
    let (h, mi, sec) = hms(&with_secs, 11).ok_or_else(bad)?;
    match clock(
        i64::from(digits(s, 0, 4).ok_or_else(bad)?),
        digits(s, 5, 2).ok_or_else(bad)?,
        digits(s, 8, 2).ok_or_else(bad)?,
        h,
        mi,
        sec,
        0,
    ) {
        Some(Stamp::Clock(us)) => Ok(us),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // 2026-12-03 is day 20,790 since 1970-01-01 (`date -d 2026-12-03 +%s` / 86400).
        assert_eq!(days_from_civil(2026, 12, 3), 20_790);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for d in [-1000, 0, 11_016, 11_017, 20_790, 100_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn the_forms_agree() {
        let n = nginx_prefix("2026/12/03 08:58:18 [error]").unwrap().0;
        let f = fpm_prefix("[03-Dec-2026 08:58:18] WARNING").unwrap().0;
        let t = syslog_prefix("[Thu Dec  3 08:58:18 2026] x")
            .unwrap()
            .0
            .unwrap();
        let iso = syslog_prefix("2026-12-03T08:58:18+0000 h kernel: x")
            .unwrap()
            .0
            .unwrap();
        assert_eq!(n, f);
        assert_eq!(n, t);
        assert_eq!(n, iso);
        assert_eq!(n.to_string(), "2026-12-03 08:58:18");
        let d = syslog_prefix("[  472.991234] x").unwrap().0.unwrap();
        assert_eq!(d, Stamp::Uptime(472_991_234));
        assert_eq!(d.to_clock(Some(1_000_000)), Some(473_991_234));
        assert_eq!(d.to_clock(None), None);
    }

    #[test]
    fn bounds() {
        let now = match clock(2026, 12, 3, 10, 0, 0, 0).unwrap() {
            Stamp::Clock(us) => us,
            Stamp::Uptime(_) => unreachable!(),
        };
        assert_eq!(parse_bound("2h", now).unwrap(), now - 7_200_000_000);
        assert_eq!(parse_bound("30m", now).unwrap(), now - 1_800_000_000);
        assert_eq!(parse_bound("2026-12-03 10:00", now).unwrap(), now);
        assert_eq!(
            parse_bound("2026-12-03T09:00:00", now).unwrap(),
            now - 3_600_000_000
        );
        assert!(parse_bound("yesterday", now).is_err());
        assert!(parse_bound("5y", now).is_err());
    }
}
