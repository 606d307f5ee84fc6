//! The fix engine against the real world: patches checked with `git apply` and GNU `patch`,
//! atomic writes on a real filesystem, and property tests against naive references.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use nginx_fpm_lint::fix::apply::apply_edits;
use nginx_fpm_lint::fix::diff::unified_diff;
use nginx_fpm_lint::fix::write::{write_atomic, WriteError};
use nginx_fpm_lint::fix::Edit;
use nginx_fpm_lint::source::{FileId, Span};
use proptest::prelude::*;

/// Whether `tool` runs; if not, skip the test locally but fail it in CI.
fn require(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("`{tool}` is required in CI but is not runnable");
        }
        println!("SKIPPED: `{tool}` is not installed");
    }
    ok
}

/// (relative path, old text, new text)
type FileCase = (&'static str, String, String);

fn cases() -> Vec<(&'static str, Vec<FileCase>)> {
    let server = "server {\n    listen 80;\n    root /var/www;\n    index index.php;\n}\n";
    let long: String = (1..=40).map(|i| format!("line {i};\n")).collect();
    let long_new = long
        .replace("line 2;\n", "line two;\n")
        .replace("line 38;\n", "line thirty-eight;\n");
    let one = |name, old: &str, new: String| vec![(name, old.to_string(), new)];
    vec![
        (
            "replacement",
            one("site.conf", server, server.replace("80;", "8080;")),
        ),
        (
            "insert at start",
            one("site.conf", server, format!("# managed\n{server}")),
        ),
        (
            "insert at end",
            one(
                "site.conf",
                server,
                format!("{server}include extra.conf;\n"),
            ),
        ),
        (
            "deletion",
            one(
                "site.conf",
                server,
                server.replace("    root /var/www;\n", ""),
            ),
        ),
        ("far apart hunks", one("long.conf", &long, long_new)),
        (
            "no final newline, kept",
            one("a.conf", "a;\nb;\nc;", "a;\nB;\nc;".into()),
        ),
        (
            "no final newline, last line changed",
            one("a.conf", "a;\nb;\nc;", "a;\nb;\nC;".into()),
        ),
        (
            "final newline added",
            one("a.conf", "a;\nb;", "a;\nb;\n".into()),
        ),
        (
            "final newline removed",
            one("a.conf", "a;\nb;\n", "a;\nb;".into()),
        ),
        (
            "crlf",
            one(
                "win.conf",
                "[www]\r\nlisten = 9000\r\npm = dynamic\r\n",
                "[www]\r\nlisten = /run/php/php8.2-fpm.sock\r\npm = dynamic\r\n".into(),
            ),
        ),
        (
            "non-ascii",
            one(
                "utf8.conf",
                "# café ☕\nadd_header X-Ünïcode \"ä\";\n# end\n",
                "# café ☕\nadd_header X-Ünïcode \"ö\";\n# end\n".into(),
            ),
        ),
        (
            "two files",
            vec![
                (
                    "sites-enabled/app.conf",
                    server.to_string(),
                    server.replace("index.php", "index.php index.html"),
                ),
                (
                    "pool.d/www.conf",
                    "[www]\nlisten = 127.0.0.1:9000\n".to_string(),
                    "[www]\nlisten = /run/php/php-fpm.sock\n".to_string(),
                ),
            ],
        ),
        (
            "empty file filled",
            one("empty.conf", "", "listen 80;\n".into()),
        ),
        (
            "file emptied",
            one("gone.conf", "listen 80;\n", String::new()),
        ),
        (
            "path with a space",
            one("my site.conf", server, server.replace("80;", "81;")),
        ),
    ]
}

fn setup(dir: &Path, files: &[FileCase]) {
    for (name, old, _) in files {
        let p = dir.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, old).unwrap();
    }
}

fn check_result(dir: &Path, files: &[FileCase], case: &str, tool: &str) {
    for (name, _, new) in files {
        let got = fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(&got, new, "{tool} on case {case:?}, file {name}");
    }
    // No .orig/.rej or other debris.
    let mut count = 0;
    for e in walk(dir) {
        assert!(
            files.iter().any(|(n, _, _)| dir.join(n) == e),
            "{tool} on case {case:?} left {}",
            e.display()
        );
        count += 1;
    }
    assert_eq!(count, files.len());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    // A patch that only applies loosely is a wrong patch.
    for word in ["fuzz", "offset", "warning"] {
        assert!(!text.to_lowercase().contains(word), "{what}:\n{text}");
    }
}

