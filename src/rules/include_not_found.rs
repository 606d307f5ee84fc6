use crate::diagnostic::{Label, Severity};
use crate::model::fpm::FpmIssue;
use crate::model::nginx::IncludeIssue;
use crate::project::DanglingLink;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::source::{FileId, Span};

declare_rule! {
    /// ## What it does
    /// Flags an `include` (nginx) or `include=` (PHP-FPM) that names a file which is neither in
    /// the linted tree nor a well-known packaged file (`fastcgi_params`, `fastcgi.conf`,
    /// `snippets/fastcgi-php.conf`, `mime.types`, ...). A glob that matches nothing is fine, as
    /// it is for nginx. An include that names a directory (`include conf.d;`) is an error.
    /// Also flags a symlink whose absolute target (`sites-enabled/x ->
    /// /etc/nginx/sites-available/x`, as in an /etc dump) is not in the tree: such a target is
    /// looked for inside the tree the way an absolute include is, never on the machine running
    /// the linter.
    ///
    /// ## Why it matters
    /// On the server, `nginx -t` fails with `open() "/etc/nginx/snippets/php.conf" failed
    /// (2: No such file or directory)` unless the file is deployed by other means; and every
    /// check here is blind to what the missing file sets. A directory fails `nginx -t` on any
    /// server (`pread() "conf.d" failed (21: Is a directory)`); php-fpm reads nothing from one,
    /// so the pools in it never load.
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
        let nginx = cx.nginx.include_issues.iter().filter_map(|i| match i {
            IncludeIssue::NotFound {
                file,
                span,
                pattern,
                is_directory,
            } => Some((*file, *span, pattern, *is_directory, true)),
            _ => None,
        });
        let fpm = cx.fpm.issues.iter().filter_map(|i| match i {
            FpmIssue::IncludeNotFound {
                file,
                span,
                pattern,
                is_directory,
            } => Some((*file, *span, pattern, *is_directory, false)),
            _ => None,
        });
        let links = cx
            .project
            .dangling_links
            .iter()
            .map(|l| dangling_link(cx, l));
        nginx
            .chain(fpm)
            .map(|(file, span, pattern, is_directory, is_nginx)| {
                if is_directory {
                    directory(file, span, pattern, is_nginx)
                } else {
                    Finding::new(
                        format!("include `{pattern}` matches no file in the linted tree and no known packaged file"),
                        Label::primary(file, span, "not found"),
                    )
                    .help("commit the file, correct the path, or map its directory with --map FROM=DIR")
                }
            })
            .chain(links)
            .collect()
    }
}

/// `sites-enabled/x -> /etc/nginx/sites-available/x` whose target, mapped onto the tree, is not
/// there. The machine running the linter is never asked: its own file would make the result
/// depend on where the linter runs.
fn dangling_link(cx: &LintContext<'_, '_>, link: &DanglingLink) -> Finding {
    let file = cx.project.sources.get(link.file);
    let tried = match link.tried.first() {
        Some(first) => format!(" (looked for it at `{}`)", first.display()),
        None => String::new(),
    };
    Finding::new(
        format!(
            "symlink `{}` points to `{}`, which is not in the linted tree; not linted",
            file.name, file.text
        ),
        Label::primary(link.file, Span::new(0, file.text.len()), "the link's target"),
    )
    .help(format!(
        "an absolute link target is looked for inside the tree, as an absolute include is{tried}; commit the target, or map its directory with --map FROM=DIR"
    ))
}

/// `include conf.d;`: a directory. nginx refuses to start; php-fpm reads nothing from it.
fn directory(file: FileId, span: Span, pattern: &str, is_nginx: bool) -> Finding {
    let glob = format!("{}/*.conf", pattern.trim_end_matches('/'));
    let help = if is_nginx {
        format!(
            "nginx -t fails and nginx does not start (`pread() \"{pattern}\" failed (21: Is a directory)`); include the files in it with a glob: `include {glob};`"
        )
    } else {
        format!(
            "php-fpm reads nothing from a directory, so none of its pools load (with no other pool it does not start: `ERROR: No pool defined. at least one pool section must be specified in config file`); include the files with a glob: `include={glob}`"
        )
    };
    Finding::new(
        format!("include `{pattern}` names a directory, not a file"),
        Label::primary(file, span, "a directory"),
    )
    .severity(Severity::Error)
    .help(help)
}
