use crate::diagnostic::{Label, Severity};
use crate::fix::insert::{nginx_lines_after, nginx_lines_in_block};
use crate::fix::{Applicability, Edit, Fix};
use crate::model::nginx::{DirRef, Site};
use crate::model::platform::SETTLE_HINT;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta, PARENTS_UNKNOWN};
use crate::syntax::nginx::Directive;

/// What the fix adds.
const LINE: &str = "fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;";

declare_rule! {
    /// ## What it does
    /// Flags a PHP `fastcgi_pass` where no `fastcgi_param SCRIPT_FILENAME` is in effect,
    /// after includes (packaged files included) and nginx's inheritance.
    ///
    /// Two common ways to get there:
    /// - `include fastcgi_params;` alone: nginx's `fastcgi_params` (as Debian, RHEL and
    ///   Alpine ship it) has no `SCRIPT_FILENAME`; `fastcgi.conf` is the same list with it.
    /// - a location that sets any `fastcgi_param` of its own: nginx then inherits none of the
    ///   server's or http's `fastcgi_param` lines, `SCRIPT_FILENAME` included.
    ///
    /// Only locations that are PHP are checked: the pass reaches a PHP-FPM pool of the
    /// linted tree, or the location (or its `fastcgi_index`/`fastcgi_split_path_info`)
    /// names `.php`. Other FastCGI applications may not need the parameter, nor do php-fpm's
    /// own status and ping pages (locations naming `status` or `ping`). A
    /// `PATH_TRANSLATED` parameter also counts: php-fpm falls back to it. A location whose
    /// includes could not be read is not judged (a missing include elsewhere in the tree
    /// says nothing about it).
    ///
    /// A packaged file the tree does not contain (`include fastcgi_params;` with no
    /// `fastcgi_params` in the tree) is read as the platform ships it, and that is an
    /// assumption: the finding says "assuming the packaged `fastcgi_params` of current
    /// Debian", is a warning, and its fix is unsafe, unless the platform was declared
    /// (`platform = "debian"` in .nginx-fpm-lint.toml, or `--platform`). A tree that ships its
    /// own copy is read as shipped.
    ///
    /// A snippet no nginx.conf of the tree reaches (or reaches only through a commented-out
    /// `include`) with no `fastcgi_param` at all is only an info: the http or server level
    /// nginx reads it in usually includes `fastcgi.conf`, and the snippet inherits
    /// `SCRIPT_FILENAME` from there.
    ///
    /// ## Why it matters
    /// php-fpm cannot tell which script to run: every PHP request answers 404 with the body
    /// `File not found.`, and nginx logs
    /// `FastCGI sent in stderr: "Primary script unknown" while reading response header from upstream`.
    ///
    /// ## Example
    /// ```nginx
    /// location ~ \.php$ {
    ///     include fastcgi_params;
    ///     fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location ~ \.php$ {
    ///     include fastcgi_params;
    ///     fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
    ///     fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    /// }
    /// ```
    /// (or `include fastcgi.conf;`, or Debian's `include snippets/fastcgi-php.conf;`).
    ///
    /// ## Fix safety
    /// The fix adds `fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;` at the
    /// level whose `fastcgi_param` lines are in effect (after its `include fastcgi_params;`
    /// when there is one), so no inherited parameter is lost. It is safe: without the
    /// parameter php-fpm runs nothing. When the finding rests on an assumed packaged file
    /// it is unsafe: the real file may set `SCRIPT_FILENAME` otherwise, and the added line
    /// would override it. It never adds the first `fastcgi_param` to a level that may inherit
    /// others (one line there would stop the inheritance of all of them): where the levels
    /// above are not in the tree there is no fix. A fix to a snippet that several servers
    /// include is unsafe, as every fix there is: it changes all of them.
    ///
    /// ## References
    /// - nginx: `fastcgi_param` (ngx_http_fastcgi_module; "inherited from the previous
    ///   configuration level if and only if there are no fastcgi_param directives defined on
    ///   the current level")
    /// - php-fpm: `SCRIPT_FILENAME`, `cgi.fix_pathinfo`
    pub struct FastcgiScriptFilenameMissing {
        name: "fastcgi-script-filename-missing",
        category: Nginx,
        severity: Error,
        fix: Sometimes,
    }
}

impl Rule for FastcgiScriptFilenameMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for site in cx.nginx.fastcgi_sites() {
            // `fastcgi_pass;` with no address is nginx's own error, not this rule's.
            if site.pass.directive.args().is_empty() {
                continue;
            }
            let params = cx.nginx.effective(site, "fastcgi_param");
            if params
                .iter()
                .any(|d| matches!(d.arg(0), Some("SCRIPT_FILENAME" | "PATH_TRANSLATED")))
            {
                continue;
            }
            if !looks_php(cx, site) || include_unknown(cx, site) {
                continue;
            }
            // No fastcgi_param at any level in the tree, and levels above it that are not:
            // the http level nginx reads it in usually includes fastcgi.conf. Adding one
            // parameter here would stop that inheritance, so no fix either.
            if params.is_empty() && !cx.nginx.levels_above_known(site) {
                out.push(unknown_parents(site));
                continue;
            }
            out.push(finding(cx, site, &params));
        }
        out
    }
}

fn looks_php(cx: &LintContext<'_, '_>, site: &Site<'_>) -> bool {
    let mentions = |d: &DirRef<'_>, what: &str| {
        d.directive
            .args()
            .iter()
            .any(|a| a.value().to_ascii_lowercase().contains(what))
    };
    let mentions_php = |d: &DirRef<'_>| mentions(d, "php");
    if cx.nginx.is_fpm_status_page(site) {
        return false;
    }
    site.chain
        .iter()
        .any(|d| d.name() == "location" && mentions_php(d))
        || ["fastcgi_index", "fastcgi_split_path_info"]
            .iter()
            .any(|n| cx.nginx.effective(site, n).iter().any(mentions_php))
        || cx
            .nginx
            .pass_targets(site)
            .iter()
            .any(|(_, _, t)| !cx.fpm.pools_reached(t).is_empty())
}

/// An include that could not be read sits in one of the site's levels: it may set the
/// parameter, so the site is not judged. A missing include elsewhere in the tree says
/// nothing about this site.
fn include_unknown(cx: &LintContext<'_, '_>, site: &Site<'_>) -> bool {
    cx.nginx.site_misses_include(site)
}

fn unknown_parents(site: &Site<'_>) -> Finding {
    let word = site
        .pass
        .directive
        .args()
        .first()
        .expect("a pass has an address");
    Finding::new(
        format!(
            "`fastcgi_pass {}` gets no fastcgi_param from this file; {PARENTS_UNKNOWN}",
            word.value()
        ),
        Label::primary(
            site.pass.file,
            word.span(),
            "SCRIPT_FILENAME must come from an outer level",
        ),
    )
    .help("Lint the tree from its nginx.conf to check this. If no outer level sets `fastcgi_param SCRIPT_FILENAME` (`include fastcgi.conf;` does), add `include fastcgi.conf;` to this location: one `fastcgi_param` line alone would stop the location inheriting every other parameter.")
    .severity(Severity::Info)
}

