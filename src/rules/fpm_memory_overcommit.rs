use crate::diagnostic::{Label, Severity};
use crate::fix::{Applicability, Fix};
use crate::model::fpm::{Pool, Setting};
use crate::model::fpm_defaults::{PmPlan, PoolPm};
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::syntax::fpm::values::{parse_size, Size};

declare_rule! {
    /// ## What it does
    /// With a memory budget for PHP (`--memory 2G`), adds up what the pools may use at
    /// peak: for each pool, `pm.max_children` times the memory one worker may take (its
    /// `php_admin_value[memory_limit]`, else its `php_value[memory_limit]`, else the
    /// assumed `worker-memory`, 128M by default). Above the budget it is an error; above 80%
    /// of it a warning, since `memory_limit` caps what a script allocates, not the worker's
    /// own footprint (the interpreter, extensions, its share of opcache).
    ///
    /// Without a budget (`--memory`, or `memory` in the config file) the check is off and
    /// says nothing, as any rule that is not selected.
    /// A pool with `memory_limit = -1` has no cap; it is counted at the assumed
    /// `worker-memory`, and the finding says so.
    ///
    /// ## Why it matters
    /// When every worker is busy with a large request, the machine runs out of memory and the
    /// kernel's OOM killer ends php-fpm's workers (or the master, or the database beside
    /// it): the kernel log shows `Out of memory: Killed process 1234 (php-fpm8.2)`, php-fpm
    /// logs `WARNING: [pool www] child 1234 exited on signal 9 (SIGKILL)`, and nginx answers
    /// 502 with `recv() failed (104: Connection reset by peer) while reading response header from upstream`.
    ///
    /// ## Example
    /// With `--memory 1G`:
    /// ```ini
    /// [www]
    /// pm = static
    /// pm.max_children = 20
    /// php_admin_value[memory_limit] = 128M
    /// ```
    ///
    /// ## Use instead
    /// ```ini
    /// [www]
    /// pm = static
    /// pm.max_children = 6
    /// php_admin_value[memory_limit] = 128M
    /// ```
    ///
    /// ## Fix safety
    /// The fix scales every pool's `pm.max_children` down in proportion so the total fits in
    /// 80% of the budget (at least 1 each), and lowers `pm.start_servers` and the spare
    /// counts with it where they would exceed the new maximum. It is unsafe: fewer workers
    /// means less concurrency (see `fpm-pool-exhaustion`); lowering `memory_limit` may be
    /// the better choice.
    ///
    /// ## References
    /// - php-fpm: pool directives `pm.max_children`, `php_admin_value`
    ///   (<https://www.php.net/manual/en/install.fpm.configuration.php>)
    /// - PHP: `memory_limit` (<https://www.php.net/manual/en/ini.core.php#ini.memory-limit>)
    pub struct FpmMemoryOvercommit {
        name: "fpm-memory-overcommit",
        category: Fpm,
        severity: Warning,
        fix: Sometimes,
    }
}

/// Every pool's `pm.max_children x memory per worker`, as the rule counts it, and the total
/// (saturating): for `diagnose`'s OOM cause.
pub(crate) fn arithmetic(
    fpm: &crate::model::fpm::FpmModel<'_>,
    worker_memory: u64,
) -> (Vec<String>, String) {
    let mut parts = Vec::new();
    let mut total = 0u64;
    for pool in &fpm.pools {
        let Some((children, _)) = PoolPm::read(pool).max_children() else {
            continue;
        };
        if children < 1 {
            continue;
        }
        let (per_worker, source) = self::worker_memory(pool, worker_memory);
        total = total.saturating_add((children as u64).saturating_mul(per_worker));
        parts.push(format!(
            "[{}] {} x {}{}",
            pool.name,
            children,
            fmt_size(per_worker),
            source
        ));
    }
    (parts, fmt_size(total))
}

/// The share of the budget the fix aims for, and above which the rule warns (percent).
const HEADROOM_PERCENT: u64 = 80;

struct Term<'a, 'p> {
    pool: &'a Pool<'p>,
    children: i64,
    setting: Setting<'p>,
    per_worker: u64,
    /// Why `per_worker` has that value, when it is not the pool's own memory_limit.
    source: &'static str,
}

impl Term<'_, '_> {
    /// pm.max_children x memory_limit; `children` is at least 1 (filtered when read).
    fn bytes(&self) -> u64 {
        (self.children as u64).saturating_mul(self.per_worker)
    }
}

