//! Proof against the real php-fpm 8.2 and nginx that the PHP-FPM pool rules predict real
//! failures: NFL301 (`fpm-pm-invalid`) and NFL103 (`fpm-listen-conflict`) configs are refused
//! by php-fpm, so nginx answers 502; with the fix applied php-fpm starts and nginx answers 200.
//!
//! Needs /usr/sbin/nginx and php-fpm8.2 (Debian: nginx-light, php8.2-fpm); without them these
//! tests print `SKIPPED:` and pass, except under CI=true.

mod support;

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use nginx_fpm_lint::diagnostic::Diagnostic;
use nginx_fpm_lint::fix::apply::apply_edits;
use nginx_fpm_lint::lint::{all_rules, lint_paths, LintOutput};
use nginx_fpm_lint::project::Options;
use nginx_fpm_lint::settings::Settings;
use support::{get_within, require_stack, wait_until, Stack, Tree, TreeConfig, READY_TIMEOUT};

fn lint(tree: &Tree) -> LintOutput {
    let paths = vec![tree.root().join("php-fpm"), tree.root().join("nginx")];
    lint_paths(&paths, Options::default(), &Settings::default(), &all_rules)
}

fn findings<'a>(out: &'a LintOutput, code: &str) -> Vec<&'a Diagnostic> {
    out.diagnostics.iter().filter(|d| d.code == code).collect()
}

/// Write one diagnostic's fix to disk, as `--fix --unsafe-fixes` would for that finding.
fn apply_fix(out: &LintOutput, d: &Diagnostic) {
    let fix = d.fix.as_ref().expect("the finding offers a fix");
    let mut files: Vec<_> = fix.edits.iter().map(|e| e.file).collect();
    files.dedup();
    for id in files {
        let edits: Vec<_> = fix.edits.iter().filter(|e| e.file == id).cloned().collect();
        let text = &out.project.sources.get(id).text;
        let path: PathBuf = out.project.canonical_path(id).unwrap().to_path_buf();
        fs::write(&path, apply_edits(text, &edits).text).unwrap();
    }
}

fn assert_php_ok(stack: &Stack, pool: &str) {
    let (status, body) = stack.get("/index.php");
    assert_eq!(status, 200, "body: {body}\n{}", stack.logs());
    assert_eq!(body, format!("hello from pool {pool} on php-fpm 8.2\n"));
}

#[test]
fn pm_invalid_is_refused_by_php_fpm_and_the_fix_makes_it_serve() {
    let Some(bins) = require_stack() else { return };
    let tree = Tree::materialise(&TreeConfig::fixture("fpm-pm-invalid"));

    // The linter and php-fpm agree on what is wrong, in the same words.
    let out = lint(&tree);
    let found = findings(&out, "NFL301");
    assert_eq!(found.len(), 1, "{:?}", out.diagnostics);
    let alert = "ALERT: [pool www] pm.start_servers(4) must not be less than \
                 pm.min_spare_servers(1) and not greater than pm.max_spare_servers(3)";
    assert!(
        found[0].help.as_deref().unwrap_or("").contains(alert),
        "{:?}",
        found[0]
    );
    let t = tree.fpm_t(&bins);
    assert!(!t.ok, "php-fpm -t accepted it:\n{}", t.output);
    assert!(t.output.contains(alert), "{}", t.output);
    assert!(
        t.output.contains("FPM initialization failed"),
        "{}",
        t.output
    );

    // With php-fpm down, nginx answers 502.
    let nginx = Stack::try_start_nginx_only(bins.clone(), tree, "HTTP_PORT")
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, body) = nginx.get("/index.php");
    assert_eq!(status, 502, "{body}");
    let tree = nginx.into_tree();

    // The rule's own fix (unsafe) makes php-fpm accept the pool and serve.
    apply_fix(&out, found[0]);
    let t = tree.fpm_t(&bins);
    assert!(t.ok, "php-fpm -t still fails after the fix:\n{}", t.output);
    assert!(findings(&lint(&tree), "NFL301").is_empty());
    let stack = Stack::try_start_on(bins, tree, "HTTP_PORT").unwrap_or_else(|e| panic!("{e}"));
    assert_php_ok(&stack, "www");
}

