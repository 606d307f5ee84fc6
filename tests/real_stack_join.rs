//! Proof against the real nginx and php-fpm that the join and location rules predict what
//! happens: NFL102 (`fpm-socket-permission`), NFL104 (`fpm-allowed-clients-excludes-nginx`),
//! NFL203 (`fastcgi-script-filename-missing`) and NFL204 (`php-location-executes-uploads`).
//! Each test starts the bad tree, sees the symptom, applies the rule's own fix (and only
//! that rule's) with the binary (`lint --diff` and `git apply`), checks both configs with `nginx -t` / `php-fpm -t`, restarts, and sees
//! the symptom gone.
//!
//! Needs /usr/sbin/nginx and php-fpm8.2 (Debian: nginx-light, php8.2-fpm); without them
//! these tests print `SKIPPED:` and pass, except under CI=true.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{require_root, require_stack, Bins, Stack, Tree, TreeConfig};

/// Run the binary on `root` with only the rule `code` on: its findings' messages (each must
/// offer a fix), then `lint --diff --unsafe-fixes` applied with `git apply`, as a user would.
fn apply_rule_fixes(root: &Path, code: &str) -> Vec<String> {
    let select = format!("--select={code}");
    let out = support::run_cli(root, &["lint", "--format=json", &select, "."]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", support::show(&out)));
    let diagnostics = json["diagnostics"].as_array().cloned().unwrap_or_default();
    for d in &diagnostics {
        assert!(d["fix"].is_object(), "{code} offered no fix: {d:#}");
    }
    let out = support::run_cli(root, &["lint", "--diff", "--unsafe-fixes", &select, "."]);
    let patch = String::from_utf8(out.stdout.clone()).expect("diff is UTF-8");
    assert!(!patch.is_empty(), "no patch:\n{}", support::show(&out));
    let applied = support::git_apply(root, &patch);
    assert!(applied.ok, "git apply failed:\n{}\n{patch}", applied.output);
    diagnostics
        .iter()
        .map(|d| d["message"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn assert_configs_pass(stack: &Stack) {
    let n = stack.nginx_t();
    assert!(n.ok, "fixed config fails nginx -t:\n{}", n.output);
    let f = stack.fpm_t();
    assert!(f.ok, "fixed config fails php-fpm -t:\n{}", f.output);
}

fn assert_php_ok(stack: &Stack) {
    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 200, "body: {body}\n{}", stack.logs());
    assert_eq!(body, "hello from php-fpm 8.2\n");
}

fn start(bins: &Bins, tree: Tree) -> Stack {
    Stack::try_start_on(bins.clone(), tree, "HTTP_PORT").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn socket_permission_502_13_then_fixed_200() {
    let Some(bins) = require_stack() else { return };
    // Unprivileged, php-fpm cannot chown its socket and nginx cannot drop to `nobody`: both
    // run as the test user, who owns the socket, so nothing is denied.
    if !require_root("fpm-socket-permission needs root to run nginx's workers as nobody") {
        return;
    }
    let tree = Tree::materialise(&TreeConfig::fixture("join-socket-permission"));
    // The temp dir is 0700; workers running as nobody must be able to enter it.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tree.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut stack = start(&bins, tree);
    let sock = stack.root().join("run/php8.2-fpm.sock");

    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 502, "body: {body}\n{}", stack.logs());
    let line = format!(
        "connect() to unix:{} failed (13: Permission denied) while connecting to upstream",
        sock.display()
    );
    let (found, log) = stack.wait_nginx_log(&line, Duration::from_secs(2));
    assert!(found, "nginx error log lacks {line:?}:\n{log}");
    assert!(
        log.lines()
            .any(|l| l.contains(&line) && l.contains("[crit]")),
        "not logged at [crit]:\n{log}"
    );

    let messages = apply_rule_fixes(stack.root(), "NFL102");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("`nobody`"), "{}", messages[0]);
    assert_configs_pass(&stack);
    stack.restart_fpm();
    assert_php_ok(&stack);
}

#[test]
fn allowed_clients_502_104_then_fixed_200() {
    let Some(bins) = require_stack() else { return };
    let tree = Tree::materialise(&TreeConfig::fixture("join-allowed-clients"));
    let mut stack = start(&bins, tree);

    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 502, "body: {body}\n{}", stack.logs());
    // php-fpm closes the accepted connection at once. If nginx's request is already in
    // the socket buffer the close is a reset (104); if not, a plain end of stream. Which one
    // is timing: accept either.
    let lines = [
        "recv() failed (104: Connection reset by peer) while reading response header from upstream",
        "upstream prematurely closed connection while reading response header from upstream",
    ];
    let found = support::wait_until(Duration::from_secs(2), || {
        let log = stack.nginx_error_log();
        lines.iter().any(|l| log.contains(l)).then_some(())
    });
    assert!(
        found.is_some(),
        "nginx error log lacks {lines:?}:\n{}",
        stack.nginx_error_log()
    );
    // php-fpm's side (a worker's stderr, caught with catch_workers_output).
    let fpm_lines = [
        "Wrong IP address ' 127.0.0.1' in listen.allowed_clients",
        "Connection disallowed: IP address '127.0.0.1' has been dropped.",
    ];
    let fpm_log = || support::read_lossy(&stack.root().join("log/php-fpm.log")) + &stack.fpm_log();
    let seen = support::wait_until(Duration::from_secs(2), || {
        let l = fpm_log();
        fpm_lines.iter().all(|n| l.contains(n)).then_some(())
    });
    assert!(
        seen.is_some(),
        "php-fpm log lacks {fpm_lines:?}:\n{}",
        fpm_log()
    );

    let messages = apply_rule_fixes(stack.root(), "NFL104");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_configs_pass(&stack);
    stack.restart_fpm();
    assert_php_ok(&stack);
}

#[test]
fn script_filename_missing_404_then_fixed_200() {
    let Some(bins) = require_stack() else { return };
    let tree = Tree::materialise(&TreeConfig::fixture("join-script-filename"));
    let mut stack = start(&bins, tree);

    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 404, "body: {body}\n{}", stack.logs());
    assert_eq!(body, "File not found.\n");
    let line = "FastCGI sent in stderr: \"Primary script unknown\" while reading response header from upstream";
    let (found, log) = stack.wait_nginx_log(line, Duration::from_secs(2));
    assert!(found, "nginx error log lacks {line:?}:\n{log}");

    let messages = apply_rule_fixes(stack.root(), "NFL203");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_configs_pass(&stack);
    stack.restart_nginx();
    assert_php_ok(&stack);
}

