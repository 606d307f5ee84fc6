//! Which files are ours: nginx and PHP-FPM files are recognised by content as well as by name,
//! other tools' configs are not taken for ours, and `--show-files` says what was read as what
//! and what was skipped and why.

mod corpus_support;
mod support;

use std::path::{Path, PathBuf};

use nginx_fpm_lint::discover::{is_candidate, sniff, Sniff, SNIFF_BYTES};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/discovery")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

fn sniff_path(path: &Path, strict: bool) -> Sniff {
    let bytes = std::fs::read(path).unwrap();
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    sniff(head, head.len() == bytes.len(), strict)
}

#[test]
fn other_tools_configs_are_not_taken_for_ours() {
    let others = files_under(&data().join("others"));
    assert_eq!(others.len(), 13, "{others:?}");
    for path in &others {
        for strict in [false, true] {
            assert_eq!(
                sniff_path(path, strict),
                Sniff::Neither,
                "{}",
                path.display()
            );
        }
    }
    // Linting the folder finds nothing, and says so.
    let out = support::run_cli(&data(), &["lint", "others"]);
    let all = support::show(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(out.stdout.is_empty(), "{all}");
    assert!(
        all.contains(
            "warning: no nginx or PHP-FPM files found in others (13 files looked at and skipped; --show-files says why)"
        ),
        "{all}"
    );
}

#[test]
fn a_file_named_on_the_command_line_that_is_neither_is_an_error() {
    let out = support::run_cli(&data(), &["lint", "others/redis.conf"]);
    let all = support::show(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("others/redis.conf: error: not an nginx or PHP-FPM file"),
        "{all}"
    );
}

#[test]
fn extension_less_site_files_are_recognised_by_content() {
    let out = support::run_cli(&data(), &["lint", "--format", "concise", "vhosts"]);
    let all = support::show(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        // No nginx.conf reaches the site, so the default-buffer finding is an info.
        all.contains("vhosts/sites/1042:8:5: info[NFL201 fastcgi-header-buffer-small]"),
        "{all}"
    );
    // The pool file joins: the site's socket has a listener, so no NFL101/NFL105.
    assert!(!all.contains("NFL101") && !all.contains("NFL105"), "{all}");

    let out = support::run_cli(&data(), &["lint", "--show-files", "vhosts"]);
    let listing = String::from_utf8_lossy(&out.stdout);
    let expected = "\
vhosts/pools/1042: php-fpm, pool [site-1042] (recognised by content)
vhosts/sites/1042: nginx, standalone site (recognised by content)
vhosts/sites/1043: nginx, standalone site (recognised by content)
<debian package>/etc/nginx/fastcgi_params: nginx, packaged file (debian), not in the tree
vhosts/Makefile: skipped, neither nginx (no directive ending in \";\", no server/http/location block) nor PHP-FPM (no [pool] with php-fpm keys)
vhosts/README: skipped, neither nginx (no directive ending in \";\", no server/http/location block) nor PHP-FPM (no [pool] with php-fpm keys)
";
    assert_eq!(listing, expected, "{}", support::show(&out));
}

#[test]
fn show_files_names_entry_points_and_includers() {
    let d = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = d.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "nginx/nginx.conf",
        "events {}\nhttp {\n    include snippets/*.conf;\n}\n",
    );
    write("nginx/snippets/gzip.conf", "gzip on;\n");
    write("docker/redis.conf", "port 6379\nsave 900 1\n");
    let out = support::run_cli(d.path(), &["lint", "--show-files", "."]);
    let listing = String::from_utf8_lossy(&out.stdout);
    let expected = "\
nginx/nginx.conf: nginx, entry point
nginx/snippets/gzip.conf: nginx, included by nginx/nginx.conf
docker/redis.conf: skipped, neither nginx (no directive ending in \";\", no server/http/location block) nor PHP-FPM (no [pool] with php-fpm keys)
";
    assert_eq!(listing, expected, "{}", support::show(&out));
    assert_eq!(out.status.code(), Some(0));
}

/// Every file lint reads by its name today (the shared corpus and this crate's fixtures) is
/// still taken: sniffing only ever drops other tools' files.
#[test]
fn every_config_file_of_the_corpus_and_fixtures_is_still_recognised() {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")];
    if let Some(corpus) = corpus_support::corpus_dir() {
        dirs.push(corpus);
    }
    let mut checked = 0;
    let mut dropped = Vec::new();
    for dir in &dirs {
        for path in files_under(dir) {
            if !is_candidate(&path) {
                continue;
            }
            checked += 1;
            let s = sniff_path(&path, false);
            if matches!(s, Sniff::Neither | Sniff::Binary) {
                dropped.push(format!("{}: {s:?}", path.display()));
            }
        }
    }
    assert!(checked > 200, "only {checked} files");
    assert!(
        dropped.is_empty(),
        "{} of {checked}:\n{}",
        dropped.len(),
        dropped.join("\n")
    );
}