#[test]
fn same_socket_in_two_pools_is_refused_even_by_php_fpm_t() {
    let Some(bins) = require_stack() else { return };
    let tree = Tree::materialise(&TreeConfig::fixture("fpm-listen-conflict-socket"));

    let out = lint(&tree);
    let found = findings(&out, "NFL103");
    assert_eq!(found.len(), 1, "{:?}", out.diagnostics);
    // Labels in both pool files.
    let files: std::collections::BTreeSet<_> = found[0].labels.iter().map(|l| l.file).collect();
    assert_eq!(files.len(), 2, "{:?}", found[0].labels);
    let line =
        "ERROR: [pool www] unable to set listen address as it's already used in another pool 'api'";
    assert!(found[0].help.as_deref().unwrap_or("").contains(line));

    let t = tree.fpm_t(&bins);
    assert!(!t.ok, "php-fpm -t accepted it:\n{}", t.output);
    assert!(t.output.contains(line), "{}", t.output);
    let nginx = Stack::try_start_nginx_only(bins.clone(), tree, "HTTP_PORT")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(nginx.get("/index.php").0, 502);
    let tree = nginx.into_tree();

    // The rule offers no fix (which pool moves is the author's call): move [api] by hand.
    let api = tree.root().join("php-fpm/pool.d/api.conf");
    let text = fs::read_to_string(&api).unwrap();
    fs::write(&api, text.replace("php8.2-fpm.sock", "api.sock")).unwrap();
    assert!(findings(&lint(&tree), "NFL103").is_empty());
    assert!(tree.fpm_t(&bins).ok);
    let stack = Stack::try_start_on(bins, tree, "HTTP_PORT").unwrap_or_else(|e| panic!("{e}"));
    assert_php_ok(&stack, "www");
}

/// A bare port and `127.0.0.1:port` are different strings, so `php-fpm -t` passes; the bind
/// at start-up fails. The linter sees the overlap.
#[test]
fn overlapping_tcp_listeners_pass_php_fpm_t_but_fail_to_start() {
    let Some(bins) = require_stack() else { return };
    let tree = Tree::materialise(&TreeConfig::fixture("fpm-listen-conflict-port"));
    let port = tree.port("FPM_PORT");

    let out = lint(&tree);
    let found = findings(&out, "NFL103");
    assert_eq!(found.len(), 1, "{:?}", out.diagnostics);
    assert!(found[0].message.contains(&format!("127.0.0.1:{port}")));

    let t = tree.fpm_t(&bins);
    assert!(t.ok, "php-fpm -t:\n{}", t.output);
    let err = match Stack::try_start_on(bins.clone(), tree, "HTTP_PORT") {
        Ok(_) => panic!("php-fpm started with two pools on port {port}"),
        Err(e) => e,
    };
    // [api] (api.conf) is read first and binds; [www] then fails.
    let bind = format!(
        "ERROR: unable to bind listening socket for address '{port}': Address already in use (98)"
    );
    assert!(err.contains(&bind), "{err}");
    assert!(
        found[0].help.as_deref().unwrap_or("").contains(&bind),
        "{:?}",
        found[0].help
    );
}

/// GET with a longer read timeout, for a request that waits in php-fpm's queue: the status,
/// or 0 when nginx closed without one.
fn get_slow(port: u16, path: &str) -> u16 {
    get_within(port, path, Duration::from_secs(20)).map_or(0, |r| r.status)
}

