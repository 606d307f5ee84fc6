//! One lint pass: load, resolve includes, build both models, run the rules.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use crate::config::PathIgnores;
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::apply::{fix_until_stable, FixOutcome, Stop};
use crate::fix::{Applicability, Fix};
use crate::model::{fpm, nginx};
use crate::project::{Options, Project};
use crate::rules::{self, LintContext, RuleMeta};
use crate::settings::Settings;
use crate::source::FileId;
use crate::timings;

pub struct LintOutput {
    pub project: Project,
    pub diagnostics: Vec<Diagnostic>,
}

impl LintOutput {
    /// Append another run's output (a deployment linted on its own) for one report; returns
    /// the offset its file ids moved by.
    pub fn absorb(&mut self, other: LintOutput) -> u32 {
        let offset = self.project.absorb(other.project);
        self.diagnostics
            .extend(other.diagnostics.into_iter().map(|d| shift_ids(d, offset)));
        offset
    }
}

fn shift_ids(mut d: Diagnostic, offset: u32) -> Diagnostic {
    for l in &mut d.labels {
        l.file = FileId(l.file.0 + offset);
    }
    if let Some(fix) = &mut d.fix {
        for e in &mut fix.edits {
            e.file = FileId(e.file.0 + offset);
        }
    }
    d
}

/// Which rules run, and at what severity (None: off).
pub type Selector<'a> = &'a dyn Fn(&str, &RuleMeta) -> Option<Severity>;

/// Every rule at its default severity.
pub fn all_rules(_code: &str, meta: &RuleMeta) -> Option<Severity> {
    Some(meta.severity)
}

pub fn lint_paths(
    paths: &[PathBuf],
    options: Options,
    settings: &Settings,
    select: Selector<'_>,
) -> LintOutput {
    lint_project(Project::load(paths, options), settings, select)
}

/// What a run keeps: the rules and their severities, per-path ignores (config file), and
/// optionally only findings touching some files (files passed explicitly, e.g. by pre-commit).
#[derive(Clone, Copy)]
pub struct Policy<'a> {
    pub select: Selector<'a>,
    pub path_ignores: Option<&'a PathIgnores>,
    /// Canonical paths: keep only findings with a label in one of them.
    pub only_files: Option<&'a HashSet<PathBuf>>,
}

impl<'a> Policy<'a> {
    pub fn new(select: Selector<'a>) -> Self {
        Policy {
            select,
            path_ignores: None,
            only_files: None,
        }
    }
}

pub fn lint_project(project: Project, settings: &Settings, select: Selector<'_>) -> LintOutput {
    lint_project_with(project, settings, &Policy::new(select))
}

/// Lint, then drop what the policy and the suppression comments say to drop.
pub fn lint_project_with(
    mut project: Project,
    settings: &Settings,
    policy: &Policy<'_>,
) -> LintOutput {
    let select = policy.select;
    // An undeclared platform is read from the layout before packaged files are looked up.
    let detected;
    let settings = match settings.platform_basis.is_declared() {
        true => settings,
        false => {
            let mut s = settings.clone();
            if let Some((platform, basis)) = crate::model::platform::detect(&project) {
                s.platform = platform;
                s.platform_basis = basis;
                project.options.platform = platform;
            }
            detected = s;
            &detected
        }
    };
    let nginx_includes = nginx::resolve_includes(&mut project);
    // Before includes (`include = ${CONF_DIR}/*.conf`), and again for the files they load.
    project.expand_fpm_env(&settings.env);
    let fpm_includes = fpm::resolve_includes(&mut project);
    project.expand_fpm_env(&settings.env);
    timings::mark("resolve includes");
    let diagnostics = {
        let nginx_model = nginx::build(&project, &nginx_includes);
        let fpm_model = fpm::build(&project, &fpm_includes);
        timings::mark("build models");
        let cx = LintContext {
            project: &project,
            nginx: &nginx_model,
            fpm: &fpm_model,
            settings,
            nginx_includes: &nginx_includes,
            nginx_language: Default::default(),
        };
        let diagnostics = rules::run(&cx, select);
        timings::mark("run rules");
        diagnostics
    };
    let mut diagnostics = diagnostics;
    if let Some(ignores) = policy.path_ignores.filter(|i| !i.is_empty()) {
        diagnostics.retain(|d| {
            let file = d.primary_label().file;
            !project
                .canonical_path(file)
                .is_some_and(|p| ignores.ignores(p, d.code))
        });
    }
    let mut diagnostics = crate::suppress::apply(&project, diagnostics, select);
    if let Some(only) = policy.only_files {
        let given = |file: FileId| {
            project
                .canonical_path(file)
                .is_some_and(|p| only.contains(p))
        };
        diagnostics.retain(|d| d.labels.iter().any(|l| given(l.file)));
        // A fix that would edit a file outside the given ones (a pool's finding fixed in the
        // site) is not offered: pre-commit passes the staged files, and the others must stay
        // as they are. The finding is still reported.
        for d in &mut diagnostics {
            if d.fix
                .as_ref()
                .is_some_and(|f| f.edits.iter().any(|e| !given(e.file)))
            {
                d.fix = None;
            }
        }
    }
    timings::mark("suppressions, filters");
    LintOutput {
        project,
        diagnostics,
    }
}

