//! Inline suppression comments in nginx and PHP-FPM files, and NFL003 for unused ones.

mod workflow_support;

use workflow_support::*;

const PASS_LINE: &str = "        fastcgi_pass unix:/run/php/php8.1-fpm.sock;\n";

fn lint(dir: &std::path::Path, extra: &[&str]) -> Run {
    let mut c = lint_cmd(dir);
    c.arg(SELECT).args(extra).arg(".");
    run(c)
}

fn site_with(before: &str, trailing: &str) -> String {
    SITE_BROKEN.replace(
        PASS_LINE,
        &format!("{before}        fastcgi_pass unix:/run/php/php8.1-fpm.sock;{trailing}\n"),
    )
}

#[test]
fn nginx_comment_on_the_line_before_or_at_the_end() {
    for site in [
        site_with(
            "        # nginx-fpm-lint: ignore NFL101 -- socket made by systemd\n",
            "",
        ),
        site_with(
            "",
            "  # nginx-fpm-lint: ignore fastcgi-pass-no-listener -- systemd",
        ),
        // Stacked comments: the suppression still reaches the directive.
        site_with(
            "        # nginx-fpm-lint: ignore NFL101\n        # (the socket comes from systemd)\n",
            "",
        ),
        // A list; fastcgi-pass-unverifiable is not selected, so not called unused.
        site_with(
            "",
            "  # nginx-fpm-lint: ignore fastcgi-pass-unverifiable, NFL101",
        ),
    ] {
        let dir = stack(&site);
        let r = lint(dir.path(), &[]);
        assert_eq!(r.code, 0, "{site}\n{}", r.stdout);
        assert_eq!(r.stdout, "");
    }
}

#[test]
fn a_comment_elsewhere_does_not_suppress() {
    let site = SITE_BROKEN.replace(
        "    root /var/www/app;\n",
        "    root /var/www/app;  # nginx-fpm-lint: ignore NFL101\n",
    );
    let dir = stack(&site);
    let r = lint(dir.path(), &[]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("error[NFL101"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("{SITE}:3:25: warning[NFL003 unused-suppression]")),
        "{}",
        r.stdout
    );
}

#[test]
fn file_level_suppression() {
    let site = format!("# nginx-fpm-lint: ignore-file NFL101 -- legacy vhost\n{SITE_BROKEN}");
    let dir = stack(&site);
    let r = lint(dir.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

/// A cross-file finding can be silenced from the PHP-FPM side: the pool's `listen` line is
/// one of its labels.
#[test]
fn fpm_comment_suppresses_a_cross_file_finding() {
    let dir = stack(SITE_BROKEN);
    let pool = POOL.replace(
        "listen = /run/php/php8.2-fpm.sock\n",
        "; nginx-fpm-lint: ignore fastcgi-pass-no-listener -- the old socket is a symlink\nlisten = /run/php/php8.2-fpm.sock\n",
    );
    write(dir.path(), POOL_PATH, &pool);
    let r = lint(dir.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);

    let pool = POOL.replace(
        "listen = /run/php/php8.2-fpm.sock\n",
        "listen = /run/php/php8.2-fpm.sock ; nginx-fpm-lint: ignore NFL101\n",
    );
    write(dir.path(), POOL_PATH, &pool);
    let r = lint(dir.path(), &[]);
    assert_eq!(r.code, 0, "trailing FPM comment: {}", r.stdout);
}

#[test]
fn unused_and_unknown_suppressions_are_reported_and_fixed() {
    let pool = format!(
        "; nginx-fpm-lint: ignore-file NFL101\n{}",
        POOL.replace(
            "pm = dynamic\n",
            "pm = dynamic ; nginx-fpm-lint: ignore no-such-rule\n"
        )
    );
    let site = SITE_FIXED.replace(
        "    listen 80;\n",
        "    # nginx-fpm-lint: ignore NFL101 -- stale\n    listen 80;\n",
    );
    let dir = stack(&site);
    write(dir.path(), POOL_PATH, &pool);
    let r = lint(dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    // Each finding's line ends with its rule's docs URL.
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .map(|l| l.split(" https://").next().unwrap())
        .collect();
    assert!(
        lines.contains(
            &format!(
                "{SITE}:2:5: warning[NFL003 unused-suppression] suppression comment: `NFL101` \
             (NFL101 fastcgi-pass-no-listener) suppresses nothing"
            )
            .as_str()
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("unknown rule `no-such-rule`"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "{POOL_PATH}:1:1: warning[NFL003 unused-suppression]"
        )),
        "{}",
        r.stdout
    );

    // --fix deletes the stale comments whose rules are all unused; the unknown name stays
    // (a typo is for the author to correct, not to delete).
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--fix", "."]);
        c
    });
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(read(dir.path(), SITE), SITE_FIXED);
    assert!(!read(dir.path(), POOL_PATH).contains("ignore-file"));
    assert!(read(dir.path(), POOL_PATH).contains("no-such-rule"));
}

#[test]
fn unused_is_not_reported_for_rules_that_are_off() {
    let site = SITE_FIXED.replace(
        "    listen 80;\n",
        "    listen 80;  # nginx-fpm-lint: ignore NFL101\n",
    );
    let dir = stack(&site);
    let r = lint(dir.path(), &["--ignore=NFL101"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    // NFL003 itself can be turned off.
    let r = lint(dir.path(), &["--ignore=unused-suppression"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn a_marker_that_does_not_parse_is_reported() {
    let site = SITE_BROKEN.replace(
        PASS_LINE,
        &format!("        # nginx-fpm-lint: ignores NFL101\n{PASS_LINE}"),
    );
    let dir = stack(&site);
    let r = lint(dir.path(), &[]);
    assert!(
        r.stdout.contains("malformed suppression comment"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("error[NFL101"),
        "not suppressed: {}",
        r.stdout
    );
}
