//! The rules, and the one registry table that gives each its stable code.
//!
//! A rule lives in its own file: its documentation (the doc comment, printed by `explain`),
//! its metadata, and its check. Rules never print and never touch the file system: they read
//! the [`LintContext`] and return [`Finding`]s; the runner turns those into [`Diagnostic`]s
//! with the code and severity from this table.

use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::fix::Fix;
use crate::model::fpm::FpmModel;
use crate::model::nginx::{IncludeMap, NginxModel};
use crate::project::Project;
use crate::settings::Settings;

mod buffers;
mod fastcgi_buffers_invalid;
mod fastcgi_header_buffer_small;
mod fastcgi_pass_loopback_pool;
mod fastcgi_pass_no_listener;
mod fastcgi_pass_unverifiable;
mod fastcgi_script_filename_missing;
mod fastcgi_timeout_mismatch;
mod fpm_allowed_clients_excludes_nginx;
mod fpm_invalid_value;
mod fpm_listen_conflict;
mod fpm_listen_invalid;
pub(crate) mod fpm_memory_overcommit;
mod fpm_pm_invalid;
mod fpm_pool_exhaustion;
mod fpm_socket_permission;
mod fpm_unknown_entry;
mod include_cycle;
mod include_not_found;
mod join_scope;
mod nginx_data_blocks;
mod nginx_directive_not_allowed;
mod nginx_duplicate_directive;
mod nginx_invalid_arguments;
mod nginx_invalid_value;
pub(crate) mod nginx_language;
mod nginx_unknown_directive;
mod nginx_unreachable_location;
mod php_location_executes_uploads;
mod proxy_header_buffer_small;
mod unused_suppression;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Problems in the configuration files themselves (includes).
    Files,
    /// nginx and PHP-FPM joined: does the request reach a worker?
    Join,
    /// nginx FastCGI and proxy locations.
    Nginx,
    /// PHP-FPM pools.
    Fpm,
}

/// Whether a rule can offer a fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixAvailability {
    Always,
    Sometimes,
    Never,
}

pub struct RuleMeta {
    pub name: &'static str,
    pub category: Category,
    pub severity: Severity,
    pub fix: FixAvailability,
    /// The rule's doc comment, as written.
    pub docs: &'static str,
}

/// What a rule sees.
pub struct LintContext<'a, 'p> {
    pub project: &'p Project,
    pub nginx: &'a NginxModel<'p>,
    pub fpm: &'a FpmModel<'p>,
    pub settings: &'a Settings,
    /// Resolved nginx includes, for rules that walk every directive with includes in place.
    pub nginx_includes: &'a IncludeMap,
    /// The nginx language findings, computed by the first of their rules to run.
    pub nginx_language: std::sync::OnceLock<nginx_language::Report>,
}

/// What a rule reports; the runner adds code, name and (unless overridden) severity.
#[derive(Clone, Debug)]
pub struct Finding {
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<Arc<str>>,
    pub fix: Option<Fix>,
    pub severity: Option<Severity>,
}

impl Finding {
    pub fn new(message: impl Into<String>, primary: Label) -> Self {
        Finding {
            message: message.into(),
            labels: vec![primary],
            help: None,
            fix: None,
            severity: None,
        }
    }
    pub fn label(mut self, label: Label) -> Self {
        self.labels.push(label);
        self
    }
    /// Shared: a rule with thousands of findings gives them all the same advice.
    pub fn help(mut self, help: impl Into<Arc<str>>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix;
        self
    }
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}

/// Said by every finding that rests on a directive being absent at a site whose outer levels
/// are not in the tree (see `NginxModel::levels_above_known`); such a finding is an info.
pub const PARENTS_UNKNOWN: &str = "not checked against the levels above: no nginx.conf in the tree reaches this file, and an outer level it is read in may set what is missing here";

pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &LintContext<'_, '_>) -> Vec<Finding>;
}

