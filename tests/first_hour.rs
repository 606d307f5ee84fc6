//! What a new user meets in the first hour: what is printed (silent checks that are off,
//! syntax errors shaped like findings, help that says what applies), the habits brought from
//! ruff, shellcheck and hadolint (`--exit-zero`, `-o`, `--color`, `-`, "did you mean",
//! sizes as people write them, docs links), and human output in a real 80-column terminal.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

/// A site whose `fastcgi_pass` reaches no pool, and the pool it probably meant (5 workers).
const SITE: &str = "server {\n    listen 80;\n    root /var/www/html;\n    location ~ \\.php$ {\n        try_files $uri =404;\n        include fastcgi_params;\n        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n        fastcgi_buffer_size 32k;\n        fastcgi_buffers 16 16k;\n        fastcgi_pass unix:/run/php/php8.1-fpm.sock;\n    }\n}\n";
const POOL: &str = "[www]\nuser = www-data\ngroup = www-data\nlisten = /run/php/php8.2-fpm.sock\nlisten.owner = www-data\nlisten.group = www-data\nlisten.backlog = 511\nrequest_terminate_timeout = 60s\npm = static\npm.max_children = 5\n";

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn site_and_pool() -> tempfile::TempDir {
    tree(&[
        ("etc/nginx/sites-available/app.conf", SITE),
        ("etc/php/8.2/fpm/pool.d/www.conf", POOL),
    ])
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Out {
    let mut cmd = Command::cargo_bin("nginx-fpm-lint").unwrap();
    cmd.current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS");
    let out = match stdin {
        Some(text) => {
            use std::io::Write;
            cmd.stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        }
        None => cmd.output().unwrap(),
    };
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(dir: &Path, args: &[&str]) -> Out {
    run_in(dir, args, None)
}

// ---- item 5: a check that is off prints nothing

#[test]
fn memory_check_is_silent_without_a_budget_in_every_format() {
    let dir = site_and_pool();
    for format in ["concise", "json", "sarif", "github", "human"] {
        let r = run(dir.path(), &["lint", "--isolated", "--format", format, "."]);
        let all = format!("{}{}", r.stdout, r.stderr);
        for shown in [
            "[NFL303",
            "title=NFL303",
            "\"code\": \"NFL303\"",
            "\"ruleId\": \"NFL303\"",
            "memory check",
        ] {
            assert!(!all.contains(shown), "{format}: {shown} in {all}");
        }
        // The formats do report findings (NFL101 here): the absence above means something.
        assert!(all.contains("NFL101"), "{format}: {all}");
    }
    // With a budget it runs: 5 workers x 128M = 640M over 512MiB (as users write it).
    let r = run(
        dir.path(),
        &["lint", "--isolated", "--memory", "512MiB", "."],
    );
    assert!(
        r.stdout.contains("[NFL303 fpm-memory-overcommit]"),
        "{}",
        r.stdout
    );
    let help = run(dir.path(), &["lint", "--help"]).stdout;
    assert!(help.contains("off and silent without it"), "{help}");
    let init = tempfile::tempdir().unwrap();
    assert_eq!(run(init.path(), &["config", "init"]).code, 0);
    let template = std::fs::read_to_string(init.path().join(".nginx-fpm-lint.toml")).unwrap();
    assert!(template.contains("is off and prints nothing"), "{template}");
}

// ---- item 6: syntax errors shaped like findings

#[test]
fn syntax_and_read_errors_carry_their_position_in_every_format() {
    // A NUL on line 2, column 5 (counted by hand), and an unexpected `}` at 3:23.
    let dir = tree(&[
        ("sites/bin.conf", "server {\n    \0 listen 80;\n}\n"),
        (
            "sites/site.conf",
            "server {\n listen 80;\n location / { root /x }\n",
        ),
    ]);
    let concise = run(
        dir.path(),
        &["lint", "--isolated", "--format", "concise", "."],
    );
    assert_eq!(concise.code, 2);
    let quickfix = |line: &str| {
        // path:line:col: error: message, as for findings
        let mut parts = line.splitn(4, ':');
        let (path, l, c) = (parts.next()?, parts.next()?, parts.next()?);
        let rest = parts.next()?;
        Some((
            path.to_owned(),
            l.parse::<u32>().ok()?,
            c.parse::<u32>().ok()?,
            rest.starts_with(" error: "),
        ))
    };
    let lines: Vec<_> = concise.stdout.lines().filter_map(quickfix).collect();
    assert!(
        lines.contains(&("sites/bin.conf".into(), 2, 5, true)),
        "{}",
        concise.stdout
    );
    assert!(
        lines.contains(&("sites/site.conf".into(), 3, 23, true)),
        "{}",
        concise.stdout
    );

    let github = run(
        dir.path(),
        &["lint", "--isolated", "--format", "github", "."],
    )
    .stdout;
    assert!(
        github.contains("::error file=sites/bin.conf,line=2,col=5,"),
        "{github}"
    );
    assert!(!github.contains("::2:5:"), "{github}");
    assert!(
        github.contains("::error file=sites/site.conf,line=3,col=23,endLine=3,endColumn=24,"),
        "{github}"
    );

    let json: serde_json::Value = serde_json::from_str(
        &run(dir.path(), &["lint", "--isolated", "--format", "json", "."]).stdout,
    )
    .unwrap();
    let problems = json["problems"].as_array().unwrap();
    let bin = problems
        .iter()
        .find(|p| p["path"] == "sites/bin.conf")
        .unwrap();
    assert_eq!(
        (bin["line"].as_u64(), bin["column"].as_u64()),
        (Some(2), Some(5))
    );
    // The NUL is byte 13 ("server {\n" is 9 bytes, then 4 blanks).
    assert_eq!(
        (bin["span"]["start"].as_u64(), bin["span"]["end"].as_u64()),
        (Some(13), Some(14)),
        "{bin}"
    );
    let site = problems
        .iter()
        .find(|p| p["path"] == "sites/site.conf")
        .unwrap();
    assert_eq!(site["span"]["start"].as_u64(), Some(43), "{site}");

    let sarif: serde_json::Value = serde_json::from_str(
        &run(
            dir.path(),
            &["lint", "--isolated", "--format", "sarif", "."],
        )
        .stdout,
    )
    .unwrap();
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let region = notes
        .iter()
        .map(|n| &n["locations"][0]["physicalLocation"])
        .find(|l| l["artifactLocation"]["uri"] == "sites/site.conf")
        .map(|l| l["region"].clone())
        .unwrap();
    assert_eq!(
        (
            region["startLine"].as_u64(),
            region["startColumn"].as_u64(),
            region["endColumn"].as_u64()
        ),
        (Some(3), Some(23), Some(24))
    );

    // Human: the underline says what is wrong, and the summary says which files were not read.
    let human = run(
        dir.path(),
        &["lint", "--isolated", "--format", "human", "."],
    )
    .stdout;
    assert!(human.contains("╰── unexpected \"}\""), "{human}");
    assert!(
        human.contains(
            "2 files could not be read or parsed (errors above), so findings may be incomplete."
        ),
        "{human}"
    );
}

// ---- item 8: help and version

#[test]
fn help_and_version_say_what_applies() {
    let dir = tempfile::tempdir().unwrap();
    for sub in [&["lint"][..], &["parse"], &["config", "check"], &["rules"]] {
        let mut args = sub.to_vec();
        args.push("--version");
        let r = run(dir.path(), &args);
        assert_eq!(
            r.stdout.trim(),
            format!("nginx-fpm-lint {}", env!("CARGO_PKG_VERSION")),
            "{sub:?}"
        );
    }
    let parse = run(dir.path(), &["parse", "--help"]).stdout;
    for absent in ["--memory", "--worker-memory", "--nginx-user", "--env"] {
        assert!(
            !parse.contains(absent),
            "{absent} in parse --help:\n{parse}"
        );
    }
    assert!(
        parse.contains("--map") && parse.contains("--platform"),
        "{parse}"
    );
    let config = run(dir.path(), &["config", "--help"]).stdout;
    let check = config
        .lines()
        .find(|l| l.trim_start().starts_with("check"))
        .unwrap();
    assert!(check.len() > "  check".len() + 10, "{config}");
    let check_help = run(dir.path(), &["config", "check", "--help"]).stdout;
    assert!(
        check_help.contains("[FILE]  The config file to check"),
        "{check_help}"
    );
    let lint = run(dir.path(), &["lint", "--help"]).stdout;
    assert!(
        lint.contains("[possible values: debian, rhel, alpine, freebsd, docker, upstream]"),
        "{lint}"
    );
    // Aliases still work, in any case.
    let r = run(
        dir.path(),
        &["lint", "--isolated", "--platform", "Ubuntu", "."],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

// ---- item 9: one knob

#[test]
fn min_max_children_is_one_threshold() {
    // The site reaches the pool, so its load checks run.
    let dir = tree(&[
        (
            "etc/nginx/sites-available/app.conf",
            &SITE.replace("8.1", "8.2"),
        ),
        ("etc/php/8.2/fpm/pool.d/www.conf", POOL),
    ]);
    let select = ["lint", "--select", "NFL302", "--format", "concise", "."];
    let r = run(dir.path(), &select);
    assert!(
        r.stdout
            .contains("`pm.max_children = 5`, the packaged default"),
        "{}",
        r.stdout
    );
    // min-max-children = 5 accepts the packaged 5.
    std::fs::write(
        dir.path().join(".nginx-fpm-lint.toml"),
        "min-max-children = 5\n",
    )
    .unwrap();
    let r = run(dir.path(), &select);
    assert!(!r.stdout.contains("pm.max_children"), "{}", r.stdout);
    std::fs::write(
        dir.path().join(".nginx-fpm-lint.toml"),
        "min-max-children = 8\n",
    )
    .unwrap();
    let r = run(dir.path(), &select);
    assert!(r.stdout.contains("min-max-children is 8"), "{}", r.stdout);
    let docs = run(dir.path(), &["explain", "NFL302"]).stdout;
    assert!(
        docs.contains("`min-max-children`") && !docs.contains("min_max_children"),
        "{docs}"
    );
}

// ---- item 10: habits

#[test]
fn exit_zero_output_file_and_output_format_alias() {
    let dir = site_and_pool();
    let r = run(
        dir.path(),
        &["lint", "--isolated", "--output-format", "json", "."],
    );
    assert_eq!(r.code, 1);
    let json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(!json["diagnostics"].as_array().unwrap().is_empty());

    let r = run(dir.path(), &["lint", "--isolated", "--exit-zero", "."]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("NFL101"), "{}", r.stdout);

    let r = run(
        dir.path(),
        &[
            "lint",
            "--isolated",
            "--format",
            "sarif",
            "-o",
            "out.sarif",
            ".",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let sarif = std::fs::read_to_string(dir.path().join("out.sarif")).unwrap();
    assert!(sarif.contains("\"ruleId\": \"NFL101\""), "{sarif}");
    let r = run(
        dir.path(),
        &["lint", "--isolated", "--output-file", "no/such/dir/x", "."],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn color_flag_and_environment() {
    let dir = site_and_pool();
    let esc = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::cargo_bin("nginx-fpm-lint").unwrap();
        cmd.current_dir(dir.path())
            .args(["lint", "--isolated", "--format", "human"])
            .args(args)
            .arg(".")
            .env_remove("NO_COLOR")
            .env_remove("FORCE_COLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        String::from_utf8_lossy(&cmd.output().unwrap().stdout).contains('\u{1b}')
    };
    assert!(!esc(&[], &[]), "a pipe is not colored");
    assert!(esc(&["--color", "always"], &[]));
    assert!(esc(&[], &[("FORCE_COLOR", "1")]));
    assert!(esc(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!esc(&[], &[("CLICOLOR_FORCE", "0")]));
    assert!(!esc(&["--color", "never"], &[("FORCE_COLOR", "1")]));
    assert!(!esc(&[], &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]));
}

#[test]
fn dash_reads_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(
        dir.path(),
        &["lint", "--isolated", "--format", "concise", "-"],
        Some(POOL),
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("-:10:19: warning[NFL302 fpm-pool-exhaustion]"),
        "{}",
        r.stdout
    );
    let r = run_in(dir.path(), &["lint", "-", "."], Some(POOL));
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn did_you_mean_for_misspelled_rules() {
    let dir = tree(&[(
        "sites/s.conf",
        "server {\n    listen 80;\n    # nginx-fpm-lint: ignore fastcgi-pass-no-listenr\n    location / { return 200; }\n}\n",
    )]);
    let r = run(
        dir.path(),
        &["lint", "--isolated", "--select", "NFL1O1", "."],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("did you mean `NFL101`?"), "{}", r.stderr);
    let r = run(dir.path(), &["explain", "fastcgi-pass-no-listner"]);
    assert!(
        r.stderr
            .contains("did you mean `fastcgi-pass-no-listener`?"),
        "{}",
        r.stderr
    );
    let r = run(
        dir.path(),
        &["lint", "--isolated", "--select", "NFL003", "."],
    );
    assert!(
        r.stdout.contains(
            "unknown rule `fastcgi-pass-no-listenr`; did you mean `fastcgi-pass-no-listener`?"
        ),
        "{}",
        r.stdout
    );
    std::fs::write(
        dir.path().join(".nginx-fpm-lint.toml"),
        "ignore = [\"fpm-pool-exhaustio\"]\n",
    )
    .unwrap();
    let r = run(dir.path(), &["lint", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `fpm-pool-exhaustion`?"),
        "{}",
        r.stderr
    );
    // Nothing close: no guess.
    let r = run(dir.path(), &["explain", "completely-different"]);
    assert!(!r.stderr.contains("did you mean"), "{}", r.stderr);
}

#[test]
fn sizes_as_users_write_them() {
    let dir = site_and_pool();
    // 5 workers x 128M = 640 MiB: over 600M, within 2GB / 2g / 2048M (the same 2 GiB).
    for budget in ["2G", "2GB", "2g", "2048M", "2048MiB"] {
        let r = run(
            dir.path(),
            &[
                "lint",
                "--isolated",
                "--select",
                "NFL303",
                "--memory",
                budget,
                ".",
            ],
        );
        assert_eq!(r.code, 0, "{budget}: {}{}", r.stdout, r.stderr);
    }
    let r = run(
        dir.path(),
        &[
            "lint",
            "--isolated",
            "--select",
            "NFL303",
            "--memory",
            "600M",
            ".",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    std::fs::write(
        dir.path().join(".nginx-fpm-lint.toml"),
        "memory = \"600MB\"\nworker-memory = \"128MiB\"\n",
    )
    .unwrap();
    let r = run(dir.path(), &["lint", "--select", "NFL303", "."]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let r = run(
        dir.path(),
        &["lint", "--isolated", "--memory", "2 gallons", "."],
    );
    assert_eq!(r.code, 2);
}

#[test]
fn docs_url_and_probably_meant_in_concise_output() {
    let dir = site_and_pool();
    let r = run(
        dir.path(),
        &["lint", "--isolated", "--format", "concise", "."],
    );
    let line = r.stdout.lines().find(|l| l.contains("[NFL101")).unwrap();
    assert!(
        line.contains("(probably meant: pool [www] listens on unix:/run/php/php8.2-fpm.sock, etc/php/8.2/fpm/pool.d/www.conf:4:10)"),
        "{line}"
    );
    assert!(
        line.ends_with(" https://github.com/nginx-fpm-lint/nginx-fpm-lint/blob/main/docs/rules.md#fastcgi-pass-no-listener"),
        "{line}"
    );
    let human = run(
        dir.path(),
        &["lint", "--isolated", "--format", "human", "."],
    )
    .stdout;
    assert!(human.contains("  docs: https://github.com/nginx-fpm-lint/nginx-fpm-lint/blob/main/docs/rules.md#fastcgi-pass-no-listener"), "{human}");
    // The anchor is a heading of docs/rules.md.
    let rules =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md"))
            .unwrap();
    assert!(rules.contains("\n## fastcgi-pass-no-listener\n"));
}

// ---- item 7: a real 80-column terminal

#[test]
fn human_output_fits_an_80_column_terminal() {
    let Some(script) = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("script(1) is needed for the pseudo-terminal test");
        }
        eprintln!("SKIPPED: script(1) not found (util-linux)");
        return;
    };
    let dir = site_and_pool();
    let bin = assert_cmd::cargo::cargo_bin("nginx-fpm-lint");
    // A pseudo-terminal 80 columns wide, with $COLUMNS unset as bash leaves it.
    let out = Command::new(script)
        .args(["-q", "-e", "-c"])
        .arg(format!(
            "stty cols 80 rows 200; {} lint --isolated --color never .",
            bin.display()
        ))
        .arg("/dev/null")
        .current_dir(dir.path())
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    // Human output (the default on a terminal) drawn for 80 columns.
    assert!(
        text.contains("error[NFL101 fastcgi-pass-no-listener]"),
        "{text}"
    );
    assert!(text.contains("╰──"), "{text}");
    for line in text.lines() {
        let width = line.chars().count();
        // Only a single word longer than the line may pass the edge (a URL, a file path).
        let unbreakable = line
            .split_whitespace()
            .any(|w| w.chars().count() > 40 && (w.contains("://") || w.contains('/')));
        assert!(
            width <= 80 || unbreakable,
            "{width} columns: {line}\n{text}"
        );
    }
    // The pool's long label is wrapped under its connector, never split inside a word.
    assert!(text.contains("pool [www] listens on"), "{text}");
    for word in [
        "unix:/run/php/php8.2-fpm.sock:",
        "probably",
        "Gateway;",
        "upstream`.",
    ] {
        assert!(text.contains(word), "{word} split:\n{text}");
    }
}
