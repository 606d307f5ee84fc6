use crate::diagnostic::{Label, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::model::fpm::{Pool, Setting};
use crate::model::fpm_defaults::{
    instance_is_whole, parse_fpm_int, IntValue, PmPlan, PmStyle, PoolPm, DEFAULT_MAX_SPAWN_RATE,
    DEFAULT_PROCESS_IDLE_TIMEOUT,
};
use crate::model::fpm_entries::{close_names, lookup, Lookup, PhpVersion, Section};
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::syntax::fpm::values;

declare_rule! {
    /// ## What it does
    /// Flags process manager settings php-fpm refuses to start with: `pm` missing or not one
    /// of `static`, `dynamic`, `ondemand`; `pm.max_children` missing or below 1; with
    /// `pm = dynamic`, `pm.min_spare_servers` or `pm.max_spare_servers` below 1 (they have no
    /// default), either of them above `pm.max_children`, `pm.max_spare_servers` below
    /// `pm.min_spare_servers`, `pm.start_servers` outside `[min_spare, max_spare]`,
    /// `pm.max_spawn_rate` below 1; with `pm = ondemand`, `pm.process_idle_timeout` of 0; a
    /// negative global `process.max`. It also warns when `process.max` is below the sum of
    /// the pools' `pm.max_children`: php-fpm starts, but caps the workers.
    ///
    /// The pool is judged as php-fpm merges it: every file of the master, in load order, the
    /// last value winning, and php-fpm's own defaults for what no file sets
    /// (`pm.start_servers` unset or 0 becomes `min_spare + (max_spare - min_spare) / 2`).
    /// `pm` itself is checked as php-fpm reads each line: a refused value counts even when a
    /// later line or file sets `pm` again. A value built from `${VAR}` is read from php-fpm's
    /// environment: it is judged only with the variable's value given (`--env`,
    /// `--env-file`, `[env]`), and no fix rewrites it.
    ///
    /// This rule owns the `pm` value (`pm = dynamik`: fpm-invalid-value leaves it here) and
    /// the process manager's numbers; a number that is not one (`pm.max_children = 5x`) is
    /// fpm-invalid-value's. A required key missing because its line is misspelt
    /// (`pm.max_chidren = 5`) is reported by fpm-unknown-entry on that line, not here as
    /// "not set".
    ///
    /// ## Why it matters
    /// php-fpm exits at start-up (and `php-fpm -t` fails), so every request nginx sends to
    /// it answers 502 Bad Gateway. php-fpm logs the first problem it meets, e.g.
    /// `ALERT: [pool www] pm.min_spare_servers(0) must be a positive value`,
    /// `ALERT: [pool www] pm.start_servers(4) must not be less than pm.min_spare_servers(1) and not greater than pm.max_spare_servers(3)`,
    /// `ALERT: [pool www] pm.min_spare_servers(1) and pm.max_spare_servers(6) cannot be greater than pm.max_children(5)`,
    /// `ALERT: [pool www] pm.max_spare_servers(3) must not be less than pm.min_spare_servers(4)`,
    /// `ALERT: [pool www] pm.max_children must be a positive value`,
    /// `ALERT: [pool www] the process manager is missing (static, dynamic or ondemand)`,
    /// followed by `ERROR: FPM initialization failed`.
    ///
    /// **Partial trees.** A pool may be spread over files the tree does not hold: docker's
    /// `zz-docker.conf` sets only `listen` and extends the image's `www.conf`. A setting that
    /// is missing is therefore certain only when the tree holds the master's whole
    /// configuration (a php-fpm.conf that includes the pool files). Otherwise a problem that
    /// rests on a missing setting is a warning, and a pool that sets neither `pm` nor any
    /// `pm.*` key is taken for a fragment and not judged. Values written in the tree that
    /// contradict each other are errors either way.
    ///
    /// ## Example
    /// ```ini
    /// [www]
    /// pm = dynamic
    /// pm.max_children = 5
    /// pm.start_servers = 4
    /// pm.min_spare_servers = 1
    /// pm.max_spare_servers = 3
    /// ```
    ///
    /// ## Use instead
    /// ```ini
    /// [www]
    /// pm = dynamic
    /// pm.max_children = 5
    /// pm.start_servers = 3
    /// pm.min_spare_servers = 1
    /// pm.max_spare_servers = 3
    /// ```
    ///
    /// ## Fix safety
    /// The fix clamps the values to the nearest ones php-fpm accepts, lowering spare counts
    /// rather than raising `pm.max_children` (which would cost memory), and adds what is
    /// missing with the packaged `www.conf` values (`pm = dynamic`, 5 children, 1 to 3
    /// spare). It is unsafe: it picks the pool's capacity for you. A `process.max` problem has
    /// no fix.
    ///
    /// ## References
    /// - php-fpm: pool directives `pm`, `pm.max_children`, `pm.start_servers`,
    ///   `pm.min_spare_servers`, `pm.max_spare_servers`, `pm.max_spawn_rate`,
    ///   `pm.process_idle_timeout`; global `process.max`
    ///   (<https://www.php.net/manual/en/install.fpm.configuration.php>)
    pub struct FpmPmInvalid {
        name: "fpm-pm-invalid",
        category: Fpm,
        severity: Error,
        fix: Sometimes,
    }
}

impl Rule for FpmPmInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for pool in &cx.fpm.pools {
            let whole = instance_is_whole(cx.project, cx.fpm, pool);
            if let Some(f) = check_pool(cx, pool, whole) {
                out.push(f);
            }
        }
        out.extend(check_process_max(cx));
        out
    }
}

