//! Absolute symlinks in /etc dumps (etckeeper): `sites-enabled/x -> /etc/nginx/sites-available/x`
//! is resolved inside the linted tree, as an absolute include is, never on the machine running
//! the linter. A link whose target is not in the tree is a warning naming the link.
//!
//! The links are made by the tests: absolute links committed to git would be fragile.

mod support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

const NGINX_CONF: &str = "user www-data;
events {}
http {
    include /etc/nginx/sites-enabled/*;
}
";

/// In the tree only: a pass to a socket nothing listens on (NFL101), so reading it shows.
const SHOP: &str = "server {
    listen 8081;
    server_name shop.example;
    root /var/www/shop;
    location ~ \\.php$ {
        include fastcgi.conf;
        fastcgi_pass unix:/run/php/shop.sock;
    }
}
";

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// An /etc dump: nginx.conf, sites-available/shop, and in sites-enabled absolute links to
/// shop (in the tree), to `default` (on this machine, not in the tree), to a file that is
/// nowhere, and to /etc/passwd (on every machine; as nginx it would be a syntax error).
const POOL: &str = "[www]\nuser = www-data\ngroup = www-data\nlisten = /run/php/php8.2-fpm.sock\nlisten.owner = www-data\nlisten.group = www-data\npm = dynamic\npm.max_children = 5\npm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 3\n";

fn etc_dump(dir: &Path) {
    write(dir, "etc/nginx/nginx.conf", NGINX_CONF);
    write(dir, "etc/php/8.2/fpm/pool.d/www.conf", POOL);
    write(
        dir,
        "etc/nginx/fastcgi.conf",
        "fastcgi_param SCRIPT_FILENAME $request_filename;\n",
    );
    write(dir, "etc/nginx/sites-available/shop", SHOP);
    let enabled = dir.join("etc/nginx/sites-enabled");
    fs::create_dir_all(&enabled).unwrap();
    for (name, target) in [
        ("shop", "/etc/nginx/sites-available/shop"),
        ("default", "/etc/nginx/sites-available/default"),
        ("missing", "/etc/nginx/sites-available/missing"),
        ("passwd", "/etc/passwd"),
    ] {
        symlink(target, enabled.join(name)).unwrap();
    }
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn absolute_links_resolve_in_the_tree_and_never_on_the_host() {
    let host_default = Path::new("/etc/nginx/sites-available/default");
    if !host_default.is_file() {
        // /etc/passwd still proves it; say that the stronger case did not run.
        eprintln!("note: {} absent on this machine", host_default.display());
    }
    let d = tempfile::tempdir().unwrap();
    etc_dump(d.path());
    for args in [
        &["lint", "--format", "concise", "."][..],
        &["lint", "--format", "concise", "etc/nginx/nginx.conf"][..],
    ] {
        let out = support::run_cli(d.path(), args);
        let all = support::show(&out);
        // Findings, not a failed run: no "No such file or directory", no syntax error in
        // /etc/passwd or the host's default site.
        assert_eq!(out.status.code(), Some(1), "{args:?}\n{all}");
        let text = stdout(&out);
        // Its pass is judged (NFL101 with the pools in the linted paths, else NFL105).
        assert!(
            text.contains("etc/nginx/sites-available/shop:7:22: "),
            "the tree's shop site is linted through its link\n{all}"
        );
        for link in ["default", "missing", "passwd"] {
            let needle = format!(
                "etc/nginx/sites-enabled/{link}:1:1: warning[NFL001 include-not-found] symlink"
            );
            assert!(text.contains(&needle), "{needle}\n{all}");
        }
        // The only error is the tree's shop site's (nothing from /etc/passwd or the host).
        assert!(text.matches("error[").count() <= 1, "{all}");
        assert!(!all.contains("os error"), "{all}");
    }

    // Nothing of the host's files reaches the parsed tree.
    let out = support::run_cli(d.path(), &["parse", "etc/nginx/nginx.conf"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<&serde_json::Value> = json["config"].as_array().unwrap().iter().collect();
    let names: Vec<&str> = files.iter().map(|f| f["file"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"etc/nginx/sites-available/shop"),
        "{names:?}"
    );
    for f in &files {
        let name = f["file"].as_str().unwrap();
        if ["default", "missing", "passwd"]
            .iter()
            .any(|l| name.ends_with(&format!("sites-enabled/{l}")))
        {
            assert_eq!(f["status"], "not-found", "{f}");
            assert_eq!(f["parsed"], serde_json::json!([]), "{f}");
        }
    }
    let servers = json.to_string().matches("\"server_name\"").count();
    assert_eq!(servers, 1, "only the tree's shop site: {json}");
}

#[test]
fn a_link_named_on_the_command_line_is_mapped_too() {
    let d = tempfile::tempdir().unwrap();
    etc_dump(d.path());
    let out = support::run_cli(
        d.path(),
        &[
            "lint",
            "--format",
            "concise",
            "etc/nginx/sites-enabled/missing",
        ],
    );
    let all = support::show(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        stdout(&out).contains("sites-enabled/missing:1:1: warning[NFL001"),
        "{all}"
    );
}

#[test]
fn map_flag_applies_to_link_targets() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "nginx/nginx.conf",
        NGINX_CONF
            .replace("/etc/nginx/sites-enabled/*", "sites/*")
            .as_str(),
    );
    write(
        d.path(),
        "nginx/fastcgi.conf",
        "fastcgi_param SCRIPT_FILENAME $request_filename;\n",
    );
    // No extension: discovery does not pick it up; only the mapped link reaches it.
    write(d.path(), "deploy/shop", SHOP);
    write(d.path(), "php/pool.d/www.conf", POOL);
    fs::create_dir_all(d.path().join("nginx/sites")).unwrap();
    symlink("/srv/deploy/shop", d.path().join("nginx/sites/shop")).unwrap();
    let out = support::run_cli(
        d.path(),
        &[
            "lint",
            "--format",
            "concise",
            "--map",
            "/srv/deploy=deploy",
            ".",
        ],
    );
    let all = support::show(&out);
    assert!(
        stdout(&out).contains("deploy/shop:7:22: error[NFL101"),
        "{all}"
    );
    assert!(!stdout(&out).contains("NFL001"), "{all}");
}

#[test]
fn fix_writes_the_tree_file_and_keeps_the_link() {
    let d = tempfile::tempdir().unwrap();
    etc_dump(d.path());
    let out = support::run_cli(d.path(), &["lint", "--fix", "."]);
    let all = support::show(&out);
    assert_ne!(out.status.code(), Some(2), "{all}");
    let shop = fs::read_to_string(d.path().join("etc/nginx/sites-available/shop")).unwrap();
    assert!(shop.contains("php8.2-fpm.sock"), "{all}\n{shop}");
    let link = d.path().join("etc/nginx/sites-enabled/shop");
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_link(&link).unwrap(),
        Path::new("/etc/nginx/sites-available/shop")
    );
    assert!(!Path::new("/etc/nginx/sites-available/shop").exists());
}
