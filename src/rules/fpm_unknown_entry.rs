use crate::diagnostic::{Label, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::model::fpm::Setting;
use crate::model::fpm_entries::{close_names, lookup, refusal_words, Lookup, Section};
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a line php-fpm does not know: a misspelt entry (`pm.max_chidren`), an array
    /// entry it does not have (`php_admin_valu[memory_limit]`), a pool entry in `[global]`
    /// (or a global one in a pool), an array entry in `[global]`, or an entry the configured
    /// PHP version does not have yet (`pm.max_spawn_rate` before PHP 8.1; see `php-version`).
    /// Entry names are those of php-src's `fpm_conf.c` for php-fpm 7.4 to 8.4; plain entries
    /// match in any case, as php-fpm compares them with `strcasecmp`, array entries exactly.
    ///
    /// When exactly one known entry is close to the name, the finding says "did you mean"
    /// and offers to rename it. A required setting hidden by its misspelling
    /// (`pm.max_chidren = 5`) is reported here, on the misspelt line, and not as "not set"
    /// by `fpm-pm-invalid`.
    ///
    /// `listen.setfib` exists only in php-fpm built for FreeBSD: it is a warning, since the
    /// system php-fpm runs on is not known. Entries of optional build features that Linux
    /// distributions enable (`systemd_interval`, `listen.acl_users`, `apparmor_hat`) are
    /// accepted.
    ///
    /// ## Why it matters
    /// php-fpm stops reading at the first line it does not know and does not start (nor
    /// reload): `php-fpm -t` fails with
    /// `ERROR: [www.conf:9] unknown entry 'pm.max_chidren'` (for arrays
    /// `unknown directive 'php_admin_valu'`; in `[global]`
    /// `Array are not allowed in the global section`), then
    /// `ERROR: failed to load configuration file` and `ERROR: FPM initialization failed`.
    /// A fresh container never starts, so every request nginx passes to it answers 502
    /// (`connect() to unix:... failed (2: No such file or directory)`); a reload keeps the
    /// old configuration.
    ///
    /// **Partial trees.** A line before any section header in a pool file that no linted
    /// php-fpm.conf includes is read in whatever section the including file left open: a
    /// finding that rests on that section is a warning.
    ///
    /// ## Example
    /// ```ini
    /// [www]
    /// listen = /run/php/php8.2-fpm.sock
    /// pm = static
    /// pm.max_chidren = 5
    /// ```
    ///
    /// ## Use instead
    /// ```ini
    /// [www]
    /// listen = /run/php/php8.2-fpm.sock
    /// pm = static
    /// pm.max_children = 5
    /// ```
    ///
    /// ## Fix safety
    /// Renaming to the one close entry is unsafe: the line may have meant something else
    /// (a setting of another tool, or an entry of a newer php-fpm).
    ///
    /// ## References
    /// - php-fpm: configuration (<https://www.php.net/manual/en/install.fpm.configuration.php>)
    /// - php-src: `sapi/fpm/fpm/fpm_conf.c`, `ini_fpm_global_options[]`,
    ///   `ini_fpm_pool_options[]`, `fpm_conf_ini_parser_array()`
    pub struct FpmUnknownEntry {
        name: "fpm-unknown-entry",
        category: Fpm,
        severity: Error,
        fix: Sometimes,
    }
}

impl Rule for FpmUnknownEntry {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for (i, globals) in cx.fpm.globals.iter().enumerate() {
            let main = cx.fpm.instances[i].main;
            for s in globals {
                out.extend(check(cx, s, None, main));
            }
        }
        for pool in &cx.fpm.pools {
            let main = cx.fpm.instances[pool.instance].main;
            for s in &pool.entries {
                out.extend(check(cx, s, Some(&pool.name), main));
            }
        }
        out
    }
}

fn check(
    cx: &LintContext<'_, '_>,
    s: &Setting<'_>,
    pool: Option<&str>,
    main: Option<crate::source::FileId>,
) -> Option<Finding> {
    let e = s.entry();
    let (name, is_array) = (e.name(), e.is_array());
    let in_global = pool.is_none();
    let version = cx.settings.php_version;
    let found = lookup(in_global, name, is_array, version);
    // Almost every line is known: decide that before building any message.
    if matches!(found, Lookup::Include | Lookup::Known(_)) {
        return None;
    }
    let words = refusal_words(name, is_array, in_global);
    let place = match pool {
        Some(p) => format!("pool [{p}]"),
        None => "[global]".to_owned(),
    };
    let mut fix = None;
    let mut severity = None;
    let (message, label) = match found {
        Lookup::Include | Lookup::Known(_) => return None,
        Lookup::Unknown => {
            let section = if is_array {
                Section::PoolArray
            } else if in_global {
                Section::Global
            } else {
                Section::Pool
            };
            let close = close_names(section, name, version);
            let hint = match close.as_slice() {
                [] => String::new(),
                [one] => {
                    fix = Some(Fix::new(
                        format!("rename `{name}` to `{one}`"),
                        Applicability::Unsafe,
                        vec![Edit::replace(s.file, e.name_span(), *one)],
                    ));
                    format!("; did you mean `{one}`?")
                }
                many => format!(
                    "; did you mean one of {}?",
                    many.iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            (
                format!("{words} in {place}{hint}"),
                "php-fpm does not know this entry",
            )
        }
        Lookup::WrongSection(entry) => {
            severity = section_guessed(s, main).then_some(Severity::Warning);
            let belongs = match entry.section {
                Section::Global => "a [global] entry",
                _ => "a pool entry",
            };
            (
                format!("{words} in {place}: `{}` is {belongs}", entry.name),
                "not an entry of this section",
            )
        }
        Lookup::ArrayInGlobal => {
            severity = section_guessed(s, main).then_some(Severity::Warning);
            (
                format!("{words}: `{name}[...]` belongs in a pool section"),
                "not allowed in [global]",
            )
        }
        Lookup::NotInVersion(entry) => (
            format!(
                "{words} in {place}: `{}` came in PHP {}, and php-version is {version}",
                entry.name, entry.since
            ),
            "not in this PHP version",
        ),
        Lookup::OtherSystem(entry) => {
            severity = Some(Severity::Warning);
            (
                format!(
                    "`{}` exists only in php-fpm built for FreeBSD; elsewhere php-fpm refuses it: {words}",
                    entry.name
                ),
                "FreeBSD only",
            )
        }
    };
    let mut f = Finding::new(message, Label::primary(s.file, e.key_span(), label)).help(
        "php-fpm stops at the first line it does not know and refuses to start (`php-fpm -t` fails with `FPM initialization failed`); a reload keeps the old configuration",
    );
    if let Some(sev) = severity {
        f = f.severity(sev);
    }
    Some(f.fix(fix))
}

/// The section of a line before any header in a file that is not a master's php-fpm.conf
/// depends on the file that includes it, which the tree may not hold.
fn section_guessed(s: &Setting<'_>, main: Option<crate::source::FileId>) -> bool {
    let e = s.entry();
    let first_header = e.config().sections().next().map(|h| h.span().start);
    let before_headers = first_header.is_none_or(|h| h > e.span().start);
    before_headers && main != Some(s.file)
}
