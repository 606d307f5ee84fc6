//! One lint pass: load, resolve includes, build both models, run the rules.

use std::path::PathBuf;

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{fpm, nginx};
use crate::project::{Options, Project};
use crate::rules::{self, LintContext, RuleMeta};
use crate::settings::Settings;

pub struct LintOutput {
    pub project: Project,
    pub diagnostics: Vec<Diagnostic>,
}

/// Which rules run, and at what severity (None: off).
pub type Selector<'a> = &'a dyn Fn(&str, &RuleMeta) -> Option<Severity>;

/// Every rule at its default severity.
pub fn all_rules(_code: &str, meta: &RuleMeta) -> Option<Severity> {
    Some(meta.severity)
}

pub fn lint_paths(paths: &[PathBuf], options: Options, settings: &Settings, select: Selector<'_>) -> LintOutput {
    lint_project(Project::load(paths, options), settings, select)
}

pub fn lint_project(mut project: Project, settings: &Settings, select: Selector<'_>) -> LintOutput {
    let nginx_includes = nginx::resolve_includes(&mut project);
    let fpm_includes = fpm::resolve_includes(&mut project);
    let diagnostics = {
        let nginx_model = nginx::build(&project, &nginx_includes);
        let fpm_model = fpm::build(&project, &fpm_includes);
        let cx = LintContext { project: &project, nginx: &nginx_model, fpm: &fpm_model, settings };
        rules::run(&cx, select)
    };
    LintOutput { project, diagnostics }
}
