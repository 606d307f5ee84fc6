use crate::diagnostic::Label;
use crate::model::fpm::FpmIssue;
use crate::model::nginx::IncludeIssue;
use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};
use crate::source::{FileId, Span};

declare_rule! {
    /// ## What it does
    /// Flags includes that lead back to a file already being read, and nesting too deep to
    /// be meant (more than 100 levels of blocks and includes). Each include in the chain is
    /// labelled.
    ///
    /// ## Why it matters
    /// nginx follows an include cycle until it runs out of open files and refuses to start;
    /// php-fpm likewise. This tool reads each file of the cycle once and reports the chain.
    ///
    /// ## Example
    /// ```nginx
    /// # file: a.conf
    /// include b.conf;
    /// ```
    /// ```nginx
    /// # file: b.conf
    /// include a.conf;
    /// ```
    ///
    /// ## Use instead
    /// Include shared snippets from one place only; snippets should not include their includers.
    ///
    /// ## Fix safety
    /// No fix.
    ///
    /// ## References
    /// - nginx: `include` (core module)
    pub struct IncludeCycle {
        name: "include-cycle",
        category: Files,
        severity: Error,
        fix: Never,
    }
}

impl Rule for IncludeCycle {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut cycle = |chain: &[(FileId, Span)], back_to: FileId| {
            let names: Vec<&str> = chain
                .iter()
                .map(|(f, _)| cx.project.sources.get(*f).name.as_str())
                .collect();
            let target = &cx.project.sources.get(back_to).name;
            let Some(&(last_file, last_span)) = chain.last() else {
                return;
            };
            let mut f = Finding::new(
                format!("include cycle: {} -> {target}", names.join(" -> ")),
                Label::primary(last_file, last_span, format!("includes {target} again")),
            )
            .help("remove the include that closes the loop");
            for &(file, span) in &chain[..chain.len() - 1] {
                f = f.label(Label::secondary(file, span, "included from here"));
            }
            out.push(f);
        };
        for issue in &cx.nginx.include_issues {
            if let IncludeIssue::Cycle { chain, file } = issue {
                cycle(chain, *file);
            }
        }
        for issue in &cx.fpm.issues {
            if let FpmIssue::IncludeCycle { chain, file } = issue {
                cycle(chain, *file);
            }
        }
        for issue in &cx.nginx.include_issues {
            if let IncludeIssue::TooDeep { file, span } = issue {
                out.push(
                    Finding::new(
                        "blocks and includes nest more than 100 levels deep; not read further",
                        Label::primary(*file, *span, "too deep"),
                    )
                    .help("flatten the configuration"),
                );
            }
        }
        out
    }
}
