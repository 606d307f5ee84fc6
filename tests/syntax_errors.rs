//! nginx syntax errors: nginx-fpm-lint refuses every file in fixtures/syntax-errors/ with exit 2
//! and `path:line:col: error: message`, and so does real `nginx -t`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

/// (file, expected line, expected message fragment) from each fixture's first comment.
fn cases() -> Vec<(PathBuf, u32, String)> {
    cases_with_nginx_line()
        .into_iter()
        .map(|(p, l, m, _)| (p, l, m))
        .collect()
}

/// As `cases`, plus the line real nginx reports when it differs (`# nginx line N: why`).
fn cases_with_nginx_line() -> Vec<(PathBuf, u32, String, Option<u32>)> {
    // Relative: the CLI names files as given, and tests run from the crate root.
    let dir = Path::new("fixtures/syntax-errors");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "conf") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap();
        let spec = first
            .strip_prefix("# line ")
            .expect("first line: # line N: message");
        let (line, message) = spec.split_once(": ").unwrap();
        let nginx_line = text
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("# nginx line "))
            .and_then(|l| l.split(':').next())
            .map(|n| n.parse().unwrap());
        out.push((path, line.parse().unwrap(), message.to_owned(), nginx_line));
    }
    out.sort();
    assert!(out.len() >= 8, "syntax-error fixtures missing");
    out
}

#[test]
fn lint_refuses_each_with_file_line_and_column() {
    for (path, line, message) in cases() {
        let output = Command::cargo_bin("nginx-fpm-lint")
            .unwrap()
            .args(["lint", "--format", "concise"])
            .arg(&path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{}: {stdout}",
            path.display()
        );
        let want_prefix = format!("{}:{line}:", path.display());
        let error_line = stdout
            .lines()
            .find(|l| l.contains(": error: "))
            .unwrap_or_else(|| panic!("{}: no error line in {stdout}", path.display()));
        assert!(
            error_line.starts_with(&want_prefix),
            "{}: want {want_prefix}..., got {error_line}",
            path.display()
        );
        // path:line:col: error: ...
        let col = error_line[want_prefix.len()..].split(':').next().unwrap();
        assert!(
            col.parse::<u32>().is_ok_and(|c| c >= 1),
            "no column in {error_line}"
        );
        assert!(
            error_line.contains(&message),
            "{}: want {message:?} in {error_line}",
            path.display()
        );
    }
}

#[test]
fn real_nginx_refuses_each_too() {
    let Some(bins) = support::require_stack() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for (path, line, _, nginx_line) in cases_with_nginx_line() {
        let path = std::fs::canonicalize(&path).unwrap();
        // Every fixture is written for the http context.
        let conf = root.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "pid {r}/nginx.pid;\nerror_log {r}/error.log;\nevents {{}}\nhttp {{\n  client_body_temp_path {r}/t1;\n  proxy_temp_path {r}/t2;\n  fastcgi_temp_path {r}/t3;\n  uwsgi_temp_path {r}/t4;\n  scgi_temp_path {r}/t5;\n  access_log off;\n  include {f};\n}}\n",
                r = root.display(),
                f = path.display()
            ),
        )
        .unwrap();
        let out = Command::new(&bins.nginx)
            .arg("-t")
            .arg("-p")
            .arg(root)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(root.join("error.log"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "nginx -t accepted {}: {stderr}",
            path.display()
        );
        assert!(stderr.contains("emerg"), "{}: {stderr}", path.display());
        // nginx ends its message with `in FILE:LINE`: same line as ours, unless documented.
        let want = format!("{}:{}", path.display(), nginx_line.unwrap_or(line));
        assert!(
            stderr.contains(&want),
            "nginx reports another line than {want}: {stderr}"
        );
    }
}
