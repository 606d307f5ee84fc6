use crate::diagnostic::Label;
use crate::rules::buffers::header_span;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a location nginx never selects because an earlier location in the same block
    /// takes every request it could match:
    ///
    /// - a regex location (`~` or `~*`) repeating the regex of an earlier one with the same
    ///   modifier, or a case-sensitive `~` repeating an earlier caseless `~*`: nginx tries
    ///   regex locations in the order written and uses the first that matches;
    /// - a named location (`@name`) repeating an earlier name: nginx uses the first.
    ///
    /// Repeated prefix or exact (`=`) locations are not this rule's: `nginx -t` refuses
    /// them itself (`duplicate location "/a"`). Nothing inside an unreachable location is
    /// checked by the other rules: it never runs.
    ///
    /// ## Why it matters
    /// `nginx -t` accepts the file, and every change made in the second location has no
    /// effect: a `try_files` or a buffer size added there protects nothing. Usually a
    /// snippet was included twice, or a block was pasted below the one it was meant to
    /// replace.
    ///
    /// ## Example
    /// ```nginx
    /// server {
    ///     listen 80;
    ///     location ~ \.php$ {
    ///         include fastcgi.conf;
    ///         fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    ///     }
    ///     location ~ \.php$ {
    ///         try_files $uri =404;
    ///         include fastcgi.conf;
    ///         fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    ///     }
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```nginx
    /// server {
    ///     listen 80;
    ///     location ~ \.php$ {
    ///         try_files $uri =404;
    ///         include fastcgi.conf;
    ///         fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix safety
    /// No fix: which of the two locations was meant is the author's call.
    ///
    /// ## References
    /// - nginx: `location` ("the search of regular expressions terminates on the first
    ///   match, and the corresponding configuration is used")
    pub struct NginxUnreachableLocation {
        name: "nginx-unreachable-location",
        category: Nginx,
        severity: Warning,
        fix: Never,
    }
}

impl Rule for NginxUnreachableLocation {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        cx.nginx
            .unreachable
            .iter()
            .map(|u| {
                let words = |d: &crate::model::nginx::DirRef<'_>| {
                    d.directive
                        .words()
                        .iter()
                        .map(|w| w.value())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let (later, first) = (words(&u.location), words(&u.shadowed_by));
                let why = if u.location.arg(0).is_some_and(|a| a.starts_with('@')) {
                    "nginx uses the first location of that name"
                } else {
                    "nginx uses the first regex location that matches"
                };
                let message = if u.included_again_at.is_some() {
                    format!("`{later}` is read twice in one block (its file is included again): the second copy is never selected ({why})")
                } else {
                    format!("`{later}` is never selected: the earlier `{first}` takes every request it matches ({why})")
                };
                Finding::new(
                    message,
                    Label::primary(
                        u.location.file,
                        header_span(&u.location),
                        "never selected; nothing in it runs",
                    ),
                )
                .label(match u.included_again_at {
                    Some((file, span)) => {
                        Label::secondary(file, span, "the same file is included again here")
                    }
                    None => Label::secondary(
                        u.shadowed_by.file,
                        header_span(&u.shadowed_by),
                        "this one is used",
                    ),
                })
                .help("Remove one of the two locations, or merge what the second one adds into the first.")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Diagnostic;
    use crate::lint::{all_rules, lint_project};
    use crate::project::{Options, Project};
    use crate::settings::Settings;

    fn lint(conf: &str) -> Vec<Diagnostic> {
        let p = Project::from_memory(&[("nginx.conf", conf)], Options::default());
        lint_project(p, &Settings::default(), &all_rules).diagnostics
    }

    /// The second `location ~ \.php$` lacks try_files and its buffers are the default: every
    /// rule would flag it, but nginx never runs it, so only NFL206 speaks, once.
    #[test]
    fn findings_inside_an_unreachable_location_are_not_reported() {
        let conf = "events {}\nhttp {\n  fastcgi_buffer_size 32k;\n  fastcgi_buffers 16 16k;\n  server {\n    listen 80;\n    location ~ \\.php$ {\n      try_files $uri =404;\n      include fastcgi.conf;\n      fastcgi_pass unix:/run/php/php8.2-fpm.sock;\n    }\n    location ~ \\.php$ {\n      fastcgi_buffer_size 1k;\n      fastcgi_pass unix:/run/php/php8.2-fpm.sock;\n    }\n  }\n}\n";
        let second = conf.rfind("location").unwrap();
        let inside = |d: &Diagnostic| {
            d.labels.iter().any(|l| {
                l.span.start as usize >= second && (l.span.start as usize) < conf.len() - 8
            })
        };
        let found = lint(conf);
        let codes: Vec<&str> = found.iter().filter(|d| inside(d)).map(|d| d.code).collect();
        assert_eq!(codes, ["NFL206"], "{found:#?}");
        // Without the first location, the same block is flagged by the other rules.
        let alone = conf.replacen(
            "location ~ \\.php$ {\n      try_files",
            "location /abcdefg {\n      try_files",
            1,
        );
        let found = lint(&alone);
        let codes: Vec<&str> = found.iter().filter(|d| inside(d)).map(|d| d.code).collect();
        assert!(
            codes.contains(&"NFL201") && codes.contains(&"NFL203"),
            "{found:#?}"
        );
    }

    /// `proxy_pass` at server level fails `nginx -t`: no buffer advice for it.
    #[test]
    fn passes_where_nginx_refuses_them_are_not_sites() {
        let conf = "events {}\nhttp {\n  server {\n    listen 80;\n    proxy_pass http://127.0.0.1:8080;\n  }\n}\n";
        assert!(lint(conf).iter().all(|d| d.code != "NFL205"));
        // The same in a location is a site with the default buffer.
        let ok = "events {}\nhttp {\n  server {\n    listen 80;\n    location / { proxy_pass http://127.0.0.1:8080; }\n  }\n}\n";
        assert!(lint(ok).iter().any(|d| d.code == "NFL205"));
    }

    /// `fastcgi_buffer_size` in an `if` fails `nginx -t`; it does not count as set.
    #[test]
    fn directives_where_nginx_refuses_them_set_nothing() {
        let conf = "events {}\nhttp {\n  server {\n    listen 80;\n    location ~ \\.php$ {\n      include fastcgi.conf;\n      if ($arg_x) { fastcgi_buffer_size 64k; fastcgi_pass unix:/run/php.sock; }\n    }\n  }\n}\n";
        let found = lint(conf);
        assert!(
            found
                .iter()
                .any(|d| d.code == "NFL201" && d.message.contains("default")),
            "{found:#?}"
        );
    }
}
