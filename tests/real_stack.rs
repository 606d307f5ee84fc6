//! Proof against the real nginx and php-fpm that NFL101
//! (`fastcgi-pass-no-listener`) is a real 502, and that its fix cures it.
//!
//! Needs /usr/sbin/nginx and php-fpm8.2 (Debian: nginx-light, php8.2-fpm);
//! without them these tests print `SKIPPED:` and pass, except under CI=true.

mod support;

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use support::{git_apply, require_stack, Stack, StackConfig, TreeConfig};

/// The line nginx logs when the socket file does not exist.
fn enoent_line(sock: &Path) -> String {
    format!(
        "connect() to unix:{} failed (2: No such file or directory)",
        sock.display()
    )
}

/// Hand-written fix for `socket-mismatch`: what `lint --diff` should produce.
const SOCKET_FIX: &str = "\
--- a/nginx/nginx.conf
+++ b/nginx/nginx.conf
@@ -24,7 +24,7 @@
         location ~ \\.php$ {
             include fastcgi_params;
             fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
-            fastcgi_pass unix:@ROOT@/run/php8.1-fpm.sock;
+            fastcgi_pass unix:@ROOT@/run/php8.2-fpm.sock;
         }
     }
 }
";

/// Hand-written fix for `tcp-mismatch`.
const TCP_FIX: &str = "\
--- a/nginx/nginx.conf
+++ b/nginx/nginx.conf
@@ -24,7 +24,7 @@
         location ~ \\.php$ {
             include fastcgi_params;
             fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
-            fastcgi_pass 127.0.0.1:@FPM_PORT_WRONG@;
+            fastcgi_pass 127.0.0.1:@FPM_PORT@;
         }
     }
 }
";

fn assert_php_ok(stack: &Stack) {
    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 200, "body: {body}\n{}", stack.logs());
    assert_eq!(body, "hello from php-fpm 8.2\n");
}

#[test]
fn socket_mismatch_answers_502_and_nginx_logs_enoent() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::fixture(&bins, "socket-mismatch"));

    // php-fpm is up and listening, just not where nginx looks.
    assert!(stack.root().join("run/php8.2-fpm.sock").exists());
    assert!(!stack.root().join("run/php8.1-fpm.sock").exists());

    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 502, "body: {body}\n{}", stack.logs());
    let needle = enoent_line(&stack.root().join("run/php8.1-fpm.sock"));
    let (found, log) = stack.wait_nginx_log(&needle, Duration::from_secs(2));
    assert!(found, "nginx error log lacks {needle:?}:\n{log}");
}

/// The mismatch is invisible to both tools' own config tests: that is the
/// gap the linter fills.
#[test]
fn socket_mismatch_passes_nginx_t_and_fpm_t() {
    let Some(bins) = require_stack() else { return };
    let stack = Stack::start(StackConfig::fixture(&bins, "socket-mismatch"));
    let n = stack.nginx_t();
    assert!(n.ok, "nginx -t failed:\n{}", n.output);
    assert!(n.output.contains("test is successful"), "{}", n.output);
    let f = stack.fpm_t();
    assert!(f.ok, "php-fpm -t failed:\n{}", f.output);
    assert!(f.output.contains("test is successful"), "{}", f.output);
    assert_eq!(stack.get("/index.php").0, 502);
}

/// The mechanics of the end-to-end fix, without the linter: `git apply` a
/// patch in the (non-git) temp dir, restart nginx, 502 becomes 200.
#[test]
fn hand_patch_turns_socket_mismatch_502_into_200() {
    let Some(bins) = require_stack() else { return };
    let mut stack = Stack::start(StackConfig::fixture(&bins, "socket-mismatch"));
    assert_eq!(stack.get("/index.php").0, 502, "{}", stack.logs());

    let applied = git_apply(stack.root(), &stack.tree().expand(SOCKET_FIX));
    assert!(applied.ok, "git apply failed:\n{}", applied.output);
    let n = stack.nginx_t();
    assert!(n.ok, "patched config fails nginx -t:\n{}", n.output);
    stack.restart_nginx();
    assert_php_ok(&stack);
}

