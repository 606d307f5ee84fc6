use crate::diagnostic::Label;
use crate::model::fpm::FpmIssue;
use crate::model::nginx::IncludeIssue;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags an `include` (nginx) or `include=` (PHP-FPM) that names a file which is neither in
    /// the linted tree nor a well-known packaged file (`fastcgi_params`, `fastcgi.conf`,
    /// `snippets/fastcgi-php.conf`, `mime.types`, ...). A glob that matches nothing is fine, as
    /// it is for nginx.
    ///
    /// ## Why it matters
    /// On the server, `nginx -t` fails with `open() "/etc/nginx/snippets/php.conf" failed
    /// (2: No such file or directory)` unless the file is deployed by other means; and every
    /// check here is blind to what the missing file sets.
    ///
    /// ## Example
    /// ```nginx
    /// include snippets/php-handler.conf;   # not in the repository
    /// ```
    ///
    /// ## Use instead
    /// Commit the file, fix the path, or map the directory it lives in with `--map FROM=DIR`.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## References
    /// - nginx: `include` (core module); paths are relative to the prefix (the directory of nginx.conf)
    /// - php-fpm: `include` in php-fpm.conf
    pub struct IncludeNotFound {
        name: "include-not-found",
        category: Files,
        severity: Warning,
        fix: Never,
    }
}

impl Rule for IncludeNotFound {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let help = "commit the file, correct the path, or map its directory with --map FROM=DIR";
        let nginx = cx.nginx.include_issues.iter().filter_map(|i| match i {
            IncludeIssue::NotFound {
                file,
                span,
                pattern,
            } => Some((*file, *span, pattern)),
            _ => None,
        });
        let fpm = cx.fpm.issues.iter().filter_map(|i| match i {
            FpmIssue::IncludeNotFound {
                file,
                span,
                pattern,
            } => Some((*file, *span, pattern)),
            _ => None,
        });
        nginx
            .chain(fpm)
            .map(|(file, span, pattern)| {
                Finding::new(
                    format!("include `{pattern}` matches no file in the linted tree and no known packaged file"),
                    Label::primary(file, span, "not found"),
                )
                .help(help)
            })
            .collect()
    }
}
