//! Unified diffs that `git apply` and `patch -p1` accept.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use similar::{Algorithm, DiffOp};

const CONTEXT: usize = 3;

/// Split into lines that keep their terminator. Only `\n` ends a line: a `\r` stays part of the
/// line, so CRLF files round-trip byte for byte, as `git apply` and `patch` expect.
fn lines(text: &[u8]) -> Vec<&[u8]> {
    text.split_inclusive(|&b| b == b'\n').collect()
}

/// Quote a path the way git does when it contains characters that would otherwise end or
/// garble the name (both `git apply` and GNU patch read these C-style quotes back).
fn header_path(prefix: &str, path: &str) -> String {
    let needs_quotes = path
        .chars()
        .any(|c| c == '"' || c == '\\' || c == ' ' || c.is_control());
    if !needs_quotes {
        return format!("{prefix}{path}");
    }
    let mut out = String::from("\"");
    for c in prefix.chars().chain(path.chars()) {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{b:03o}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Hunk range as diff writes it: 1-based start, except that an empty range names the line
/// before it (so `0` at the top of the file).
fn range(start: usize, len: usize) -> String {
    let first = if len == 0 { start } else { start + 1 };
    format!("{first},{len}")
}

fn push_line(out: &mut Vec<u8>, sign: u8, line: &[u8]) {
    out.push(sign);
    out.extend_from_slice(line);
    if !line.ends_with(b"\n") {
        // Only the file's last line can lack a terminator.
        out.extend_from_slice(b"\n\\ No newline at end of file\n");
    }
}

/// The unified diff turning `old` into `new`, with `--- a/PATH` / `+++ b/PATH` headers and 3
/// lines of context; empty when the texts are equal. `path` is relative with `/` separators.
/// Diffs of several files can be concatenated into one patch.
pub fn unified_diff(old: &str, new: &str, path: &str) -> String {
    String::from_utf8(unified_diff_bytes(old.as_bytes(), new.as_bytes(), path))
        .expect("lines of UTF-8 texts and UTF-8 headers")
}

/// [`unified_diff`] of bytes (a file that is not UTF-8): the lines are copied as they are,
/// which is what `git apply` and `patch` compare them with.
pub fn unified_diff_bytes(old: &[u8], new: &[u8], path: &str) -> Vec<u8> {
    if old == new {
        return Vec::new();
    }
    let old_lines = lines(old);
    let new_lines = lines(new);
    let ops = similar::capture_diff_slices(Algorithm::Myers, &old_lines, &new_lines);
    let mut header = String::new();
    let _ = writeln!(header, "--- {}", header_path("a/", path));
    let _ = writeln!(header, "+++ {}", header_path("b/", path));
    let mut out = header.into_bytes();
    for group in similar::group_diff_ops(ops, CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_start = first.old_range().start;
        let new_start = first.new_range().start;
        let old_len = last.old_range().end - old_start;
        let new_len = last.new_range().end - new_start;
        out.extend_from_slice(
            format!(
                "@@ -{} +{} @@\n",
                range(old_start, old_len),
                range(new_start, new_len)
            )
            .as_bytes(),
        );
        for op in &group {
            match *op {
                DiffOp::Equal { old_index, len, .. } => {
                    for line in &old_lines[old_index..old_index + len] {
                        push_line(&mut out, b' ', line);
                    }
                }
                DiffOp::Delete {
                    old_index, old_len, ..
                } => {
                    for line in &old_lines[old_index..old_index + old_len] {
                        push_line(&mut out, b'-', line);
                    }
                }
                DiffOp::Insert {
                    new_index, new_len, ..
                } => {
                    for line in &new_lines[new_index..new_index + new_len] {
                        push_line(&mut out, b'+', line);
                    }
                }
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => {
                    for line in &old_lines[old_index..old_index + old_len] {
                        push_line(&mut out, b'-', line);
                    }
                    for line in &new_lines[new_index..new_index + new_len] {
                        push_line(&mut out, b'+', line);
                    }
                }
            }
        }
    }
    out
}

/// The path a patch names for `path` (as the user wrote it, relative to `cwd` or absolute), so
/// that `git apply` and `patch -p1` accept it: relative to the root of the git repository `cwd`
/// is in when the file is inside it (as `git diff` writes paths, whichever subdirectory it runs
/// from), else relative to `cwd` when the file is under it, else relative to the root of the
/// file's own repository, else relative to `/`. Never `..`: `git apply` rejects such a path.
pub fn patch_path(path: &Path, cwd: &Path) -> String {
    let file = normalize(&cwd.join(path));
    let cwd = normalize(cwd);
    let base = repository_root(&cwd)
        .filter(|root| file.starts_with(root))
        .or_else(|| file.starts_with(&cwd).then(|| cwd.clone()))
        .or_else(|| file.parent().and_then(repository_root))
        .unwrap_or_else(|| PathBuf::from("/"));
    let rel = file.strip_prefix(&base).unwrap_or(&file);
    let parts: Vec<_> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

/// `..` and `.` taken away by reading the path, without following links (the user's path
/// names the file as the patch should; a link's target may be elsewhere).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// The nearest directory at or above `dir` holding `.git` (a directory, or a file for a
/// worktree or submodule), stopping at `GIT_CEILING_DIRECTORIES` as git does.
fn repository_root(dir: &Path) -> Option<PathBuf> {
    let ceilings: Vec<PathBuf> = std::env::var_os("GIT_CEILING_DIRECTORIES")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| p.is_absolute())
                .collect()
        })
        .unwrap_or_default();
    let mut at = Some(dir);
    while let Some(d) = at {
        if d.join(".git").exists() {
            return Some(d.to_path_buf());
        }
        if ceilings.iter().any(|c| c == d) {
            return None;
        }
        at = d.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_give_empty_diff() {
        assert_eq!(unified_diff("a\nb\n", "a\nb\n", "x.conf"), "");
        assert_eq!(unified_diff("", "", "x.conf"), "");
    }

    #[test]
    fn simple_replacement() {
        let d = unified_diff("a\nb\nc\n", "a\nB\nc\n", "sites/x.conf");
        assert_eq!(
            d,
            "--- a/sites/x.conf\n+++ b/sites/x.conf\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
    }

    #[test]
    fn context_is_three_lines_and_far_changes_split_hunks() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new: String = (1..=20)
            .map(|i| match i {
                2 => "two\n".to_string(),
                19 => "nineteen\n".to_string(),
                i => format!("{i}\n"),
            })
            .collect();
        let d = unified_diff(&old, &new, "f");
        assert!(
            d.contains("@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"),
            "{d}"
        );
        assert!(
            d.contains("@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+nineteen\n 20\n"),
            "{d}"
        );
    }

    #[test]
    fn missing_final_newline_is_marked() {
        let d = unified_diff("a\nb", "a\nb\n", "f");
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
        );
        let d = unified_diff("a\n", "a\nb", "f");
        assert!(d.ends_with("+b\n\\ No newline at end of file\n"), "{d}");
    }

    #[test]
    fn crlf_is_kept() {
        let d = unified_diff("a\r\nb\r\n", "a\r\nc\r\n", "f");
        assert!(d.contains(" a\r\n-b\r\n+c\r\n"), "{d:?}");
    }

    #[test]
    fn insertion_into_empty_file_names_line_zero() {
        let d = unified_diff("", "x\n", "f");
        assert!(d.contains("@@ -0,0 +1,1 @@\n+x\n"), "{d}");
    }

    #[test]
    fn patch_paths_never_climb() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let repo = root.join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("deploy/etc/nginx")).unwrap();
        let cwd = repo.join("deploy/etc/nginx");
        // From inside the repository: relative to its root.
        assert_eq!(
            patch_path(Path::new("../../etc/nginx/a.conf"), &cwd),
            "deploy/etc/nginx/a.conf"
        );
        assert_eq!(
            patch_path(Path::new("a.conf"), &cwd),
            "deploy/etc/nginx/a.conf"
        );
        // Outside any repository: relative to the working directory.
        let plain = root.join("plain");
        assert_eq!(patch_path(Path::new("./x/../y/b.conf"), &plain), "y/b.conf");
        // Above the working directory and in no repository: relative to `/`.
        let outside = patch_path(Path::new("../elsewhere/c.conf"), &plain);
        assert!(!outside.starts_with(".."), "{outside}");
        assert!(outside.ends_with("elsewhere/c.conf"), "{outside}");
    }

    #[test]
    fn odd_paths_are_quoted() {
        assert_eq!(header_path("a/", "x y.conf"), "\"a/x y.conf\"");
        assert_eq!(header_path("a/", "q\"\\.conf"), "\"a/q\\\"\\\\.conf\"");
        assert_eq!(header_path("a/", "café.conf"), "a/café.conf");
    }
}
