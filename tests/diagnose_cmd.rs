//! `diagnose` as a command: inputs (rotated, compressed, standard input), time bounds, formats,
//! exit codes and errors. The log lines are ones nginx 1.22 and php-fpm 8.2 wrote in a real run
//! (tests/real_diagnose.rs makes them happen); the causes they show are checked there.

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;

const NGINX_LOG: &str = r#"2026/12/03 10:32:10 [crit] 22528#22528: *3 connect() to unix:/run/php/php8.1-fpm.sock failed (2: No such file or directory) while connecting to upstream, client: 127.0.0.1, server: shop.example, request: "GET /index.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.1-fpm.sock:", host: "shop.example"
2026/12/03 10:32:11 [notice] 22527#22527: signal process started
2026/12/03 11:40:02 [error] 22528#22528: *5 upstream sent too big header while reading response header from upstream, client: 127.0.0.1, server: shop.example, request: "GET /cart.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "shop.example"
"#;

const SITE: &str = "server {
    listen 80;
    server_name shop.example;
    root /var/www/shop;
    location ~ \\.php$ {
        include fastcgi.conf;
        fastcgi_pass unix:/run/php/php8.1-fpm.sock;
    }
}
";

const POOL: &str = "[www]
user = www-data
group = www-data
listen = /run/php/php8.2-fpm.sock
listen.owner = www-data
listen.group = www-data
pm = dynamic
pm.max_children = 20
pm.start_servers = 4
pm.min_spare_servers = 2
pm.max_spare_servers = 6
";

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &[u8]| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("etc/nginx/sites-enabled/shop", SITE.as_bytes());
    write("etc/php/8.2/fpm/pool.d/www.conf", POOL.as_bytes());
    write("log/error.log", NGINX_LOG.as_bytes());
    dir
}

fn cmd(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("nginx-fpm-lint").unwrap();
    c.current_dir(dir).arg("diagnose").arg("--isolated");
    c
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn ids(v: &serde_json::Value) -> Vec<&str> {
    v["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cause"].as_str().unwrap())
        .collect()
}