impl Rule for FpmMemoryOvercommit {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        // Off without a budget: a check the user did not ask for prints nothing.
        let Some(budget) = cx.settings.memory_budget.filter(|&b| b > 0) else {
            return Vec::new();
        };
        let terms: Vec<Term<'_, '_>> = cx
            .fpm
            .pools
            .iter()
            .filter_map(|pool| {
                let (children, setting) = PoolPm::read(pool).max_children()?;
                (children >= 1).then_some(())?;
                let (per_worker, source) = worker_memory(pool, cx.settings.worker_memory);
                Some(Term {
                    pool,
                    children,
                    setting,
                    per_worker,
                    source,
                })
            })
            .collect();
        // Saturating: a memory_limit of `4294967296G` is 2^62 bytes a worker, over any budget.
        let total: u64 = terms
            .iter()
            .fold(0u64, |sum, t| sum.saturating_add(t.bytes()));
        let percent = total.saturating_mul(100) / budget;
        if terms.is_empty() || percent <= HEADROOM_PERCENT && total <= budget {
            return Vec::new();
        }
        let arithmetic: Vec<String> = terms
            .iter()
            .map(|t| {
                format!(
                    "[{}] {} x {}{}",
                    t.pool.name,
                    t.children,
                    fmt_size(t.per_worker),
                    t.source
                )
            })
            .collect();
        let biggest = terms
            .iter()
            .max_by_key(|t| t.bytes())
            .expect("terms is not empty");
        let over = total > budget;
        let mut f = Finding::new(
            format!(
                "PHP-FPM pools may use {} of the {} memory budget ({percent}%): {}",
                fmt_size(total),
                fmt_size(budget),
                arithmetic.join(" + ")
            ),
            Label::primary(
                biggest.setting.file,
                biggest.setting.value_span(),
                format!(
                    "[{}] {} x {} = {}",
                    biggest.pool.name,
                    biggest.children,
                    fmt_size(biggest.per_worker),
                    fmt_size(biggest.bytes())
                ),
            ),
        )
        .help(if over {
            "when the pools are full of large requests the OOM killer ends PHP workers (`Out of memory: Killed process ... (php-fpm8.2)`) and nginx answers 502. Lower pm.max_children or memory_limit."
        } else {
            "less than 20% of the budget is left for what memory_limit does not count (the interpreter, extensions, opcache): under load the OOM killer may end PHP workers and nginx answers 502. Lower pm.max_children or memory_limit."
        })
        .severity(if over {
            Severity::Error
        } else {
            Severity::Warning
        });
        for t in terms.iter().filter(|t| !std::ptr::eq(*t, biggest)) {
            f = f.label(Label::secondary(
                t.setting.file,
                t.setting.value_span(),
                format!(
                    "[{}] {} x {} = {}",
                    t.pool.name,
                    t.children,
                    fmt_size(t.per_worker),
                    fmt_size(t.bytes())
                ),
            ));
        }
        vec![f.fix(scale_down(cx, &terms, total, budget))]
    }
}

/// What one worker of the pool may use, and a note when it is not the pool's own limit.
fn worker_memory(pool: &Pool<'_>, assumed: u64) -> (u64, &'static str) {
    let limit = pool
        .get_array("php_admin_value", "memory_limit")
        .or_else(|| pool.get_array("php_value", "memory_limit"));
    match limit.map(|s| parse_size(s.text())) {
        None => (assumed, " (assumed)"),
        Some(Some(Size::Bytes(b))) => (b, ""),
        Some(Some(Size::Unlimited)) => (assumed, " (memory_limit -1: unlimited, assumed)"),
        Some(None) => (assumed, " (memory_limit unreadable, assumed)"),
    }
}

fn scale_down(
    cx: &LintContext<'_, '_>,
    terms: &[Term<'_, '_>],
    total: u64,
    budget: u64,
) -> Option<Fix> {
    let target = budget / 100 * HEADROOM_PERCENT;
    let mut edits = Vec::new();
    let mut summary = Vec::new();
    for t in terms {
        // floor keeps the sum under the target; a pool keeps at least one worker.
        let scaled = (t.children as u128 * target as u128 / total as u128) as i64;
        let new = scaled.max(1);
        if new == t.children {
            continue;
        }
        let pm = PoolPm::read(t.pool);
        let plan = PmPlan::clamp(&pm, Some(new))?;
        edits.extend(plan.edits(cx.project, t.pool, &pm));
        summary.push(format!("[{}] {} -> {new}", t.pool.name, t.children));
    }
    if edits.is_empty() {
        return None;
    }
    Some(Fix::new(
        format!(
            "lower pm.max_children to fit {HEADROOM_PERCENT}% of the budget: {}",
            summary.join(", ")
        ),
        Applicability::Unsafe,
        edits,
    ))
}