/// With the default `security.limit_extensions` (.php .phar) a `.phar` upload runs and a
/// `.jpg` one is refused; with an empty list the `.jpg` runs too. `try_files` stops both.
#[test]
fn uploads_execute_then_fixed_404() {
    let Some(bins) = require_stack() else { return };
    for (limits, jpg_runs) in [(None, false), (Some(""), true)] {
        let mut config = TreeConfig::fixture("join-executes-uploads");
        if let Some(l) = limits {
            config = config.file(
                "php-fpm/pool.d/www.conf",
                format!(
                    "[www]\nlisten = @ROOT@/run/php8.2-fpm.sock\nsecurity.limit_extensions = {l}\npm = static\npm.max_children = 1\n"
                ),
            );
        }
        let mut stack = start(&bins, Tree::materialise(&config));
        assert_php_ok(&stack);

        let (status, body) = stack.get("/uploads/avatar.phar/x.php");
        assert_eq!(
            (status, body.as_str()),
            (200, "EXECUTED 42\n"),
            "{}",
            stack.logs()
        );
        let (status, body) = stack.get("/uploads/avatar.jpg/x.php");
        if jpg_runs {
            assert_eq!((status, body.as_str()), (200, "EXECUTED 42\n"));
        } else {
            assert_eq!((status, body.as_str()), (403, "Access denied.\n"));
            let line = "(see security.limit_extensions)";
            let (found, log) = stack.wait_nginx_log(line, Duration::from_secs(2));
            assert!(found, "nginx error log lacks {line:?}:\n{log}");
        }

        let messages = apply_rule_fixes(stack.root(), "NFL204");
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_configs_pass(&stack);
        stack.restart_nginx();
        for uri in ["/uploads/avatar.phar/x.php", "/uploads/avatar.jpg/x.php"] {
            let (status, body) = stack.get(uri);
            assert_eq!(status, 404, "{uri} after the fix: {body}\n{}", stack.logs());
            assert!(!body.contains("EXECUTED"), "{body}");
        }
        assert_php_ok(&stack);
    }
}

