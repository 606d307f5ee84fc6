//! `.nginx-fpm-lint.toml`: discovery, every kind of key, errors with positions, `config init`
//! and `config check`, and flags overriding the file.

mod workflow_support;

use workflow_support::*;

fn config_cmd(dir: &std::path::Path, args: &[&str]) -> Run {
    let mut c = assert_cmd::Command::cargo_bin("nginx-fpm-lint").unwrap();
    c.current_dir(dir).arg("config").args(args);
    run(c)
}

#[test]
fn found_walking_up_from_the_linted_path() {
    let dir = stack(SITE_BROKEN);
    write(
        dir.path(),
        ".nginx-fpm-lint.toml",
        "ignore = [\"NFL101\"]\n",
    );
    // From the root, and from a subdirectory (the file is above the linted path).
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "."]);
        c
    });
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = run({
        let mut c = lint_cmd(&dir.path().join("etc"));
        c.args([SELECT, "."]);
        c
    });
    assert_eq!(r.code, 0, "{}", r.stdout);
    // --isolated ignores it; --config names another.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--isolated", "."]);
        c
    });
    assert_eq!(r.code, 1);
    write(dir.path(), "other.toml", "fail-on = \"error\"\n");
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "--config", "other.toml", "."]);
        c
    });
    assert_eq!(r.code, 1, "other.toml does not ignore NFL101");
}

#[test]
fn select_severity_and_per_file_ignores() {
    let dir = stack(SITE_BROKEN);
    // A prefix and a name; severity lowered to info, so --fail-on=warning passes.
    write(
        dir.path(),
        ".nginx-fpm-lint.toml",
        "select = [\"NFL0\", \"fastcgi-pass-no-listener\"]\n\n[severity]\nNFL101 = \"info\"\n",
    );
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.arg(".");
        c
    });
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("info[NFL101"), "{}", r.stdout);
    // The flag replaces the file's selection.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args(["--select=NFL001", "."]);
        c
    });
    assert!(!r.stdout.contains("NFL101"), "{}", r.stdout);

    write(
        dir.path(),
        ".nginx-fpm-lint.toml",
        "[per-file-ignores]\n\"etc/nginx/sites-enabled/*\" = [\"fastcgi-pass-no-listener\"]\n",
    );
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "."]);
        c
    });
    assert_eq!(r.code, 0, "{}", r.stdout);
    write(
        dir.path(),
        ".nginx-fpm-lint.toml",
        "[per-file-ignores]\n\"legacy/*\" = [\"NFL101\"]\n",
    );
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args([SELECT, "."]);
        c
    });
    assert_eq!(r.code, 1, "{}", r.stdout);
}