/// Declare a rule type whose doc comment becomes its `explain` text.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $ty:ident {
            name: $name:literal,
            category: $category:ident,
            severity: $severity:ident,
            fix: $fix:ident $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        pub struct $ty;

        impl $ty {
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                name: $name,
                category: $crate::rules::Category::$category,
                severity: $crate::diagnostic::Severity::$severity,
                fix: $crate::rules::FixAvailability::$fix,
                docs: concat!($($doc, "\n"),*),
            };
        }
    };
}
pub(crate) use declare_rule;

/// The registry: code -> rule, in order. Codes are stable and never reused.
/// NFL0xx files, NFL1xx nginx <-> PHP-FPM join, NFL2xx nginx locations, NFL3xx PHP-FPM pools,
/// NFL4xx what nginx refuses while reading its configuration, NFL5xx what php-fpm refuses.
pub static RULES: &[(&str, &dyn Rule)] = &[
    ("NFL001", &include_not_found::IncludeNotFound),
    ("NFL002", &include_cycle::IncludeCycle),
    ("NFL003", &unused_suppression::UnusedSuppression),
    ("NFL101", &fastcgi_pass_no_listener::FastcgiPassNoListener),
    ("NFL102", &fpm_socket_permission::FpmSocketPermission),
    ("NFL103", &fpm_listen_conflict::FpmListenConflict),
    (
        "NFL104",
        &fpm_allowed_clients_excludes_nginx::FpmAllowedClientsExcludesNginx,
    ),
    (
        "NFL105",
        &fastcgi_pass_unverifiable::FastcgiPassUnverifiable,
    ),
    ("NFL106", &fastcgi_timeout_mismatch::FastcgiTimeoutMismatch),
    (
        "NFL107",
        &fastcgi_pass_loopback_pool::FastcgiPassLoopbackPool,
    ),
    (
        "NFL201",
        &fastcgi_header_buffer_small::FastcgiHeaderBufferSmall,
    ),
    ("NFL202", &fastcgi_buffers_invalid::FastcgiBuffersInvalid),
    (
        "NFL203",
        &fastcgi_script_filename_missing::FastcgiScriptFilenameMissing,
    ),
    (
        "NFL204",
        &php_location_executes_uploads::PhpLocationExecutesUploads,
    ),
    ("NFL205", &proxy_header_buffer_small::ProxyHeaderBufferSmall),
    (
        "NFL206",
        &nginx_unreachable_location::NginxUnreachableLocation,
    ),
    ("NFL301", &fpm_pm_invalid::FpmPmInvalid),
    ("NFL302", &fpm_pool_exhaustion::FpmPoolExhaustion),
    ("NFL303", &fpm_memory_overcommit::FpmMemoryOvercommit),
    ("NFL304", &fpm_listen_invalid::FpmListenInvalid),
    ("NFL401", &nginx_unknown_directive::NginxUnknownDirective),
    (
        "NFL402",
        &nginx_directive_not_allowed::NginxDirectiveNotAllowed,
    ),
    ("NFL403", &nginx_invalid_arguments::NginxInvalidArguments),
    ("NFL404", &nginx_invalid_value::NginxInvalidValue),
    (
        "NFL405",
        &nginx_duplicate_directive::NginxDuplicateDirective,
    ),
    ("NFL501", &fpm_unknown_entry::FpmUnknownEntry),
    ("NFL502", &fpm_invalid_value::FpmInvalidValue),
];

/// A fix that edits a file several servers include changes every one of them: never safe,
/// and its message says how far it reaches.
fn widen_shared_fix(cx: &LintContext<'_, '_>, f: &mut Finding) {
    let Some(fix) = &mut f.fix else { return };
    let widest = fix
        .edits
        .iter()
        .map(|e| (cx.nginx.servers_reading(e.file), e.file))
        .max();
    let Some((servers, file)) = widest.filter(|(n, _)| *n > 1) else {
        return;
    };
    fix.applicability = fix.applicability.min(crate::fix::Applicability::Unsafe);
    fix.message = format!(
        "{} (unsafe: `{}` is included by {servers} servers, and this changes all of them)",
        fix.message,
        cx.project.sources.get(file).name
    );
}

