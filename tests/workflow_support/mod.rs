//! Shared by the CLI workflow tests (cli, config, suppress, sarif, precommit): small config
//! trees in temp dirs and the binary run inside them.
#![allow(dead_code)]

use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

pub const NGINX_CONF: &str = "\
user www-data;
events {}
http {
    include /etc/nginx/sites-enabled/*;
}
";

/// A site whose fastcgi_pass names a socket no pool listens on (NFL101).
pub const SITE_BROKEN: &str = "\
server {
    listen 80;
    root /var/www/app;
    location ~ \\.php$ {
        include snippets/fastcgi-php.conf;
        fastcgi_pass unix:/run/php/php8.1-fpm.sock;
    }
}
";

pub const SITE_FIXED: &str = "\
server {
    listen 80;
    root /var/www/app;
    location ~ \\.php$ {
        include snippets/fastcgi-php.conf;
        fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    }
}
";

pub const FPM_CONF: &str = "\
[global]
pid = /run/php/php8.2-fpm.pid
include=/etc/php/8.2/fpm/pool.d/*.conf
";

pub const POOL: &str = "\
[www]
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

pub const SITE: &str = "etc/nginx/sites-enabled/app.conf";
pub const POOL_PATH: &str = "etc/php/8.2/fpm/pool.d/www.conf";

/// A Debian-layout config tree with `site` as the one site.
pub fn stack(site: &str) -> TempDir {
    tree(&[
        ("etc/nginx/nginx.conf", NGINX_CONF),
        (SITE, site),
        ("etc/php/8.2/fpm/php-fpm.conf", FPM_CONF),
        (POOL_PATH, POOL),
    ])
}

pub fn tree(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    dir
}

pub fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

pub fn read(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path)).unwrap()
}

/// The binary, run in `dir`, without color or a config from the environment.
pub fn lint_cmd(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("nginx-fpm-lint").unwrap();
    c.current_dir(dir).env("NO_COLOR", "1").arg("lint");
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(mut c: Command) -> Run {
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// In CI a missing tool is a failure; elsewhere the test says why it skipped and passes.
pub fn skip_or_fail(why: &str) {
    if std::env::var_os("CI").is_some_and(|v| v == "true") {
        panic!("{why} (CI=true: not skipping)");
    }
    eprintln!("SKIPPED: {why}");
}

/// The rules these tests are about; keeps them independent of rules added later (a new rule
/// flagging something in these trees would otherwise change exit codes under test).
pub const SELECT: &str = "--select=NFL001,NFL002,NFL003,NFL101";
