//! Every fix over real-world configs (../shared/corpus or $NGINX_FPM_LINT_CORPUS), applied
//! with `lint --fix --unsafe-fixes` to a copy in a temp dir, deployment by deployment (an nginx
//! source with the php-fpm source of the same name, so fastcgi_pass joins its pools):
//! - the run ends without a panic, and no file that parsed before fails to parse after;
//! - nothing fixable remains (`--diff --unsafe-fixes` afterwards prints no patch);
//! - the real `nginx -t` (and `php-fpm8.2 -t`) judge every changed file before and after
//!   fixing, each in the context it belongs to (`tests/corpus_support`: the context of
//!   nginx-t.tsv, and environmental fix-ups found from the tools' own errors on the original
//!   and applied alike to the fixed text). Accepted before must mean accepted after; a changed
//!   file the tools refuse even in its context must be one the reference run (nginx-t.tsv,
//!   php-fpm-t.tsv) refused after its fix-ups too, for an error in the file itself.
//!   `NFL_NGINX` / `NFL_PHP_FPM` name other binaries.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod corpus_support;

use corpus_support::{copy_tree, corpus_dir, fpm_rows, nginx_rows, tools, Judge};

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), fs::read(e.path()).unwrap()))
        .collect()
}

fn lint(cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = assert_cmd::Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .current_dir(cwd)
        .arg("lint")
        .args(args)
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("panicked"), "{text}");
    (out.status.code().expect("finished"), text)
}

/// Files named in "path: error: ..." lines: read or parse problems (not findings).
fn files_with_problems(output: &str) -> BTreeSet<String> {
    output
        .lines()
        .filter_map(|l| {
            let (head, _) = l.split_once(": error: ")?;
            Some(head.split(':').next().unwrap_or(head).to_owned())
        })
        .collect()
}

/// The deployments: (name, directories relative to the corpus copy).
fn deployments(root: &Path) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let names = |kind: &str| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(root.join(kind))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let fpm = names("php-fpm");
    let mut paired = BTreeSet::new();
    for n in names("nginx") {
        let twin = if n == "debian-nginx-common" {
            "debian-php8.2-fpm".to_owned()
        } else {
            n.clone()
        };
        let mut dirs = vec![format!("nginx/{n}")];
        if fpm.contains(&twin) {
            dirs.push(format!("php-fpm/{twin}"));
            paired.insert(twin);
        }
        out.push((n, dirs));
    }
    for f in fpm.into_iter().filter(|f| !paired.contains(f)) {
        out.push((f.clone(), vec![format!("php-fpm/{f}")]));
    }
    out
}

