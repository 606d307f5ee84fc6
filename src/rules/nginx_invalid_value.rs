use crate::rules::nginx_language::report;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a value nginx refuses while it reads the configuration, in nginx's own words:
    /// `"fastcgi_read_timeout" directive invalid value`, `it must be "on" or "off"`, sizes,
    /// times, numbers, words from a fixed list, `listen` parameters, `fastcgi_pass` and
    /// `proxy_pass` address forms, `return` codes, `if` conditions. The value is read as the
    /// definition nginx uses in that block reads it.
    ///
    /// ## Why it matters
    /// `nginx -t` fails and nginx does not start or reload:
    /// `nginx: [emerg] "fastcgi_read_timeout" directive invalid value in /etc/nginx/sites-enabled/app:14`.
    ///
    /// ## Example
    /// ```nginx
    /// events {}
    /// http {
    ///     sendfile yes;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// events {}
    /// http {
    ///     sendfile on;
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## References
    /// - nginx: `ngx_conf_set_flag_slot`, `ngx_conf_set_size_slot`, `ngx_conf_set_msec_slot`
    ///   and the other value readers (src/core/ngx_conf_file.c)
    pub struct NginxInvalidValue {
        name: "nginx-invalid-value",
        category: Nginx,
        severity: Error,
        fix: Never,
    }
}

impl Rule for NginxInvalidValue {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        report(cx).values.clone()
    }
}
