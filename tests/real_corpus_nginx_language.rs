//! The nginx language rules (NFL401-NFL405) never give an error on a real-world file the real
//! `nginx -t` accepts. Every nginx deployment of the shared corpus (../shared/corpus or
//! $NGINX_FPM_LINT_CORPUS) is linted as a user would lint it; every file holding an NFL4xx
//! error is then judged by the real nginx in the context it belongs to (`tests/corpus_support`:
//! the context of nginx-t.tsv, and fix-ups that stand in for its environment: stock files,
//! certificates, variables, hosts). nginx must refuse each of them.
//!
//! Needs the corpus, nginx, php-fpm and openssl; without them the test prints `SKIPPED:` and
//! passes, except under CI=true.

use std::collections::BTreeMap;
use std::fs;

mod corpus_support;

use corpus_support::{copy_tree, corpus_dir, nginx_rows, tools, Judge};
use nginx_fpm_lint::diagnostic::Severity;
use nginx_fpm_lint::lint::{all_rules, lint_paths};
use nginx_fpm_lint::project::Options;
use nginx_fpm_lint::settings::Settings;

#[test]
fn no_language_error_on_a_corpus_file_nginx_accepts() {
    let Some(corpus) = corpus_dir() else { return };
    let Some(tools) = tools() else { return };
    let judge = Judge::new(tools);
    let rows = nginx_rows(&corpus);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_tree(&corpus.join("nginx"), &root.join("nginx"));

    // corpus path (`nginx/...`) -> the NFL4xx errors in it.
    let mut flagged: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut deployments: Vec<_> = fs::read_dir(root.join("nginx"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    deployments.sort();
    for dir in &deployments {
        let out = lint_paths(
            std::slice::from_ref(dir),
            Options::default(),
            &Settings::default(),
            &all_rules,
        );
        for d in &out.diagnostics {
            if !d.code.starts_with("NFL4") || d.severity != Severity::Error {
                continue;
            }
            let label = d.primary_label();
            let Some(path) = out.project.canonical_path(label.file) else {
                continue;
            };
            let canon_root = fs::canonicalize(root).unwrap();
            let Ok(rel) = path.strip_prefix(&canon_root) else {
                continue;
            };
            let line = out
                .project
                .sources
                .get(label.file)
                .line_col(label.span.start as usize)
                .line;
            flagged
                .entry(rel.to_string_lossy().into_owned())
                .or_default()
                .push(format!("{}:{line} {} {}", rel.display(), d.code, d.message));
        }
    }

    let mut accepted_but_flagged = Vec::new();
    for (rel, findings) in &flagged {
        let context = rows.get(rel).map_or("http", |r| r.context.as_str());
        if let Ok(env) = judge.nginx_env(root, &root.join(rel), context) {
            accepted_but_flagged.push(format!(
                "{rel} (accepted in {} with {:?}): {findings:#?}",
                env.context, env.fixups
            ));
        }
    }
    let accepted = rows.values().filter(|r| r.accepted_after_fixups).count();
    eprintln!(
        "{} corpus files flagged with an NFL4xx error, all refused by nginx -t; {accepted} files the reference run accepts",
        flagged.len()
    );
    assert!(
        accepted_but_flagged.is_empty(),
        "NFL4xx errors on files nginx -t accepts:\n{}",
        accepted_but_flagged.join("\n")
    );
}