#[test]
fn concise_names_the_config_line_and_exits_1() {
    let dir = tree();
    let out = cmd(dir.path())
        .args(["--log", "log/error.log", "etc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("etc/nginx/sites-enabled/shop:7:22: error[listen-mismatch NFL101] "),
        "{text}"
    );
    assert!(
        text.contains("Read 3 log lines (0 of no known kind): 2 causes found."),
        "{text}"
    );
}

#[test]
fn json_shape() {
    let dir = tree();
    let out = cmd(dir.path())
        .args(["--format", "json", "--log", "log/error.log", "etc"])
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(ids(&v), ["listen-mismatch", "header-too-big"]);
    let c = &v["causes"][0];
    for key in [
        "count",
        "status",
        "first_seen",
        "last_seen",
        "evidence",
        "labels",
        "rule",
        "fix",
    ] {
        assert!(c.get(key).is_some(), "{key} missing: {c:#}");
    }
    assert_eq!(c["evidence"][0]["file"], "log/error.log");
    assert_eq!(c["evidence"][0]["line"], 1);
    assert_eq!(c["first_seen"], "2026-12-03 10:32:10");
    assert_eq!(v["lines_read"], 3);
    assert_eq!(v["lines_unknown"], 0);
}

#[test]
fn rotated_gzip_and_stdin_are_read() {
    let dir = tree();
    let gz = dir.path().join("log/error.log.2.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(NGINX_LOG.as_bytes()).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    let out = cmd(dir.path())
        .args(["--format", "json", "--log", "log/error.log.2.gz", "etc"])
        .output()
        .unwrap();
    assert_eq!(ids(&json_of(&out)), ["listen-mismatch", "header-too-big"]);

    let out = cmd(dir.path())
        .args(["--format", "json", "--log", "-", "etc"])
        .write_stdin(NGINX_LOG)
        .output()
        .unwrap();
    assert_eq!(ids(&json_of(&out)), ["listen-mismatch", "header-too-big"]);
}

#[test]
fn since_and_until_bound_the_lines() {
    let dir = tree();
    let out = cmd(dir.path())
        .args([
            "--format",
            "json",
            "--log",
            "log/error.log",
            "--since",
            "2026-12-03 11:00",
            "etc",
        ])
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(ids(&v), ["header-too-big"]);
    assert_eq!(v["lines_outside"], 1);
    let out = cmd(dir.path())
        .args([
            "--format",
            "json",
            "--log",
            "log/error.log",
            "--until",
            "2026-12-03T11:00",
            "etc",
        ])
        .output()
        .unwrap();
    assert_eq!(ids(&json_of(&out)), ["listen-mismatch"]);
}

#[test]
fn unknown_lines_are_counted_not_errors() {
    let dir = tree();
    std::fs::write(
        dir.path().join("log/mixed.log"),
        "GET / HTTP/1.1 200\nrandom words\n\n2026/12/03 10:32:11 [notice] 1#1: exiting\n",
    )
    .unwrap();
    let out = cmd(dir.path())
        .args(["--format", "json", "--log", "log/mixed.log", "etc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "no cause: exit 0");
    let v = json_of(&out);
    assert_eq!(ids(&v), Vec::<&str>::new());
    assert_eq!(v["lines_read"], 4);
    assert_eq!(v["lines_unknown"], 2);
}

#[test]
fn errors_exit_2() {
    let dir = tree();
    let out = cmd(dir.path()).arg("etc").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no log to read"));

    let out = cmd(dir.path())
        .args(["--log", "log/nope.log", "etc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("log/nope.log"));

    let out = cmd(dir.path())
        .args(["--log", "log/error.log", "--since", "yesterday", "etc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
}

#[test]
fn without_config_the_causes_still_show() {
    let dir = tree();
    let out = cmd(dir.path())
        .args(["--format", "json", "--log", "log/error.log"])
        .output()
        .unwrap();
    let v = json_of(&out);
    // Without pools nothing tells a wrong path from a stopped php-fpm.
    assert_eq!(ids(&v), ["backend-down", "header-too-big"]);
    assert!(v["causes"][0]["help"]
        .as_str()
        .unwrap()
        .contains("cannot be told from a stopped php-fpm"));
}

#[test]
fn backend_down_names_the_versioned_service() {
    let dir = tree();
    // Real shape: php-fpm stopped after a kill, its socket left behind.
    std::fs::write(
        dir.path().join("log/down.log"),
        r#"2026/12/03 10:40:00 [error] 7#7: *9 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: shop.example, request: "GET /index.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "shop.example"
"#,
    )
    .unwrap();
    let out = cmd(dir.path())
        .args(["--format", "json", "--log", "log/down.log", "etc"])
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(ids(&v), ["backend-down"]);
    let help = v["causes"][0]["help"].as_str().unwrap();
    assert!(help.contains("`systemctl status php8.2-fpm`"), "{help}");
    assert!(help.contains("killed without removing it"), "{help}");
}

#[test]
fn diff_prints_the_fix_of_the_causes() {
    let dir = tree();
    let out = cmd(dir.path())
        .args(["--diff", "--log", "log/error.log", "etc"])
        .output()
        .unwrap();
    let patch = String::from_utf8(out.stdout).unwrap();
    assert!(
        patch.contains("-        fastcgi_pass unix:/run/php/php8.1-fpm.sock;"),
        "{patch}"
    );
    assert!(
        patch.contains("+        fastcgi_pass unix:/run/php/php8.2-fpm.sock;"),
        "{patch}"
    );
}

#[test]
fn list_documents_every_cause() {
    let out = Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .args(["diagnose", "--list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for id in [
        "listen-mismatch",
        "backend-down",
        "socket-permission",
        "header-too-big",
        "script-not-found",
        "no-live-upstreams",
        "pool-exhausted",
        "upstream-timeout",
        "request-terminated",
        "worker-crashed",
        "oom-killed",
        "client-not-allowed",
        "fpm-start-failed",
        "php-fatal",
    ] {
        assert!(
            text.contains(&format!("{id} (HTTP ")),
            "{id} missing:\n{text}"
        );
    }
}
