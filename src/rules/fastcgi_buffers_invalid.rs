use std::collections::HashSet;

use crate::diagnostic::Label;
use crate::fix::{Applicability, Fix};
use crate::model::nginx::Context;
use crate::model::units::format_size;
use crate::rules::buffers::{
    change, effective, header_span, is_checked_level, level_key, plan_keeps_nginx_t_happy, solve,
    Anchor, Effective, Family, Plan, Problem, SitesByLevel, Values, BUFFERS, BUFFER_SIZE, BUSY,
    MAX_TEMP, TEMP_WRITE,
};
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags `fastcgi_buffer_size`, `fastcgi_buffers`, `fastcgi_busy_buffers_size`,
    /// `fastcgi_temp_file_write_size` and `fastcgi_max_temp_file_size` combinations that
    /// `nginx -t` rejects, checked the way nginx checks them, without nginx.
    ///
    /// nginx checks every `server`, `location` and `if` level once the http level has been
    /// merged into it, with unset values at their defaults: `fastcgi_buffer_size` and one of
    /// `fastcgi_buffers` are one memory page (4k on x86-64, 8k on some platforms),
    /// `fastcgi_buffers` is 8 of them, and `fastcgi_busy_buffers_size` and
    /// `fastcgi_temp_file_write_size` are twice the larger of `fastcgi_buffer_size` and one
    /// buffer. Then:
    ///
    /// - there must be at least 2 buffers;
    /// - busy buffers must be at least the larger of `fastcgi_buffer_size` and one buffer, and
    ///   at most all the buffers minus one;
    /// - the temp-file write size must be at least the larger of the two;
    /// - `fastcgi_max_temp_file_size` must be 0 or at least the larger of the two.
    ///
    /// The classic trap: `fastcgi_buffer_size 32k;` alone. Busy buffers default to 64k, more
    /// than the 7 × 4k the default buffers leave. At the http level alone nginx does not check,
    /// but every server inherits it and fails.
    ///
    /// ## Why it matters
    /// nginx refuses to start or reload:
    /// `nginx: [emerg] "fastcgi_busy_buffers_size" must be less than the size of all "fastcgi_buffers" minus one buffer in /etc/nginx/nginx.conf:64`.
    /// A deploy that reloads after a failed `nginx -t` keeps the old configuration; one that
    /// restarts takes the site down.
    ///
    /// ## Example
    /// ```nginx
    /// events {}
    /// http {
    ///     server {
    ///         location ~ \.php$ {
    ///             fastcgi_buffer_size 32k;   # busy buffers default to 64k > 7 × 4k
    ///             fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// events {}
    /// http {
    ///     server {
    ///         location ~ \.php$ {
    ///             fastcgi_buffer_size 32k;
    ///             fastcgi_buffers 16 16k;
    ///             fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Safe: the fix raises the number of `fastcgi_buffers` (keeping a buffer size you chose;
    /// 16 16k when you set none), and raises a busy, temp-file write or max-temp-file size that
    /// is too small to the smallest value nginx accepts. It only grows memory nginx may use per
    /// request, and it is checked to leave every other level acceptable.
    ///
    /// Only levels that contain a `fastcgi_pass` or `proxy_pass`, and the levels around them,
    /// are checked. For a file no nginx.conf in the tree includes, a verdict that depends on a
    /// value the including file could set is not given.
    ///
    /// ## References
    /// - nginx: `fastcgi_buffer_size`, `fastcgi_buffers`, `fastcgi_busy_buffers_size`,
    ///   `fastcgi_temp_file_write_size`, `fastcgi_max_temp_file_size` (ngx_http_fastcgi_module)
    pub struct FastcgiBuffersInvalid {
        name: "fastcgi-buffers-invalid",
        category: Nginx,
        severity: Error,
        fix: Sometimes,
    }
}

impl Rule for FastcgiBuffersInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        invalid_buffers(cx, Family::Fastcgi)
    }
}

