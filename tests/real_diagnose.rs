//! `diagnose` against reality: each cause is made to happen on a real nginx 1.22 + php-fpm 8.2
//! stack in a temp dir, the logs those processes wrote are handed to `diagnose`, and it must name
//! the cause and the config line behind it. A clean run must name nothing.
//!
//! Needs /usr/sbin/nginx and php-fpm8.2 (Debian: nginx-light, php8.2-fpm); the OOM test also
//! needs root and the cgroup v1 memory controller. Without them these tests print `SKIPPED:`
//! and pass, except under CI=true, where they fail.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::{git_apply, require_stack, run_cli, show, Stack, StackConfig, TreeConfig};

const NGINX_CONF: &str = r#"worker_processes 1;
pid @ROOT@/run/nginx.pid;
error_log @ROOT@/log/nginx-error.log;
events { worker_connections 64; }
http {
    access_log @ROOT@/log/nginx-access.log;
    client_body_temp_path @ROOT@/tmp/client_body;
    proxy_temp_path @ROOT@/tmp/proxy;
    fastcgi_temp_path @ROOT@/tmp/fastcgi;
    uwsgi_temp_path @ROOT@/tmp/uwsgi;
    scgi_temp_path @ROOT@/tmp/scgi;
    server {
        listen 127.0.0.1:@HTTP_PORT@;
        server_name shop.example;
        root @ROOT@/www;
        location ~ \.php$ {
            include fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            @LOCATION@
        }
    }
}
"#;

const FASTCGI_PARAMS: &str = "fastcgi_param QUERY_STRING $query_string;
fastcgi_param REQUEST_METHOD $request_method;
fastcgi_param CONTENT_TYPE $content_type;
fastcgi_param CONTENT_LENGTH $content_length;
fastcgi_param SCRIPT_NAME $fastcgi_script_name;
fastcgi_param REQUEST_URI $request_uri;
fastcgi_param DOCUMENT_ROOT $document_root;
fastcgi_param SERVER_PROTOCOL $server_protocol;
fastcgi_param GATEWAY_INTERFACE CGI/1.1;
fastcgi_param REMOTE_ADDR $remote_addr;
fastcgi_param SERVER_NAME $server_name;
fastcgi_param REDIRECT_STATUS 200;
";

