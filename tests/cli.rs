//! The command line: every output format and every exit code.

mod workflow_support;

use workflow_support::*;

#[test]
fn exit_0_when_clean_1_with_findings() {
    let ok = stack(SITE_FIXED);
    let r = run({
        let mut c = lint_cmd(ok.path());
        c.args([SELECT, "."]);
        c
    });
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    let bad = stack(SITE_BROKEN);
    let r = run({
        let mut c = lint_cmd(bad.path());
        c.args([SELECT, "."]);
        c
    });
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    // Not a terminal: concise by default.
    assert!(
        r.stdout.contains(&format!(
            "{SITE}:6:22: error[NFL101 fastcgi-pass-no-listener]"
        )),
        "{}",
        r.stdout
    );
}

/// A stale suppression is a warning (NFL003): exit 1 by default, 0 with --fail-on error.
#[test]
fn fail_on_threshold() {
    let site = SITE_FIXED.replace(
        "    listen 80;\n",
        "    listen 80;  # nginx-fpm-lint: ignore NFL101 -- stale\n",
    );
    let dir = stack(&site);
    for (flag, code) in [
        (None, 1),
        (Some("--fail-on=warning"), 1),
        (Some("--fail-on=error"), 0),
        (Some("--fail-on=info"), 1),
    ] {
        let mut c = lint_cmd(dir.path());
        c.arg(SELECT);
        c.args(flag);
        let r = run(c);
        assert_eq!(r.code, code, "{flag:?}: {}", r.stdout);
        assert!(
            r.stdout.contains("NFL003 unused-suppression"),
            "{}",
            r.stdout
        );
    }
    // The config file sets the threshold too; the flag wins over it.
    write(dir.path(), ".nginx-fpm-lint.toml", "fail-on = \"error\"\n");
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.arg(SELECT);
        c
    });
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--fail-on=warning"]);
        c
    });
    assert_eq!(r.code, 1, "{}", r.stdout);
}

#[test]
fn exit_2_for_usage_io_and_syntax_errors() {
    let dir = stack(SITE_FIXED);
    // Unknown flag.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.arg("--no-such-flag");
        c
    });
    assert_eq!(r.code, 2);
    // Unknown rule in --select.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.arg("--select=no-such-rule");
        c
    });
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown rule"), "{}", r.stderr);
    // Missing path.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.arg("does-not-exist");
        c
    });
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    // A build or version nginx-fpm-lint cannot read.
    for (flag, said) in [
        ("--nginx-modules=debain", "unknown nginx module"),
        ("--nginx-version=1.x", "nginx version"),
    ] {
        let r = run({
            let mut c = lint_cmd(dir.path());
            c.arg(flag);
            c
        });
        assert_eq!(r.code, 2, "{flag}");
        assert!(r.stderr.contains(said), "{flag}: {}", r.stderr);
    }
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([
            "--nginx-modules=nginx.org,ngx_http_lua_module",
            "--nginx-version=1.24",
        ]);
        c.args([SELECT, "etc"]);
        c
    });
    assert_ne!(r.code, 2, "{}", r.stderr);
    // Syntax error, named with file, line and column.
    write(
        dir.path(),
        "etc/nginx/sites-enabled/bad.conf",
        "server {\n    listen 80\n",
    );
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "."]);
        c
    });
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.contains("etc/nginx/sites-enabled/bad.conf:"),
        "{}",
        r.stdout
    );
    // Unknown rule for explain.
    let r = run({
        let mut c = assert_cmd::Command::cargo_bin("nginx-fpm-lint").unwrap();
        c.args(["explain", "NFL999"]);
        c
    });
    assert_eq!(r.code, 2);
}

#[test]
fn diff_exits_1_with_a_diff_0_without() {
    let bad = stack(SITE_BROKEN);
    let r = run({
        let mut c = lint_cmd(bad.path());
        c.args([SELECT, "--diff", "."]);
        c
    });
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains(&format!("--- a/{SITE}")), "{}", r.stdout);
    assert!(r
        .stdout
        .contains("+        fastcgi_pass unix:/run/php/php8.2-fpm.sock;"));
    assert_eq!(read(bad.path(), SITE), SITE_BROKEN, "--diff never writes");

    let ok = stack(SITE_FIXED);
    let r = run({
        let mut c = lint_cmd(ok.path());
        c.args([SELECT, "--diff", "."]);
        c
    });
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "");
}

#[test]
fn fix_exits_0_when_nothing_at_threshold_remains() {
    let dir = stack(SITE_BROKEN);
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--fix", "."]);
        c
    });
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("Fixed 1 finding in 1 file."),
        "{}",
        r.stderr
    );
    assert_eq!(read(dir.path(), SITE), SITE_FIXED);

    // What remains below the threshold does not fail the run.
    let site = SITE_BROKEN.replace(
        "    listen 80;\n",
        "    listen 80;\n    include missing-snippet.conf;\n",
    );
    let dir = stack(&site);
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--fix", "--fail-on=error", "."]);
        c
    });
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("NFL001"), "{}", r.stdout);
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--fix", "."]);
        c
    });
    assert_eq!(r.code, 1, "a warning remains: {}", r.stdout);
}

