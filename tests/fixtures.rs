//! Fixture snapshots: every `fixtures/<rule-name>/<case>/` tree is linted; the snapshot holds the
//! diagnostics and the diff of every fix (unsafe ones included). The harness also checks that
//! `bad*` cases fire the rule, `ok*` cases do not, the rule's declared fix availability holds,
//! the fixed files parse, the fixed findings are gone, and a second fix pass changes nothing.

use std::path::{Path, PathBuf};

use nginx_fpm_lint::fix::diff::unified_diff;
use nginx_fpm_lint::fix::Applicability;
use nginx_fpm_lint::lint::{all_rules, fix_all, lint_paths};
use nginx_fpm_lint::project::Options;
use nginx_fpm_lint::report::{concise, Report};
use nginx_fpm_lint::rules::{self, FixAvailability};
use nginx_fpm_lint::settings::Settings;

fn cases() -> Vec<(String, PathBuf)> {
    let root = Path::new("fixtures");
    let mut out = Vec::new();
    for rule_dir in std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()) {
        let rule = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
        if rules::lookup(&rule).is_none() {
            continue; // e.g. fixtures/e2e: trees for the real-stack tests
        }
        for case in std::fs::read_dir(&rule_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
        {
            out.push((rule.clone(), case));
        }
    }
    out.sort();
    assert!(
        !out.is_empty(),
        "no fixtures found (run from the crate root)"
    );
    out
}

#[test]
fn fixtures() {
    let settings = Settings::default();
    let mut failures = Vec::new();
    for (rule, case) in cases() {
        let case_name = case.file_name().unwrap().to_string_lossy().into_owned();
        let paths = vec![case.clone()];
        let options = Options::default();
        let first = lint_paths(&paths, options.clone(), &settings, &all_rules);
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

        let fixed = fix_all(&first, &paths, &options, &settings, Applicability::Unsafe);
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
        let again_first = lint_paths(&paths, again_options.clone(), &settings, &all_rules);
        let again = fix_all(
            &again_first,
            &paths,
            &again_options,
            &settings,
            Applicability::Unsafe,
        );
        if !again.changed.is_empty() {
            fail("a second fix pass changed the files again".into());
        }

        let report = Report::new(
            &first.diagnostics,
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