/// A rule by code or kebab-case name.
pub fn lookup(code_or_name: &str) -> Option<(&'static str, &'static dyn Rule)> {
    RULES
        .iter()
        .find(|(code, rule)| {
            code.eq_ignore_ascii_case(code_or_name) || rule.meta().name == code_or_name
        })
        .map(|&(c, r)| (c, r))
}

/// The rule's documentation as plain text (doc comment markers removed).
pub fn docs_text(meta: &RuleMeta) -> String {
    meta.docs
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a fix rewrites a PHP-FPM value written with `${VAR}`: the container's environment
/// sets that value, so the file is not where to change it (and the reference would be lost).
fn rewrites_env_value(cx: &LintContext<'_, '_>, fix: &Fix) -> bool {
    fix.edits.iter().any(|e| {
        let source = cx.project.sources.get(e.file);
        source.language == crate::source::Language::PhpFpm
            && !e.span.is_empty()
            && source
                .text
                .get(e.span.range())
                .is_some_and(|t| !crate::syntax::fpm::values::env_refs(t).is_empty())
    })
}

/// Run the enabled rules and return their diagnostics, sorted and deduplicated (a file
/// included from several places is checked in each, but a finding is reported once).
pub fn run(
    cx: &LintContext<'_, '_>,
    enabled: impl Fn(&str, &RuleMeta) -> Option<Severity>,
) -> Vec<Diagnostic> {
    let active: Vec<(&str, &dyn Rule, Severity)> = RULES
        .iter()
        .filter_map(|&(code, rule)| Some((code, rule, enabled(code, rule.meta())?)))
        .collect();
    // Rules only read the models: on a large tree they run side by side.
    let big = cx.project.sources.len() >= 256;
    let findings = crate::parallel::map_when(big, &active, |(_, rule, _)| rule.check(cx));
    let mut out = Vec::new();
    for (&(code, rule, severity), found) in active.iter().zip(findings) {
        let meta = rule.meta();
        for mut f in found {
            if f.fix
                .as_ref()
                .is_some_and(|fix| rewrites_env_value(cx, fix))
            {
                f.fix = None;
            }
            widen_shared_fix(cx, &mut f);
            out.push(Diagnostic {
                code,
                name: meta.name,
                severity: f.severity.unwrap_or(severity),
                message: f.message,
                labels: f.labels,
                help: f.help,
                fix: f.fix,
            });
        }
    }
    out.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.message.cmp(&b.message))
    });
    out.dedup_by(|a, b| a.code == b.code && a.labels == b.labels && a.message == b.message);
    out
}

/// The rule a misspelled code or name most likely means (`fastcgi-pass-no-listner`,
/// `NFL1O1`), for a "did you mean" hint: the closest code or name within a third of its
/// length in edits (case ignored), else None.
pub fn suggest(written: &str) -> Option<String> {
    let written = written.trim().to_ascii_lowercase();
    if written.is_empty() {
        return None;
    }
    let limit = (written.chars().count() / 3).max(1);
    RULES
        .iter()
        .flat_map(|(code, rule)| {
            [
                (code.to_ascii_lowercase(), (*code).to_owned()),
                (rule.meta().name.to_owned(), rule.meta().name.to_owned()),
            ]
        })
        .map(|(candidate, shown)| (edit_distance(&written, &candidate), shown))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, shown)| shown)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// ` (did you mean `X`?)` for a misspelled rule, or nothing.
pub fn did_you_mean(written: &str) -> String {
    suggest(written)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for (code, rule) in RULES {
            let m = rule.meta();
            assert!(seen.insert(*code), "duplicate code {code}");
            assert!(seen.insert(m.name), "duplicate name {}", m.name);
            let docs = docs_text(m);
            for section in ["## What it does", "## Why it matters", "## Example"] {
                assert!(docs.contains(section), "{code} {} lacks {section}", m.name);
            }
        }
    }
}