/// Fix rounds before giving up on convergence.
const MAX_FIX_ROUNDS: usize = 10;

pub struct Fixed {
    /// New text per file of the first run's project, only for files that changed.
    pub changed: BTreeMap<FileId, String>,
    /// For a changed file that is not UTF-8 (its text holds placeholders, see
    /// `source::sanitize`), its new bytes: the fixes' edits replayed on the bytes read. None
    /// when a fix copied such a byte, whose value the text does not know.
    pub changed_original: BTreeMap<FileId, Option<Vec<u8>>>,
    pub applied: usize,
    /// The lint run over the fixed texts: what remains.
    pub after: LintOutput,
    /// A round whose edits broke a file was undone; says which.
    pub warning: Option<String>,
}

impl Fixed {
    /// The bytes to write for a changed file whose new text is `new` (the text unless the
    /// file is not UTF-8); None when they cannot be known.
    pub fn new_bytes<'a>(&'a self, id: FileId, new: &'a str) -> Option<&'a [u8]> {
        match self.changed_original.get(&id) {
            Some(bytes) => bytes.as_deref(),
            None => Some(new.as_bytes()),
        }
    }

    /// Append another run's fixes; `first_offset` is what [`LintOutput::absorb`] returned when
    /// that run's first output was appended (the ids `changed` is keyed by).
    pub fn absorb(&mut self, other: Fixed, first_offset: u32) {
        self.changed.extend(
            other
                .changed
                .into_iter()
                .map(|(id, text)| (FileId(id.0 + first_offset), text)),
        );
        self.changed_original.extend(
            other
                .changed_original
                .into_iter()
                .map(|(id, bytes)| (FileId(id.0 + first_offset), bytes)),
        );
        self.applied += other.applied;
        self.after.absorb(other.after);
        self.warning = match (self.warning.take(), other.warning) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
    }
}

/// Apply fixes round after round (re-linting the edited texts in memory) until none apply.
pub fn fix_all(
    first: &LintOutput,
    paths: &[PathBuf],
    options: &Options,
    settings: &Settings,
    threshold: Applicability,
) -> Fixed {
    fix_all_with(
        first,
        paths,
        options,
        settings,
        threshold,
        &Policy::new(&all_rules),
    )
}

