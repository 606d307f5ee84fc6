use crate::rules::nginx_language::report;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a directive whose shape nginx refuses, counted as `ngx_conf_handler` counts it:
    /// `invalid number of arguments in "listen" directive`; a directive that takes a block
    /// written without one (`directive "location" has no opening "{"`) and one that takes
    /// none written with one (`directive "fastcgi_pass" is not terminated by ";"`).
    ///
    /// In a file no nginx.conf in the tree includes, a name nginx defines differently in
    /// different blocks (`server` in `http` and in `upstream`) is only flagged when no
    /// definition accepts it.
    ///
    /// ## Why it matters
    /// `nginx -t` fails and nginx does not start or reload:
    /// `nginx: [emerg] invalid number of arguments in "listen" directive in /etc/nginx/sites-enabled/app:2`.
    ///
    /// ## Example
    /// ```nginx
    /// events {}
    /// http {
    ///     server {
    ///         listen;
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// events {}
    /// http {
    ///     server {
    ///         listen 80;
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// No fix: the missing or extra value is the author's to choose.
    ///
    /// ## References
    /// - nginx: `ngx_conf_handler` (src/core/ngx_conf_file.c), "invalid number of arguments"
    pub struct NginxInvalidArguments {
        name: "nginx-invalid-arguments",
        category: Nginx,
        severity: Error,
        fix: Never,
    }
}

impl Rule for NginxInvalidArguments {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        report(cx).arguments.clone()
    }
}