/// Every distinct combination nginx -t rejects, reported once at the directive that tips it.
pub(crate) fn invalid_buffers(cx: &LintContext<'_, '_>, family: Family) -> Vec<Finding> {
    let sites_by_level = SitesByLevel::new(cx);
    let empty = Plan::default();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for site in &cx.nginx.sites {
        let whole = cx.nginx.roots[site.root].context == Context::Main;
        for level in 0..=site.chain.len() {
            if !is_checked_level(cx, site, level) {
                continue;
            }
            let Some(eff) = effective(cx, site, level, family, &empty) else {
                continue;
            };
            let Some(problem) = eff.values.problem() else {
                continue;
            };
            let involved = problem.involves();
            // Outside a whole nginx.conf, a default may be set by the file that includes this.
            if !whole && involved.iter().any(|&w| !eff.explicit(w)) {
                continue;
            }
            // The deepest setting involved tips it; on a tie, the problem's own setting.
            let Some((plevel, primary, _)) = involved
                .iter()
                .enumerate()
                .filter_map(|(rank, &w)| eff.from[w].map(|(l, d)| (l, d, rank)))
                .max_by_key(|&(l, _, rank)| (l, std::cmp::Reverse(rank)))
            else {
                continue;
            };
            if !seen.insert((problem, primary.file, primary.directive.span().start)) {
                continue;
            }
            let mut f = Finding::new(
                format!(
                    "{}: {}",
                    problem.nginx_message(family),
                    detail(family, problem, &eff)
                ),
                Label::primary(
                    primary.file,
                    header_span(&primary),
                    "nginx -t rejects the buffers with this set",
                ),
            );
            for &w in involved {
                if let Some((_, d)) = eff.from[w] {
                    if d.directive.span() != primary.directive.span() || d.file != primary.file {
                        f = f.label(Label::secondary(d.file, header_span(&d), "involved"));
                    }
                }
            }
            if level > 0 {
                let block = site.chain[level - 1];
                f = f.label(Label::secondary(
                    block.file,
                    header_span(&block),
                    "nginx -t fails checking this block",
                ));
            }
            f = f.help(format!(
                "`nginx -t` fails with this `[emerg]`, so nginx will not start or reload. Raise `{}` (the total minus one buffer must hold the busy buffers), or lower what it must hold.",
                family.name(BUFFERS)
            ));
            let new = solve(&eff.values, eff.explicit(BUFFERS), None);
            let target = (plevel, level_key(cx, site, plevel));
            let fix = change(cx, site, family, &eff, &new, target, Anchor::After(primary))
                .and_then(|c| {
                    let fixed = effective(cx, site, level, family, &c.plan)
                        .is_some_and(|e| e.values.problem().is_none());
                    (fixed && plan_keeps_nginx_t_happy(cx, &sites_by_level, family, &c.plan)).then(
                        || {
                            Fix::new(
                                format!("set `{}`", c.lines.join("; ")),
                                Applicability::Safe,
                                c.edits,
                            )
                        },
                    )
                });
            out.push(f.fix(fix));
        }
    }
    out
}

/// The numbers behind the verdict.
fn detail(family: Family, problem: Problem, eff: &Effective<'_>) -> String {
    let v: &Values = &eff.values;
    let sz = format_size;
    let bufs = format!(
        "`{} {} {}`{}",
        family.name(BUFFERS),
        v.num,
        sz(v.size),
        if eff.explicit(BUFFERS) {
            ""
        } else {
            " (the default: one memory page each)"
        }
    );
    let largest = format!(
        "{} (the larger of `{} {}`{} and one of {bufs})",
        sz(v.largest()),
        family.name(BUFFER_SIZE),
        sz(v.buffer_size),
        if eff.explicit(BUFFER_SIZE) {
            ""
        } else {
            ", the default"
        },
    );
    let derived = |which: usize, value: u64| {
        if eff.explicit(which) {
            format!("`{} {}`", family.name(which), sz(value))
        } else {
            format!(
                "`{}` {} (the default, 2 × {})",
                family.name(which),
                sz(value),
                sz(v.largest())
            )
        }
    };
    match problem {
        Problem::TooFewBuffers => format!("{bufs} has {}", v.num),
        Problem::BusyBelowLargest => {
            format!("{} is less than {largest}", derived(BUSY, v.busy()))
        }
        Problem::BusyAboveBuffers => format!(
            "{} is more than ({} - 1) × {} = {} of {bufs}",
            derived(BUSY, v.busy()),
            v.num,
            sz(v.size),
            sz(v.all_but_one())
        ),
        Problem::TempWriteBelowLargest => format!(
            "{} is less than {largest}",
            derived(TEMP_WRITE, v.temp_write())
        ),
        Problem::MaxTempBelowLargest => format!(
            "`{} {}` is less than {largest}",
            family.name(MAX_TEMP),
            sz(v.max_temp.unwrap_or(0))
        ),
    }
}