/// NFL302's max_children case: with one worker, a 3s script and fastcgi_read_timeout 5s, the
/// first of two concurrent requests answers 200 (3s) and the second, which waits 3s for the
/// worker and runs 3s more, answers 504. Both margins are 1s or more; two requests in all.
#[test]
fn exhausted_pool_queues_the_second_request_into_a_504() {
    let Some(bins) = require_stack() else { return };
    let tree = Tree::materialise(&TreeConfig::fixture("fpm-pool-exhaustion"));
    let out = lint(&tree);
    let found = findings(&out, "NFL302");
    assert_eq!(found.len(), 1, "{:?}", out.diagnostics);
    assert!(
        found[0]
            .message
            .contains("runs at most 1 PHP worker (`pm.max_children = 1`"),
        "{}",
        found[0].message
    );

    let stack = Stack::try_start_on(bins, tree, "HTTP_PORT").unwrap_or_else(|e| panic!("{e}"));
    let port = stack.http_port();
    let mut statuses: Vec<u16> = std::thread::scope(|s| {
        let a = s.spawn(|| get_slow(port, "/slow.php"));
        let b = s.spawn(|| get_slow(port, "/slow.php"));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    statuses.sort();
    assert_eq!(statuses, [200, 504], "{}", stack.logs());

    let (found, log) = stack.wait_nginx_log(
        "upstream timed out (110: Connection timed out) while reading response header from upstream",
        Duration::from_secs(2),
    );
    assert!(found, "{log}");
    // The line the rule quotes, from php-fpm's once-a-second pool maintenance.
    let reached =
        "WARNING: [pool www] server reached pm.max_children setting (1), consider raising it";
    let logged = wait_until(Duration::from_secs(3), || {
        stack.fpm_log().contains(reached).then_some(())
    });
    assert!(logged.is_some(), "{}", stack.logs());
}

/// `n` concurrent slow GETs; their statuses, sorted.
fn burst(port: u16, n: usize) -> Vec<u16> {
    let mut statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| s.spawn(move || get_slow(port, "/slow.php")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    statuses.sort();
    statuses
}

/// NFL302's listen.backlog case: one busy worker, a 1s script and `listen.backlog = 1`: of
/// four concurrent requests, those the queue cannot hold answer 502 at once with EAGAIN. With
/// the rule's fix (511) all four wait their turn (4s, under fastcgi_read_timeout 5s) and
/// answer 200.
#[test]
fn tiny_listen_backlog_turns_a_burst_into_502s_until_fixed() {
    let Some(bins) = require_stack() else { return };
    let config = TreeConfig::fixture("fpm-pool-exhaustion")
        .file(
            "php-fpm/pool.d/www.conf",
            "[www]\nlisten = @ROOT@/run/php8.2-fpm.sock\nlisten.backlog = 1\n\
             request_terminate_timeout = 30s\npm = static\npm.max_children = 1\n",
        )
        .file("www/slow.php", "<?php\nsleep(1);\necho \"done\\n\";\n");
    let tree = Tree::materialise(&config);
    let out = lint(&tree);
    let found: Vec<_> = findings(&out, "NFL302")
        .into_iter()
        .filter(|d| d.message.contains("listen.backlog = 1"))
        .collect();
    assert_eq!(found.len(), 1, "{:?}", out.diagnostics);
    let eagain = "failed (11: Resource temporarily unavailable) while connecting to upstream";
    assert!(found[0].help.as_deref().unwrap_or("").contains(eagain));

    let mut stack = Stack::try_start_on(bins, tree, "HTTP_PORT").unwrap_or_else(|e| panic!("{e}"));
    let port = stack.http_port();
    let before = burst(port, 4);
    assert!(before.contains(&502), "{before:?}\n{}", stack.logs());
    let (logged, log) = stack.wait_nginx_log(eagain, Duration::from_secs(2));
    assert!(logged, "{log}");

    apply_fix(&out, found[0]);
    stack.restart_fpm();
    // restart_fpm may see the old process's "ready" line in the log it appends to: wait for
    // the new master's socket too.
    let sock = stack.root().join("run/php8.2-fpm.sock");
    assert!(wait_until(READY_TIMEOUT, || sock.exists().then_some(())).is_some());
    let after = burst(port, 4);
    assert_eq!(after, [200, 200, 200, 200], "{}", stack.logs());
}