#[test]
fn patches_apply_with_git_and_patch() {
    let have_git = require("git");
    let have_patch = require("patch");
    for (case, files) in cases() {
        let patch: String = files
            .iter()
            .map(|(name, old, new)| unified_diff(old, new, name))
            .collect();
        assert!(!patch.is_empty());
        let holder = tempfile::tempdir().unwrap();
        let patch_file = holder.path().join("fix.patch");
        fs::write(&patch_file, &patch).unwrap();

        if have_git {
            let dir = holder.path().join("git");
            fs::create_dir(&dir).unwrap();
            setup(&dir, &files);
            let git = || {
                let mut c = Command::new("git");
                // Behave as a plain patch tool whatever the surrounding config or repository.
                c.current_dir(&dir)
                    .env("GIT_CONFIG_NOSYSTEM", "1")
                    .env("GIT_CONFIG_GLOBAL", "/dev/null")
                    .env("GIT_CEILING_DIRECTORIES", holder.path());
                c
            };
            run(
                git().args(["apply", "--check"]).arg(&patch_file),
                &format!("git apply --check ({case})\n{patch}"),
            );
            run(
                git().arg("apply").arg(&patch_file),
                &format!("git apply ({case})\n{patch}"),
            );
            check_result(&dir, &files, case, "git apply");
        }
        if have_patch {
            let dir = holder.path().join("patch");
            fs::create_dir(&dir).unwrap();
            setup(&dir, &files);
            run(
                Command::new("patch")
                    .current_dir(&dir)
                    .env_remove("POSIXLY_CORRECT")
                    .args(["-p1", "--batch", "-i"])
                    .arg(&patch_file),
                &format!("patch -p1 ({case})\n{patch}"),
            );
            check_result(&dir, &files, case, "patch -p1");
        }
    }
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn write_atomic_keeps_mode() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("www.conf");
    fs::write(&p, "listen = 9000\n").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
    write_atomic(&p, b"listen = /run/php.sock\n", b"listen = 9000\n").unwrap();
    assert_eq!(fs::read_to_string(&p).unwrap(), "listen = /run/php.sock\n");
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    assert_eq!(dir_entries(dir.path()), ["www.conf"]);
}

#[test]
fn write_atomic_writes_through_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let avail = dir.path().join("sites-available");
    let enabled = dir.path().join("sites-enabled");
    fs::create_dir(&avail).unwrap();
    fs::create_dir(&enabled).unwrap();
    let target = avail.join("app.conf");
    let link = enabled.join("app.conf");
    fs::write(&target, "old\n").unwrap();
    std::os::unix::fs::symlink("../sites-available/app.conf", &link).unwrap();

    write_atomic(&link, b"new\n", b"old\n").unwrap();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_link(&link).unwrap(),
        Path::new("../sites-available/app.conf")
    );
    assert_eq!(fs::read_to_string(&target).unwrap(), "new\n");
    assert_eq!(dir_entries(&avail), ["app.conf"]);
    assert_eq!(dir_entries(&enabled), ["app.conf"]);
}

#[test]
fn write_atomic_refuses_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("site.conf");
    fs::write(&p, "edited by someone else\n").unwrap();
    let err = write_atomic(&p, b"fixed\n", b"as linted\n").unwrap_err();
    assert!(matches!(err, WriteError::ChangedOnDisk { .. }), "{err}");
    assert!(err.to_string().contains(&p.display().to_string()), "{err}");
    assert_eq!(fs::read_to_string(&p).unwrap(), "edited by someone else\n");
    assert_eq!(dir_entries(dir.path()), ["site.conf"]);
}