fn lint_format(dir: &std::path::Path, format: &str) -> Run {
    let mut c = lint_cmd(dir);
    c.args([SELECT, "--format", format, "."]);
    run(c)
}

#[test]
fn every_format_reports_the_same_finding() {
    let dir = stack(SITE_BROKEN);

    let human = lint_format(dir.path(), "human");
    assert_eq!(human.code, 1);
    assert!(human
        .stdout
        .contains("error[NFL101 fastcgi-pass-no-listener]"));
    assert!(human.stdout.contains(POOL_PATH), "both files are shown");
    assert!(human.stdout.contains("Checked 4 files"), "{}", human.stdout);

    let concise = lint_format(dir.path(), "concise");
    assert_eq!(
        concise.stdout.lines().next().unwrap(),
        format!(
            "{SITE}:6:22: error[NFL101 fastcgi-pass-no-listener] \
             `fastcgi_pass unix:/run/php/php8.1-fpm.sock` reaches no PHP-FPM pool \
             (probably meant: pool [www] listens on unix:/run/php/php8.2-fpm.sock, \
             {POOL_PATH}:4:10) \
             https://github.com/nginx-fpm-lint/nginx-fpm-lint/blob/main/docs/rules.md#fastcgi-pass-no-listener"
        )
    );

    let json = lint_format(dir.path(), "json");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["version"], 1);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "NFL101");
    assert_eq!(d["labels"][0]["file"], SITE);
    assert_eq!(d["fix"]["applicability"], "safe");
    assert_eq!(v["summary"]["errors"], 1);

    let github = lint_format(dir.path(), "github");
    assert_eq!(github.code, 1);
    let line = github.stdout.lines().next().unwrap();
    assert!(
        line.starts_with(&format!(
            "::error file={SITE},line=6,col=22,endLine=6,endColumn=51,\
             title=NFL101 fastcgi-pass-no-listener::`fastcgi_pass unix%3A"
        )) || line.starts_with(&format!(
            "::error file={SITE},line=6,col=22,endLine=6,endColumn=51,\
             title=NFL101 fastcgi-pass-no-listener::`fastcgi_pass unix:"
        )),
        "{line}"
    );
    assert!(line.contains("%0Ahelp: "), "newlines escaped: {line}");
    assert_eq!(github.stdout.lines().count(), 1);

    let sarif = lint_format(dir.path(), "sarif");
    assert_eq!(sarif.code, 1);
    let v: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "NFL101");
}

#[test]
fn quiet_statistics_and_show_fixes() {
    let dir = stack(SITE_BROKEN);
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "-q", "."]);
        c
    });
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(!r.stdout.contains("Checked"));

    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--format=human", "--quiet", "."]);
        c
    });
    assert!(!r.stdout.contains("Checked"), "{}", r.stdout);
    assert!(r.stdout.contains("NFL101"));

    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--statistics", "."]);
        c
    });
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "    1  NFL101  [*] fastcgi-pass-no-listener\n");

    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--show-fixes", "-q", "."]);
        c
    });
    assert!(
        r.stdout.contains(&format!(
            "Fixes available:\n  {SITE}:6:22: NFL101 fastcgi-pass-no-listener: point it at"
        )),
        "{}",
        r.stdout
    );
}

#[test]
fn stdin_filename_is_joined_with_the_tree_around_it() {
    let dir = stack(SITE_FIXED);
    // The project root: the nearest directory with .git or a config file.
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    // The file on disk is fine; the text on stdin is not.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--stdin-filename", SITE]);
        c.write_stdin(SITE_BROKEN);
        c
    });
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("{SITE}:6:22: error[NFL101")),
        "{}",
        r.stdout
    );
    // ... and the pool it was joined with is the one on disk.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--format=json", "--stdin-filename", SITE]);
        c.write_stdin(SITE_BROKEN);
        c
    });
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let files: Vec<&str> = v["diagnostics"][0]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&POOL_PATH), "{files:?}");

    // With --fix the fixed text goes to stdout, the file is untouched.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--fix", "--stdin-filename", SITE]);
        c.write_stdin(SITE_BROKEN);
        c
    });
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, SITE_FIXED);
    assert_eq!(read(dir.path(), SITE), SITE_FIXED);

    // A new file an editor has not saved, in a directory of the tree: joined with the tree
    // all the same; --fix prints the fixed text and creates nothing.
    let new_site = "etc/nginx/sites-enabled/new.conf";
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--stdin-filename", new_site]);
        c.write_stdin(SITE_BROKEN);
        c
    });
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("{new_site}:6:22: error[NFL101")),
        "{}",
        r.stdout
    );
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--fix", "--stdin-filename", new_site]);
        c.write_stdin(SITE_BROKEN);
        c
    });
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, SITE_FIXED);
    assert!(!dir.path().join(new_site).exists());

    // A PATH whose directory does not exist either: linted alone; with --fix the text comes
    // back unchanged.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--fix", "--stdin-filename", "new/site.conf"]);
        c.write_stdin(SITE_BROKEN);
        c
    });
    assert_eq!(r.stdout, SITE_BROKEN);
    assert!(r.stderr.contains("no fixes applied"), "{}", r.stderr);
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args(["--format=json", "--stdin-filename", "new/site.conf"]);
        c.write_stdin("server {\n");
        c
    });
    assert_eq!(r.code, 2, "a syntax error on stdin: {}", r.stdout);
}

