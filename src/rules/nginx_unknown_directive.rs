use crate::rules::nginx_language::report;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a directive nginx does not know: `unknown directive "fastcgi_pas"`, nginx's own
    /// words. Names valid in the same block within a small edit distance (a swap of two
    /// letters counts as one edit) are suggested.
    ///
    /// Which directives exist depends on the build: the `nginx-modules` selection (default
    /// `all`: every module of the directive table, so headers-more or Lua directives are never
    /// unknown), the `load_module` lines of the tree and `nginx-version`. When the build is
    /// known to lack a directive the table has, the help says why (a newer nginx, a module not
    /// selected). When the tree loads a module the table does not know, the finding is a
    /// warning: that module may define the name.
    ///
    /// Bodies nginx does not read as directives (`map`, `geo`, `types`, `split_clients`,
    /// `*_by_lua_block`, other modules' own blocks) are not checked.
    ///
    /// ## Why it matters
    /// `nginx -t` fails and nginx does not start or reload:
    /// `nginx: [emerg] unknown directive "fastcgi_pas" in /etc/nginx/sites-enabled/app:12`.
    /// A reload keeps the old configuration; a fresh container never starts.
    ///
    /// ## Example
    /// ```nginx
    /// location ~ \.php$ {
    ///     fastcgi_pas unix:/run/php/php8.2-fpm.sock;
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// location ~ \.php$ {
    ///     fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// Unsafe: when exactly one known name is close, the fix renames the directive to it.
    /// That is a guess at what was meant, so it is applied only with `--unsafe-fixes`.
    ///
    /// ## References
    /// - nginx: `ngx_conf_handler` (src/core/ngx_conf_file.c), "unknown directive"
    /// - nginx: directive index, <https://nginx.org/en/docs/dirindex.html>
    pub struct NginxUnknownDirective {
        name: "nginx-unknown-directive",
        category: Nginx,
        severity: Error,
        fix: Sometimes,
    }
}

impl Rule for NginxUnknownDirective {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        report(cx).unknown.clone()
    }
}