/// The first problem php-fpm would log for this pool (it stops at the first).
struct Problem<'p> {
    message: String,
    log: String,
    /// Where it points: a setting, or the pool header when the setting is missing.
    primary: Option<Setting<'p>>,
    others: Vec<(Setting<'p>, String)>,
    /// Rests on a setting no linted file sets.
    uses_default: bool,
    /// The key that is missing, when the problem is that one is.
    missing: Option<&'static str>,
}

fn check_pool(cx: &LintContext<'_, '_>, pool: &Pool<'_>, whole: bool) -> Option<Finding> {
    let pm = PoolPm::read(pool);
    let name = &pool.name;
    let sets_pm_keys = pool.entries.iter().any(|s| {
        let k = s.key();
        k == "pm" || k.starts_with("pm.")
    });
    if !whole && !sets_pm_keys {
        // A fragment of a pool whose base file is not linted (see the docs).
        return None;
    }
    let problem = first_problem(pool, &pm)?;
    if problem
        .missing
        .is_some_and(|key| typo_hides(pool, key, cx.settings.php_version))
    {
        // fpm-unknown-entry reports the misspelt line, which is where the fix goes.
        return None;
    }
    let (file, span) = match problem.primary {
        Some(s) => (s.file, s.value_span()),
        None => pool.header(),
    };
    let label = if problem.primary.is_some() {
        "refused by php-fpm".to_owned()
    } else {
        format!("pool [{name}] sets no such value")
    };
    let mut f = Finding::new(
        format!("pool [{name}]: {}", problem.message),
        Label::primary(file, span, label),
    );
    for (s, msg) in &problem.others {
        f = f.label(Label::secondary(s.file, s.value_span(), msg.clone()));
    }
    let mut help = format!(
        "php-fpm refuses to start, so every request nginx passes to it answers 502; it logs `{}`",
        problem.log
    );
    if problem.uses_default && !whole {
        help.push_str(
            ". The linted files are not the whole php-fpm configuration: ignore this if a file not linted (e.g. the image's www.conf) sets the value",
        );
        f = f.severity(Severity::Warning);
    }
    f = f.help(help);
    Some(f.fix(fix_pool(cx, pool, &pm)))
}

/// Whether the pool has a line php-fpm does not know whose name is a misspelling of `key`
/// (`pm.max_chidren` for a missing `pm.max_children`).
fn typo_hides(pool: &Pool<'_>, key: &str, version: PhpVersion) -> bool {
    pool.entries.iter().any(|s| {
        let e = s.entry();
        !e.is_array()
            && lookup(false, e.name(), false, version) == Lookup::Unknown
            && close_names(Section::Pool, e.name(), version).contains(&key)
    })
}

