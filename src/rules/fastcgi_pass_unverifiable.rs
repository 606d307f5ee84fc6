use crate::diagnostic::Label;
use crate::model::address::{parse_target, Target};
use crate::model::nginx::Site;
use crate::rules::join_scope::JoinScope;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::syntax::fpm::values;

declare_rule! {
    /// ## What it does
    /// Says which `fastcgi_pass` addresses could not be checked against PHP-FPM, and why:
    /// the linted paths hold no PHP-FPM pool configuration; the address is built from variables
    /// at request time; it names an `upstream` that is not in the linted files; or a pool takes
    /// its `listen` address from the environment (`${PHP_FPM_LISTEN}`); or a PHP-FPM file failed
    /// to parse and no pool could be read (when some pools parsed, they are joined as usual
    /// and `fastcgi-pass-no-listener` warns where the broken file might hold the listener); or
    /// it is a Debian-style versioned socket (`/run/php/php7.4-fpm.sock`) for a PHP version
    /// whose configuration the tree does not hold. FastCGI applications that are not PHP-FPM
    /// (fcgiwrap...) are not mentioned. On the `docker` platform, a TCP address whose pool is
    /// not in the tree is compared with the official php image's own pool (`[www]`, port 9000,
    /// as `www-data`), as an assumption.
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
        let scope = JoinScope::of(cx);
        let mut out = Vec::new();
        for site in cx.nginx.fastcgi_sites() {
            let Some(word) = site.pass.directive.args().first() else {
                continue;
            };
            let label = |msg: &str| Label::primary(site.pass.file, word.span(), msg);
            let target = parse_target(word.value());
            // fcgiwrap and other FastCGI applications are not PHP-FPM: nothing to join.
            if cx.nginx.passes_to_other_fastcgi_app(site, &target) {
                continue;
            }
            if !cx.fpm.is_empty() {
                if let Some(message) = missing_versions(cx, &scope, site, word.value()) {
                    out.push(Finding::new(message, label("not checked")).help(
                        "lint that version's PHP-FPM configuration (/etc/php/X.Y/fpm/) together with the nginx files",
                    ));
                    continue;
                }
            }
            let why = match target {
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
            if let Some((mut message, short)) = why {
                if let Some(note) = docker_image_note(cx, &parse_target(word.value())) {
                    message.push_str(&note);
                }
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

/// A Debian-style versioned socket (`/run/php/php7.4-fpm.sock`), directly or as an upstream
/// server, for a PHP version whose configuration the tree does not hold: what to say.
fn missing_versions(
    cx: &LintContext<'_, '_>,
    scope: &JoinScope,
    site: &Site<'_>,
    address: &str,
) -> Option<String> {
    let (version, socket) = cx
        .nginx
        .pass_targets(site)
        .into_iter()
        .find_map(|(_, w, t)| {
            let v = scope.missing_version(&t)?;
            cx.fpm
                .pools_reached(&t)
                .is_empty()
                .then(|| (v.to_owned(), w.value().to_owned()))
        })?;
    let via = if socket == address {
        String::new()
    } else {
        format!(" (upstream server `{socket}`)")
    };
    Some(format!(
        "`fastcgi_pass {address}`{via} names PHP {version}'s socket, and the tree holds no PHP {version} FPM configuration (/etc/php/{version}/fpm/pool.d/ or a pool listening there); not checked"
    ))
}

/// On the docker platform a pool the tree does not hold is most likely the official php
/// image's own: pool `www`, `listen = 9000` (its zz-docker.conf), run as `www-data`. Said as
/// the assumption it is.
fn docker_image_note(cx: &LintContext<'_, '_>, target: &Target) -> Option<String> {
    if cx.settings.platform != crate::model::builtin::Platform::Docker {
        return None;
    }
    let Target::Tcp { port, .. } = target else {
        return None;
    };
    Some(if *port == 9000 {
        format!(" (on {} the official php image's pool [www] listens on 9000 as www-data, which matches)", cx.settings.cited_platform())
    } else {
        format!(" (on {} the official php image's pool [www] listens on 9000, not {port}, unless the image's zz-docker.conf is overridden)", cx.settings.cited_platform())
    })
}