/// [`fix_all`] under a policy: only the findings the policy keeps are fixed.
pub fn fix_all_with(
    first: &LintOutput,
    paths: &[PathBuf],
    options: &Options,
    settings: &Settings,
    threshold: Applicability,
    policy: &Policy<'_>,
) -> Fixed {
    let project = &first.project;
    // Only files read from disk can be edited; packaged (built-in) files never are.
    let editable: BTreeMap<FileId, PathBuf> = project
        .sources
        .iter()
        .filter_map(|(id, _)| project.canonical_path(id).map(|p| (id, p.to_path_buf())))
        .collect();
    let initial: BTreeMap<FileId, String> = editable
        .keys()
        .map(|&id| (id, project.sources.get(id).text.to_string()))
        .collect();

    let relint = |texts: &BTreeMap<FileId, String>| -> LintOutput {
        let mut opts = options.clone();
        for (id, text) in texts {
            if **text != *project.sources.get(*id).text {
                opts.overrides.insert(editable[id].clone(), text.clone());
            }
        }
        lint_project_with(Project::load(paths, opts), settings, policy)
    };
    // Map a re-lint's files back to the first run's ids through their canonical paths.
    let by_path: BTreeMap<&PathBuf, FileId> = editable.iter().map(|(id, p)| (p, *id)).collect();

    // The re-lint of the texts the loop ended on is the report of what remains: kept, so it
    // is not linted once more.
    let mut last: Option<LintOutput> = None;
    let mut first_round = true;
    let round = |texts: &BTreeMap<FileId, String>| -> Result<Vec<Fix>, (FileId, String)> {
        // The loop starts from the texts the first run linted: its findings are this round's.
        if std::mem::take(&mut first_round)
            && texts
                .iter()
                .all(|(id, text)| **text == *project.sources.get(*id).text)
        {
            return Ok(fixes_of(&first.diagnostics, threshold, Some));
        }
        let out = relint(texts);
        let map_id = |id: FileId| {
            out.project
                .canonical_path(id)
                .and_then(|p| by_path.get(&p.to_path_buf()).copied())
        };
        // A file that parsed before and not after the edits: the fix broke it.
        for p in &out.project.problems {
            if let Some((id, _)) = p.span {
                if let Some(orig) = map_id(id) {
                    if *texts[&orig] != *project.sources.get(orig).text {
                        return Err((orig, p.location() + ": " + &p.message));
                    }
                }
            }
        }
        let fixes = fixes_of(&out.diagnostics, threshold, map_id);
        last = Some(out);
        Ok(fixes)
    };

    let mut warning = None;
    let outcome: FixOutcome = match fix_until_stable(initial.clone(), MAX_FIX_ROUNDS, round) {
        Ok(o) => o,
        Err(e) => {
            let name = &project.sources.get(e.file).name;
            warning = Some(format!(
                "a fix left {name} unparsable ({}); that round was not applied",
                e.error
            ));
            e.kept
        }
    };
    // Converged: the last round checked exactly the final texts.
    let converged = warning.is_none() && matches!(outcome.stop, Stop::Converged);
    let changed: BTreeMap<FileId, String> = outcome
        .texts
        .into_iter()
        .filter(|(id, text)| *text != initial[id])
        .collect();
    let changed_original = changed
        .keys()
        .filter_map(|&id| {
            let original = project.sources.get(id).original.as_deref()?;
            let replayed =
                outcome
                    .edit_rounds
                    .iter()
                    .try_fold(original.to_vec(), |bytes, round| match round.get(&id) {
                        Some(edits) => crate::fix::apply::apply_edits_bytes(&bytes, edits),
                        None => Some(bytes),
                    });
            Some((id, replayed))
        })
        .collect();
    let after = match last.filter(|_| converged) {
        Some(out) => out,
        None => relint(&changed.iter().map(|(k, v)| (*k, v.clone())).collect()),
    };
    Fixed {
        changed,
        changed_original,
        applied: outcome.applied.len(),
        after,
        warning,
    }
}

/// The fixes at or above `threshold` among `diagnostics`, their files mapped to the first run's
/// ids (a fix touching a file that does not map is left out).
fn fixes_of(
    diagnostics: &[Diagnostic],
    threshold: Applicability,
    map_id: impl Fn(FileId) -> Option<FileId>,
) -> Vec<Fix> {
    let mut fixes = Vec::new();
    for d in diagnostics {
        let Some(fix) = &d.fix else { continue };
        if fix.applicability < threshold {
            continue;
        }
        let edits: Option<Vec<_>> = fix
            .edits
            .iter()
            .map(|e| map_id(e.file).map(|file| crate::fix::Edit { file, ..e.clone() }))
            .collect();
        if let Some(edits) = edits {
            fixes.push(Fix::new(fix.message.clone(), fix.applicability, edits));
        }
    }
    fixes
}