fn fix_pool(cx: &LintContext<'_, '_>, pool: &Pool<'_>, pm: &PoolPm<'_>) -> Option<Fix> {
    let mut edits = Vec::new();
    if pm.style() == Some(PmStyle::Ondemand) {
        if let Some(s) = idle_timeout_refused(pool) {
            edits.push(Edit::replace(
                s.file,
                s.value_span(),
                format!("{DEFAULT_PROCESS_IDLE_TIMEOUT}s"),
            ));
        }
    }
    if pm.style() == Some(PmStyle::Dynamic) {
        if let IntValue::Set(n, s) = pm.max_spawn_rate {
            if n < 1 {
                edits.push(Edit::replace(
                    s.file,
                    s.value_span(),
                    DEFAULT_MAX_SPAWN_RATE.to_string(),
                ));
            }
        }
    }
    let plan = PmPlan::clamp(pm, None)?;
    edits.extend(plan.edits(cx.project, pool, pm));
    if edits.is_empty() {
        return None;
    }
    let summary = match plan.style {
        PmStyle::Dynamic => format!(
            "use pm = dynamic with {} children and {}..{} spare servers",
            plan.max_children, plan.min_spare, plan.max_spare
        ),
        s => format!(
            "use pm = {} with {} children",
            s.as_str(),
            plan.max_children
        ),
    };
    Some(Fix::new(summary, Applicability::Unsafe, edits))
}

/// `pm.process_idle_timeout` set to 0 (php-fpm's check is `< 1` second).
fn idle_timeout_refused<'p>(pool: &Pool<'p>) -> Option<Setting<'p>> {
    let s = pool.get("pm.process_idle_timeout")?;
    (values::parse_time_secs(s.text()) == Some(0)).then_some(s)
}

fn first_problem<'p>(pool: &Pool<'p>, pm: &PoolPm<'p>) -> Option<Problem<'p>> {
    let name = &pool.name;
    let p =
        |message: String, log: String, primary: Option<Setting<'p>>, uses_default: bool| Problem {
            message,
            log,
            primary,
            others: Vec::new(),
            uses_default,
            missing: None,
        };
    // php-fpm checks `pm` as it reads each line, so a refused value counts even when a
    // later line (or file) sets it again (checked with php-fpm8.2 -t).
    let refused_earlier = pool.entries.iter().find(|s| {
        s.key() == "pm"
            && !s.entry().is_array()
            && !s.is_from_env()
            && PmStyle::parse(s.text()).is_none()
    });
    let pm_in_effect = match (refused_earlier, pm.pm) {
        (Some(s), _) => Some((None, *s)),
        (None, current) => current,
    };
    let style = match pm_in_effect {
        // `pm = ${FPM_PM}`: php-fpm reads it from its environment; the checks that need it
        // wait for a value (`--env`, `--env-file`, `[env]`).
        Some((None, s)) if s.is_from_env() => return None,
        None => {
            return Some(Problem {
                missing: Some("pm"),
                ..p(
                    "no `pm` is set, and php-fpm has no default process manager".into(),
                    format!("ALERT: [pool {name}] the process manager is missing (static, dynamic or ondemand)"),
                    None,
                    true,
                )
            })
        }
        Some((None, s)) => {
            return Some(p(
                format!(
                    "`pm = {}`{} is not a process manager (static, dynamic or ondemand)",
                    s.written(),
                    s.env_note()
                ),
                "ERROR: [...] unable to parse value for entry 'pm': invalid process manager (static, dynamic or ondemand)".into(),
                Some(s),
                false,
            ))
        }
        Some((Some(style), _)) => style,
    };
    let mc = pm.max_children.or(0)?;
    if mc < 1 {
        let message = match pm.max_children {
            IntValue::Unset => "`pm.max_children` is not set (php-fpm's default is 0)".into(),
            _ => format!(
                "{} must be at least 1",
                pm.max_children.shown("pm.max_children")
            ),
        };
        return Some(Problem {
            missing: (!pm.max_children.is_set()).then_some("pm.max_children"),
            ..p(
                message,
                format!("ALERT: [pool {name}] pm.max_children must be a positive value"),
                pm.max_children.setting(),
                !pm.max_children.is_set(),
            )
        });
    }
    match style {
        PmStyle::Static => None,
        PmStyle::Ondemand => {
            let s = idle_timeout_refused(pool)?;
            Some(p(
                "`pm.process_idle_timeout` must be at least 1s with pm = ondemand".into(),
                format!("ALERT: [pool {name}] pm.process_idle_timeout(0s) must be greater than 0s"),
                Some(s),
                false,
            ))
        }
        PmStyle::Dynamic => dynamic_problem(name, pm, mc),
    }
}

