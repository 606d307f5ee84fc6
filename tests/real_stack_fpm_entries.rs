//! Proof against the real php-fpm 8.2 and nginx that fpm-unknown-entry (NFL501) predicts a
//! real failure: a misspelt `pm.max_children` makes php-fpm refuse its configuration, so it
//! does not start and nginx answers 502 (`connect() ... (2: No such file or directory)`);
//! with the rule's fix applied, php-fpm starts and nginx answers 200.
//!
//! Needs /usr/sbin/nginx and php-fpm8.2; without them the test prints `SKIPPED:` and passes,
//! except under CI=true.

mod support;

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use nginx_fpm_lint::fix::apply::apply_edits;
use nginx_fpm_lint::lint::{all_rules, lint_paths, LintOutput};
use nginx_fpm_lint::project::Options;
use nginx_fpm_lint::settings::Settings;
use support::{require_stack, Stack, Tree, TreeConfig};

fn lint(tree: &Tree) -> LintOutput {
    let paths = vec![tree.root().join("php-fpm"), tree.root().join("nginx")];
    lint_paths(&paths, Options::default(), &Settings::default(), &all_rules)
}

#[test]
fn misspelt_entry_stops_php_fpm_and_the_rename_makes_it_serve() {
    let Some(bins) = require_stack() else { return };
    let tree = Tree::materialise(&TreeConfig::fixture("fpm-unknown-entry"));

    // The linter reports the misspelt line, not a missing pm.max_children.
    let out = lint(&tree);
    let found: Vec<_> = out
        .diagnostics
        .iter()
        .filter(|d| d.code == "NFL501")
        .collect();
    assert_eq!(found.len(), 1, "{:?}", out.diagnostics);
    assert!(
        !out.diagnostics.iter().any(|d| d.code == "NFL301"),
        "{:?}",
        out.diagnostics
    );
    let words = "unknown entry 'pm.max_chidren'";
    assert!(found[0].message.starts_with(words), "{}", found[0].message);

    // php-fpm says the same, and does not start.
    let t = tree.fpm_t(&bins);
    assert!(!t.ok, "php-fpm -t accepted it:\n{}", t.output);
    assert!(t.output.contains(words), "{}", t.output);
    assert!(
        t.output.contains("FPM initialization failed"),
        "{}",
        t.output
    );

    // With php-fpm down, nginx answers 502: the socket was never created.
    let nginx = Stack::try_start_nginx_only(bins.clone(), tree, "HTTP_PORT")
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, body) = nginx.get("/index.php");
    assert_eq!(status, 502, "{body}");
    let (logged, log) =
        nginx.wait_nginx_log("(2: No such file or directory)", Duration::from_secs(5));
    assert!(logged, "{log}");
    let tree = nginx.into_tree();

    // The rule's rename (unsafe) makes php-fpm accept the pool and serve.
    let fix = found[0].fix.as_ref().expect("one close entry: a rename");
    for e in &fix.edits {
        let path: PathBuf = out.project.canonical_path(e.file).unwrap().to_path_buf();
        let text = &out.project.sources.get(e.file).text;
        fs::write(&path, apply_edits(text, std::slice::from_ref(e)).text).unwrap();
    }
    let t = tree.fpm_t(&bins);
    assert!(t.ok, "php-fpm -t still fails after the fix:\n{}", t.output);
    assert!(lint(&tree).diagnostics.iter().all(|d| d.code != "NFL501"));
    let stack = Stack::try_start_on(bins, tree, "HTTP_PORT").unwrap_or_else(|e| panic!("{e}"));
    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 200, "body: {body}\n{}", stack.logs());
}