/// Sizes as php.ini writes them: `128M`, `2G`, `1536M`.
fn fmt_size(bytes: u64) -> String {
    const M: u64 = 1 << 20;
    const G: u64 = 1 << 30;
    if bytes >= G && bytes % G == 0 {
        format!("{}G", bytes / G)
    } else if bytes >= M {
        format!("{}M", bytes.div_ceil(M))
    } else if bytes >= 1024 {
        format!("{}K", bytes.div_ceil(1024))
    } else {
        bytes.to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::diagnostic::Severity;
    use crate::fix::diff::unified_diff;
    use crate::fix::Applicability;
    use crate::lint::{all_rules, fix_all, lint_paths};
    use crate::project::Options;
    use crate::settings::Settings;

    const G: u64 = 1 << 30;

    /// This rule's findings: (severity, message).
    type Found = Vec<(Severity, String)>;

    /// The fixture harness lints without a budget; these run the same tree with one.
    fn run(budget: u64) -> (Found, String, Found) {
        let paths = vec![PathBuf::from(
            "fixtures/fpm-memory-overcommit/bad-over-budget",
        )];
        let settings = Settings {
            memory_budget: Some(budget),
            ..Settings::default()
        };
        let first = lint_paths(&paths, Options::default(), &settings, &all_rules);
        let own = |d: &[crate::diagnostic::Diagnostic]| {
            d.iter()
                .filter(|d| d.code == "NFL303")
                .map(|d| (d.severity, d.message.clone()))
                .collect::<Found>()
        };
        let fixed = fix_all(
            &first,
            &paths,
            &Options::default(),
            &settings,
            Applicability::Unsafe,
        );
        let mut diff = String::new();
        for (id, new) in &fixed.changed {
            let f = first.project.sources.get(*id);
            diff.push_str(&unified_diff(&f.text, new, &f.name));
        }
        (own(&first.diagnostics), diff, own(&fixed.after.diagnostics))
    }

    #[test]
    fn over_budget_is_an_error_with_the_arithmetic_and_scales_down() {
        let (found, diff, after) = run(4 * G);
        assert_eq!(
            found,
            [(
                Severity::Error,
                "PHP-FPM pools may use 11520M of the 4G memory budget (281%): [reports] 10 x 128M (memory_limit -1: unlimited, assumed) + [www] 40 x 256M".to_owned()
            )]
        );
        // 80% of 4G is 3276M: [www] 11 x 256M + [reports] 2 x 128M = 3072M; spare servers
        // follow max_children down.
        assert!(
            diff.contains("-pm.max_children = 40\n+pm.max_children = 11\n"),
            "{diff}"
        );
        assert!(
            diff.contains("-pm.max_spare_servers = 20\n+pm.max_spare_servers = 11\n"),
            "{diff}"
        );
        assert!(
            diff.contains("-pm.max_children = 10\n+pm.max_children = 2\n"),
            "{diff}"
        );
        assert!(after.is_empty(), "{after:?}");
    }

    #[test]
    fn within_budget_but_little_headroom_is_a_warning() {
        // 11520M of 12G is 93%.
        let (found, _, after) = run(12 * G);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, Severity::Warning);
        assert!(found[0].1.contains("(93%)"), "{}", found[0].1);
        assert!(after.is_empty(), "{after:?}");
    }

    #[test]
    fn docs_examples_with_a_1g_budget() {
        let settings = Settings {
            memory_budget: Some(G),
            ..Settings::default()
        };
        let (bad, good) = crate::rules::fpm_pm_invalid::doc_examples::check(
            &super::FpmMemoryOvercommit::META,
            "php-fpm.d/www.conf",
            &settings,
        );
        assert_eq!(bad, [Severity::Error]);
        assert!(good.is_empty(), "{good:?}");
    }

    #[test]
    fn fitting_in_the_budget_is_silent() {
        let (found, diff, _) = run(16 * G);
        assert!(found.is_empty(), "{found:?}");
        assert!(!diff.contains("max_children"), "{diff}");
    }
}
