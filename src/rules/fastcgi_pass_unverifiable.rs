use crate::diagnostic::Label;
use crate::model::address::{parse_target, Target};
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::syntax::fpm::values;

declare_rule! {
    /// ## What it does
    /// Says which `fastcgi_pass` addresses could not be checked against PHP-FPM, and why:
    /// the linted paths hold no PHP-FPM pool configuration; the address is built from variables
    /// at request time; it names an `upstream` that is not in the linted files; or a pool takes
    /// its `listen` address from the environment (`${PHP_FPM_LISTEN}`); or a PHP-FPM file failed
    /// to parse and no pool could be read (when some pools parsed, they are joined as usual
    /// and `fastcgi-pass-no-listener` warns where the broken file might hold the listener).
    ///
    /// ## Why it matters
    /// Silence would read as "checked and fine". A mismatched address answers 502 Bad Gateway
    /// with `connect() ... failed (2: No such file or directory)` or `(111: Connection refused)`
    /// in nginx's error log, and only a check that sees both halves can catch it before deploy.
    ///
    /// ## Example
    /// ```nginx
    /// fastcgi_pass $php_backend;   # chosen per request
    /// ```
    ///
    /// ## Use instead
    /// Lint the nginx and PHP-FPM configurations together (`nginx-fpm-lint lint nginx/ php-fpm/`),
    /// or pass a literal address.
    ///
    /// ## Fix safety
    /// No fix: this is information.
    ///
    /// ## References
    /// - nginx: `fastcgi_pass` accepts variables; `upstream`
    pub struct FastcgiPassUnverifiable {
        name: "fastcgi-pass-unverifiable",
        category: Join,
        severity: Info,
        fix: Never,
    }
}

impl Rule for FastcgiPassUnverifiable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let env_pool = cx.fpm.unknown_listeners().next();
        let unparsed = super::fastcgi_pass_no_listener::unparsed_fpm_file(cx);
        let mut out = Vec::new();
        for site in cx.nginx.fastcgi_sites() {
            let Some(word) = site.pass.directive.args().first() else {
                continue;
            };
            let label = |msg: &str| Label::primary(site.pass.file, word.span(), msg);
            let why = match parse_target(word.value()) {
                Target::Dynamic(_) => Some((
                    format!("`fastcgi_pass {}` is built from variables at request time; not checked against PHP-FPM", word.value()),
                    "resolved per request",
                )),
                Target::Upstream(name) if cx.nginx.upstream(site.root, &name).is_none() => Some((
                    format!("upstream `{name}` is not defined in the linted files; `fastcgi_pass {name}` was not checked"),
                    "no such upstream here",
                )),
                t @ Target::Tcp { .. }
                    if !cx.fpm.is_empty()
                        && env_pool.is_none()
                        && super::fastcgi_pass_no_listener::is_other_host_without_tcp_pools(&t, cx) =>
                {
                    Some((
                        format!("`fastcgi_pass {}` names another host and no pool in the linted tree listens on TCP; its PHP-FPM configuration is not here, so it was not checked", word.value()),
                        "another host",
                    ))
                }
                _ if unparsed.is_none() && cx.fpm.is_empty() => Some((
                    format!(
                        "no PHP-FPM pool configuration in the linted paths; could not check that anything listens on `{}`",
                        word.value()
                    ),
                    "not checked",
                )),
                // With pools that parsed, the join goes on (fastcgi-pass-no-listener warns
                // where the broken file might hold the listener).
                _ if !cx.fpm.is_empty() => None,
                _ => unparsed.map(|path| {
                    (
                        format!("PHP-FPM file {path} could not be parsed and may hold the listener; `fastcgi_pass {}` was not checked", word.value()),
                        "not checked",
                    )
                }),
            };
            if let Some((message, short)) = why {
                out.push(Finding::new(message, label(short)).help(
                    "lint the PHP-FPM pool files together with the nginx files so the addresses can be joined",
                ));
                continue;
            }
            if let Some(pool) = env_pool {
                if let Some(setting) = pool.get("listen") {
                    out.push(
                        Finding::new(
                            format!(
                                "pool [{}] takes its listen address from the environment (`{}`); `fastcgi_pass {}` was not checked",
                                pool.name,
                                setting.text(),
                                word.value()
                            ),
                            label("not checked"),
                        )
                        .label(Label::secondary(setting.file, setting.value_span(), "known only at start-up"))
                        .help(format!(
                            "give the value php-fpm's environment will hold to check the join: --env {}=... (repeatable), --env-file FILE, or [env] in .nginx-fpm-lint.toml",
                            values::env_refs(setting.entry().raw())
                                .first()
                                .map_or("VAR", |r| r.name)
                        )),
                    );
                }
            }
        }
        out
    }
}
