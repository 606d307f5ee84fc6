//! Every entry php-fpm accepts in php-fpm.conf and pool files, from 7.4 to 8.4, and how it
//! reads each value: the table is generated from php-src's `fpm_conf.c` (see
//! `gen_fpm_table.py`), the value checks below follow its parsers and are proven against the
//! real `php-fpm8.2 -t` (tests/real_fpm_entries.rs).

mod table;

use std::borrow::Cow;
use std::fmt;

pub use table::{ENTRIES, FIRST_VERSION, LAST_VERSION};

use crate::syntax::fpm::Entry;

/// A PHP minor version (`8.2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhpVersion(pub u8, pub u8);

/// What the `php-version` setting defaults to.
pub const DEFAULT_PHP_VERSION: PhpVersion = PhpVersion(8, 2);

impl fmt::Display for PhpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl std::str::FromStr for PhpVersion {
    type Err = String;

    /// `8.2`, also `8.2.13` (the patch level does not change which entries exist).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.trim().split('.');
        let mut num = || parts.next().and_then(|p| p.parse::<u8>().ok());
        let bad = || {
            format!("invalid PHP version {s:?}: expected MAJOR.MINOR (e.g. 8.2), from {FIRST_VERSION} to {LAST_VERSION}")
        };
        let v = match (num(), num()) {
            (Some(a), Some(b)) => PhpVersion(a, b),
            _ => return Err(bad()),
        };
        if v < FIRST_VERSION || v > LAST_VERSION {
            return Err(bad());
        }
        Ok(v)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Global,
    Pool,
    /// `name[key] = value`, in pool sections only.
    PoolArray,
}

/// The `fpm_conf_set_*` function that reads an entry's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Parser {
    String,
    Integer,
    /// Seconds with an optional `s`, `m`, `h` or `d` suffix.
    Time,
    Boolean,
    LogLevel,
    SyslogFacility,
    /// A non-negative integer or `unlimited`.
    RlimitCore,
    /// `static`, `dynamic` or `ondemand`.
    Pm,
    /// `env[NAME]`: any value but the empty one.
    ArrayEnv,
    /// `php_value[...]`, `php_admin_value[...]`: any value.
    ArrayString,
    /// `php_flag[...]`, `php_admin_flag[...]`: a boolean.
    ArrayBoolean,
    /// `access.suppress_path[]`: no key, a value starting with `/`.
    ArraySuppressPath,
}

/// The `#ifdef` an entry depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    Always,
    /// `HAVE_SYSTEMD` (Debian's, Red Hat's, most distributions' builds).
    Systemd,
    /// `HAVE_FPM_ACL` (POSIX ACLs: most Linux builds).
    Acl,
    /// `HAVE_APPARMOR` (Debian's and Ubuntu's builds).
    Apparmor,
    /// `SO_SETFIB`: FreeBSD only; php-fpm on Linux refuses the entry.
    FreeBsd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpmEntry {
    pub name: &'static str,
    pub section: Section,
    pub parser: Parser,
    /// The first version that accepts it (the table's first version when older).
    pub since: PhpVersion,
    /// The first version that no longer accepts it.
    pub until: Option<PhpVersion>,
    pub build: Build,
}

impl FpmEntry {
    pub fn exists_in(&self, v: PhpVersion) -> bool {
        self.since <= v && self.until.is_none_or(|u| v < u)
    }
}

/// The entry php-fpm would match for `name` in a section of this kind, in any version:
/// plain entries case-insensitively (`strcasecmp`), array entries exactly.
pub fn find(section: Section, name: &str) -> Option<&'static FpmEntry> {
    let first = name.as_bytes().first()?.to_ascii_lowercase();
    // Length and first letter first: the scan runs for every line of every pool.
    ENTRIES.iter().find(|e| {
        e.name.len() == name.len()
            && e.name.as_bytes()[0] == first
            && e.section == section
            && match section {
                Section::PoolArray => e.name == name,
                _ => e.name.eq_ignore_ascii_case(name),
            }
    })
}

