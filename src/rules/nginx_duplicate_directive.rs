use crate::rules::nginx_language::report;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags what nginx accepts only once, with includes expanded (a directive in an included
    /// snippet and the same one beside the `include` are in one block):
    ///
    /// - a directive nginx refuses twice in one block: `"root" directive is duplicate`;
    /// - two prefix locations (plain or `^~`) or two exact (`=`) locations for one URI in one
    ///   server or location: `duplicate location "/x"`;
    /// - two upstreams of one name (case is ignored): `duplicate upstream "php"`;
    /// - two servers of one http block that are both `default_server` for one address:
    ///   `a duplicate default server for 0.0.0.0:80`, and one server listening on an address
    ///   twice: `a duplicate listen 0.0.0.0:80`;
    /// - an upstream without any `server`: `no servers are inside upstream`.
    ///
    /// Two servers with the same `server_name` on the same address are a warning, as nginx
    /// itself only warns: `conflicting server name "example.com" on 0.0.0.0:80, ignored`.
    ///
    /// ## Why it matters
    /// `nginx -t` fails and nginx does not start or reload:
    /// `nginx: [emerg] "root" directive is duplicate in /etc/nginx/sites-enabled/app:4`.
    /// A conflicting server name starts, but the second server never answers that name.
    ///
    /// ## Example
    /// ```nginx
    /// events {}
    /// http {
    ///     server {
    ///         root /var/www/app/public;
    ///         root /var/www/app;
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// events {}
    /// http {
    ///     server {
    ///         root /var/www/app/public;
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// No fix: which of the two to keep is the author's call.
    ///
    /// ## References
    /// - nginx: the `"is duplicate"` answers of the directive handlers, `duplicate location`
    ///   (ngx_http_core_module), `duplicate upstream` and `no servers are inside upstream`
    ///   (ngx_http_upstream_module), `a duplicate default server` (ngx_http.c)
    pub struct NginxDuplicateDirective {
        name: "nginx-duplicate-directive",
        category: Nginx,
        severity: Error,
        fix: Never,
    }
}

impl Rule for NginxDuplicateDirective {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        report(cx).duplicates.clone()
    }
}