fn dynamic_problem<'p>(name: &str, pm: &PoolPm<'p>, mc: i64) -> Option<Problem<'p>> {
    let min = pm.min_spare.or(0)?;
    let max = pm.max_spare.or(0)?;
    let unset = |v: &IntValue<'_>| !v.is_set();
    let with = |v: &IntValue<'p>, what: &str| v.setting().map(|s| (s, what.to_owned()));
    if min < 1 || max < 1 {
        let (key, v, n) = if min < 1 {
            ("pm.min_spare_servers", &pm.min_spare, min)
        } else {
            ("pm.max_spare_servers", &pm.max_spare, max)
        };
        let message = if unset(v) {
            format!("`{key}` is not set, and with pm = dynamic php-fpm has no default for it")
        } else {
            format!("{} must be at least 1 with pm = dynamic", v.shown(key))
        };
        return Some(Problem {
            message,
            log: format!("ALERT: [pool {name}] {key}({n}) must be a positive value"),
            primary: v.setting(),
            others: Vec::new(),
            uses_default: unset(v),
            missing: unset(v).then_some(key),
        });
    }
    let mc_label = pm
        .max_children
        .setting()
        .map(|s| (s, format!("pm.max_children = {mc}")));
    if min > mc || max > mc {
        let v = if max > mc {
            &pm.max_spare
        } else {
            &pm.min_spare
        };
        return Some(Problem {
            message: format!(
                "spare servers ({min}..{max}) cannot exceed `pm.max_children = {mc}`"
            ),
            log: format!("ALERT: [pool {name}] pm.min_spare_servers({min}) and pm.max_spare_servers({max}) cannot be greater than pm.max_children({mc})"),
            primary: v.setting(),
            others: mc_label.into_iter().collect(),
            uses_default: false,
            missing: None,
        });
    }
    if max < min {
        return Some(Problem {
            message: format!(
                "`pm.max_spare_servers = {max}` is below `pm.min_spare_servers = {min}`"
            ),
            log: format!("ALERT: [pool {name}] pm.max_spare_servers({max}) must not be less than pm.min_spare_servers({min})"),
            primary: pm.max_spare.setting(),
            others: with(&pm.min_spare, "pm.min_spare_servers").into_iter().collect(),
            uses_default: false,
            missing: None,
        });
    }
    if let IntValue::Set(start, s) = pm.start_servers {
        if start > 0 && (start < min || start > max) {
            let mut others: Vec<_> = with(&pm.min_spare, "pm.min_spare_servers")
                .into_iter()
                .collect();
            others.extend(with(&pm.max_spare, "pm.max_spare_servers"));
            return Some(Problem {
                message: format!(
                    "`pm.start_servers = {start}` is outside pm.min_spare_servers..pm.max_spare_servers ({min}..{max})"
                ),
                log: format!("ALERT: [pool {name}] pm.start_servers({start}) must not be less than pm.min_spare_servers({min}) and not greater than pm.max_spare_servers({max})"),
                primary: Some(s),
                others,
                uses_default: false,
                missing: None,
            });
        }
    }
    if let IntValue::Set(n, s) = pm.max_spawn_rate {
        if n < 1 {
            return Some(Problem {
                message: format!("`pm.max_spawn_rate = {n}` must be at least 1"),
                log: format!("ALERT: [pool {name}] pm.max_spawn_rate must be a positive value"),
                primary: Some(s),
                others: Vec::new(),
                uses_default: false,
                missing: None,
            });
        }
    }
    None
}

