//! Real-world configs written by others (../shared/corpus, or $NGINX_FPM_LINT_CORPUS):
//! every valid file parses and prints back byte for byte; what php-fpm refuses, we refuse.

use std::path::Path;

use nginx_fpm_lint::syntax::{fpm, leaves_cover, nginx};

mod corpus_support;

use corpus_support::corpus_dir;

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
                if let Err(e) = c.check_lossless(&text) {
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

#[test]
fn every_fpm_file_parses_or_is_refused_like_php_fpm() {
    let Some(dir) = corpus_dir() else { return };
    let mut files: Vec<String> = walkdir::WalkDir::new(dir.join("php-fpm"))
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(&dir).unwrap();
            rel.to_string_lossy().replace('\\', "/")
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 43, "the corpus holds 43 php-fpm files");
    let refused = list(&dir, "INVALID-php-fpm.txt");
    assert_eq!(refused.len(), 3);
    let mut failures = Vec::new();
    for rel in &files {
        let text = std::fs::read_to_string(dir.join(rel)).unwrap();
        match fpm::parse(&text) {
            Ok(c) if !refused.contains(rel) => {
                if let Err(e) = c
                    .check_lossless()
                    .and_then(|()| leaves_cover(c.leaves_and_blanks(), text.len()))
                {
                    failures.push(format!("{rel}: {e}"));
                }
                if c.print() != text {
                    failures.push(format!("{rel}: printing does not give the input back"));
                }
            }
            Ok(_) => failures.push(format!("{rel}: php-fpm refuses its syntax, we accepted it")),
            Err(e) if refused.contains(rel) => {
                // XML files are refused at line 1; the others at their first "#" line.
                let expected = if text
                    .trim_start_matches('\u{FEFF}')
                    .trim_start()
                    .starts_with("<?xml")
                {
                    1
                } else {
                    1 + text
                        .lines()
                        .position(|l| l.trim_start().starts_with('#'))
                        .expect("a refused non-XML file has a \"#\" line")
                };
                if e.at.line as usize != expected {
                    failures.push(format!(
                        "{rel}: refused at line {}, expected {expected}: {e}",
                        e.at.line
                    ));
                }
            }
            Err(e) => failures.push(format!("{rel}:{e}")),
        }
    }
    for rel in &refused {
        if !files.contains(rel) {
            failures.push(format!(
                "{rel}: listed in INVALID-php-fpm.txt but not found"
            ));
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