/// Apply a unified diff produced by `unified_diff` to `old`, strictly (no fuzz, no offsets).
fn apply_patch(old: &str, patch: &str) -> String {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let mut patch_lines = patch.split_inclusive('\n').skip(2).peekable();
    let mut out = String::new();
    let mut pos = 0; // next old line to copy
    while let Some(header) = patch_lines.next() {
        let header = header.strip_prefix("@@ -").expect("hunk header");
        let old_range = header.split(' ').next().unwrap();
        let (start, len) = old_range.split_once(',').unwrap();
        let (start, len): (usize, usize) = (start.parse().unwrap(), len.parse().unwrap());
        let first = if len == 0 { start } else { start - 1 };
        assert!(first >= pos, "hunks out of order");
        out.extend(old_lines[pos..first].iter().copied());
        pos = first;
        // Body lines with the marker folded in: (sign, text).
        let mut body: Vec<(char, String)> = Vec::new();
        while let Some(line) = patch_lines.next_if(|l| !l.starts_with("@@ ")) {
            if line.starts_with('\\') {
                let last = body.last_mut().expect("marker after a line");
                assert_eq!(last.1.pop(), Some('\n'));
                continue;
            }
            let mut chars = line.chars();
            let sign = chars.next().unwrap();
            body.push((sign, chars.as_str().to_string()));
        }
        for (sign, text) in body {
            match sign {
                ' ' | '-' => {
                    assert_eq!(old_lines[pos], text, "context/removed line mismatch");
                    pos += 1;
                    if sign == ' ' {
                        out.push_str(&text);
                    }
                }
                '+' => out.push_str(&text),
                other => panic!("bad line sign {other:?}"),
            }
        }
    }
    out.extend(old_lines[pos..].iter().copied());
    out
}

/// Reference: apply sorted, non-overlapping edits back to front with `replace_range`.
fn naive_apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end)); // stable: ties keep input order
    let mut s = text.to_string();
    for e in sorted.iter().rev() {
        s.replace_range(e.span.range(), &e.replacement);
    }
    s
}

fn text_strategy() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ab;é\n\r]{0,60}").unwrap()
}

/// Text plus edits that do not overlap by construction: sorted char boundaries paired up.
fn text_and_edits() -> impl Strategy<Value = (String, Vec<Edit>)> {
    text_strategy().prop_flat_map(|text| {
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let n = bounds.len();
        (
            Just(text),
            proptest::collection::vec((0..n, 0..n, "[xy\né]{0,4}"), 0..6),
        )
            .prop_map(move |(text, raw)| {
                let mut points: Vec<usize> = raw
                    .iter()
                    .flat_map(|(a, b, _)| [bounds[*a], bounds[*b]])
                    .collect();
                points.sort_unstable();
                let edits = points
                    .chunks(2)
                    .zip(raw)
                    .map(|(p, (_, _, r))| Edit::replace(FileId(0), Span::new(p[0], p[1]), r))
                    .collect();
                (text, edits)
            })
            .prop_flat_map(|(text, edits)| (Just(text), Just(edits).prop_shuffle()))
    })
}

proptest! {
    #[test]
    fn apply_edits_matches_reference((text, edits) in text_and_edits()) {
        let r = apply_edits(&text, &edits);
        prop_assert_eq!(&r.text, &naive_apply(&text, &edits));
        prop_assert!(r.skipped.is_empty());
        prop_assert_eq!(r.applied, (0..edits.len()).collect::<Vec<_>>());
    }

    #[test]
    fn diff_round_trips((old, edits) in text_and_edits()) {
        let new = apply_edits(&old, &edits).text;
        let patch = unified_diff(&old, &new, "f.conf");
        prop_assert_eq!(patch.is_empty(), old == new);
        if patch.is_empty() {
            return Ok(());
        }
        prop_assert_eq!(apply_patch(&old, &patch), new.clone());

        // Changed-line counts agree with similar's own view of the same lines.
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
        let td = similar::TextDiff::from_slices(&old_lines, &new_lines);
        let (mut del, mut ins) = (0, 0);
        for c in td.iter_all_changes() {
            match c.tag() {
                similar::ChangeTag::Delete => del += 1,
                similar::ChangeTag::Insert => ins += 1,
                similar::ChangeTag::Equal => {}
            }
        }
        let body = patch.split_inclusive('\n').skip(2);
        let (mut minus, mut plus) = (0, 0);
        for l in body {
            if l.starts_with('-') { minus += 1 }
            if l.starts_with('+') { plus += 1 }
        }
        prop_assert_eq!((minus, plus), (del, ins));
    }
}