/// `process.max` per master: negative is refused; below the pools' total it caps workers.
fn check_process_max(cx: &LintContext<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, globals) in cx.fpm.globals.iter().enumerate() {
        let Some(s) = globals
            .iter()
            .rev()
            .find(|s| s.key() == "process.max" && !s.entry().is_array())
        else {
            continue;
        };
        let Some(max) = parse_fpm_int(s.text()) else {
            continue;
        };
        if max < 0 {
            out.push(
                Finding::new(
                    format!("`process.max = {max}` is negative"),
                    Label::primary(s.file, s.value_span(), "refused by php-fpm"),
                )
                .help("php-fpm refuses to start, so every request answers 502; it logs `ERROR: process_max can't be negative`. Use 0 (no limit) or a positive count.")
                .fix(Some(Fix::new(
                    "use process.max = 0 (no limit)",
                    Applicability::Unsafe,
                    vec![Edit::replace(s.file, s.value_span(), "0")],
                ))),
            );
            continue;
        }
        if max == 0 {
            continue;
        }
        let pools: Vec<(&Pool<'_>, i64, Setting<'_>)> = cx
            .fpm
            .pools
            .iter()
            .filter(|p| p.instance == i)
            .filter_map(|p| {
                let (n, s) = PoolPm::read(p).max_children()?;
                Some((p, n, s))
            })
            .collect();
        let total: i64 = pools
            .iter()
            .fold(0i64, |sum, (_, n, _)| sum.saturating_add(*n));
        if total <= max {
            continue;
        }
        let terms: Vec<String> = pools
            .iter()
            .map(|(p, n, _)| format!("[{}] {n}", p.name))
            .collect();
        let mut f = Finding::new(
            format!(
                "`process.max = {max}` is below the pools' pm.max_children total ({} = {total})",
                terms.join(" + ")
            ),
            Label::primary(s.file, s.value_span(), "caps every pool of this master"),
        )
        .severity(Severity::Warning)
        .help("php-fpm starts, but never runs more than process.max workers in all: requests queue (and may end in 504) while the pools are below their pm.max_children. It logs `WARNING: The maximum number of processes has been reached. Please review your configuration and consider raising 'process.max'`. Raise process.max to the total, or lower pm.max_children.");
        for (p, n, ms) in &pools {
            f = f.label(Label::secondary(
                ms.file,
                ms.value_span(),
                format!("pool [{}]: {n}", p.name),
            ));
        }
        out.push(f);
    }
    out
}

/// The docs' own examples, linted: "Example" must fire the rule, "Use instead" must not.
#[cfg(test)]
pub(crate) mod doc_examples {
    use crate::diagnostic::Severity;
    use crate::lint::{all_rules, lint_project};
    use crate::project::{Options, Project};
    use crate::rules::RuleMeta;
    use crate::settings::Settings;

    /// The first fenced block after `heading`.
    fn block(docs: &str, heading: &str) -> String {
        let after = &docs[docs.find(heading).expect(heading)..];
        let start = after.find("```").expect("a code block") + 3;
        let body = &after[start..];
        let body = &body[body.find('\n').unwrap() + 1..];
        body[..body.find("```").unwrap()].to_owned()
    }

    fn severities(meta: &RuleMeta, file: &str, text: &str, settings: &Settings) -> Vec<Severity> {
        let project = Project::from_memory(&[(file, text)], Options::default());
        lint_project(project, settings, &all_rules)
            .diagnostics
            .into_iter()
            .filter(|d| d.name == meta.name && d.severity > Severity::Info)
            .map(|d| d.severity)
            .collect()
    }

    /// Lint both examples as `file`; returns what each produced (Example, Use instead).
    pub fn check(
        meta: &RuleMeta,
        file: &str,
        settings: &Settings,
    ) -> (Vec<Severity>, Vec<Severity>) {
        let docs = crate::rules::docs_text(meta);
        (
            severities(meta, file, &block(&docs, "## Example"), settings),
            severities(meta, file, &block(&docs, "## Use instead"), settings),
        )
    }

    #[test]
    fn pm_invalid_docs() {
        let (bad, good) = check(
            &super::FpmPmInvalid::META,
            "pool.d/www.conf",
            &Settings::default(),
        );
        assert_eq!(bad, [Severity::Error]);
        assert!(good.is_empty(), "{good:?}");
    }
}
