use crate::diagnostic::{Label, Severity};
use crate::model::fpm::ListenValue;
use crate::model::fpm_defaults::instance_is_whole;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a pool whose `listen` php-fpm cannot use: empty (`listen =`, or a `${VAR}` that
    /// was supplied empty), a port that is not a number from 1 to 65535
    /// (`listen = 127.0.0.1:99999`, `listen = 0`), or nothing after the last colon
    /// (`listen = ::zz::`: php-fpm splits `host:port` at the last colon).
    ///
    /// A `listen` built from `${VAR}`s whose values were not given (`--env`, `--env-file`,
    /// `[env]`) is not judged: php-fpm reads it from its environment at start-up.
    ///
    /// ## Why it matters
    /// php-fpm does not start, so every request nginx passes to it answers 502 Bad Gateway.
    /// An empty value fails `php-fpm -t` with
    /// `ALERT: [pool www] no listen address have been defined!`; a bad port or host passes
    /// `php-fpm -t` and fails at start with `ERROR: invalid port value '...'` (or
    /// `ERROR: getaddrinfo: ...`), then `ERROR: FPM initialization failed`.
    ///
    /// **Partial trees.** When the linted files are not the whole php-fpm configuration (no
    /// php-fpm.conf that includes the pool files), a file that is not linted could set
    /// `listen` again later: the finding is then a warning.
    ///
    /// ## Example
    /// ```ini
    /// ; file: php-fpm.conf
    /// [global]
    /// include = pool.d/*.conf
    /// [www]
    /// listen =
    /// pm = static
    /// pm.max_children = 5
    /// ```
    ///
    /// ## Use instead
    /// ```ini
    /// ; file: php-fpm.conf
    /// [global]
    /// include = pool.d/*.conf
    /// [www]
    /// listen = /run/php/php8.2-fpm.sock
    /// pm = static
    /// pm.max_children = 5
    /// ```
    ///
    /// ## Fix safety
    /// No fix: the address the pool should listen on (and that nginx passes to) is the
    /// author's choice.
    ///
    /// ## References
    /// - php-fpm: pool directive `listen`
    ///   (<https://www.php.net/manual/en/install.fpm.configuration.php>)
    pub struct FpmListenInvalid {
        name: "fpm-listen-invalid",
        category: Fpm,
        severity: Error,
        fix: Never,
    }
}

impl Rule for FpmListenInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for pool in &cx.fpm.pools {
            let ListenValue::Invalid(setting, why) = pool.listen_value() else {
                continue;
            };
            let mut f = Finding::new(
                format!(
                    "pool [{}]: php-fpm cannot use `listen = {}`{}: {why}",
                    pool.name,
                    setting.written(),
                    setting.env_note()
                ),
                Label::primary(setting.file, setting.value_span(), "refused by php-fpm"),
            );
            let mut help = "php-fpm does not start, so every request nginx passes to it answers 502. Set `listen` to a socket path (`/run/php/php8.2-fpm.sock`), a port (`9000`) or `host:port` (`127.0.0.1:9000`, `[::1]:9000`)".to_owned();
            if !instance_is_whole(cx.project, cx.fpm, pool) {
                help.push_str(". The linted files are not the whole php-fpm configuration: ignore this if a file not linted sets `listen` after this one");
                f = f.severity(Severity::Warning);
            }
            out.push(f.help(help));
        }
        out
    }
}
