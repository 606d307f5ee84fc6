use crate::rules::nginx_language::report;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a directive nginx knows but refuses in the block it sits in:
    /// `"worker_processes" directive is not allowed here`, and says where it is allowed. The
    /// block is the exact one nginx reads it in, with includes expanded (a snippet included
    /// in a `server` is read in that server): main, events, http, server, location, `if` in a
    /// server, `if` in a location, `limit_except`, upstream, mail, stream and their servers
    /// and upstreams.
    ///
    /// In a file no nginx.conf in the tree includes, the block it is read in is assumed from
    /// its contents, so the finding is a warning saying so.
    ///
    /// ## Why it matters
    /// `nginx -t` fails and nginx does not start or reload:
    /// `nginx: [emerg] "worker_processes" directive is not allowed here in /etc/nginx/conf.d/app.conf:3`.
    ///
    /// ## Example
    /// ```nginx
    /// events {}
    /// http {
    ///     server {
    ///         worker_processes 2;
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// worker_processes 2;
    /// events {}
    /// http {
    ///     server {
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// No fix: where the directive belongs (and whether it is still wanted) is the author's
    /// call.
    ///
    /// ## References
    /// - nginx: `ngx_conf_handler` (src/core/ngx_conf_file.c), "directive is not allowed here"
    /// - nginx: each directive's "Context:" line in its module's documentation
    pub struct NginxDirectiveNotAllowed {
        name: "nginx-directive-not-allowed",
        category: Nginx,
        severity: Error,
        fix: Never,
    }
}

impl Rule for NginxDirectiveNotAllowed {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        report(cx).not_allowed.clone()
    }
}
