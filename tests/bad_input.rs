//! Bad input through the CLI: every case ends (no hang), exits with the documented code, and
//! names the file (and the position, where there is one).
//!
//! Exit codes (src/run.rs): 2 when a file cannot be read or parsed; 1 for findings. Include
//! cycles stay a finding (NFL002, exit 1), like a missing include (NFL001): every file was
//! read and checked, and the finding names the whole chain; exit 2 means "could not read or
//! parse, findings may be incomplete".
//!
//! The 100 MB case is mostly comments in debug builds (it checks reading, decoding and the
//! parser's loop, in ~5 s); in release builds, or with NFL_BIG_TESTS=1, it is 100 MB of real
//! server blocks.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

/// Generous: these guard against hangs, they do not measure speed.
const HANG_GUARD: Duration = Duration::from_secs(120);

struct Run {
    code: i32,
    out: String,
}

fn lint(dir: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .current_dir(dir)
        .arg("lint")
        .args(args)
        .timeout(HANG_GUARD)
        .output()
        .unwrap();
    let code = out
        .status
        .code()
        .expect("finished (a timeout or a crash has no exit code)");
    Run {
        code,
        out: String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr),
    }
}

fn assert_run(run: &Run, code: i32, needles: &[&str]) {
    assert_eq!(run.code, code, "{}", run.out);
    for n in needles {
        assert!(run.out.contains(n), "missing {n:?} in:\n{}", run.out);
    }
    assert!(!run.out.contains("panicked"), "{}", run.out);
}

fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) {
    let p = dir.join(name);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

#[test]
fn binary_file() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "bin.conf",
        b"user x;\n\x7fELF\x02\x01\x00\x00binary",
    );
    assert_run(
        &lint(d.path(), &["bin.conf"]),
        2,
        &["bin.conf", "2:7", "NUL byte"],
    );
}

#[test]
fn bytes_that_are_not_utf8_are_read_as_nginx_reads_them() {
    // nginx reads bytes: a Latin-1 comment is valid (tests/non_utf8.rs runs nginx -t on such
    // files and checks fixes and diffs keep the bytes).
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "latin1.conf", b"user www-data;\n# caf\xe9\n");
    assert_run(&lint(d.path(), &["latin1.conf"]), 0, &[]);
}

#[test]
fn empty_and_comment_only_files_are_fine() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "empty.conf", "");
    write(d.path(), "comments.conf", "# nothing\n# here\n");
    write(d.path(), "pool.d/empty-pool.conf", "; only\n; comments\n");
    let run = lint(d.path(), &["."]);
    assert_run(&run, 0, &[]);
    assert!(!run.out.contains("error"), "{}", run.out);
}

#[test]
fn file_of_100_mb() {
    let d = tempfile::tempdir().unwrap();
    let big = !cfg!(debug_assertions) || std::env::var_os("NFL_BIG_TESTS").is_some();
    let head = "events {}\nhttp {\n";
    let chunk = if big {
        "    server {\n        listen 80;\n        server_name a.example;\n        location / { try_files $uri =404; }\n    }\n"
    } else {
        "    # padding padding padding padding padding padding padding padding padding\n"
    };
    let n = (100 << 20) / chunk.len();
    let mut text = String::with_capacity(head.len() + n * chunk.len() + 2);
    text.push_str(head);
    for _ in 0..n {
        text.push_str(chunk);
    }
    text.push_str("}\n");
    assert!(text.len() >= 100 << 20);
    write(d.path(), "nginx.conf", &text);
    drop(text);
    assert_run(&lint(d.path(), &["nginx.conf"]), 0, &[]);
}

#[test]
fn file_over_4_gib_is_refused_without_reading_it() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("huge.conf");
    // Sparse: no disk space, no time.
    fs::File::create(&p)
        .unwrap()
        .set_len(u32::MAX as u64 + 1)
        .unwrap();
    assert_run(
        &lint(d.path(), &["huge.conf"]),
        2,
        &["huge.conf", "too large"],
    );
}

