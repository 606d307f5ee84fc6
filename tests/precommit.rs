//! pre-commit integration: files passed alone are joined with their project, and the real
//! pre-commit framework (from PyPI) builds and runs this repository's hooks
//! (`pre-commit try-repo`) against a sample config repository.
//!
//! The framework test needs `pre-commit` and `git` on PATH (`.ci/run` installs them); without
//! them it prints SKIPPED and passes, except under CI=true. It builds the hook with
//! `cargo install` (release): CARGO_TARGET_DIR is kept under target/ so later runs only rebuild
//! this crate.

mod workflow_support;

use std::path::Path;
use std::process::Command as StdCommand;
use std::time::Duration;

use workflow_support::*;

/// The changed site alone is still joined with the pools in the repository.
#[test]
fn a_passed_file_is_linted_within_its_project() {
    let dir = stack(SITE_BROKEN);
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--format=json", SITE]);
        c
    });
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let labels = v["diagnostics"][0]["labels"].as_array().unwrap();
    assert!(
        labels.iter().any(|l| l["file"] == POOL_PATH),
        "the pool was read: {labels:?}"
    );

    // Passing only the pool reports the same cross-file finding (it has a label there) ...
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, POOL_PATH]);
        c
    });
    assert_eq!(r.code, 1, "{}", r.stdout);
    // ... but findings touching only other files are not reported.
    write(
        dir.path(),
        "etc/nginx/sites-enabled/other.conf",
        "server {\n    include missing.conf;\n}\n",
    );
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, SITE]);
        c
    });
    assert!(!r.stdout.contains("other.conf"), "{}", r.stdout);
    // A syntax error elsewhere does not fail a commit that does not touch it.
    write(
        dir.path(),
        "etc/nginx/sites-enabled/broken.conf",
        "server {\n",
    );
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, SITE]);
        c
    });
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(!r.stdout.contains("broken.conf"), "{}", r.stdout);

    // The fix hook fixes the passed file through the same join.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--fix", SITE]);
        c
    });
    assert!(
        read(dir.path(), SITE).contains("php8.2-fpm.sock"),
        "{}",
        r.stderr
    );
}

fn have(tool: &str, arg: &str) -> bool {
    StdCommand::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn git(dir: &Path, args: &[&str]) {
    let out = StdCommand::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {:?}", out);
}

/// `pre-commit`, or the module when pip put no script on PATH.
fn pre_commit() -> Option<assert_cmd::Command> {
    if have("pre-commit", "--version") {
        return Some(assert_cmd::Command::new("pre-commit"));
    }
    let module = StdCommand::new("python3")
        .args(["-m", "pre_commit", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    module.then(|| {
        let mut c = assert_cmd::Command::new("python3");
        c.args(["-m", "pre_commit"]);
        c
    })
}

fn try_repo(sample: &Path, this_repo: &Path, target: &Path) -> Run {
    let mut c = pre_commit().expect("checked by the caller");
    c.current_dir(sample)
        .args(["try-repo", &this_repo.to_string_lossy(), "--files", SITE])
        .env("CARGO_TARGET_DIR", target)
        // try-repo commits uncommitted changes of this repository in a shadow clone.
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env_remove("NO_COLOR")
        // The first build compiles every dependency in release mode on a shared machine.
        .timeout(Duration::from_secs(25 * 60));
    run(c)
}

#[test]
fn pre_commit_framework_runs_the_hooks() {
    let this_repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if pre_commit().is_none() {
        return skip_or_fail("pre-commit is not installed (pip install pre-commit)");
    }
    if !have("git", "--version") {
        return skip_or_fail("git is not installed");
    }
    if !this_repo.join(".git").exists() {
        return skip_or_fail("this crate is not a git checkout; try-repo needs one");
    }
    let target = this_repo.join("target").join("pre-commit-hook");

    let sample = stack(SITE_BROKEN);
    // Rules added later must not change what this test is about.
    write(
        sample.path(),
        ".nginx-fpm-lint.toml",
        "select = [\"NFL001\", \"NFL002\", \"NFL003\", \"NFL101\"]\n",
    );
    git(sample.path(), &["init", "-q"]);
    git(sample.path(), &["add", "-A"]);
    git(sample.path(), &["commit", "-q", "-m", "broken site"]);

    // Both hooks run: the check fails on the finding, the fix hook rewrites the file (and
    // pre-commit fails it for modifying files).
    let r = try_repo(sample.path(), this_repo, &target);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert_eq!(r.code, 1, "{out}");
    assert!(out.contains("NFL101"), "{out}");
    assert!(out.contains("files were modified by this hook"), "{out}");
    assert_eq!(
        read(sample.path(), SITE),
        SITE_FIXED,
        "the fix hook fixed it"
    );

    // The fixed repository passes both hooks.
    git(sample.path(), &["commit", "-q", "-am", "fixed"]);
    let r = try_repo(sample.path(), this_repo, &target);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert_eq!(r.code, 0, "{out}");
    assert!(!out.contains("Failed"), "{out}");
}

/// Files from two projects (deployments with their own config): both projects are read, and
/// findings are reported only for the passed files.
#[test]
fn files_of_two_projects_are_each_widened() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (env, site) in [("staging", SITE_BROKEN), ("production", SITE_FIXED)] {
        for (path, text) in [
            ("etc/nginx/nginx.conf", NGINX_CONF),
            (SITE, site),
            ("etc/php/8.2/fpm/php-fpm.conf", FPM_CONF),
            (POOL_PATH, POOL),
        ] {
            write(dir.path(), &format!("{env}/{path}"), text);
        }
        write(dir.path(), &format!("{env}/.nginx-fpm-lint.toml"), "");
    }
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--extend-select=NFL105", "--fail-on=info"])
            .arg(format!("staging/{SITE}"))
            .arg(format!("production/{SITE}"));
        c
    });
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains(&format!("staging/{SITE}:6:22: error[NFL101")),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("production/"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("NFL105"),
        "pools were found: {}",
        r.stdout
    );
}
