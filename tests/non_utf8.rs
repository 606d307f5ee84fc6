//! Files that are not UTF-8 (a Latin-1 comment, an EUC-KR `return` string): nginx and php-fpm
//! read bytes and accept them, so the linter reads them too, and its fixes and diffs keep
//! every byte it did not edit.
//!
//! The trees are written by the tests (byte literals), not committed: what matters is the
//! exact bytes, which editors and checkouts should not get a chance to touch.

mod support;

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// The nginx file: a Latin-1 comment, an EUC-KR comment and `return` string (two bytes a
/// syllable), and a `fastcgi_pass` to a socket no pool listens on (NFL101, a safe fix).
const NGINX_CONF: &[u8] = b"# r\xe9glages du site (Latin-1)
user www-data;
events {}
http {
    server {
        listen 127.0.0.1:8080;
        root /var/www/html;
        # EUC-KR: \xc7\xd1\xb1\xdb
        location = /hello { return 200 \"\xc7\xd1\xb1\xdb caf\xe9\\n\"; }

        location ~ \\.php$ {
            include fastcgi.conf;
            fastcgi_pass unix:/run/php/php8.1-fpm.sock;
        }
    }
}
";

const FASTCGI_CONF: &[u8] = b"fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
fastcgi_param QUERY_STRING $query_string;
";

/// The pool: a Latin-1 comment and a Latin-1 environment value.
fn pool(listen: &[u8]) -> Vec<u8> {
    let mut pool =
        b"; r\xe9glages du pool\n[www]\nuser = www-data\ngroup = www-data\nlisten = ".to_vec();
    pool.extend_from_slice(listen);
    pool.extend_from_slice(
        b"\nlisten.owner = www-data\nlisten.group = www-data\npm = dynamic\npm.max_children = 20
pm.start_servers = 4\npm.min_spare_servers = 2\npm.max_spare_servers = 6\nenv[GREETING] = caf\xe9\n",
    );
    pool
}

const POOL_PATH: &str = "php/8.2/fpm/pool.d/www.conf";

/// Write the tree into `dir`; `map` turns each byte of the files (to build a UTF-8 twin).
fn write_tree(dir: &Path, listen: &[u8], map: fn(u8) -> u8) {
    let files: [(&str, Vec<u8>); 3] = [
        ("nginx/nginx.conf", NGINX_CONF.to_vec()),
        ("nginx/fastcgi.conf", FASTCGI_CONF.to_vec()),
        (POOL_PATH, pool(listen)),
    ];
    for (name, bytes) in files {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes.into_iter().map(map).collect::<Vec<u8>>()).unwrap();
    }
}

fn same(b: u8) -> u8 {
    b
}

/// Each byte that is not ASCII becomes `Z`: a UTF-8 twin with the same offsets.
fn ascii_twin(b: u8) -> u8 {
    if b.is_ascii() {
        b
    } else {
        b'Z'
    }
}

fn cli(dir: &Path, args: &[&str]) -> std::process::Output {
    support::run_cli(dir, args)
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    fs::read(dir.join(name)).unwrap()
}

fn high_bytes(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().copied().filter(|b| !b.is_ascii()).collect()
}

#[test]
fn real_nginx_and_php_fpm_accept_the_tree() {
    let Some(bins) = support::require_stack() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    write_tree(d.path(), b"/run/php/php8.2-fpm.sock", same);
    let root = d.path();
    let nginx = Command::new(&bins.nginx)
        .arg("-p")
        .arg(root)
        .arg("-c")
        .arg(root.join("nginx/nginx.conf"))
        .arg("-e")
        .arg(root.join("error.log"))
        .arg("-t")
        .output()
        .unwrap();
    assert!(nginx.status.success(), "{}", support::show(&nginx));
    fs::write(
        root.join("php-fpm.conf"),
        format!(
            "[global]\nerror_log = {}\ninclude = {}\n",
            root.join("fpm.log").display(),
            root.join(POOL_PATH).display()
        ),
    )
    .unwrap();
    let fpm = Command::new(&bins.php_fpm)
        .arg("-t")
        .arg("-n")
        .arg("-y")
        .arg(root.join("php-fpm.conf"))
        .output()
        .unwrap();
    assert!(fpm.status.success(), "{}", support::show(&fpm));
}

