//! Real-world configs written by others (../shared/corpus, or $NGINX_FPM_LINT_CORPUS):
//! every valid file parses and prints back byte for byte; what php-fpm refuses, we refuse.

use std::path::{Path, PathBuf};

use nginx_fpm_lint::syntax::{fpm, leaves_cover, nginx};

fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("NGINX_FPM_LINT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.join("nginx-t.tsv").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "corpus not found at {} (set NGINX_FPM_LINT_CORPUS)",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: corpus not found at {} (set NGINX_FPM_LINT_CORPUS)",
        dir.display()
    );
    None
}

/// Paths listed in the first column of a TSV with a header.
fn tsv_paths(dir: &Path, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .map(str::to_owned)
        .collect()
}

fn list(dir: &Path, name: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_nginx_file_parses_and_round_trips() {
    let Some(dir) = corpus_dir() else { return };
    let files = tsv_paths(&dir, "nginx-t.tsv");
    assert_eq!(files.len(), 224, "nginx-t.tsv lists every nginx file");
    let syntax_invalid = list(&dir, "INVALID.txt");
    let mut failures = Vec::new();
    for rel in &files {
        let text = std::fs::read_to_string(dir.join(rel)).unwrap();
        match nginx::parse(&text) {
            Ok(c) if !syntax_invalid.contains(rel) => {
                if let Err(e) = leaves_cover(c.leaves(), text.len()) {
                    failures.push(format!("{rel}: {e}"));
                }
                if c.print(&text) != text {
                    failures.push(format!("{rel}: printing does not give the input back"));
                }
            }
            Ok(_) => failures.push(format!("{rel}: nginx refuses its syntax, we accepted it")),
            Err(e) if syntax_invalid.contains(rel) => drop(e),
            Err(e) => failures.push(format!("{rel}:{e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