/// How php-fpm of `version` reads one `key = value` line of a section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// `include = ...`: read in any section.
    Include,
    Known(&'static FpmEntry),
    /// In the table, but not in this version (`pm.max_spawn_rate` before 8.1).
    NotInVersion(&'static FpmEntry),
    /// Only in builds for another system (`listen.setfib`: FreeBSD).
    OtherSystem(&'static FpmEntry),
    /// A pool entry in `[global]` or a global-only entry in a pool.
    WrongSection(&'static FpmEntry),
    /// `name[key] = ...` in `[global]`: php-fpm refuses every array there.
    ArrayInGlobal,
    Unknown,
}

/// Look a line up as php-fpm's `fpm_conf_ini_parser_entry` / `_array` do.
pub fn lookup(in_global: bool, name: &str, is_array: bool, version: PhpVersion) -> Lookup {
    if !is_array && name == "include" {
        return Lookup::Include;
    }
    if is_array && in_global {
        return Lookup::ArrayInGlobal;
    }
    let section = match (is_array, in_global) {
        (true, _) => Section::PoolArray,
        (false, true) => Section::Global,
        (false, false) => Section::Pool,
    };
    match find(section, name) {
        Some(e) if e.build == Build::FreeBsd => Lookup::OtherSystem(e),
        Some(e) if !e.exists_in(version) => Lookup::NotInVersion(e),
        Some(e) => Lookup::Known(e),
        None => {
            let other = match section {
                Section::Global => find(Section::Pool, name),
                Section::Pool => find(Section::Global, name).or(find(Section::PoolArray, name)),
                Section::PoolArray => None,
            };
            match other {
                Some(e) if e.exists_in(version) => Lookup::WrongSection(e),
                _ => Lookup::Unknown,
            }
        }
    }
}

/// php-fpm's own words for a line it refuses by its name: `unknown entry 'x'`,
/// `unknown directive 'x'` (arrays), `Array are not allowed in the global section`.
pub fn refusal_words(name: &str, is_array: bool, in_global: bool) -> String {
    match (is_array, in_global) {
        (true, true) => "Array are not allowed in the global section".to_owned(),
        (true, false) => format!("unknown directive '{name}'"),
        (false, _) => format!("unknown entry '{name}'"),
    }
}

/// The known names of a section kind in `version`, as "did you mean" candidates.
pub fn names_in(section: Section, version: PhpVersion) -> impl Iterator<Item = &'static str> {
    ENTRIES
        .iter()
        .filter(move |e| e.section == section && e.exists_in(version) && e.build != Build::FreeBsd)
        .map(|e| e.name)
}

/// The entries close to a misspelled `name` (case ignored): within one edit for short names,
/// two from eight characters on. Closest first.
pub fn close_names(section: Section, name: &str, version: PhpVersion) -> Vec<&'static str> {
    let written = name.to_ascii_lowercase();
    let limit = if written.chars().count() >= 8 { 2 } else { 1 };
    let mut close: Vec<(usize, &'static str)> = names_in(section, version)
        .map(|n| (edit_distance(&written, n), n))
        .filter(|&(d, _)| d <= limit)
        .collect();
    close.sort();
    close.into_iter().map(|(_, n)| n).collect()
}

/// Levenshtein distance over characters, an adjacent swap counting one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The string php-fpm's parser receives for an entry's value, or None when it is not known
/// at lint time: a `${VAR}` not supplied, an expression (`E_ALL & ~E_NOTICE`), or a bare
/// word in capitals, which PHP replaces with a constant's value when one has that name.
pub fn value_as_read(entry: Entry<'_>) -> Option<Cow<'_, str>> {
    let text = entry.text();
    if entry.is_expression() || (text.contains("${") && entry.raw().contains("${")) {
        return None;
    }
    if entry.is_quoted() {
        return Some(Cow::Borrowed(text));
    }
    let t = text.trim_end_matches([' ', '\t']);
    let is_word = |w: &str| w.eq_ignore_ascii_case(t);
    // The ini scanner's keywords (any case) become "1" and "".
    if ["yes", "on", "true"].into_iter().any(is_word) {
        return Some(Cow::Borrowed("1"));
    }
    if ["no", "off", "false", "none", "null"]
        .into_iter()
        .any(is_word)
    {
        return Some(Cow::Borrowed(""));
    }
    let constant_like = t
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == b'_')
        && t.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
    if constant_like {
        return None;
    }
    Some(Cow::Borrowed(t))
}

/// Why php-fpm's parser refuses `value` for `entry`, in its own words (the part after
/// `unable to parse value for entry 'x': `), or None when it accepts it. Array entries get
/// their whole message (`empty value`, `error while parsing 'php_flag[x]' : invalid
/// boolean value`); `key` is the text between their brackets.
pub fn parse_refusal(entry: &FpmEntry, value: &str, key: &str) -> Option<String> {
    let why = match entry.parser {
        Parser::String => return None,
        Parser::ArrayString => return key.is_empty().then(|| array_key_or(entry, key, "")),
        Parser::Integer => integer_refusal(value),
        Parser::Time => time_refusal(value),
        Parser::Boolean => boolean_refusal(value),
        Parser::LogLevel => {
            let ok = ["debug", "notice", "warning", "warn", "error", "alert"]
                .iter()
                .any(|l| l.eq_ignore_ascii_case(value));
            (!ok).then_some("invalid value for 'log_level'")
        }
        Parser::SyslogFacility => {
            let ok = [
                "AUTH", "AUTHPRIV", "CRON", "DAEMON", "FTP", "KERN", "LPR", "MAIL", "NEWS",
                "SYSLOG", "USER", "UUCP", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4",
                "LOCAL5", "LOCAL6", "LOCAL7",
            ]
            .iter()
            .any(|f| f.eq_ignore_ascii_case(value));
            (!ok).then_some("invalid value")
        }
        Parser::RlimitCore => {
            if value.eq_ignore_ascii_case("unlimited") {
                None
            } else {
                integer_refusal(value).or_else(|| {
                    (atoi(value) < 0).then_some("must be greater than zero or 'unlimited'")
                })
            }
        }
        Parser::Pm => {
            let ok = ["static", "dynamic", "ondemand"]
                .iter()
                .any(|p| p.eq_ignore_ascii_case(value));
            (!ok).then_some("invalid process manager (static, dynamic or ondemand)")
        }
        Parser::ArrayEnv => {
            return (key.is_empty() || value.is_empty())
                .then(|| array_key_or(entry, key, "empty value"))
        }
        Parser::ArrayBoolean => {
            if key.is_empty() {
                return Some(array_key_or(entry, key, ""));
            }
            return boolean_refusal(value)
                .map(|why| format!("error while parsing '{}[{key}]' : {why}", entry.name));
        }
        Parser::ArraySuppressPath => {
            if !key.is_empty() {
                return Some("Keys provided to field 'access.suppress_path' are ignored".into());
            }
            return (!value.starts_with('/')).then(|| {
                "Values provided to field 'access.suppress_path' must begin with '/'".into()
            });
        }
    };
    why.map(|w| format!("unable to parse value for entry '{}': {w}", entry.name))
}

/// Arrays other than `access.suppress_path` need a key, checked first.
fn array_key_or(entry: &FpmEntry, key: &str, otherwise: &str) -> String {
    if key.is_empty() {
        format!("You must provide a key for field '{}'", entry.name)
    } else {
        otherwise.to_owned()
    }
}

/// C's `atoi` on a value `fpm_conf_set_integer` accepted: `""` and `"-"` are 0.
pub fn atoi(value: &str) -> i32 {
    match value {
        "" | "-" => 0,
        v => crate::syntax::fpm::values::c_atoi(v),
    }
}

/// `fpm_conf_set_integer`: digits, one leading `-` allowed; the empty string is 0.
fn integer_refusal(value: &str) -> Option<&'static str> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    (!digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some("is not a valid number (greater or equal than zero)")
}

/// `fpm_conf_set_time`: not empty, and the last character a digit or `s`/`m`/`h`/`d`
/// (what comes before is read by `atoi`, which never fails).
fn time_refusal(value: &str) -> Option<&'static str> {
    match value.as_bytes().last() {
        None => Some("invalid time value"),
        Some(b's' | b'm' | b'h' | b'd' | b'0'..=b'9') => None,
        Some(_) => Some("unknown suffix used in time value"),
    }
}

