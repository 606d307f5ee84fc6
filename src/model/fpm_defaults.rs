//! php-fpm's built-in defaults and start-up checks for a pool's process manager, as php-fpm
//! 8.2 applies them (`fpm_conf.c`), and the edits that make a pool's `pm.*` values valid.
//!
//! Shared by the pool rules: `fpm-pm-invalid` reports what php-fpm refuses, and
//! `fpm-memory-overcommit` uses [`PmPlan`] to keep `pm.*` consistent when it lowers
//! `pm.max_children`.

use crate::fix::insert::fpm_lines_in_section;
use crate::fix::Edit;
use crate::model::fpm::{FpmModel, Pool, Setting};
use crate::project::Project;
use crate::syntax::fpm::values;

/// `pm = ...`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PmStyle {
    Static,
    Dynamic,
    Ondemand,
}

impl PmStyle {
    pub fn parse(text: &str) -> Option<PmStyle> {
        // php-fpm compares case-insensitively (strcasecmp).
        match text.trim().to_ascii_lowercase().as_str() {
            "static" => Some(PmStyle::Static),
            "dynamic" => Some(PmStyle::Dynamic),
            "ondemand" => Some(PmStyle::Ondemand),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PmStyle::Static => "static",
            PmStyle::Dynamic => "dynamic",
            PmStyle::Ondemand => "ondemand",
        }
    }
}

/// php-fpm's defaults for integer pool settings that have one (`fpm_conf.c`,
/// `fpm_conf_init_pool`): everything else starts at 0.
pub const DEFAULT_MAX_SPAWN_RATE: i64 = 32;
pub const DEFAULT_PROCESS_IDLE_TIMEOUT: i64 = 10;
/// What Debian's and php-src's packaged www.conf ship: `pm = dynamic`, 5 children, 1..3 spare.
pub const PACKAGED_MAX_CHILDREN: i64 = 5;
pub const PACKAGED_MIN_SPARE: i64 = 1;
pub const PACKAGED_MAX_SPARE: i64 = 3;