/// The user's path for NFL203: `lint --format json` names it, `lint --diff` is a patch that
/// `git apply` takes, and the patched tree serves PHP.
#[test]
fn script_filename_missing_cli_diff_applies() {
    let Some(bins) = require_stack() else { return };
    let tree = Tree::materialise(&TreeConfig::fixture("join-script-filename"));
    let mut stack = start(&bins, tree);
    let root = stack.root().to_owned();
    assert_eq!(stack.get("/index.php").0, 404, "{}", stack.logs());

    let out = support::run_cli(&root, &["lint", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", support::show(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", support::show(&out)));
    let found = json["diagnostics"]
        .as_array()
        .is_some_and(|ds| ds.iter().any(|d| d["code"] == "NFL203"));
    assert!(found, "no NFL203 finding:\n{json:#}");

    let out = support::run_cli(&root, &["lint", "--diff", "."]);
    let patch = String::from_utf8(out.stdout.clone()).expect("diff is UTF-8");
    assert!(
        patch.contains(
            "+            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;"
        ),
        "{}",
        support::show(&out)
    );
    let applied = support::git_apply(&root, &patch);
    assert!(applied.ok, "git apply failed:\n{}\n{patch}", applied.output);
    assert_configs_pass(&stack);
    stack.restart_nginx();
    assert_php_ok(&stack);
}

/// NFL107: nginx dials the pool by a service name (`app`) that resolves to another address
/// than the loopback one the pool binds. In a mount namespace of its own, nginx reads an
/// /etc/hosts where `app` is 127.0.0.2: a faithful stand-in for the php container's address
/// (a socket bound to 127.0.0.1 refuses a connection to any other address of the host).
/// The host's /etc/hosts is never touched.
#[test]
fn loopback_pool_by_name_502_111_then_fixed_200() {
    let Some(bins) = require_stack() else { return };
    if !require_root(
        "fastcgi-pass-loopback-pool's real-stack test needs a private mount namespace for nginx's /etc/hosts",
    ) {
        return;
    }
    // (extra pool file, the file the fix must edit): a www.conf copied without
    // zz-docker.conf; and a later file that sets listen back to loopback after a
    // zz-docker.conf-style `listen = PORT` (the fix goes where the winning listen is).
    let shapes = [
        (None, "php-fpm/pool.d/www.conf"),
        (
            Some((
                "php-fpm/pool.d/zzz-app.conf",
                "; read after www.conf: its listen wins\n[www]\nlisten = 127.0.0.1:@FPM_PORT@\n",
            )),
            "php-fpm/pool.d/zzz-app.conf",
        ),
    ];
    for (extra, fixed_file) in shapes {
        let mut config = TreeConfig::fixture("join-loopback-pool");
        if let Some((path, text)) = extra {
            config = config
                .file(
                    "php-fpm/pool.d/www.conf",
                    "[www]\nlisten = @FPM_PORT@\npm = static\npm.max_children = 1\n",
                )
                .file(path, text);
        }
        loopback_case(&bins, &config, fixed_file);
    }
}