/// `fpm_conf_set_boolean`. The 8.1 and 8.2 sources take only "1" and "" (what the ini
/// scanner makes of unquoted yes/no/on/off/true/false/none); newer builds, Debian's php-fpm
/// 8.2.36 among them, also take `0` and the lowercase words in quotes or from the
/// environment. Only what every version refuses is refused here.
fn boolean_refusal(value: &str) -> Option<&'static str> {
    const ACCEPTED: [&str; 10] = [
        "1", "", "0", "yes", "true", "on", "no", "none", "false", "off",
    ];
    (!ACCEPTED.contains(&value)).then_some("invalid boolean value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shape() {
        assert_eq!(
            ENTRIES
                .iter()
                .filter(|e| e.section == Section::Global)
                .count(),
            17
        );
        assert_eq!(
            ENTRIES
                .iter()
                .filter(|e| e.section == Section::Pool)
                .count(),
            42
        );
        assert_eq!(
            ENTRIES
                .iter()
                .filter(|e| e.section == Section::PoolArray)
                .count(),
            6
        );
        let v74 = PhpVersion(7, 4);
        assert!(matches!(
            lookup(false, "pm.max_spawn_rate", false, v74),
            Lookup::NotInVersion(_)
        ));
        assert!(matches!(
            lookup(false, "PM.Max_Children", false, DEFAULT_PHP_VERSION),
            Lookup::Known(_)
        ));
        assert_eq!(
            lookup(false, "Php_Value", true, DEFAULT_PHP_VERSION),
            Lookup::Unknown
        );
        assert!(matches!(
            lookup(true, "pm", false, DEFAULT_PHP_VERSION),
            Lookup::WrongSection(_)
        ));
        assert_eq!(lookup(true, "include", false, v74), Lookup::Include);
    }

    #[test]
    fn suggestions() {
        let v = DEFAULT_PHP_VERSION;
        assert_eq!(
            close_names(Section::Pool, "pm.max_chidren", v),
            ["pm.max_children"]
        );
        assert_eq!(
            close_names(Section::PoolArray, "php_admin_valu", v)[0],
            "php_admin_value"
        );
        assert!(close_names(Section::Pool, "something_else", v).is_empty());
        assert_eq!(edit_distance("ab", "ba"), 1);
    }

    #[test]
    fn versions_parse() {
        assert_eq!("8.2".parse::<PhpVersion>(), Ok(PhpVersion(8, 2)));
        assert_eq!("7.4.33".parse::<PhpVersion>(), Ok(PhpVersion(7, 4)));
        assert!("7.3".parse::<PhpVersion>().is_err());
        assert!("8".parse::<PhpVersion>().is_err());
    }

    /// Hand-computed from fpm_conf.c's parsers.
    #[test]
    fn parsers() {
        let e = |n| find(Section::Pool, n).unwrap();
        let time = e("request_terminate_timeout");
        assert_eq!(
            parse_refusal(time, "30x", "").as_deref(),
            Some("unable to parse value for entry 'request_terminate_timeout': unknown suffix used in time value")
        );
        for ok in ["30", "30s", "5m", "1h", "2d", "s", "-5m", "1.5h"] {
            assert_eq!(parse_refusal(time, ok, ""), None, "{ok}");
        }
        assert!(parse_refusal(time, "", "")
            .unwrap()
            .ends_with("invalid time value"));
        assert!(parse_refusal(time, "10S", "").is_some());
        let int = e("pm.max_children");
        for ok in ["", "5", "-5", "-", "007"] {
            assert_eq!(parse_refusal(int, ok, ""), None, "{ok}");
        }
        for bad in ["5x", "+5", "1e3", " 5", "0x10"] {
            assert!(parse_refusal(int, bad, "").is_some(), "{bad}");
        }
        let core = e("rlimit_core");
        assert_eq!(parse_refusal(core, "UnLimited", ""), None);
        assert!(parse_refusal(core, "-1", "")
            .unwrap()
            .ends_with("'unlimited'"));
        let flag = find(Section::PoolArray, "php_flag").unwrap();
        assert_eq!(
            parse_refusal(flag, "maybe", "x").as_deref(),
            Some("error while parsing 'php_flag[x]' : invalid boolean value")
        );
        let env = find(Section::PoolArray, "env").unwrap();
        assert_eq!(parse_refusal(env, "", "X").as_deref(), Some("empty value"));
        assert_eq!(
            parse_refusal(env, "x", "").as_deref(),
            Some("You must provide a key for field 'env'")
        );
    }
}