/// An integer pool setting as php-fpm will see it.
#[derive(Clone, Copy, Debug)]
pub enum IntValue<'p> {
    /// Not set in the pool: php-fpm's default applies.
    Unset,
    Set(i64, Setting<'p>),
    /// `${ENV}` or not a number: not known at lint time.
    Unknown(Setting<'p>),
}

impl<'p> IntValue<'p> {
    pub fn read(pool: &Pool<'p>, key: &str) -> IntValue<'p> {
        let Some(s) = pool.get(key) else {
            return IntValue::Unset;
        };
        if s.is_from_env() {
            return IntValue::Unknown(s);
        }
        // As php-fpm's parser gets it: `no` and `""` are the empty string, which atoi reads as 0.
        let read = crate::model::fpm_entries::value_as_read(s.entry());
        let read = read.as_deref().map(|v| v.trim_matches([' ', '\t']));
        if matches!(read, Some("" | "-")) {
            return IntValue::Set(0, s);
        }
        match read.and_then(parse_fpm_int) {
            Some(n) => IntValue::Set(n, s),
            None => IntValue::Unknown(s),
        }
    }
    /// The value php-fpm uses, `default` when unset; None when unknown.
    pub fn or(&self, default: i64) -> Option<i64> {
        match self {
            IntValue::Unset => Some(default),
            IntValue::Set(n, _) => Some(*n),
            IntValue::Unknown(_) => None,
        }
    }
    pub fn setting(&self) -> Option<Setting<'p>> {
        match self {
            IntValue::Unset => None,
            IntValue::Set(_, s) | IntValue::Unknown(s) => Some(*s),
        }
    }
    pub fn is_set(&self) -> bool {
        !matches!(self, IntValue::Unset)
    }
    /// `` `key = value` `` as written, and how php-fpm reads it when that differs (a number
    /// past a C `int`): `` `pm.max_children = 2147483648` (php-fpm reads -2147483648) ``.
    pub fn shown(&self, key: &str) -> String {
        match self {
            IntValue::Set(n, s) => {
                let written = s.text().trim_matches([' ', '\t']);
                if written == n.to_string() {
                    format!("`{key} = {written}`")
                } else {
                    format!("`{key} = {written}` (php-fpm reads {n}: it keeps a C int)")
                }
            }
            IntValue::Unset | IntValue::Unknown(_) => format!("`{key}`"),
        }
    }
}

/// An integer as `fpm_conf_set_integer` reads it: digits, optionally after a `-` (which it
/// accepts, and the later checks then refuse).
pub fn parse_fpm_int(text: &str) -> Option<i64> {
    let t = text.trim_matches([' ', '\t']);
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(i64::from(values::c_atoi(t)))
}

/// A pool's process manager settings, read with php-fpm's defaults.
#[derive(Clone, Debug)]
pub struct PoolPm<'p> {
    /// `pm`, with its parsed style (None: a value php-fpm refuses).
    pub pm: Option<(Option<PmStyle>, Setting<'p>)>,
    pub max_children: IntValue<'p>,
    pub start_servers: IntValue<'p>,
    pub min_spare: IntValue<'p>,
    pub max_spare: IntValue<'p>,
    pub max_spawn_rate: IntValue<'p>,
}

impl<'p> PoolPm<'p> {
    pub fn read(pool: &Pool<'p>) -> PoolPm<'p> {
        PoolPm {
            pm: pool.get("pm").map(|s| (PmStyle::parse(s.text()), s)),
            max_children: IntValue::read(pool, "pm.max_children"),
            start_servers: IntValue::read(pool, "pm.start_servers"),
            min_spare: IntValue::read(pool, "pm.min_spare_servers"),
            max_spare: IntValue::read(pool, "pm.max_spare_servers"),
            max_spawn_rate: IntValue::read(pool, "pm.max_spawn_rate"),
        }
    }

    pub fn style(&self) -> Option<PmStyle> {
        self.pm.and_then(|(s, _)| s)
    }

    /// `pm.max_children` when set to a known value.
    pub fn max_children(&self) -> Option<(i64, Setting<'p>)> {
        match self.max_children {
            IntValue::Set(n, s) => Some((n, s)),
            _ => None,
        }
    }
}

/// Whether the linted files hold the whole php-fpm configuration of this pool's master: a
/// php-fpm.conf that includes the pool files. A pool built only from pool files (docker's
/// `zz-docker.conf`, a repo holding just its own `www.conf` override) may take the rest of its
/// settings from a base file that is not in the tree, so missing settings are not certain.
pub fn instance_is_whole(project: &Project, fpm: &FpmModel<'_>, pool: &Pool<'_>) -> bool {
    let Some(main) = fpm.instances[pool.instance].main else {
        return false;
    };
    project
        .fpm(main)
        .is_some_and(|c| c.entries().any(|(_, e)| e.name() == "include"))
}

/// The values a valid process manager section would have, nearest to what is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PmPlan {
    pub style: PmStyle,
    pub max_children: i64,
    /// Only for `dynamic`.
    pub min_spare: i64,
    pub max_spare: i64,
    /// `Some` when `pm.start_servers` must be written (it is set and out of range).
    pub start_servers: Option<i64>,
}

impl PmPlan {
    /// Clamp the pool's values into the ranges php-fpm accepts, changing as little as
    /// possible. `max_children` overrides the pool's own value (memory-overcommit lowers it).
    /// None when a value is not known at lint time.
    pub fn clamp(pm: &PoolPm<'_>, max_children: Option<i64>) -> Option<PmPlan> {
        // A value from the container's environment is the deployment's to change, not the
        // file's: no plan rewrites it.
        let settings = [
            pm.pm.map(|(_, s)| s),
            pm.max_children.setting(),
            pm.min_spare.setting(),
            pm.max_spare.setting(),
            pm.start_servers.setting(),
        ];
        if settings.iter().flatten().any(|s| s.uses_env()) {
            return None;
        }
        let style = match pm.pm {
            Some((Some(s), _)) => s,
            // Read from php-fpm's environment at start-up: not known here.
            Some((None, s)) if s.is_from_env() => return None,
            // A misspelling: the style it starts like (`statc`, `ondemnad`).
            Some((None, s)) => match s.text().trim().to_ascii_lowercase().chars().next() {
                Some('s') => PmStyle::Static,
                Some('o') => PmStyle::Ondemand,
                _ => PmStyle::Dynamic,
            },
            // Missing: the packaged choice.
            None => PmStyle::Dynamic,
        };
        let mc = match max_children {
            Some(n) => n,
            None => match pm.max_children.or(0)? {
                n if n < 1 => PACKAGED_MAX_CHILDREN,
                n => n,
            },
        }
        .max(1);
        let mut plan = PmPlan {
            style,
            max_children: mc,
            min_spare: 0,
            max_spare: 0,
            start_servers: None,
        };
        if style != PmStyle::Dynamic {
            return Some(plan);
        }
        let min = pm.min_spare.or(0)?;
        let max = pm.max_spare.or(0)?;
        let min = if min < 1 { PACKAGED_MIN_SPARE } else { min }.clamp(1, mc);
        let max = if max < 1 {
            PACKAGED_MAX_SPARE.max(min)
        } else {
            max
        }
        .clamp(min, mc);
        plan.min_spare = min;
        plan.max_spare = max;
        if let IntValue::Set(start, _) = pm.start_servers {
            // 0 or less means "compute it", which is always in range.
            if start > 0 && (start < min || start > max) {
                plan.start_servers = Some(start.clamp(min, max));
            }
        }
        Some(plan)
    }

    /// The edits that write this plan into the pool: changed values are replaced where they
    /// are in effect, missing ones are added to the pool's section (in the file that sets
    /// `pm`, or the pool's first file).
    pub fn edits(&self, project: &Project, pool: &Pool<'_>, pm: &PoolPm<'_>) -> Vec<Edit> {
        let mut edits = Vec::new();
        let mut missing = Vec::new();
        let mut want =
            |key: &str, value: String, current: Option<Setting<'_>>, same: bool| match current {
                Some(s) if !same => {
                    edits.push(Edit::replace(s.file, s.value_span(), value));
                }
                Some(_) => {}
                None => missing.push(format!("{key} = {value}")),
            };
        let pm_ok = pm.style() == Some(self.style);
        want(
            "pm",
            self.style.as_str().into(),
            pm.pm.map(|(_, s)| s),
            pm_ok,
        );
        want(
            "pm.max_children",
            self.max_children.to_string(),
            pm.max_children.setting(),
            pm.max_children.or(0) == Some(self.max_children),
        );
        if self.style == PmStyle::Dynamic {
            // An unset spare value is written only when its default (0) is refused.
            want(
                "pm.min_spare_servers",
                self.min_spare.to_string(),
                pm.min_spare.setting(),
                pm.min_spare.or(0) == Some(self.min_spare),
            );
            want(
                "pm.max_spare_servers",
                self.max_spare.to_string(),
                pm.max_spare.setting(),
                pm.max_spare.or(0) == Some(self.max_spare),
            );
            if let Some(start) = self.start_servers {
                want(
                    "pm.start_servers",
                    start.to_string(),
                    pm.start_servers.setting(),
                    false,
                );
            }
        }
        if !missing.is_empty() {
            let file = pm.pm.map_or(pool.header().0, |(_, s)| s.file);
            if let (Some(config), text) = (project.fpm(file), &project.sources.get(file).text) {
                if let Some(e) = fpm_lines_in_section(file, text, config, &pool.name, &missing) {
                    edits.push(e);
                }
            }
        }
        edits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fpm::{build, resolve_includes};
    use crate::project::Options;

    fn plan(pool_text: &str, mc: Option<i64>) -> Option<PmPlan> {
        let text = format!("[www]\nlisten = /run/a.sock\n{pool_text}");
        let mut p = Project::from_memory(&[("pool.d/www.conf", &text)], Options::default());
        let inc = resolve_includes(&mut p);
        let m = build(&p, &inc);
        PmPlan::clamp(&PoolPm::read(&m.pools[0]), mc)
    }

    #[test]
    fn integers_as_php_fpm_reads_them() {
        assert_eq!(parse_fpm_int("5"), Some(5));
        assert_eq!(parse_fpm_int(" -1 "), Some(-1));
        assert_eq!(parse_fpm_int("5k"), None);
        assert_eq!(parse_fpm_int(""), None);
        // Out of `int`: as php-fpm 8.2 read them in `php-fpm -t` (see values::c_atoi).
        assert_eq!(parse_fpm_int("2147483647"), Some(2147483647));
        assert_eq!(parse_fpm_int("2147483648"), Some(-2147483648));
        assert_eq!(parse_fpm_int("4294967296"), Some(0));
        assert_eq!(parse_fpm_int("4294967301"), Some(5));
        assert_eq!(parse_fpm_int("99999999999999999999"), Some(-1));
        assert_eq!(parse_fpm_int("-99999999999999999999"), Some(0));
    }

    #[test]
    fn clamping_keeps_dynamic_consistent() {
        let p = plan(
            "pm = dynamic\npm.max_children = 5\npm.min_spare_servers = 4\npm.max_spare_servers = 3\npm.start_servers = 9\n",
            None,
        )
        .unwrap();
        assert_eq!((p.max_children, p.min_spare, p.max_spare), (5, 4, 4));
        assert_eq!(p.start_servers, Some(4));
        // Lowering max_children pulls the spare values down with it.
        let p = plan(
            "pm = dynamic\npm.max_children = 50\npm.min_spare_servers = 5\npm.max_spare_servers = 35\npm.start_servers = 20\n",
            Some(8),
        )
        .unwrap();
        assert_eq!((p.max_children, p.min_spare, p.max_spare), (8, 5, 8));
        assert_eq!(p.start_servers, Some(8));
        // Unset spare values get the packaged ones.
        let p = plan("pm = dynamic\npm.max_children = 10\n", None).unwrap();
        assert_eq!((p.min_spare, p.max_spare, p.start_servers), (1, 3, None));
    }
}