#[test]
fn line_of_1_mb() {
    let d = tempfile::tempdir().unwrap();
    let long = "a".repeat(1 << 20);
    write(
        d.path(),
        "long.conf",
        format!("events {{}}\nhttp {{ server {{ server_name {long}; }} }}\n# {long}\n"),
    );
    assert_run(&lint(d.path(), &["long.conf"]), 0, &[]);
    // A NUL byte at the end of a 1 MB line: the column is counted in characters.
    let mut bytes = format!("# {long}").into_bytes();
    bytes.push(0);
    write(d.path(), "bad.conf", bytes);
    let col = format!("1:{}", (1 << 20) + 3);
    assert_run(
        &lint(d.path(), &["bad.conf"]),
        2,
        &["bad.conf", &col, "NUL byte"],
    );
}

#[test]
fn ten_thousand_nested_blocks_are_a_syntax_error_not_a_crash() {
    let d = tempfile::tempdir().unwrap();
    let n = 10_000;
    write(
        d.path(),
        "deep.conf",
        format!("{}{}", "a {\n".repeat(n), "}\n".repeat(n)),
    );
    assert_run(
        &lint(d.path(), &["deep.conf"]),
        2,
        &["deep.conf", "201:", "nest more than 200 levels"],
    );
    // The same through `parse`, which serializes the tree.
    let out = Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .current_dir(d.path())
        .args(["parse", "deep.conf"])
        .timeout(HANG_GUARD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // And 200 levels, the most allowed, work end to end.
    let n = 200;
    write(
        d.path(),
        "ok.conf",
        format!("{}{}", "a {\n".repeat(n), "}\n".repeat(n)),
    );
    let run = lint(d.path(), &["ok.conf"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.out);
    assert!(!run.out.contains("panicked"), "{}", run.out);
}

#[test]
fn deep_nesting_among_many_files_is_parsed_on_worker_threads_safely() {
    // Enough files that reading and parsing run on several threads, whose stacks must hold
    // the deepest nesting allowed (and the grammar's fallback for the refused one).
    let d = tempfile::tempdir().unwrap();
    for k in 0..100 {
        write(
            d.path(),
            &format!("site{k:03}.conf"),
            "server { listen 80; }\n",
        );
    }
    let nest = |n: usize| format!("{}{}", "a {\n".repeat(n), "}\n".repeat(n));
    write(d.path(), "ok.conf", nest(200));
    write(d.path(), "deep.conf", nest(10_000));
    let run = lint(d.path(), &["."]);
    assert_run(&run, 2, &["deep.conf", "201:", "nest more than 200 levels"]);
    // 200 levels parse (the model then declines to walk past 100: NFL002, not a crash).
    assert!(
        !run.out
            .lines()
            .any(|l| l.starts_with("ok.conf") && l.contains("not parsed")),
        "{}",
        run.out
    );
    assert!(!run.out.contains("panicked"), "{}", run.out);
}

#[test]
fn includes_ten_deep() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "nginx.conf",
        "events {}\nhttp {\n    include inc1.conf;\n}\n",
    );
    for i in 1..10 {
        write(
            d.path(),
            &format!("inc{i}.conf"),
            format!("# level {i}\ninclude inc{}.conf;\n", i + 1),
        );
    }
    write(d.path(), "inc10.conf", "server { listen 80; }\n");
    let run = lint(d.path(), &["."]);
    assert_run(&run, 0, &[]);
}

#[test]
fn include_cycle_is_reported_not_a_hang() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "nginx.conf",
        "events {}\nhttp {\n    include a.conf;\n}\n",
    );
    write(d.path(), "a.conf", "include b.conf;\n");
    write(d.path(), "b.conf", "include a.conf;\n");
    assert_run(
        &lint(d.path(), &["."]),
        1,
        &[
            "b.conf:1:9",
            "NFL002",
            "nginx.conf -> a.conf -> b.conf -> a.conf",
        ],
    );
    // A file that includes itself.
    write(d.path(), "a.conf", "include a.conf;\n");
    assert_run(&lint(d.path(), &["."]), 1, &["a.conf:1:9", "NFL002"]);
}