#[test]
fn lint_reads_the_bytes_and_reports_positions() {
    let d = tempfile::tempdir().unwrap();
    write_tree(d.path(), b"/run/php/php8.2-fpm.sock", same);
    let out = cli(d.path(), &["lint", "--format", "concise", "."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Findings, not a refusal (exit 1, not 2).
    assert_eq!(out.status.code(), Some(1), "{}", support::show(&out));
    // Line 13, column 26 (counted by hand): where `unix:` starts.
    assert!(
        stdout.contains("nginx/nginx.conf:13:26: error[NFL101"),
        "{}",
        support::show(&out)
    );

    // A column after bytes that are not UTF-8 counts one per byte: `return 200 "` is 21
    // characters after `server { `, the EUC-KR word 4 bytes, the quote column 26, the stray
    // `x` nginx refuses column 27.
    fs::write(
        d.path().join("broken.conf"),
        b"server { return 200 \"\xc7\xd1\xb1\xdb\"x; }\n",
    )
    .unwrap();
    let out = cli(d.path(), &["lint", "--format", "concise", "broken.conf"]);
    assert_eq!(out.status.code(), Some(2), "{}", support::show(&out));
    let all = support::show(&out);
    assert!(all.contains("broken.conf:1:27"), "{all}");
    assert!(!all.contains("panicked"), "{all}");

    // Human output shows such a byte as "?", never the raw byte or nothing.
    let out = cli(d.path(), &["lint", "--format", "human", "broken.conf"]);
    let all = support::show(&out);
    assert!(all.contains("return 200 \"????\"x;"), "{all}");
}

#[test]
fn parse_prints_json_without_panicking() {
    let d = tempfile::tempdir().unwrap();
    write_tree(d.path(), b"/run/php/php8.2-fpm.sock", same);
    for file in ["nginx/nginx.conf", POOL_PATH] {
        let out = cli(d.path(), &["parse", file]);
        assert_eq!(out.status.code(), Some(0), "{}", support::show(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(json["config"].as_array().is_some_and(|c| !c.is_empty()));
    }
}

#[test]
fn fix_changes_only_the_edited_bytes() {
    let d = tempfile::tempdir().unwrap();
    write_tree(d.path(), b"/run/php/php8.2-fpm.sock", same);
    let twin = tempfile::tempdir().unwrap();
    write_tree(twin.path(), b"/run/php/php8.2-fpm.sock", ascii_twin);
    for dir in [d.path(), twin.path()] {
        let out = cli(dir, &["lint", "--fix", "--quiet", "."]);
        assert_ne!(out.status.code(), Some(2), "{}", support::show(&out));
    }
    let fixed = read(d.path(), "nginx/nginx.conf");
    assert_ne!(fixed, NGINX_CONF, "the fixes were applied");
    assert!(
        fixed
            .windows(b"php8.2-fpm.sock".len())
            .any(|w| w == b"php8.2-fpm.sock"),
        "{}",
        String::from_utf8_lossy(&fixed)
    );
    // Every byte that is not UTF-8 is still there, in order, and the rest is exactly what
    // the same fixes make of the UTF-8 twin.
    assert_eq!(high_bytes(&fixed), high_bytes(NGINX_CONF));
    let fixed_as_twin: Vec<u8> = fixed.iter().copied().map(ascii_twin).collect();
    assert_eq!(
        String::from_utf8(fixed_as_twin).unwrap(),
        String::from_utf8(read(twin.path(), "nginx/nginx.conf")).unwrap()
    );
    // Files without fixes are untouched.
    assert_eq!(read(d.path(), POOL_PATH), pool(b"/run/php/php8.2-fpm.sock"));
    assert_eq!(read(d.path(), "nginx/fastcgi.conf"), FASTCGI_CONF);
}

/// Pipe `patch` into `cmd` run in `dir`.
fn apply(mut cmd: Command, dir: &Path, patch: &[u8]) {
    let mut child = cmd
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(patch).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", support::show(&out));
}

#[test]
fn diff_applies_to_the_original_bytes() {
    let fixed = tempfile::tempdir().unwrap();
    write_tree(fixed.path(), b"/run/php/php8.2-fpm.sock", same);
    cli(fixed.path(), &["lint", "--fix", "--quiet", "."]);

    let d = tempfile::tempdir().unwrap();
    write_tree(d.path(), b"/run/php/php8.2-fpm.sock", same);
    let out = cli(d.path(), &["lint", "--diff", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", support::show(&out));
    let patch = out.stdout;
    assert!(
        patch.windows(4).any(|w| w == b"\xc7\xd1\xb1\xdb"),
        "the context lines keep the original bytes"
    );
    // --diff writes nothing.
    assert_eq!(read(d.path(), "nginx/nginx.conf"), NGINX_CONF);

    let mut git = Command::new("git");
    git.args(["apply", "--verbose", "-"])
        .env("GIT_CEILING_DIRECTORIES", d.path().parent().unwrap());
    apply(git, d.path(), &patch);
    assert_eq!(
        read(d.path(), "nginx/nginx.conf"),
        read(fixed.path(), "nginx/nginx.conf")
    );

    let p = tempfile::tempdir().unwrap();
    write_tree(p.path(), b"/run/php/php8.2-fpm.sock", same);
    let mut patch_cmd = Command::new("patch");
    patch_cmd.args(["-p1", "--batch", "--no-backup-if-mismatch"]);
    apply(patch_cmd, p.path(), &patch);
    assert_eq!(
        read(p.path(), "nginx/nginx.conf"),
        read(fixed.path(), "nginx/nginx.conf")
    );
}

#[test]
fn a_fix_that_would_copy_a_byte_it_cannot_know_is_not_written() {
    // The pool listens on a socket whose name is Latin-1: the NFL101 fix would copy that name
    // into nginx.conf, but the text only holds a placeholder for the byte.
    let listen = b"/run/php/caf\xe9.sock";
    let d = tempfile::tempdir().unwrap();
    write_tree(d.path(), listen, same);
    let out = cli(d.path(), &["lint", "--fix", "."]);
    let all = support::show(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("nginx/nginx.conf: a fix copies bytes"),
        "{all}"
    );
    assert_eq!(read(d.path(), "nginx/nginx.conf"), NGINX_CONF);
    assert_eq!(read(d.path(), POOL_PATH), pool(listen));

    let out = cli(d.path(), &["lint", "--diff", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", support::show(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("nginx/nginx.conf"));
}
