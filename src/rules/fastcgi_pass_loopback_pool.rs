use std::collections::HashSet;

use crate::diagnostic::{Label, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::model::address::{Listen, Reach, Target};
use crate::model::fpm_defaults::instance_is_whole;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a `fastcgi_pass` (or upstream server) that reaches a PHP-FPM pool by a host name
    /// that is not loopback (a docker service name such as `app:9000`) while the pool's
    /// effective `listen` binds a loopback address only (`127.0.0.1:9000`, `[::1]:9000`,
    /// `localhost:9000`). The ports agree, so `fastcgi-pass-no-listener` stays quiet.
    ///
    /// The official php image's `zz-docker.conf` sets `listen = 9000` for exactly this
    /// reason; a later file that sets `listen = 127.0.0.1:9000` again, or a `www.conf`
    /// copied into an image without `zz-docker.conf`, brings the problem back. The `listen`
    /// in effect is the last one php-fpm reads for the pool.
    ///
    /// **Partial trees.** When the linted files are not the whole php-fpm configuration (no
    /// php-fpm.conf that includes the pool files), a file that is not linted (the image's
    /// `zz-docker.conf`) may set `listen` after this one: the finding is then a warning.
    ///
    /// ## Why it matters
    /// A socket bound to 127.0.0.1 accepts connections from its own host (its own container)
    /// only. nginx in another container connects to the php container's address and is
    /// refused: every PHP request answers 502 Bad Gateway, and nginx logs
    /// `connect() failed (111: Connection refused) while connecting to upstream`.
    ///
    /// ## Example
    /// ```nginx
    /// server {
    ///     location ~ \.php$ {
    ///         include fastcgi.conf;
    ///         fastcgi_pass app:9000;
    ///     }
    /// }
    /// ```
    /// ```ini
    /// ; file: php-fpm.conf
    /// [global]
    /// include = php-fpm.d/*.conf
    /// [www]
    /// listen = 127.0.0.1:9000
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// server {
    ///     location ~ \.php$ {
    ///         include fastcgi.conf;
    ///         fastcgi_pass app:9000;
    ///     }
    /// }
    /// ```
    /// ```ini
    /// ; file: php-fpm.conf
    /// [global]
    /// include = php-fpm.d/*.conf
    /// [www]
    /// listen = 9000
    /// ```
    ///
    /// ## Fix safety
    /// The fix sets the pool's `listen` to the bare port (every address, as `zz-docker.conf`
    /// does), in the file whose `listen` is in effect. It is unsafe: the pool then accepts
    /// FastCGI connections on every interface of its host or container, which on a host
    /// that is not a container may open it to the network (narrow it with
    /// `listen.allowed_clients`, or publish no port).
    ///
    /// ## References
    /// - php-fpm: pool directive `listen`
    ///   (<https://www.php.net/manual/en/install.fpm.configuration.php>)
    /// - docker-library/php: `zz-docker.conf` (`listen = 9000`)
    pub struct FastcgiPassLoopbackPool {
        name: "fastcgi-pass-loopback-pool",
        category: Join,
        severity: Error,
        fix: Sometimes,
    }
}

impl Rule for FastcgiPassLoopbackPool {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        // One finding per (pool, address written in nginx): many locations share a pass.
        let mut seen = HashSet::new();
        for site in cx.nginx.fastcgi_sites() {
            for (dir, word, target) in cx.nginx.pass_targets(site) {
                let Target::Tcp { port, .. } = target else {
                    continue;
                };
                let reached = cx.fpm.pools_reached(&target);
                // Another pool on that port that does accept remote connections serves it.
                if reached.is_empty() || reached.iter().any(|r| r.3 != Reach::LoopbackOnly) {
                    continue;
                }
                for (i, pool, listen, _) in reached {
                    if !seen.insert((i, dir.file, word.span())) {
                        continue;
                    }
                    let Some((_, setting)) = pool.listen() else {
                        continue;
                    };
                    let Listen::Tcp { .. } = listen else { continue };
                    let mut f = Finding::new(
                        format!(
                            "`fastcgi_pass {}` reaches pool [{}] by name, but the pool listens on {listen} only: connections from another host or container are refused",
                            word.value(),
                            pool.name
                        ),
                        Label::primary(dir.file, word.span(), "not loopback from the pool's side"),
                    )
                    .label(Label::secondary(
                        setting.file,
                        setting.value_span(),
                        format!("pool [{}] binds loopback only (the `listen` in effect)", pool.name),
                    ));
                    let mut help = format!(
                        "nginx in another container answers 502 Bad Gateway and logs `connect() failed (111: Connection refused) while connecting to upstream`. Set `listen = {port}` in this file (the official php image's zz-docker.conf does), so the pool accepts connections on every address"
                    );
                    if !instance_is_whole(cx.project, cx.fpm, pool) {
                        help.push_str(". The linted files are not the whole php-fpm configuration: ignore this if a file not linted (the image's zz-docker.conf) sets `listen` after this one");
                        f = f.severity(Severity::Warning);
                    }
                    let fix = (!setting.uses_env()).then(|| {
                        Fix::new(
                            format!(
                                "listen on port {port} on every address (pool [{}])",
                                pool.name
                            ),
                            Applicability::Unsafe,
                            vec![Edit::replace(
                                setting.file,
                                setting.value_span(),
                                port.to_string(),
                            )],
                        )
                    });
                    out.push(f.help(help).fix(fix));
                }
            }
        }
        out
    }
}
