//! `--fix` and `--diff` apply only the fixes of findings that are reported: selected, not
//! suppressed, not under a per-file ignore, and, when only some files are given (as pre-commit
//! passes the staged ones), only fixes that edit those files.
//!
//! Every case starts from the Debian tree of `workflow_support` whose site passes to a socket no
//! pool listens on (NFL101, a safe fix that edits the site), and checks the files byte for byte.

mod workflow_support;

use std::path::Path;

use workflow_support::*;

/// `--diff` prints nothing and `--fix` leaves every file as it was, for `args` in `dir`.
fn assert_no_fix_applied(dir: &Path, args: &[&str], files: &[&str]) {
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    let r = run({
        let mut c = lint_cmd(dir);
        c.arg("--diff").args(args);
        c
    });
    assert_eq!(
        r.stdout, "",
        "--diff {args:?} printed a patch; {}",
        r.stderr
    );
    let r = run({
        let mut c = lint_cmd(dir);
        c.arg("--fix").args(args);
        c
    });
    for (f, b) in files.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(dir.join(f)).unwrap(),
            b,
            "--fix {args:?} changed {f}: {}{}",
            r.stdout,
            r.stderr
        );
    }
}

/// The control every other case depends on: without a filter, the fix is applied.
#[test]
fn the_fix_applies_when_the_finding_is_reported() {
    let dir = stack(SITE_BROKEN);
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args(["--select=NFL101", "--diff", "."]);
        c
    });
    assert!(
        r.stdout
            .contains("+        fastcgi_pass unix:/run/php/php8.2-fpm.sock;"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args(["--select=NFL101", "--fix", "."]);
        c
    });
    assert_eq!(read(dir.path(), SITE), SITE_FIXED, "{}", r.stderr);
}

#[test]
fn no_fix_for_a_rule_not_selected() {
    let dir = stack(SITE_BROKEN);
    assert_no_fix_applied(dir.path(), &["--select=NFL001", "."], &[SITE, POOL_PATH]);
    // Deselected with --ignore, and in the config file.
    assert_no_fix_applied(
        dir.path(),
        &["--select=NFL1", "--ignore=NFL101", "."],
        &[SITE],
    );
    write(
        dir.path(),
        ".nginx-fpm-lint.toml",
        "select = [\"NFL1\"]\nignore = [\"NFL101\"]\n",
    );
    assert_no_fix_applied(dir.path(), &["."], &[SITE]);
}

#[test]
fn no_fix_for_a_suppressed_finding() {
    let site = SITE_BROKEN.replace(
        "php8.1-fpm.sock;",
        "php8.1-fpm.sock;  # nginx-fpm-lint: ignore NFL101 -- another host serves it",
    );
    let dir = stack(&site);
    assert_no_fix_applied(dir.path(), &["--select=NFL101", "."], &[SITE]);
}

#[test]
fn no_fix_under_a_per_file_ignore() {
    let dir = stack(SITE_BROKEN);
    // A glob for the folder, as the README's example: the site is below it.
    write(
        dir.path(),
        ".nginx-fpm-lint.toml",
        "[per-file-ignores]\n\"etc/nginx/sites-enabled/*\" = [\"NFL101\"]\n",
    );
    assert_no_fix_applied(dir.path(), &["--select=NFL101", "."], &[SITE]);
    // The ignore of another folder does not hide it: the fix applies.
    write(
        dir.path(),
        ".nginx-fpm-lint.toml",
        "[per-file-ignores]\n\"etc/php/**\" = [\"NFL101\"]\n",
    );
    run({
        let mut c = lint_cmd(dir.path());
        c.args(["--select=NFL101", "--fix", "."]);
        c
    });
    assert_eq!(read(dir.path(), SITE), SITE_FIXED);
}

/// pre-commit passes only the staged files: with just the pool staged, the cross-file finding
/// is reported (it has a label in the pool) but its fix, which edits the site, is not applied.
#[test]
fn a_precommit_run_given_only_the_pool_leaves_the_site_alone() {
    let dir = stack(SITE_BROKEN);
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    // Every rule, as the hook runs: nothing may edit the site.
    assert_no_fix_applied(dir.path(), &[POOL_PATH], &[SITE, POOL_PATH]);
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args(["--select=NFL101", "--fix", POOL_PATH]);
        c
    });
    assert_eq!(r.code, 1, "the finding is still reported: {}", r.stdout);
    assert!(r.stdout.contains("NFL101"), "{}", r.stdout);
    assert_eq!(read(dir.path(), SITE), SITE_BROKEN);
    // Nor is it counted as fixable.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args(["--select=NFL101", "--format=json", POOL_PATH]);
        c
    });
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["diagnostics"][0]["fix"].is_null(), "{}", r.stdout);
    // Given the site, the same fix applies.
    run({
        let mut c = lint_cmd(dir.path());
        c.args(["--select=NFL101", "--fix", SITE]);
        c
    });
    assert_eq!(read(dir.path(), SITE), SITE_FIXED);
}

/// The other direction: a pool fix (NFL104 rewrites `listen.allowed_clients`) for a finding
/// reported from the site is not applied when only the site is given.
#[test]
fn a_precommit_run_given_only_the_site_leaves_the_pool_alone() {
    let site = SITE_FIXED.replace("unix:/run/php/php8.2-fpm.sock", "127.0.0.1:9000");
    let pool = POOL.replace(
        "listen = /run/php/php8.2-fpm.sock\n",
        "listen = 127.0.0.1:9000\nlisten.allowed_clients = 10.0.0.5\n",
    );
    let dir = tree(&[
        ("etc/nginx/nginx.conf", NGINX_CONF),
        (SITE, &site),
        ("etc/php/8.2/fpm/php-fpm.conf", FPM_CONF),
        (POOL_PATH, &pool),
    ]);
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args(["--select=NFL104", SITE]);
        c
    });
    assert!(
        r.stdout.contains("NFL104"),
        "reported from the site: {}",
        r.stdout
    );
    assert_no_fix_applied(dir.path(), &["--select=NFL104", SITE], &[SITE, POOL_PATH]);
    // Given the pool, it is.
    run({
        let mut c = lint_cmd(dir.path());
        c.args(["--select=NFL104", "--fix", POOL_PATH]);
        c
    });
    assert!(
        read(dir.path(), POOL_PATH).contains("listen.allowed_clients = 10.0.0.5,127.0.0.1"),
        "{}",
        read(dir.path(), POOL_PATH)
    );
}