#[test]
fn settings_and_path_maps() {
    // The site includes a snippet by an absolute path the config maps onto the tree.
    let site = SITE_FIXED.replace(
        "    root /var/www/app;\n",
        "    root /var/www/app;\n    include /opt/app/nginx/headers.conf;\n",
    );
    let dir = stack(&site);
    write(
        dir.path(),
        "app-nginx/headers.conf",
        "add_header X-Frame-Options DENY;\n",
    );
    let lint = |dir: &std::path::Path| {
        let mut c = lint_cmd(dir);
        c.args([SELECT, "."]);
        run(c)
    };
    let r = lint(dir.path());
    assert_eq!(r.code, 1, "unmapped: {}", r.stdout);
    assert!(r.stdout.contains("NFL001"), "{}", r.stdout);

    write(
        dir.path(),
        ".nginx-fpm-lint.toml",
        "platform = \"debian\"\nnginx-user = \"www-data\"\nmemory = \"2G\"\nworker-memory = 134217728\n\
         min-header-buffer = \"32k\"\nmin-max-children = 5\nmin-listen-backlog = 64\n\n\
         [path-maps]\n\"/opt/app/nginx\" = \"app-nginx\"\n",
    );
    let r = lint(dir.path());
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

fn lint_with_config(text: &str) -> Run {
    let dir = stack(SITE_FIXED);
    write(dir.path(), ".nginx-fpm-lint.toml", text);
    let mut c = lint_cmd(dir.path());
    c.arg(".");
    run(c)
}

#[test]
fn errors_show_their_position_and_exit_2() {
    for (text, expect) in [
        (
            "select = [\"NFL101\"]\nfail-onn = \"error\"\n",
            ".nginx-fpm-lint.toml:2:1: unknown field `fail-onn`",
        ),
        (
            "select = [\"NFL101\", \"no-such-rule\"]\n",
            ".nginx-fpm-lint.toml:1:21: unknown rule \"no-such-rule\"",
        ),
        (
            "[severity]\nfastcgi-pass-no-listener = \"fatal\"\n",
            ".nginx-fpm-lint.toml:2:28: unknown variant `fatal`",
        ),
        (
            "memory = \"lots\"\n",
            ".nginx-fpm-lint.toml:1:10: expected a size like 512M",
        ),
        (
            "platform = \"windows\"\n",
            ".nginx-fpm-lint.toml:1:12: unknown platform",
        ),
        (
            "[per-file-ignores]\n\"a/[b\" = [\"NFL101\"]\n",
            ".nginx-fpm-lint.toml:2:1: bad glob",
        ),
        ("select = [\n", ".nginx-fpm-lint.toml:1:"),
    ] {
        let r = lint_with_config(text);
        assert_eq!(r.code, 2, "{text}: {}", r.stderr);
        assert!(r.stderr.contains(expect), "{text}:\n{}", r.stderr);
        // The offending line is quoted under the message, with a caret.
        assert!(r.stderr.contains(" | "), "{}", r.stderr);
        assert!(r.stderr.contains('^'), "{}", r.stderr);
    }
}

#[test]
fn init_writes_a_template_that_checks_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let r = config_cmd(dir.path(), &["init"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = read(dir.path(), ".nginx-fpm-lint.toml");
    assert!(text.contains("# select = [\"ALL\"]"));
    let r = config_cmd(dir.path(), &["init"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("already exists"));
    assert_eq!(read(dir.path(), ".nginx-fpm-lint.toml"), text);

    let r = config_cmd(dir.path(), &["check"]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // Uncommented, every key of the template is valid.
    let uncommented: String = text
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.contains(" = ") || rest.starts_with('[') => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    write(dir.path(), "full.toml", &uncommented);
    let r = config_cmd(dir.path(), &["check", "full.toml"]);
    assert_eq!(r.code, 0, "{uncommented}\n{}", r.stderr);

    write(dir.path(), "bad.toml", "ignore = [\"NFL9\"]\n");
    let r = config_cmd(dir.path(), &["check", "bad.toml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bad.toml:1:11"), "{}", r.stderr);
}

/// The example in README.md's "Configuration" section is a valid config.
#[test]
fn readme_example_is_valid() {
    let readme = include_str!("../README.md");
    let start = readme
        .find("## Configuration")
        .and_then(|i| readme[i..].find("```toml\n").map(|j| i + j + 8))
        .expect("a toml block in the Configuration section");
    let end = start + readme[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".nginx-fpm-lint.toml");
    std::fs::write(&path, &readme[start..end]).unwrap();
    if let Err(e) = nginx_fpm_lint::config::load(&path) {
        panic!("README example: {e}");
    }
}

/// staging/ and production/, each with its own config. staging's site points at the php8.1
/// socket, which only production's pool listens on.
fn two_deployments() -> tempfile::TempDir {
    let prod_pool = POOL.replace("php8.2-fpm.sock", "php8.1-fpm.sock");
    let files: Vec<(String, String)> = vec![
        ("staging/.nginx-fpm-lint.toml".into(), String::new()),
        (format!("staging/{SITE}"), SITE_BROKEN.into()),
        (format!("staging/{POOL_PATH}"), POOL.into()),
        // production's config turns NFL303 off: each deployment keeps its own settings.
        (
            "production/.nginx-fpm-lint.toml".into(),
            "ignore = [\"NFL303\"]\n".into(),
        ),
        (format!("production/{SITE}"), SITE_BROKEN.into()),
        (format!("production/{POOL_PATH}"), prod_pool),
    ];
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let dir = tree(&refs);
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

#[test]
fn deployments_with_their_own_config_are_never_joined() {
    let dir = two_deployments();
    let staging_site = format!("staging/{SITE}");
    let production_pool = format!("production/{POOL_PATH}");
    // As pre-commit passes them (files of both in one call), as directories, and one by one:
    // staging's site meets only staging's pool.
    for args in [
        vec![staging_site.as_str(), production_pool.as_str()],
        vec!["staging", "production"],
        vec![staging_site.as_str()],
    ] {
        let r = run({
            let mut c = lint_cmd(dir.path());
            c.args(["--format", "concise"]).args(&args);
            c
        });
        assert!(
            r.stdout
                .contains(&format!("{staging_site}:6:22: error[NFL101")),
            "{args:?}:\n{}",
            r.stdout
        );
        // production's own config applies to production's files only.
        assert!(
            !r.stdout
                .contains(&format!("{production_pool}:1:1: info[NFL303")),
            "{args:?}:\n{}",
            r.stdout
        );
    }
    // The fix points staging's site at staging's pool, not production's.
    let r = run({
        let mut c = lint_cmd(dir.path());
        c.args(["--diff", "staging", "production"]);
        c
    });
    assert!(
        r.stdout
            .contains("+        fastcgi_pass unix:/run/php/php8.2-fpm.sock;"),
        "{}",
        r.stdout
    );
    // production's site already reaches production's pool: its fastcgi_pass stays.
    assert_eq!(
        r.stdout.matches("-        fastcgi_pass").count(),
        1,
        "{}",
        r.stdout
    );
}

/// `platform` declares the platform (else it is detected or assumed); `nginx-groups` lists the
/// worker's added groups; the new platforms parse.
#[test]
fn platform_declared_and_nginx_groups_reach_settings() {
    use nginx_fpm_lint::model::builtin::Platform;
    use nginx_fpm_lint::model::platform::PlatformBasis;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".nginx-fpm-lint.toml");
    std::fs::write(
        &path,
        "platform = \"freebsd\"\nnginx-groups = [\"www-data\", \"php\"]\n",
    )
    .unwrap();
    let config = nginx_fpm_lint::config::load(&path).unwrap();
    let (options, settings) = nginx_fpm_lint::run::options_and_settings_from(&config);
    assert_eq!(options.platform, Platform::Freebsd);
    assert_eq!(settings.platform, Platform::Freebsd);
    assert_eq!(settings.platform_basis, PlatformBasis::Declared);
    assert_eq!(settings.nginx_groups, ["www-data", "php"]);
    assert_eq!(settings.nginx_user_or_default(), "www");

    let (_, undeclared) =
        nginx_fpm_lint::run::options_and_settings_from(&nginx_fpm_lint::config::Config::default());
    assert!(!undeclared.platform_basis.is_known());
    assert!(undeclared.nginx_groups.is_empty());
    assert_eq!("docker".parse::<Platform>(), Ok(Platform::Docker));
}