#[test]
fn every_fix_over_the_corpus_keeps_configs_valid() {
    let Some(corpus) = corpus_dir() else { return };
    let tools = tools();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_tree(&corpus.join("nginx"), &root.join("nginx"));
    copy_tree(&corpus.join("php-fpm"), &root.join("php-fpm"));
    let before = snapshot(root);

    let mut changed_files = Vec::new();
    for (name, dirs) in deployments(root) {
        let args: Vec<&str> = dirs.iter().map(String::as_str).collect();
        let (_, first) = lint(root, &args);
        let mut fix_args = vec!["--fix", "--unsafe-fixes"];
        fix_args.extend(&args);
        let (code, fixed) = lint(root, &fix_args);
        assert!(code <= 2, "{name}: {fixed}");
        let (_, after) = lint(root, &args);
        let new_problems: Vec<_> = files_with_problems(&after)
            .difference(&files_with_problems(&first))
            .cloned()
            .collect();
        assert!(
            new_problems.is_empty(),
            "{name}: files that no longer read or parse after fixing: {new_problems:?}\n{after}"
        );
        let mut diff_args = vec!["--diff", "--unsafe-fixes"];
        diff_args.extend(&args);
        let (_, remaining) = lint(root, &diff_args);
        assert!(
            !remaining.contains("+++ b/"),
            "{name}: fixable findings remain after --fix:\n{remaining}"
        );
    }
    let after = snapshot(root);
    for (path, old) in &before {
        if after.get(path) != Some(old) {
            changed_files.push((path.clone(), old.clone(), after[path].clone()));
        }
    }
    println!(
        "corpus_fix: {} file(s) changed by fixes",
        changed_files.len()
    );

    let Some(tools) = tools else { return };
    let judge = Judge::new(tools);
    let nginx_tsv = nginx_rows(&corpus);
    let fpm_tsv = fpm_rows(&corpus);

    // (file, why): judged before and after; refused in context for an error of its own.
    let mut checked = Vec::new();
    let mut refused = Vec::new();
    for (path, old, new) in &changed_files {
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // The environment is found for the original text (the copy holds the fixed one).
        fs::write(path, old).unwrap();
        let (env, reference_accepts) = if rel.starts_with("nginx/") {
            let row = nginx_tsv.get(&rel);
            let context = row.map_or("http", |r| r.context.as_str());
            (
                judge.nginx_env(root, path, context),
                // The reference run's `drop-unknown:NAME` fix-up deleted an unknown directive:
                // an error in the file itself, which it counted as accepted.
                row.map(|r| r.accepted_after_fixups && !r.fixups.contains("drop-unknown:")),
            )
        } else {
            (
                judge.fpm_env(path),
                fpm_tsv.get(&rel).map(|r| r.accepted_after_fixups),
            )
        };
        fs::write(path, new).unwrap();
        match env {
            Ok(env) => {
                let after = if rel.starts_with("nginx/") {
                    judge.nginx_t(root, path, &env, new)
                } else {
                    judge.fpm_t(path, &env, new)
                };
                assert!(
                    after.ok,
                    "{rel}: accepted before fixing (context {}, fix-ups {:?}), refused after:\n{}",
                    env.context, env.fixups, after.output
                );
                checked.push((rel, env.fixups.join(",")));
            }
            Err(v) => {
                assert_eq!(
                    reference_accepts,
                    Some(false),
                    "{rel}: the reference run accepted it after its fix-ups; this harness refuses the original:\n{}",
                    v.output
                );
                let why = v
                    .output
                    .lines()
                    .find(|l| l.contains("[emerg]") || l.contains("ERROR:"))
                    .unwrap_or("")
                    .to_owned();
                refused.push((rel, why));
            }
        }
    }
    for (rel, fixups) in &checked {
        println!("corpus_fix: checked {rel} [{fixups}]");
    }
    for (rel, why) in &refused {
        println!("corpus_fix: refused before fixing, by the file itself: {rel}: {why}");
    }
    println!(
        "corpus_fix: {} of {} changed file(s) checked by the real tools before and after fixing; {} refused for an error in the file itself",
        checked.len(),
        changed_files.len(),
        refused.len()
    );
    assert_eq!(checked.len() + refused.len(), changed_files.len());
}

/// The harness itself: a site that needs every kind of nginx fix-up (a stock include, an
/// absolute include remapped, certificates, an undefined variable) and a pool fragment are
/// accepted in their environment, and the same texts with an error of their own are refused.
#[test]
fn the_context_harness_accepts_the_originals_and_refuses_a_broken_text() {
    let Some(corpus) = corpus_dir() else { return };
    let Some(tools) = tools() else { return };
    let judge = Judge::new(tools);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_tree(&corpus.join("nginx/ddev"), &root.join("nginx/ddev"));
    copy_tree(
        &corpus.join("php-fpm/docker-library-php"),
        &root.join("php-fpm/docker-library-php"),
    );

    let site = root.join("nginx/ddev/pkg/ddevapp/webserver_config_assets/nginx-site-drupal.conf");
    let text = fs::read(&site).unwrap();
    let env = judge
        .nginx_env(root, &site, "http")
        .unwrap_or_else(|v| panic!("{}", v.output));
    assert!(env.fixups.iter().any(|f| f == "dummy-cert"), "{env:?}");
    assert!(
        env.fixups.iter().any(|f| f.starts_with("define-var:")),
        "{env:?}"
    );
    assert!(judge.nginx_t(root, &site, &env, &text).ok);
    let broken = String::from_utf8_lossy(&text).replace("fastcgi_pass", "fastcgi_pass_typo");
    let v = judge.nginx_t(root, &site, &env, broken.as_bytes());
    assert!(
        !v.ok && v.output.contains("unknown directive \"fastcgi_pass_typo\""),
        "{}",
        v.output
    );

    let pool = root
        .join("php-fpm/docker-library-php/445bf414f1/8.2/alpine3.23/fpm/php-fpm.d/zz-docker.conf");
    let text = fs::read(&pool).unwrap();
    let env = judge
        .fpm_env(&pool)
        .unwrap_or_else(|v| panic!("{}", v.output));
    assert_eq!(env.fixups, ["prepend-base-pool"]);
    let broken = String::from_utf8_lossy(&text).into_owned() + "pm = sometimes\n";
    let v = judge.fpm_t(&pool, &env, broken.as_bytes());
    assert!(!v.ok, "{}", v.output);
}
