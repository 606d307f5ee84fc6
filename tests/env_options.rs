//! php-fpm's environment from the command line and the config file: `--env`, `--env-file`
//! and `[env]`, the later overriding the earlier, checked through what the linter concludes
//! about `pm = ${FPM_PM}` (php-fpm 8.2 refuses `dynamik`, accepts `static`: see
//! tests/real_fpm_values.rs).

mod workflow_support;

use std::fs;

use workflow_support::*;

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("pool.d")).unwrap();
    fs::write(
        dir.path().join("php-fpm.conf"),
        "[global]\nerror_log = /var/log/php-fpm.log\ninclude = pool.d/*.conf\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("pool.d/www.conf"),
        "[www]\nuser = www-data\nlisten = /run/php/www.sock\npm = ${FPM_PM}\npm.max_children = 5\n",
    )
    .unwrap();
    dir
}

fn lint(dir: &std::path::Path, args: &[&str]) -> Run {
    let mut c = lint_cmd(dir);
    c.args(["--select", "NFL301"]).args(args).arg(".");
    run(c)
}

#[test]
fn unknown_without_values() {
    let t = tree();
    let r = lint(t.path(), &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn env_flag_env_file_and_config_table() {
    let t = tree();
    let refused = "error[NFL301 fpm-pm-invalid] pool [www]: `pm = ${FPM_PM}` (`dynamik` from the environment)";

    let r = lint(t.path(), &["--env", "FPM_PM=dynamik"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(refused), "{}", r.stdout);
    assert!(
        r.stdout.contains("pool.d/www.conf:4:6:"),
        "points at ${{FPM_PM}}: {}",
        r.stdout
    );

    fs::write(
        t.path().join("app.env"),
        "# compose env file\nFPM_PM=\"dynamik\" \nOTHER='x'\n",
    )
    .unwrap();
    let r = lint(t.path(), &["--env-file", "app.env"]);
    assert!(r.stdout.contains(refused), "{}{}", r.stdout, r.stderr);
    // --env overrides --env-file.
    let r = lint(
        t.path(),
        &["--env-file", "app.env", "--env", "FPM_PM=static"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    fs::write(
        t.path().join(".nginx-fpm-lint.toml"),
        "[env]\nFPM_PM = \"dynamik\"\n",
    )
    .unwrap();
    let r = lint(t.path(), &[]);
    assert!(r.stdout.contains(refused), "{}{}", r.stdout, r.stderr);
    // The command line overrides the config file.
    let r = lint(t.path(), &["--env", "FPM_PM=static"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn bad_env_file_is_a_usage_error() {
    let t = tree();
    fs::write(t.path().join("bad.env"), "OK=1\nnot a name=2\n").unwrap();
    let r = lint(t.path(), &["--env-file", "bad.env"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("bad.env:2:"), "{}", r.stderr);
    let r = lint(t.path(), &["--env-file", "missing.env"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
}
