//! NFL003: the registry entry for suppression comments that suppress nothing. The check itself
//! runs in `crate::suppress`, after every other rule, because only then is it known which
//! suppressions were used.

use crate::rules::{declare_rule, Finding, LintContext, Rule, RuleMeta};

declare_rule! {
    /// ## What it does
    /// Flags a suppression comment (`# nginx-fpm-lint: ignore ...` in nginx files,
    /// `; nginx-fpm-lint: ignore ...` in PHP-FPM files) that suppresses no finding, and one that
    /// names a rule that does not exist.
    ///
    /// ## Why it matters
    /// A suppression outlives the problem it hid: once the configuration is fixed, the comment
    /// stays and silently hides the next, different finding on that line. A misspelt rule name
    /// hides nothing and leaves the reader believing the finding was reviewed.
    ///
    /// ## Example
    /// ```nginx
    /// # nginx-fpm-lint: ignore fastcgi-pass-no-listener -- socket created by systemd
    /// fastcgi_pass unix:/run/php/php8.2-fpm.sock;   # (the pool does listen here now)
    /// ```
    ///
    /// ## Use instead
    /// Delete the comment, or name the rule that still fires on that line.
    ///
    /// ## Fix safety
    /// Deleting a comment that suppresses nothing changes nothing else: the fix is safe. It is
    /// offered when every rule the comment names is known and unused; a comment that still
    /// suppresses something, or names an unknown rule (likely a typo), is left for you to edit.
    ///
    /// ## References
    /// - README.md, "Suppressing findings"
    pub struct UnusedSuppression {
        name: "unused-suppression",
        category: Files,
        severity: Warning,
        fix: Sometimes,
    }
}

impl Rule for UnusedSuppression {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    /// Nothing here: `crate::suppress::apply` reports these once every other rule has run.
    fn check(&self, _cx: &LintContext<'_, '_>) -> Vec<Finding> {
        Vec::new()
    }
}