#[test]
fn rules_explain_and_completions() {
    let bin = || assert_cmd::Command::cargo_bin("nginx-fpm-lint").unwrap();
    let r = run({
        let mut c = bin();
        c.args(["rules", "--format", "json"]);
        c
    });
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["code"] == "NFL003" && r["name"] == "unused-suppression"));

    let r = run({
        let mut c = bin();
        c.args(["explain", "unused-suppression"]);
        c
    });
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("NFL003 unused-suppression"));

    for shell in ["bash", "zsh", "fish"] {
        let r = run({
            let mut c = bin();
            c.args(["completions", shell]);
            c
        });
        assert_eq!(r.code, 0, "{shell}");
        assert!(r.stdout.contains("nginx-fpm-lint"), "{shell}");
        assert!(r.stdout.contains("stdin-filename"), "{shell}");
    }
    let r = run({
        let mut c = bin();
        c.arg("--version");
        c
    });
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("nginx-fpm-lint "));
}

/// The action's lint step, run by bash as the runner would (paths and args from inputs,
/// exit code to $GITHUB_OUTPUT, SARIF to the file). Needs python3 with PyYAML to read
/// action.yml (pre-commit brings it); skipped otherwise.
#[test]
fn action_lint_step_writes_sarif_and_the_exit_code() {
    let action = concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml");
    let script = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, yaml\n\
             a = yaml.safe_load(open(sys.argv[1]))\n\
             print(next(s for s in a['runs']['steps'] if s.get('id') == 'lint')['run'])",
            action,
        ])
        .output();
    let script = match script {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap(),
        _ => {
            return workflow_support::skip_or_fail(
                "python3 with PyYAML is needed to read action.yml",
            )
        }
    };
    let dir = stack(SITE_BROKEN);
    let runner = tempfile::tempdir().unwrap();
    let bin = runner.path().join("nginx-fpm-lint/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_nginx-fpm-lint"),
        bin.join("nginx-fpm-lint"),
    )
    .unwrap();
    let output_file = runner.path().join("output");
    let r = run({
        let mut c = assert_cmd::Command::new("bash");
        c.current_dir(dir.path())
            .args(["-e", "-c", &script])
            .env("RUNNER_TEMP", runner.path())
            .env("GITHUB_OUTPUT", &output_file)
            .env("NFL_PATHS", "etc")
            .env("NFL_ARGS", format!("{SELECT} --platform debian"))
            .env("NFL_SARIF", "results.sarif")
            .env("NFL_ANNOTATE", "true");
        c
    });
    assert_eq!(r.code, 0, "the step itself succeeds: {}", r.stderr);
    assert!(
        r.stdout.starts_with("::error file=etc/nginx/"),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&output_file).unwrap(),
        "exit-code=1\nsarif=true\n"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&read(dir.path(), "results.sarif")).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "NFL101");
}

/// The `nginx-fpm-lint lint ...` commands in README.md's shell examples run as written against
/// the bundled example (in a scratch directory, so their output files land there).
#[test]
fn readme_lint_examples_run() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let mut commands = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            l if in_sh && l.starts_with("nginx-fpm-lint lint") && l.contains("examples/") => {
                commands.push(l.to_owned())
            }
            _ => {}
        }
    }
    assert!(commands.len() >= 3, "{commands:?}");
    let scratch = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(format!("{root}/examples"), scratch.path().join("examples"))
        .unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_nginx-fpm-lint"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for command in commands {
        let r = run({
            let mut c = assert_cmd::Command::new("bash");
            c.current_dir(scratch.path())
                .args(["-c", &command])
                .env("PATH", &path);
            c
        });
        // The example is broken on purpose: 1 (findings) is expected, 2 would be a bad example.
        assert!(
            r.code == 0 || r.code == 1,
            "{command}: {}{}",
            r.stdout,
            r.stderr
        );
        assert!(!r.stderr.contains("error:"), "{command}: {}", r.stderr);
    }
}