fn finding(cx: &LintContext<'_, '_>, site: &Site<'_>, params: &[DirRef<'_>]) -> Finding {
    let word = site
        .pass
        .directive
        .args()
        .first()
        .expect("a pass has an address");
    let levels = cx.nginx.site_levels(site);
    // Innermost level that sets any fastcgi_param: the one nginx uses.
    let depth = levels
        .iter()
        .rposition(|l| l.iter().any(|d| d.name() == "fastcgi_param"));
    // A SCRIPT_FILENAME further out, shadowed by that level.
    let shadowed = depth.and_then(|d| {
        levels[..d]
            .iter()
            .rev()
            .flat_map(|l| l.iter())
            .find(|x| x.name() == "fastcgi_param" && x.arg(0) == Some("SCRIPT_FILENAME"))
            .copied()
    });
    let from_builtin = params
        .iter()
        .find(|d| cx.project.sources.get(d.file).is_builtin());

    let message = match (shadowed, from_builtin, params.is_empty()) {
        (Some(_), _, _) => format!(
            "`fastcgi_pass {}` gets no SCRIPT_FILENAME: this level sets its own fastcgi_param lines, so the outer `fastcgi_param SCRIPT_FILENAME` is not inherited",
            word.value()
        ),
        (None, Some(b), _) => packaged_message(cx, word.value(), b),
        (None, None, true) => format!(
            "`fastcgi_pass {}` gets no fastcgi_param at all, SCRIPT_FILENAME included",
            word.value()
        ),
        (None, None, false) => format!(
            "`fastcgi_pass {}` gets no SCRIPT_FILENAME among the fastcgi_param lines in effect",
            word.value()
        ),
    };
    let mut f = Finding::new(
        message,
        Label::primary(site.pass.file, word.span(), "php-fpm is not told which script to run"),
    )
    .help("PHP requests answer 404 `File not found.`; nginx logs `FastCGI sent in stderr: \"Primary script unknown\"`. Add `fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;` or include fastcgi.conf instead of fastcgi_params.");
    if let Some(s) = shadowed {
        f = f.label(Label::secondary(
            s.file,
            s.directive.span(),
            "not inherited by the location",
        ));
        if let Some(own) = depth.and_then(|d| {
            levels[d].iter().find(|x| {
                x.name() == "fastcgi_param" && !cx.project.sources.get(x.file).is_builtin()
            })
        }) {
            f = f.label(Label::secondary(
                own.file,
                own.directive.span(),
                "a fastcgi_param here stops inheritance",
            ));
        }
    }
    // What the packaged file holds is an assumption unless the platform was declared: a
    // warning, and a fix that could override the real file's SCRIPT_FILENAME is unsafe.
    let assumed = from_builtin.is_some() && !cx.settings.platform_basis.is_declared();
    if assumed {
        f = f.severity(Severity::Warning);
        f.help = f.help.map(|h| {
            format!(
                "{h} The tree does not contain the included file, so its packaged content was assumed ({}): add the file as deployed to the tree, or {}.",
                cx.settings.cited_platform(),
                SETTLE_HINT
            )
            .into()
        });
    }
    let applicability = if assumed {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    f.fix(fix(cx, site, depth).map(|e| {
        Fix::new(
            "add fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name",
            applicability,
            vec![e],
        )
    }))
}

/// The message when the parameters in effect come from a packaged file the tree lacks.
fn packaged_message(cx: &LintContext<'_, '_>, address: &str, packaged: &DirRef<'_>) -> String {
    let shown = &cx.project.sources.get(packaged.file).name;
    // `<debian package>/etc/nginx/fastcgi_params` -> `fastcgi_params`.
    let name = shown
        .split_once("/etc/nginx/")
        .map_or(shown.as_str(), |(_, rel)| rel);
    let platform = cx.settings.platform.display();
    if cx.settings.platform_basis.is_declared() {
        format!("`fastcgi_pass {address}` gets no SCRIPT_FILENAME: the packaged `{name}` of {platform} does not set it (fastcgi.conf does)")
    } else {
        format!("`fastcgi_pass {address}` gets no SCRIPT_FILENAME, assuming the packaged `{name}` of current {platform}, which has no SCRIPT_FILENAME (fastcgi.conf has it)")
    }
}

/// Where the line goes: at the level whose parameters are in effect, after its
/// `include ...params` line or last `fastcgi_param` if written in that block.
fn fix(cx: &LintContext<'_, '_>, site: &Site<'_>, depth: Option<usize>) -> Option<Edit> {
    let (level, file, items_owner): (_, _, Option<Directive<'_>>) = match depth {
        Some(0) | None if site.chain.is_empty() => (0, site.pass.file, None),
        Some(0) => return None,
        Some(d) => (d, site.chain[d - 1].file, Some(site.chain[d - 1].directive)),
        // No parameters anywhere: the innermost block that may hold fastcgi_param.
        None => {
            let k = site
                .chain
                .iter()
                .rposition(|b| matches!(b.name(), "location" | "server" | "http"))?;
            (k + 1, site.chain[k].file, Some(site.chain[k].directive))
        }
    };
    // One added line at a level that inherits parameters (or, with the levels above not in
    // the tree, may) would cut all of them off.
    if cx.nginx.would_cut_inheritance(site, level, "fastcgi_param") {
        return None;
    }
    let source = cx.project.sources.get(file);
    if source.is_builtin() {
        return None;
    }
    let text = &source.text;
    let lines = [LINE.to_owned()];
    let children: Vec<Directive<'_>> = match items_owner {
        Some(owner) => owner.children().collect(),
        None => cx.project.nginx(file)?.directives().collect(),
    };
    let anchor = children
        .iter()
        .rev()
        .find(|d| {
            d.name() == "include"
                && d.arg(0)
                    .is_some_and(|a| a.contains("fastcgi") || a.contains("param"))
        })
        .or_else(|| children.iter().rev().find(|d| d.name() == "fastcgi_param"));
    match (anchor, items_owner) {
        (Some(a), _) => Some(nginx_lines_after(file, text, *a, &lines)),
        (None, Some(owner)) => nginx_lines_in_block(file, text, owner, &lines),
        (None, None) => {
            // A location snippet with no parameters: next to its fastcgi_pass.
            (site.pass.file == file)
                .then(|| nginx_lines_after(file, text, site.pass.directive, &lines))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::fix::Applicability;
    use crate::lint::lint_project;
    use crate::project::{Options, Project};
    use crate::settings::Settings;

    /// A snippet two servers include: the fix still adds the line there, but unsafe, saying
    /// how far it reaches. Included by one server, the same fix is safe.
    #[test]
    fn a_fix_to_a_snippet_several_servers_include_is_unsafe() {
        let snippet = "location ~ \\.php$ {\n  include fastcgi_params;\n  fastcgi_param HTTPS on;\n  fastcgi_pass unix:/run/php/php8.2-fpm.sock;\n}\n";
        for (servers, expected) in [(2, Applicability::Unsafe), (1, Applicability::Safe)] {
            let mut conf = String::from("events {}\nhttp {\n");
            for i in 0..servers {
                conf.push_str(&format!(
                    "  server {{ listen {}; include php.conf; }}\n",
                    80 + i
                ));
            }
            conf.push_str("}\n");
            let p = Project::from_memory(
                &[("nginx.conf", conf.as_str()), ("php.conf", snippet)],
                Options::default(),
            );
            let select =
                |c: &str, m: &crate::rules::RuleMeta| (c == "NFL203").then_some(m.severity);
            // Declared: the packaged fastcgi_params is then known, not assumed (which alone
            // makes the fix unsafe).
            let settings = Settings {
                platform_basis: crate::model::platform::PlatformBasis::Declared,
                ..Settings::default()
            };
            let out = lint_project(p, &settings, &select);
            assert_eq!(out.diagnostics.len(), 1, "{:#?}", out.diagnostics);
            let fix = out.diagnostics[0].fix.as_ref().expect("a fix");
            assert_eq!(fix.applicability, expected, "{}", fix.message);
            assert_eq!(
                fix.message.contains("is included by 2 servers"),
                servers == 2,
                "{}",
                fix.message
            );
        }
    }
}