#[test]
fn tcp_mismatch_answers_502_and_hand_patch_fixes_it() {
    let Some(bins) = require_stack() else { return };
    let mut stack = Stack::start(StackConfig::fixture(&bins, "tcp-mismatch"));
    assert_ne!(stack.port("FPM_PORT"), stack.port("FPM_PORT_WRONG"));

    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 502, "body: {body}\n{}", stack.logs());
    let needle = format!(
        "connect() failed (111: Connection refused) while connecting to upstream, \
         client: 127.0.0.1, server: , request: \"GET /index.php HTTP/1.0\", \
         upstream: \"fastcgi://127.0.0.1:{}\"",
        stack.port("FPM_PORT_WRONG")
    );
    let (found, log) = stack.wait_nginx_log(&needle, Duration::from_secs(2));
    assert!(found, "nginx error log lacks {needle:?}:\n{log}");

    let applied = git_apply(stack.root(), &stack.tree().expand(TCP_FIX));
    assert!(applied.ok, "git apply failed:\n{}", applied.output);
    stack.restart_nginx();
    assert_php_ok(&stack);
}

/// NFL101 over TCP with the tool's own fix: `lint --diff` on the tree, applied with git, turns
/// the 502 into a 200 (the pool is the only one, so the fix points nginx at its port).
#[test]
fn tcp_mismatch_lint_diff_turns_502_into_200() {
    let Some(bins) = require_stack() else { return };
    let mut stack = Stack::start(StackConfig::fixture(&bins, "tcp-mismatch"));
    let root = stack.root().to_owned();
    assert_eq!(stack.get("/index.php").0, 502, "{}", stack.logs());

    let out = support::run_cli(&root, &["lint", "--diff", "--select=NFL101", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", support::show(&out));
    let patch = String::from_utf8(out.stdout.clone()).expect("diff is UTF-8");
    let right = format!(
        "+            fastcgi_pass 127.0.0.1:{};",
        stack.port("FPM_PORT")
    );
    assert!(patch.contains(&right), "{}", support::show(&out));
    let applied = git_apply(&root, &patch);
    assert!(applied.ok, "git apply failed:\n{}\n{patch}", applied.output);
    let n = stack.nginx_t();
    assert!(n.ok, "fixed config fails nginx -t:\n{}", n.output);
    stack.restart_nginx();
    assert_php_ok(&stack);
}

/// Every process of the stack is gone once it is dropped, panic or not.
#[test]
fn stack_processes_are_stopped_even_on_panic() {
    let Some(bins) = require_stack() else { return };
    let seen: Mutex<Vec<u32>> = Mutex::new(Vec::new());
    let root: Mutex<Option<std::path::PathBuf>> = Mutex::new(None);
    let result = std::panic::catch_unwind(|| {
        let stack = Stack::start(StackConfig::fixture(&bins, "socket-mismatch"));
        // Readiness means the masters listen; their workers may still be forking.
        let members = || {
            stack
                .pids()
                .into_iter()
                .flat_map(group_members)
                .collect::<Vec<u32>>()
        };
        let pids = support::wait_until(std::time::Duration::from_secs(5), || {
            Some(members()).filter(|p| p.len() >= 4)
        })
        .unwrap_or_else(members);
        *seen.lock().unwrap() = pids;
        *root.lock().unwrap() = Some(stack.root().to_owned());
        panic!("deliberate panic with the stack up");
    });
    assert!(result.is_err());
    let pids = seen.into_inner().unwrap();
    // Masters plus at least one nginx worker and one php-fpm child.
    assert!(
        pids.len() >= 4,
        "expected masters and workers, saw {pids:?}"
    );
    let alive: Vec<_> = pids
        .iter()
        .filter(|p| Path::new(&format!("/proc/{p}")).exists())
        .collect();
    assert!(alive.is_empty(), "still running after drop: {alive:?}");
    let root = root.into_inner().unwrap().unwrap();
    assert!(!root.exists(), "temp dir {} left behind", root.display());
}

/// A stack that cannot start is an error carrying nginx's own complaint.
#[test]
fn broken_nginx_config_fails_to_start_with_its_log() {
    let Some(bins) = require_stack() else { return };
    let tree = TreeConfig::fixture("socket-mismatch").file(
        "nginx/nginx.conf",
        "pid @ROOT@/run/nginx.pid;\nevents {}\n\
         http { server { listen 127.0.0.1:@HTTP_PORT@; no_such_directive on; } }\n",
    );
    let err = match Stack::try_start(StackConfig::new(&bins, tree)) {
        Ok(_) => panic!("nginx started with an unknown directive"),
        Err(e) => e,
    };
    assert!(
        err.contains("unknown directive \"no_such_directive\""),
        "{err}"
    );
}

/// Pids whose process group is `pgid` (the harness gives each master its own).
fn group_members(pgid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the parenthesised command: state, ppid, pgrp, ...
        let Some((_, after)) = stat.rsplit_once(')') else {
            continue;
        };
        if after.split_whitespace().nth(2) == Some(&pgid.to_string()) {
            out.push(pid);
        }
    }
    out
}

/// NFL101 end to end with the real CLI (`lint --format json`, `lint --diff`).
/// Fails until the CLI lands on this branch: the contract it is written to is
/// exit 1 on findings, JSON `{"diagnostics": [{"code", "name", "labels":
/// [{"file", "line", ...}], ...}]}`, and a `--diff` that `git apply` takes.
#[test]
fn lint_flags_and_diff_fixes_socket_mismatch() {
    let Some(bins) = require_stack() else { return };
    let mut stack = Stack::start(StackConfig::fixture(&bins, "socket-mismatch"));
    let root = stack.root().to_owned();
    assert_eq!(stack.get("/index.php").0, 502, "{}", stack.logs());

    // b) the linter flags the fastcgi_pass that has no listener.
    let out = support::run_cli(&root, &["lint", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", support::show(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", support::show(&out)));
    let diags = json["diagnostics"]
        .as_array()
        .unwrap_or_else(|| panic!("no diagnostics array:\n{json:#}"));
    let d = diags
        .iter()
        .find(|d| d["code"] == "NFL101")
        .unwrap_or_else(|| panic!("no NFL101 finding:\n{json:#}"));
    assert_eq!(d["name"], "fastcgi-pass-no-listener", "{d:#}");
    let conf = std::fs::read_to_string(root.join("nginx/nginx.conf")).unwrap();
    let pass_line = conf
        .lines()
        .position(|l| l.contains("fastcgi_pass"))
        .unwrap()
        + 1;
    let labels = d["labels"].as_array().expect("labels array");
    assert!(
        labels.iter().any(|l| {
            Path::new(l["file"].as_str().unwrap_or("")).ends_with("nginx/nginx.conf")
                && l["line"].as_u64() == Some(pass_line as u64)
        }),
        "no label on nginx/nginx.conf:{pass_line}:\n{d:#}"
    );

    // c) its --diff applies with git and turns the 502 into a 200.
    let out = support::run_cli(&root, &["lint", "--diff", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", support::show(&out));
    let patch = String::from_utf8(out.stdout.clone()).expect("diff is UTF-8");
    let applied = git_apply(&root, &patch);
    assert!(applied.ok, "git apply failed:\n{}\n{patch}", applied.output);
    let n = stack.nginx_t();
    assert!(n.ok, "fixed config fails nginx -t:\n{}", n.output);
    let f = stack.fpm_t();
    assert!(f.ok, "fixed config fails php-fpm -t:\n{}", f.output);
    stack.restart_nginx();
    assert_php_ok(&stack);

    // And the fixed tree no longer trips the rule.
    let out = support::run_cli(&root, &["lint", "--format", "json", "."]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", support::show(&out)));
    let again = json["diagnostics"].as_array().cloned().unwrap_or_default();
    assert!(
        !again.iter().any(|d| d["code"] == "NFL101"),
        "NFL101 still reported after the fix:\n{json:#}"
    );
}
