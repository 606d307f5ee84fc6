//! Fixture snapshots: every `fixtures/<rule-name>/<case>/` tree is linted with that rule alone
//! (so adding a rule never changes another rule's snapshots); the snapshot holds its diagnostics
//! and the diff of its fixes (unsafe ones included). A case may hold a `.nginx-fpm-lint.toml`
//! for the settings it needs (a memory budget, say). The harness also checks that
//! `bad*` cases fire the rule, `ok*` cases do not, the rule's declared fix availability holds,
//! the fixed files parse, the fixed findings are gone, and a second fix pass changes nothing.

use std::path::{Path, PathBuf};

use nginx_fpm_lint::config;
use nginx_fpm_lint::diagnostic::Severity;
use nginx_fpm_lint::fix::diff::unified_diff;
use nginx_fpm_lint::fix::Applicability;
use nginx_fpm_lint::lint::{fix_all_with, lint_project_with, Policy};
use nginx_fpm_lint::project::Project;
use nginx_fpm_lint::report::{concise, Report};
use nginx_fpm_lint::rules::RuleMeta;
use nginx_fpm_lint::rules::{self, FixAvailability};
use nginx_fpm_lint::run::options_and_settings_from;

/// Folders of `fixtures/` that are not a rule's, and the tests that read them. Any other
/// folder must name a rule: one left behind by a renamed rule fails instead of going unread.
const NOT_RULES: &[(&str, &str)] = &[
    (
        "e2e",
        "tests/real_stack*.rs: trees the real nginx + php-fpm run",
    ),
    ("syntax-errors", "tests/syntax_errors.rs"),
];

/// A folder for a rule is named exactly as the rule (not its code).
fn names_a_rule(folder: &str) -> bool {
    rules::lookup(folder).is_some_and(|(_, r)| r.meta().name == folder)
}

#[test]
fn every_fixtures_folder_is_read() {
    for (name, _) in NOT_RULES {
        assert!(
            Path::new("fixtures").join(name).is_dir(),
            "NOT_RULES lists fixtures/{name}, which is gone"
        );
        assert!(!names_a_rule(name), "fixtures/{name} names a rule");
    }
    // What cases() reports as strays: a misspelt or renamed rule, and a code.
    assert!(names_a_rule("fastcgi-pass-no-listener"));
    assert!(!names_a_rule("fastcgi-pass-no-listner"));
    assert!(!names_a_rule("NFL101"));
    assert!(!cases().is_empty());
}

fn cases() -> Vec<(String, PathBuf)> {
    let root = Path::new("fixtures");
    let mut out = Vec::new();
    let mut strays = Vec::new();
    for rule_dir in std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()) {
        let rule = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
        if !names_a_rule(&rule) {
            if !NOT_RULES.iter().any(|(name, _)| *name == rule) {
                strays.push(rule);
            }
            continue;
        }
        for case in std::fs::read_dir(&rule_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
        {
            out.push((rule.clone(), case));
        }
    }
    assert!(
        strays.is_empty(),
        "fixtures/ folders that name no rule (rename them with the rule, or list them in \
         NOT_RULES): {strays:?}"
    );
    out.sort();
    assert!(
        !out.is_empty(),
        "no fixtures found (run from the crate root)"
    );
    out
}

#[test]
fn fixtures() {
    let mut failures = Vec::new();
    for (rule, case) in cases() {
        let case_name = case.file_name().unwrap().to_string_lossy().into_owned();
        let paths = vec![case.clone()];
        // The case's own config, if any, says which rules run (unused-suppression needs the
        // rules its comments name); otherwise the case's rule runs alone.
        let case_config = case.join(".nginx-fpm-lint.toml");
        let config = case_config.is_file().then(|| {
            config::load(&case_config).unwrap_or_else(|e| panic!("{}: {e}", case_config.display()))
        });
        let (options, settings) = options_and_settings_from(&config.clone().unwrap_or_default());
        let select = |code: &str, meta: &RuleMeta| -> Option<Severity> {
            match &config {
                Some(c) => c.severity_of(code, meta.severity),
                None => (meta.name == rule).then_some(meta.severity),
            }
        };
        let policy = Policy::new(&select);
        let lint = |options: &nginx_fpm_lint::project::Options| {
            lint_project_with(Project::load(&paths, options.clone()), &settings, &policy)
        };
        let first = lint(&options);
        let sources = &first.project.sources;
        let mut fail = |msg: String| failures.push(format!("{rule}/{case_name}: {msg}"));

        // Only fixtures about unreadable input may hold files that fail to parse.
        if !first.project.problems.is_empty() && !case_name.contains("unparsable") {
            fail(format!("load problems: {:?}", first.project.problems));
        }
        let own: Vec<_> = first
            .diagnostics
            .iter()
            .filter(|d| d.name == rule)
            .collect();
        match (case_name.starts_with("bad"), own.is_empty()) {
            (true, true) => fail("a bad fixture must fire the rule".into()),
            (false, false) => fail(format!(
                "an ok fixture must stay silent, got: {}",
                own[0].message
            )),
            _ => {}
        }
        let meta = rules::lookup(&rule).unwrap().1.meta();
        match meta.fix {
            FixAvailability::Never if own.iter().any(|d| d.fix.is_some()) => {
                fail("rule declares no fix but offered one".into())
            }
            FixAvailability::Always if own.iter().any(|d| d.fix.is_none()) => {
                fail("rule declares a fix always, one is missing".into())
            }
            _ => {}
        }

        let fixed = fix_all_with(
            &first,
            &paths,
            &options,
            &settings,
            Applicability::Unsafe,
            &policy,
        );
        if let Some(w) = &fixed.warning {
            fail(format!("fix broke a file: {w}"));
        }
        let mut diff = String::new();
        for (id, new) in &fixed.changed {
            let f = sources.get(*id);
            diff.push_str(&unified_diff(&f.text, new, &f.name));
        }
        if fixed.after.project.problems.len() > first.project.problems.len() {
            fail(format!(
                "fixed files do not parse: {:?}",
                fixed.after.project.problems
            ));
        }
        if let Some(d) = fixed
            .after
            .diagnostics
            .iter()
            .find(|d| d.name == rule && d.fix.is_some())
        {
            fail(format!(
                "a fixable finding survived the fixes: {}",
                d.message
            ));
        }
        // Second pass over the fixed texts: nothing more to do.
        let mut again_options = options.clone();
        for (id, new) in &fixed.changed {
            let canonical = first.project.canonical_path(*id).unwrap().to_path_buf();
            again_options.overrides.insert(canonical, new.clone());
        }
        let again_first = lint(&again_options);
        let again = fix_all_with(
            &again_first,
            &paths,
            &again_options,
            &settings,
            Applicability::Unsafe,
            &policy,
        );
        if !again.changed.is_empty() {
            fail("a second fix pass changed the files again".into());
        }

        let shown: Vec<_> = first
            .diagnostics
            .iter()
            .filter(|d| d.name == rule)
            .cloned()
            .collect();
        let report = Report::new(
            &shown,
            sources,
            &first.project.problems,
            first.project.discovered.len(),
        );
        let mut snapshot = String::from("# diagnostics\n");
        snapshot.push_str(&concise::render(&report));
        snapshot.push_str("\n# fixes (safe and unsafe)\n");
        snapshot.push_str(if diff.is_empty() { "(none)\n" } else { &diff });
        insta::assert_snapshot!(format!("{rule}__{case_name}"), snapshot);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
