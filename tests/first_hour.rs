//! What a new user meets first on a real config repository: patches `git apply` takes from
//! wherever the linter ran, files reached twice counted once, ignore files and excludes,
//! shell completions installed where the shell reads them.

mod workflow_support;

use std::path::Path;
use std::process::{Command as StdCommand, Stdio};

use workflow_support::*;

/// `git` in `dir` with no user configuration, stopping repository discovery above `ceiling`.
fn git(dir: &Path, ceiling: &Path, args: &[&str], stdin: Option<&str>) -> Option<(bool, String)> {
    use std::io::Write as _;
    let mut child = StdCommand::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", ceiling)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    Some((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

/// The NFL101 tree inside a git repository at `<tmp>/repo`; `None` when git is missing.
fn repo() -> Option<tempfile::TempDir> {
    let dir = stack(SITE_BROKEN);
    let parent = tempfile::tempdir().unwrap();
    let repo = parent.path().join("repo");
    std::fs::rename(dir.path(), &repo).unwrap();
    match git(&repo, parent.path(), &["init", "-q"], None) {
        Some((true, _)) => Some(parent),
        _ => {
            skip_or_fail("git is not installed");
            None
        }
    }
}

#[test]
fn diff_from_a_deeper_directory_applies_at_the_repository_root() {
    let Some(tmp) = repo() else { return };
    let repo = tmp.path().join("repo");
    let deep = repo.join("etc/nginx/sites-enabled");
    let r = run({
        let mut c = lint_cmd(&deep);
        c.args(["--select=NFL101", "--diff", "../../.."]);
        c
    });
    // Relative to the repository's root, as `git diff` writes them; never `a/../`.
    assert!(
        r.stdout.contains(&format!("--- a/{SITE}\n+++ b/{SITE}\n")),
        "{}{}",
        r.stdout,
        r.stderr
    );
    assert!(!r.stdout.contains("/.."), "{}", r.stdout);
    let (ok, out) = git(
        &repo,
        tmp.path(),
        &["apply", "--verbose", "-"],
        Some(&r.stdout),
    )
    .unwrap();
    assert!(ok, "git apply at the root: {out}\n{}", r.stdout);
    assert_eq!(read(&repo, SITE), SITE_FIXED);
}

#[test]
fn diff_from_a_subdirectory_applies_in_that_subdirectory() {
    let Some(tmp) = repo() else { return };
    let repo = tmp.path().join("repo");
    let sub = repo.join("etc");
    let r = run({
        let mut c = lint_cmd(&sub);
        c.args(["--select=NFL101", "--diff", "."]);
        c
    });
    assert!(
        r.stdout.contains(&format!("--- a/{SITE}\n")),
        "{}{}",
        r.stdout,
        r.stderr
    );
    // git apply in a subdirectory reads the paths from the root, as `git diff` wrote them.
    let (ok, out) = git(
        &sub,
        tmp.path(),
        &["apply", "--verbose", "-"],
        Some(&r.stdout),
    )
    .unwrap();
    assert!(ok, "git apply in etc/: {out}\n{}", r.stdout);
    assert!(
        out.contains(&format!("Applied patch {SITE} cleanly")),
        "{out}"
    );
    assert_eq!(read(&repo, SITE), SITE_FIXED);
}

#[test]
fn diff_outside_a_repository_is_relative_to_the_working_directory() {
    let dir = stack(SITE_BROKEN);
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
            .args(["--select=NFL101", "--diff", "./etc/../etc"]);
        c
    });
    assert!(
        r.stdout.contains(&format!("--- a/{SITE}\n")),
        "{}{}",
        r.stdout,
        r.stderr
    );
    let patched = StdCommand::new("patch")
        .args(["-p1", "--dry-run", "-i", "-"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let Ok(mut child) = patched else {
        skip_or_fail("patch is not installed");
        return;
    };
    {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(r.stdout.as_bytes())
            .unwrap();
    }
    assert!(child.wait().unwrap().success(), "{}", r.stdout);
}
