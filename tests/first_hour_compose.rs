//! The first run on a docker-compose repository: other services' configs beside nginx's and
//! php-fpm's, a build folder the repository ignores. Nothing of theirs may fail the run, and
//! `--show-files` says what was left out and why.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn compose_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "docker-compose.yml",
        "services:\n  web:\n    image: nginx:1.27\n  app:\n    image: php:8.2-fpm\n  cache:\n    image: redis:7\n",
    );
    write(
        r,
        "docker/nginx/default.conf",
        "server {\n    listen 80;\n    root /var/www/html/public;\n    location ~ \\.php$ {\n        try_files $uri =404;\n        include fastcgi_params;\n        fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n        fastcgi_buffer_size 32k;\n        fastcgi_buffers 16 16k;\n        fastcgi_pass app:9000;\n    }\n}\n",
    );
    write(
        r,
        "docker/php/zz-docker.conf",
        "[global]\ndaemonize = no\n\n[www]\nlisten = 9000\npm = dynamic\npm.max_children = 20\npm.start_servers = 4\npm.min_spare_servers = 2\npm.max_spare_servers = 6\nrequest_terminate_timeout = 60s\n",
    );
    // Other services' configs, some named *.conf.
    write(
        r,
        "docker/redis.conf",
        "bind 0.0.0.0\nport 6379\nsave 900 1\nappendonly yes\n",
    );
    write(
        r,
        "docker/supervisord.conf",
        "[supervisord]\nnodaemon=true\n\n[program:worker]\ncommand=php /var/www/html/artisan queue:work\nautorestart=true\n",
    );
    write(
        r,
        "docker/mysql/conf.d/custom.cnf",
        "[mysqld]\nmax_connections = 200\ninnodb_buffer_pool_size = 256M\n",
    );
    // A build folder git ignores, holding a broken copy.
    write(r, ".gitignore", "build/\n");
    write(r, "build/nginx/default.conf", "server {\n    listen 80\n");
    let init = Command::new("git")
        .args(["init", "-q"])
        .current_dir(r)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status();
    if !init.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "git is needed under CI=true"
        );
        eprintln!("SKIPPED: git is not installed");
    }
    dir
}

fn lint(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .current_dir(dir)
        .args(["lint", "--isolated", "--format", "concise"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn other_services_configs_and_ignored_builds_do_not_fail_the_run() {
    let dir = compose_repository();
    let out = lint(dir.path(), &["."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The site and pool join (app:9000 to `listen = 9000`): nothing wrong, nothing refused.
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    for other in ["redis", "supervisord", "custom.cnf", "build/"] {
        assert!(
            !stdout.contains(other) && !stderr.contains(other),
            "{other}:\n{stdout}{stderr}"
        );
    }

    let out = lint(dir.path(), &["--show-files", "."]);
    let listing = String::from_utf8_lossy(&out.stdout);
    for (path, why) in [
        ("docker/nginx/default.conf", "nginx"),
        ("docker/php/zz-docker.conf", "php-fpm"),
        ("docker/redis.conf", "skipped"),
        ("docker/supervisord.conf", "skipped"),
        ("build/nginx/default.conf", ".gitignore"),
    ] {
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with(path) && l.contains(why)),
            "{path}: {why}\n{listing}"
        );
    }

    // Named on the command line, another tool's file is an error that says so.
    let out = lint(dir.path(), &["docker/redis.conf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an nginx or PHP-FPM file")
            || String::from_utf8_lossy(&out.stdout).contains("not an nginx or PHP-FPM file"),
        "{out:?}"
    );
}
