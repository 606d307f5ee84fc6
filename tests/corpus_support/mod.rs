//! The shared corpus of real-world configs, for the tests that read it.

use std::path::{Path, PathBuf};

/// In CI a missing dependency is a failure; elsewhere the test says why it skipped and passes.
pub fn skip_or_fail(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why} (required in CI)");
    }
    eprintln!("SKIPPED: {why}");
}

/// `../shared/corpus` (or `$NGINX_FPM_LINT_CORPUS`), or None after saying why.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("NGINX_FPM_LINT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.join("nginx-t.tsv").is_file() {
        return Some(dir);
    }
    skip_or_fail(&format!(
        "corpus not found at {} (set NGINX_FPM_LINT_CORPUS)",
        dir.display()
    ));
    None
}