fn loopback_case(bins: &Bins, config: &TreeConfig, fixed_file: &str) {
    let tree = Tree::materialise(config);
    let hosts = tree.root().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 localhost\n127.0.0.2 app\n").unwrap();
    let wrapper = tree.root().join("nginx-with-hosts");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec unshare --mount --propagation private sh -c 'mount --bind \"$0\" /etc/hosts && exec \"$@\"' {} {} \"$@\"\n",
            hosts.display(),
            bins.nginx.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bins = Bins {
        nginx: wrapper,
        ..bins.clone()
    };
    let mut stack = start(&bins, tree);

    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 502, "body: {body}\n{}", stack.logs());
    let line = "connect() failed (111: Connection refused) while connecting to upstream";
    let (found, log) = stack.wait_nginx_log(line, Duration::from_secs(2));
    assert!(found, "nginx error log lacks {line:?}:\n{log}");
    assert!(
        log.contains("127.0.0.2:"),
        "nginx did not dial app = 127.0.0.2:\n{log}"
    );

    let before: BTreeMap<PathBuf, String> = ["php-fpm/pool.d/www.conf", fixed_file]
        .iter()
        .map(|f| {
            let p = stack.root().join(f);
            (p.clone(), std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    let messages = apply_rule_fixes(stack.root(), "NFL107");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("app:"), "{}", messages[0]);
    let port = stack.port("FPM_PORT");
    for (path, old) in &before {
        let now = std::fs::read_to_string(path).unwrap();
        if path.ends_with(fixed_file) {
            assert!(now.contains(&format!("\nlisten = {port}\n")), "{now}");
        } else {
            assert_eq!(&now, old, "the fix edited {}", path.display());
        }
    }
    assert_configs_pass(&stack);
    stack.restart_fpm();
    assert_php_ok(&stack);
}

/// One pool spread over docker's php-fpm.d files (`docker.conf`, `www.conf`, `zz-docker.conf`,
/// the first and last with a `[global]` section): the fix of fpm-pool-exhaustion adds
/// `request_terminate_timeout` once, in the file that wins (zz-docker.conf, the last that
/// sets the pool's keys), php-fpm accepts it, and the site serves the same page.
#[test]
fn pool_over_docker_files_fixed_once_serves_the_same() {
    let Some(bins) = require_stack() else { return };
    let config = TreeConfig::fixture("join-allowed-clients")
        .file(
            "php-fpm/pool.d/docker.conf",
            "[global]\nlog_limit = 8192\n\n[www]\nclear_env = no\ncatch_workers_output = yes\n",
        )
        .file(
            "php-fpm/pool.d/www.conf",
            "[www]\nlisten = 127.0.0.1:9\npm = static\npm.max_children = 10\n",
        )
        .file(
            "php-fpm/pool.d/zz-docker.conf",
            "[global]\ndaemonize = no\n\n[www]\nlisten = 127.0.0.1:@FPM_PORT@\n",
        );
    let tree = Tree::materialise(&config);
    let mut stack = start(&bins, tree);
    let served = stack.get("/index.php");
    assert_eq!(served.0, 200, "{}", stack.logs());
    let files = ["docker.conf", "www.conf", "zz-docker.conf"]
        .map(|f| stack.root().join("php-fpm/pool.d").join(f));
    let before = files.clone().map(|p| std::fs::read_to_string(p).unwrap());

    let messages = apply_rule_fixes(stack.root(), "NFL302");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("request_terminate_timeout"),
        "{}",
        messages[0]
    );
    let after = files.clone().map(|p| std::fs::read_to_string(p).unwrap());
    assert_eq!(after[0], before[0]);
    assert_eq!(after[1], before[1]);
    assert_eq!(
        after[2],
        format!("{}request_terminate_timeout = 60s\n", before[2]),
        "added once, in zz-docker.conf"
    );
    assert_configs_pass(&stack);
    stack.restart_fpm();
    assert_eq!(stack.get("/index.php"), served, "{}", stack.logs());
}