#[test]
fn symlink_loops() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "nginx.conf", "events {}\n");
    std::os::unix::fs::symlink("loop2.conf", d.path().join("loop1.conf")).unwrap();
    std::os::unix::fs::symlink("loop1.conf", d.path().join("loop2.conf")).unwrap();
    assert_run(
        &lint(d.path(), &["loop1.conf"]),
        2,
        &["loop1.conf", "symbolic links"],
    );
    assert_run(
        &lint(d.path(), &["."]),
        2,
        &["loop1.conf", "loop2.conf", "symbolic links"],
    );
    // A directory that links back to its parent.
    fs::remove_file(d.path().join("loop1.conf")).unwrap();
    fs::remove_file(d.path().join("loop2.conf")).unwrap();
    fs::create_dir(d.path().join("sites")).unwrap();
    std::os::unix::fs::symlink("..", d.path().join("sites/up")).unwrap();
    assert_run(&lint(d.path(), &["."]), 2, &["sites/up", "symlink loop"]);
}

#[test]
fn unreadable_files() {
    let d = tempfile::tempdir().unwrap();
    // A read that fails even for root: /proc/self/mem errors (EIO) at offset 0.
    if Path::new("/proc/self/mem").exists() {
        assert_run(
            &lint(d.path(), &["/proc/self/mem"]),
            2,
            &["/proc/self/mem", "Input/output error"],
        );
    }
    write(d.path(), "secret.conf", "events {}\n");
    let p = d.path().join("secret.conf");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o000)).unwrap();
    let run = if fs::read(&p).is_ok() {
        // Root (as in CI) reads through chmod 000: run the binary as `nobody` instead, from a
        // copy in the temp dir so that user can execute it wherever the checkout is.
        lint_as_nobody(d.path(), &["secret.conf"])
    } else {
        lint(d.path(), &["secret.conf"])
    };
    assert_run(&run, 2, &["secret.conf", "Permission denied"]);
}

/// [`lint`] as uid/gid 65534 (`nobody`/`nogroup`), for a root test process.
fn lint_as_nobody(dir: &Path, args: &[&str]) -> Run {
    use std::os::unix::process::CommandExt;
    let bin = dir.join("nginx-fpm-lint");
    fs::copy(assert_cmd::cargo::cargo_bin("nginx-fpm-lint"), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = std::process::Command::new(&bin);
    cmd.current_dir(dir)
        .arg("lint")
        .args(args)
        .uid(65534)
        .gid(65534);
    let out = Command::from_std(cmd).timeout(HANG_GUARD).output().unwrap();
    Run {
        code: out.status.code().expect("finished"),
        out: String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr),
    }
}

#[test]
fn fifo_is_refused_not_waited_on() {
    let d = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(d.path().join("pipe.conf"))
        .status();
    if !status.is_ok_and(|s| s.success()) {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("mkfifo is required in CI");
        }
        println!("SKIPPED: mkfifo not available");
        return;
    }
    assert_run(
        &lint(d.path(), &["pipe.conf"]),
        2,
        &["pipe.conf", "not a regular file"],
    );
    // Found by walking a directory, a FIFO is not a config file and is passed over.
    write(d.path(), "nginx.conf", "events {}\n");
    assert_run(&lint(d.path(), &["."]), 0, &[]);
}

#[test]
fn directory_where_a_file_is_expected() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("conf.d")).unwrap();
    write(
        d.path(),
        "nginx.conf",
        "events {}\nhttp {\n    include conf.d;\n}\n",
    );
    // nginx refuses to include a directory; so does the linter, at the include's position.
    assert_run(
        &lint(d.path(), &["nginx.conf"]),
        1,
        &["nginx.conf:3:13", "conf.d"],
    );
    // `parse` of a directory walks it (like lint); one with no config in it is not an error.
    let out = Command::cargo_bin("nginx-fpm-lint")
        .unwrap()
        .current_dir(d.path())
        .args(["parse", "conf.d"])
        .timeout(HANG_GUARD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // A missing path is an error naming it.
    assert_run(
        &lint(d.path(), &["nope.conf"]),
        2,
        &["nope.conf", "No such file"],
    );
}

#[test]
fn glob_include_matching_10000_files() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "nginx.conf",
        "events {}\nhttp {\n    server {\n        listen 80;\n        include locations/*.conf;\n    }\n}\n",
    );
    let dir = d.path().join("locations");
    fs::create_dir(&dir).unwrap();
    for i in 0..10_000 {
        fs::write(
            dir.join(format!("l{i:05}.conf")),
            format!("location = /p{i} {{ return 204; }}\n"),
        )
        .unwrap();
    }
    let run = lint(d.path(), &["nginx.conf"]);
    assert_run(&run, 0, &[]);
}