const FPM_CONF: &str = "[global]
pid = @ROOT@/run/php-fpm.pid
error_log = @ROOT@/log/php-fpm.log
daemonize = no
include = @ROOT@/php-fpm/pool.d/*.conf
";

/// What the app can be asked to do: sleep, send big headers, crash, allocate, fail.
const APP: &str = r#"<?php
if (isset($_GET['sleep'])) { sleep((int)$_GET['sleep']); }
if (isset($_GET['headers'])) { for ($i = 0; $i < 100; $i++) { header("X-Filler-$i: " . str_repeat('a', 100)); } }
if (isset($_GET['segv'])) { posix_kill(getmypid(), 11); sleep(5); }
if (isset($_GET['alloc'])) { $s = str_repeat('x', (int)$_GET['alloc'] * 1024 * 1024); echo strlen($s), "\n"; }
if (isset($_GET['fatal'])) { no_such_function(); }
echo "ok\n";
"#;

/// A working site: `location` goes into the PHP location (its fastcgi_pass and any tuning),
/// `pool` after the pool's defaults.
fn lab(location: &str, pool: &str) -> TreeConfig {
    TreeConfig::empty()
        .file("nginx/nginx.conf", NGINX_CONF.replace("@LOCATION@", location))
        .file("nginx/fastcgi_params", FASTCGI_PARAMS)
        .file("php-fpm/php-fpm.conf", FPM_CONF)
        .file(
            "php-fpm/pool.d/www.conf",
            format!(
                "[www]\nlisten = @ROOT@/run/php8.2-fpm.sock\nlisten.mode = 0666\npm = static\npm.max_children = 2\ncatch_workers_output = yes\n{pool}\n"
            ),
        )
        .file("www/index.php", APP)
        // posix (for the crash) is a shared extension on Debian; the harness loads no scan dir.
        .file(
            "php/php.ini",
            "extension=posix\ndisplay_errors = stderr\nlog_errors = Off\n",
        )
}

/// `lab`, with `http` added at http level (upstreams).
fn lab_http(http: &str, location: &str, pool: &str) -> TreeConfig {
    let mut t = lab(location, pool);
    t.files[0].1 = t.files[0]
        .1
        .replace("    server {\n", &format!("{http}\n    server {{\n"));
    t
}

const PASS: &str = "fastcgi_pass unix:@ROOT@/run/php8.2-fpm.sock;";

/// Run `diagnose` over the stack's config and its real logs (plus `extra` logs), as JSON.
fn diagnose(stack: &Stack, extra: &[&Path]) -> (Value, std::process::Output) {
    let root = stack.root();
    // php-fpm runs with -O: its log lines go to the captured stderr.
    let mut args: Vec<String> = [
        "diagnose",
        "--isolated",
        "--format",
        "json",
        "--log",
        "log/nginx-error.log",
        "--log",
        "log/php-fpm.stderr",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for e in extra {
        args.push("--log".into());
        args.push(e.display().to_string());
    }
    args.push("nginx".into());
    args.push("php-fpm".into());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_cli(root, &argv);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", show(&out), stack.logs()));
    (json, out)
}

/// `diagnose --diff` over nginx's log, applied with `git apply` as a user would (the patch must
/// mention `expect`), then nginx restarted on the patched config.
fn apply_diagnose_diff(stack: &mut Stack, expect: &str) {
    let diff = run_cli(
        stack.root(),
        &[
            "diagnose",
            "--isolated",
            "--diff",
            "--log",
            "log/nginx-error.log",
            "nginx",
            "php-fpm",
        ],
    );
    let patch = String::from_utf8(diff.stdout.clone()).unwrap();
    assert!(patch.contains(expect), "{}", show(&diff));
    let applied = git_apply(stack.root(), &patch);
    assert!(applied.ok, "git apply failed:\n{}", applied.output);
    stack.restart_nginx();
}

fn cause<'v>(json: &'v Value, id: &str) -> Option<&'v Value> {
    json["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cause"] == id)
}

fn cause_ids(json: &Value) -> Vec<String> {
    json["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cause"].as_str().unwrap().to_owned())
        .collect()
}

/// The label of `c` in `file` (a path ending), with its line and message.
fn label_in<'v>(c: &'v Value, file: &str) -> Option<&'v Value> {
    c["labels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["file"].as_str().unwrap().ends_with(file))
}

/// Wait until `needle` is in nginx's error log (bounded), failing with the logs.
fn await_nginx(stack: &Stack, needle: &str) {
    let (found, log) = stack.wait_nginx_log(needle, Duration::from_secs(3));
    assert!(found, "nginx error log lacks {needle:?}:\n{log}");
}

fn await_fpm(stack: &Stack, needle: &str) {
    let found = support::wait_until(Duration::from_secs(5), || {
        stack.fpm_log().contains(needle).then_some(())
    });
    assert!(
        found.is_some(),
        "php-fpm log lacks {needle:?}:\n{}",
        stack.logs()
    );
}

fn fpm_master_pid(stack: &Stack) -> i32 {
    support::wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(stack.root().join("run/php-fpm.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    })
    .expect("php-fpm wrote no pid file")
}

fn kill(pid: i32, signal: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{signal} {pid} failed");
}

#[test]
fn clean_run_names_no_cause() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::new(&bins, lab(PASS, "")));
    for _ in 0..3 {
        let (status, body) = stack.get("/index.php");
        assert_eq!(status, 200, "{body}\n{}", stack.logs());
    }
    let (json, out) = diagnose(&stack, &[]);
    assert_eq!(cause_ids(&json), Vec::<String>::new(), "{}", show(&out));
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        json["lines_read"].as_u64().unwrap() > 0,
        "php-fpm's start-up lines are read"
    );
}

/// A wrong socket path (a config mistake) and a stopped php-fpm give nginx the same log line;
/// the config tells them apart.
#[test]
fn wrong_socket_is_listen_mismatch_and_its_fix_cures_the_502() {
    let Some(bins) = require_stack() else { return };
    let mut stack = Stack::start(StackConfig::new(
        &bins,
        lab("fastcgi_pass unix:@ROOT@/run/php8.1-fpm.sock;", ""),
    ));
    assert_eq!(stack.get("/index.php").0, 502, "{}", stack.logs());
    await_nginx(&stack, "(2: No such file or directory)");
    let (json, out) = diagnose(&stack, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(cause_ids(&json), ["listen-mismatch"], "{}", show(&out));
    let c = cause(&json, "listen-mismatch").unwrap();
    assert_eq!(c["status"], 502);
    assert_eq!(c["count"], 1);
    let pass = label_in(c, "nginx/nginx.conf").expect("the fastcgi_pass is labelled");
    assert_eq!(pass["line"], 19, "{c:#}");
    let pool = label_in(c, "pool.d/www.conf").expect("the pool meant is labelled");
    assert_eq!(pool["line"], 2, "{c:#}");
    assert_eq!(c["rule"]["code"], "NFL101");
    assert_eq!(c["fix"]["applicability"], "safe");

    // The diagnosis's own patch, applied as a user would, turns the 502 into a 200.
    apply_diagnose_diff(&mut stack, "+++ b/nginx/nginx.conf");
    assert_eq!(stack.get("/index.php"), (200, "ok\n".to_owned()));
}

#[test]
fn stopped_php_fpm_is_backend_down_not_a_config_mistake() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::new(&bins, lab(PASS, "")));
    assert_eq!(stack.get("/index.php").0, 200);
    // A graceful stop removes the socket: nginx then logs ENOENT, as for a wrong path.
    kill(fpm_master_pid(&stack), "QUIT");
    let gone = support::wait_until(Duration::from_secs(5), || {
        (!stack.root().join("run/php8.2-fpm.sock").exists()).then_some(())
    });
    assert!(gone.is_some(), "socket still there after SIGQUIT");
    assert_eq!(stack.get("/index.php").0, 502);
    await_nginx(&stack, "(2: No such file or directory)");
    let (json, out) = diagnose(&stack, &[]);
    assert_eq!(cause_ids(&json), ["backend-down"], "{}", show(&out));
    let c = cause(&json, "backend-down").unwrap();
    assert!(label_in(c, "pool.d/www.conf").is_some(), "{c:#}");
    assert!(c["fix"].is_null(), "restarting is not a config fix: {c:#}");
}

#[test]
fn killed_php_fpm_leaves_a_stale_socket_backend_down() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::new(&bins, lab(PASS, "")));
    assert_eq!(stack.get("/index.php").0, 200);
    // SIGKILL to the master and its workers (as `systemctl kill -s KILL` or the OOM killer
    // taking them all): no clean-up, the socket file stays with nobody accepting on it (111).
    let master = fpm_master_pid(&stack);
    // Stopped first, so it cannot fork new workers between the two kills.
    kill(master, "STOP");
    let killed = std::process::Command::new("pkill")
        .args(["-KILL", "-P", &master.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(killed, "no php-fpm workers to kill");
    kill(master, "KILL");
    // A request caught mid-kill is reset (104); the ones after it find nobody accepting (111).
    let refused = support::wait_until(Duration::from_secs(5), || {
        let _ = stack.get("/index.php");
        stack
            .nginx_error_log()
            .contains("(111: Connection refused)")
            .then_some(())
    });
    assert!(refused.is_some(), "{}", stack.logs());
    assert!(stack.root().join("run/php8.2-fpm.sock").exists());
    let (json, out) = diagnose(&stack, &[]);
    assert!(
        cause_ids(&json).contains(&"backend-down".to_owned()),
        "{}",
        show(&out)
    );
    let c = cause(&json, "backend-down").unwrap();
    assert!(
        c["help"]
            .as_str()
            .unwrap()
            .contains("killed without removing it"),
        "{c:#}"
    );
}

#[test]
fn big_headers_are_header_too_big_at_the_pass() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::new(&bins, lab(PASS, "")));
    assert_eq!(stack.get("/index.php?headers=1").0, 502, "{}", stack.logs());
    await_nginx(&stack, "upstream sent too big header");
    let (json, out) = diagnose(&stack, &[]);
    assert_eq!(cause_ids(&json), ["header-too-big"], "{}", show(&out));
    let c = cause(&json, "header-too-big").unwrap();
    assert_eq!(c["rule"]["code"], "NFL201", "{c:#}");
    assert!(!c["fix"].is_null());
}

#[test]
fn read_timeout_is_upstream_timeout_504() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::new(
        &bins,
        lab(&format!("fastcgi_read_timeout 1s; {PASS}"), ""),
    ));
    assert_eq!(stack.get("/index.php?sleep=3").0, 504, "{}", stack.logs());
    await_nginx(&stack, "upstream timed out (110");
    let (json, out) = diagnose(&stack, &[]);
    assert_eq!(cause_ids(&json), ["upstream-timeout"], "{}", show(&out));
    let c = cause(&json, "upstream-timeout").unwrap();
    assert_eq!(c["status"], 504);
    let t = label_in(c, "nginx/nginx.conf").unwrap();
    assert!(
        c["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["message"].as_str().unwrap().contains("waits this long")),
        "the fastcgi_read_timeout is labelled: {c:#} {t}"
    );
}

#[test]
fn terminate_timeout_is_request_terminated_paired_across_logs() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::new(
        &bins,
        lab(
            &format!("fastcgi_read_timeout 20s; {PASS}"),
            "request_terminate_timeout = 1s",
        ),
    ));
    assert_eq!(stack.get("/index.php?sleep=4").0, 502, "{}", stack.logs());
    await_fpm(&stack, "execution timed out");
    let (json, out) = diagnose(&stack, &[]);
    assert_eq!(cause_ids(&json), ["request-terminated"], "{}", show(&out));
    let c = cause(&json, "request-terminated").unwrap();
    let logs: Vec<&str> = c["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["log"].as_str().unwrap())
        .collect();
    assert_eq!(logs, ["nginx", "php-fpm"], "both sides quoted: {c:#}");
    assert_eq!(c["count"], 1, "one request, one cause: {c:#}");
    let pool = label_in(c, "pool.d/www.conf").expect("request_terminate_timeout labelled");
    assert_eq!(pool["line"], 7);
}

#[test]
fn segfault_is_worker_crashed() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::new(&bins, lab(PASS, "")));
    assert_eq!(stack.get("/index.php?segv=1").0, 502, "{}", stack.logs());
    await_fpm(&stack, "exited on signal 11");
    let (json, out) = diagnose(&stack, &[]);
    assert_eq!(cause_ids(&json), ["worker-crashed"], "{}", show(&out));
    let c = cause(&json, "worker-crashed").unwrap();
    assert_eq!(c["evidence"].as_array().unwrap().len(), 2, "{c:#}");
}

#[test]
fn missing_script_is_script_not_found_404() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::new(&bins, lab(PASS, "")));
    assert_eq!(stack.get("/nothing-here.php").0, 404);
    await_nginx(&stack, "Primary script unknown");
    let (json, out) = diagnose(&stack, &[]);
    assert_eq!(cause_ids(&json), ["script-not-found"], "{}", show(&out));
    assert_eq!(cause(&json, "script-not-found").unwrap()["status"], 404);
}

/// No SCRIPT_FILENAME at all: every script is "not found"; the rule that predicts it carries
/// its fix, and the fix makes the page answer.
#[test]
fn missing_script_filename_is_script_not_found_with_nfl203s_fix() {
    let Some(bins) = require_stack() else { return };
    let mut stack = Stack::start(StackConfig::fixture(&bins, "join-script-filename"));
    assert_eq!(stack.get("/index.php").0, 404, "{}", stack.logs());
    await_nginx(&stack, "Primary script unknown");
    let (json, out) = diagnose(&stack, &[]);
    assert_eq!(cause_ids(&json), ["script-not-found"], "{}", show(&out));
    let c = cause(&json, "script-not-found").unwrap();
    assert_eq!(c["rule"]["code"], "NFL203", "{c:#}");
    apply_diagnose_diff(&mut stack, "SCRIPT_FILENAME");
    assert_eq!(stack.get("/index.php").0, 200, "{}", stack.logs());
}

#[test]
fn full_pool_with_backlog_one_is_pool_exhausted() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::new(
        &bins,
        lab(
            &format!("fastcgi_read_timeout 20s; {PASS}"),
            "listen.backlog = 1\npm.max_children = 1",
        ),
    ));
    // One worker, busy for 3 s; a queue of one: the rest of a burst is refused (EAGAIN).
    // A request the client gave up on (its 5 s read timeout) counts as 0.
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let burst: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| stack.get("/index.php?sleep=2").0))
            .collect();
        burst.into_iter().map(|t| t.join().unwrap_or(0)).collect()
    });
    assert!(statuses.contains(&502), "{statuses:?}\n{}", stack.logs());
    await_nginx(&stack, "(11: Resource temporarily unavailable)");
    let (json, out) = diagnose(&stack, &[]);
    let c = cause(&json, "pool-exhausted").unwrap_or_else(|| panic!("{}", show(&out)));
    assert!(label_in(c, "pool.d/www.conf").is_some(), "{c:#}");
    assert!(
        c["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["message"].as_str().unwrap().contains("listen.backlog")),
        "{c:#}"
    );
}

#[test]
fn refused_pool_config_is_fpm_start_failed_and_backend_down() {
    let Some(bins) = require_stack() else { return };
    let mut stack = Stack::start(StackConfig::new(&bins, lab(PASS, "")));
    assert_eq!(stack.get("/index.php").0, 200);
    // A typo in a key: php-fpm refuses the whole configuration and does not start again.
    let pool = stack.root().join("php-fpm/pool.d/www.conf");
    let text = std::fs::read_to_string(&pool).unwrap();
    std::fs::write(&pool, text.replace("pm.max_children", "pm.max_chidren")).unwrap();
    assert!(stack.try_restart_fpm().is_err(), "php-fpm accepted a typo");
    assert_eq!(stack.get("/index.php").0, 502);
    await_nginx(&stack, "(2: No such file or directory)");
    let (json, out) = diagnose(&stack, &[]);
    let ids = cause_ids(&json);
    assert!(
        ids.contains(&"fpm-start-failed".to_owned()),
        "{}",
        show(&out)
    );
    assert!(ids.contains(&"backend-down".to_owned()), "{}", show(&out));
    let c = cause(&json, "fpm-start-failed").unwrap();
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("unknown entry 'pm.max_chidren'"),
        "{c:#}"
    );
}

#[test]
fn upstream_servers_all_failing_is_no_live_upstreams_with_the_reason() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::new(
        &bins,
        lab_http(
            "    upstream php_backend {\n        server unix:@ROOT@/run/php8.1-fpm.sock;\n        server unix:@ROOT@/run/php8.0-fpm.sock;\n    }",
            "fastcgi_pass php_backend;",
            "",
        ),
    ));
    // The first request fails on both servers and marks them down; the second finds none.
    assert_eq!(stack.get("/index.php").0, 502);
    assert_eq!(stack.get("/index.php").0, 502);
    await_nginx(&stack, "no live upstreams");
    let (json, out) = diagnose(&stack, &[]);
    let ids = cause_ids(&json);
    assert!(
        ids.contains(&"no-live-upstreams".to_owned()),
        "{}",
        show(&out)
    );
    assert!(
        ids.contains(&"listen-mismatch".to_owned()),
        "{}",
        show(&out)
    );
    let c = cause(&json, "no-live-upstreams").unwrap();
    let pass = label_in(c, "nginx/nginx.conf").expect("fastcgi_pass php_backend labelled");
    assert_eq!(pass["line"], 23, "{c:#}");
    assert!(
        c["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with(
                "the servers of upstream `php_backend` were marked down by: listen-mismatch"
            )),
        "{c:#}"
    );
}

#[test]
fn worker_user_not_allowed_on_socket_is_socket_permission() {
    let Some(bins) = require_stack() else { return };
    if !support::is_root() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("socket-permission needs root to run nginx workers as nobody");
        }
        eprintln!("SKIPPED: socket-permission needs root to run nginx workers as nobody");
        return;
    }
    let tree = support::Tree::materialise(&TreeConfig::fixture("join-socket-permission"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tree.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let stack = Stack::try_start_on(bins.clone(), tree, "HTTP_PORT").unwrap();
    assert_eq!(stack.get("/index.php").0, 502, "{}", stack.logs());
    await_nginx(&stack, "(13: Permission denied)");
    let (json, out) = diagnose(&stack, &[]);
    assert_eq!(cause_ids(&json), ["socket-permission"], "{}", show(&out));
    let c = cause(&json, "socket-permission").unwrap();
    assert!(
        c["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["message"].as_str().unwrap().contains("workers run as")),
        "nginx's `user` is labelled: {c:#}"
    );
    assert_eq!(c["rule"]["code"], "NFL102", "{c:#}");
}

#[test]
fn allowed_clients_without_nginx_is_client_not_allowed() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::fixture(&bins, "join-allowed-clients"));
    assert_eq!(stack.get("/index.php").0, 502, "{}", stack.logs());
    await_fpm(&stack, "Connection disallowed");
    let (json, out) = diagnose(&stack, &[]);
    assert_eq!(
        cause_ids(&json),
        ["client-not-allowed"],
        "{}\n{}",
        show(&out),
        stack.logs()
    );
    let c = cause(&json, "client-not-allowed").unwrap();
    assert!(label_in(c, "www.conf").is_some(), "{c:#}");
    assert_eq!(c["rule"]["code"], "NFL104", "{c:#}");
    assert!(!c["fix"].is_null());
}

/// A root standing in for a server's `/`: its config and log places link to the stack's, and
/// `/proc`, `/tmp` (where the stack's sockets are) and `/etc/passwd` to this machine's.
fn host_root(stack: &Stack) -> tempfile::TempDir {
    use std::os::unix::fs::symlink;
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    for d in ["etc", "var/log/nginx"] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    symlink(stack.root().join("nginx"), r.join("etc/nginx")).unwrap();
    symlink(stack.root().join("php-fpm"), r.join("etc/php")).unwrap();
    symlink(
        stack.root().join("log/nginx-error.log"),
        r.join("var/log/nginx/error.log"),
    )
    .unwrap();
    symlink(
        stack.root().join("log/php-fpm.stderr"),
        r.join("var/log/php8.2-fpm.log"),
    )
    .unwrap();
    symlink("/proc", r.join("proc")).unwrap();
    symlink("/tmp", r.join("tmp")).unwrap();
    symlink("/etc/passwd", r.join("etc/passwd")).unwrap();
    symlink("/etc/group", r.join("etc/group")).unwrap();
    root
}

fn diagnose_host(root: &Path) -> (Value, std::process::Output) {
    let out = run_cli(
        root,
        &[
            "diagnose",
            "--isolated",
            "--format",
            "json",
            "--host",
            "--root",
            root.to_str().unwrap(),
        ],
    );
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", show(&out)));
    (json, out)
}

/// `--host` finds the default places and reads the live state: the master is gone and its
/// socket with it.
#[test]
fn host_mode_reads_the_live_state() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::new(&bins, lab(PASS, "")));
    assert_eq!(stack.get("/index.php").0, 200);
    let root = host_root(&stack);
    let (json, out) = diagnose_host(root.path());
    assert_eq!(cause_ids(&json), Vec::<String>::new(), "{}", show(&out));

    let master = fpm_master_pid(&stack);
    kill(master, "QUIT");
    let gone = support::wait_until(Duration::from_secs(5), || {
        (!stack.root().join("run/php8.2-fpm.sock").exists()).then_some(())
    });
    assert!(gone.is_some());
    assert_eq!(stack.get("/index.php").0, 502);
    await_nginx(&stack, "(2: No such file or directory)");
    let (json, out) = diagnose_host(root.path());
    assert_eq!(cause_ids(&json), ["backend-down"], "{}", show(&out));
    let notes: Vec<&str> = cause(&json, "backend-down").unwrap()["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let sock = stack.root().join("run/php8.2-fpm.sock");
    assert!(
        notes.contains(
            &format!(
                "live: pool [www]'s php-fpm master is not running (no pid file {}/run/php-fpm.pid)",
                stack.root().display()
            )
            .as_str()
        ),
        "{notes:#?}"
    );
    assert!(
        notes.contains(&format!("live: {} does not exist", sock.display()).as_str()),
        "{notes:#?}"
    );
}

/// A real OOM kill: php-fpm's master in a memory cgroup of 120 MB, a script that allocates
/// 300 MB with no memory_limit, and the kernel's own report read back from `dmesg`.
#[test]
fn oom_kill_in_a_memory_cgroup_is_oom_killed() {
    let Some(bins) = require_stack() else { return };
    let Some(cgroup) = MemoryCgroup::create(120 * 1024 * 1024) else {
        return;
    };
    let stack = Stack::start(StackConfig::new(
        &bins,
        lab(PASS, "pm = ondemand\nphp_admin_value[memory_limit] = -1"),
    ));
    cgroup.add(fpm_master_pid(&stack));
    let (status, _) = stack.get("/index.php?alloc=300");
    assert_eq!(status, 502, "{}", stack.logs());
    await_fpm(&stack, "exited on signal 9");
    let dmesg = std::process::Command::new("dmesg").output().unwrap();
    let kernel_log = stack.root().join("log/dmesg.txt");
    std::fs::write(&kernel_log, &dmesg.stdout).unwrap();
    let (json, out) = diagnose(&stack, &[&kernel_log]);
    assert_eq!(cause_ids(&json), ["oom-killed"], "{}", show(&out));
    let c = cause(&json, "oom-killed").unwrap();
    let kinds: Vec<&str> = c["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["log"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["nginx", "php-fpm", "kernel"], "{c:#}");
    // NFL303's arithmetic: 2 workers, memory_limit -1 counted at the assumed 128M each.
    assert!(
        c["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .starts_with("the pools may take up to 256M in all: [www] 2 x 128M")),
        "{c:#}"
    );
    assert!(label_in(c, "pool.d/www.conf").is_some(), "{c:#}");
    drop(stack);
    drop(cgroup);
}

/// A cgroup v1 memory group, removed on drop (its processes are moved back first).
struct MemoryCgroup {
    dir: std::path::PathBuf,
}

impl MemoryCgroup {
    fn create(limit: u64) -> Option<MemoryCgroup> {
        let base = Path::new("/sys/fs/cgroup/memory");
        let why = if !support::is_root() {
            Some("not root")
        } else if !base.join("cgroup.procs").exists() {
            Some("no cgroup v1 memory controller at /sys/fs/cgroup/memory")
        } else {
            None
        };
        if let Some(why) = why {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("OOM test needs root and cgroup v1 memory: {why}");
            }
            eprintln!("SKIPPED: {why}");
            return None;
        }
        let dir = base.join(format!("nginx-fpm-lint-oom-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("memory.limit_in_bytes"), limit.to_string()).unwrap();
        Some(MemoryCgroup { dir })
    }

    fn add(&self, pid: i32) {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string()).unwrap();
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        let parent = self.dir.parent().unwrap().join("cgroup.procs");
        if let Ok(procs) = std::fs::read_to_string(self.dir.join("cgroup.procs")) {
            for pid in procs.lines() {
                let _ = std::fs::write(&parent, pid);
            }
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}
