//! Property tests for both grammars and the fix loop:
//! - any input the parsers accept prints back byte for byte (random and mutated fixtures);
//! - no input makes either parser panic;
//! - fixing already fixed configurations changes nothing (over small generated trees with
//!   deliberate mistakes), and fixes never leave a file that does not parse.
//!
//! The coverage-guided versions of these live in `fuzz/` (see CONTRIBUTING.md).

use std::collections::BTreeMap;
use std::path::Path;

use nginx_fpm_lint::fix::apply::{fix_until_stable, Stop};
use nginx_fpm_lint::fix::{Applicability, Fix};
use nginx_fpm_lint::lint::{all_rules, lint_project};
use nginx_fpm_lint::project::{Options, Project};
use nginx_fpm_lint::settings::Settings;
use nginx_fpm_lint::source::FileId;
use nginx_fpm_lint::syntax::{fpm, leaves_cover, nginx};
use proptest::prelude::*;

/// Every file under fixtures/ and examples/, split by language (by path, as the seeds are).
fn fixture_texts() -> (Vec<String>, Vec<String>) {
    let mut nginx = Vec::new();
    let mut fpm = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["fixtures", "examples"] {
        for e in walkdir::WalkDir::new(root.join(dir))
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
        {
            // Relative: the checkout's own path may contain "fpm" (a worktree named wt-fpm).
            let p = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if p.ends_with(".md") || p.ends_with(".php") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            if ["fpm", "pool"].iter().any(|h| p.contains(h)) {
                fpm.push(text);
            } else {
                nginx.push(text);
            }
        }
    }
    (nginx, fpm)
}

fn check_nginx(text: &str) {
    // The hand-written fast path must build exactly pest's tree (or leave the input to pest).
    assert_eq!(nginx::parse(text), nginx::parse_reference(text), "{text:?}");
    match nginx::parse(text) {
        Ok(c) => {
            c.check_lossless(text).unwrap();
            leaves_cover(c.leaves_and_blanks(), text.len()).unwrap();
            assert_eq!(c.print(text), text);
        }
        Err(e) => {
            assert!(e.span.end as usize <= text.len(), "{e:?}");
            assert!(e.at.line >= 1 && e.at.column >= 1, "{e:?}");
        }
    }
}

fn check_fpm(text: &str) {
    assert_eq!(fpm::parse(text), fpm::parse_reference(text), "{text:?}");
    match fpm::parse(text) {
        Ok(c) => {
            c.check_lossless().unwrap();
            leaves_cover(c.leaves_and_blanks(), text.len()).unwrap();
            assert_eq!(c.print(), text);
        }
        Err(e) => {
            assert!(e.span.end as usize <= text.len(), "{e:?}");
            assert!(e.at.line >= 1 && e.at.column >= 1, "{e:?}");
        }
    }
}

/// Text made of the pieces each grammar cares about, so random input reaches deep rules.
fn nginx_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(" "),
        Just("\n"),
        Just("\r\n"),
        Just("\t"),
        Just(";"),
        Just("{"),
        Just("}"),
        Just("#"),
        Just("\""),
        Just("'"),
        Just("\\"),
        Just("$"),
        Just("${"),
        Just("("),
        Just(")"),
        Just("if"),
        Just("location"),
        Just("server"),
        Just("listen"),
        Just("fastcgi_pass"),
        Just("include"),
        Just("content_by_lua_block"),
        Just("\"rewrite_by_lua_block\""),
        Just("'access_by_lua_block'"),
        Just("{ 1, 2, 3 }"),
        Just("--"),
        Just("[["),
        Just("]]"),
        Just("é"),
        Just("\u{FEFF}"),
        Just("a"),
        Just("80"),
        Just("unix:/run/php/php-fpm.sock"),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn fpm_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(" "),
        Just("\n"),
        Just("\r\n"),
        Just("\r"),
        Just("\t"),
        Just(";"),
        Just("["),
        Just("]"),
        Just("="),
        Just("#"),
        Just("\""),
        Just("'"),
        Just("\\"),
        Just("$"),
        Just("${"),
        Just("}"),
        Just("&"),
        Just("~"),
        Just("www"),
        Just("listen"),
        Just("php_value"),
        Just("pm.max_children"),
        Just("<?xml"),
        Just("é"),
        Just("\u{FEFF}"),
        Just("a"),
        Just("9000"),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

/// A random edit: (position as a fraction of the length, bytes removed, text inserted).
fn mutation() -> impl Strategy<Value = (f64, usize, String)> {
    (
        0.0..1.0f64,
        0usize..8,
        prop_oneof![
            Just(String::new()),
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just(";".to_owned()),
            Just("\"".to_owned()),
            Just("'".to_owned()),
            Just("#".to_owned()),
            Just("\n".to_owned()),
            Just("=".to_owned()),
            Just("[".to_owned()),
            Just("\\".to_owned()),
            "[ -~]{1,6}",
        ],
    )
}

fn mutate(text: &str, edits: &[(f64, usize, String)]) -> String {
    let mut s = text.to_owned();
    for (at, del, ins) in edits {
        let mut start = ((s.len() as f64) * at) as usize;
        while !s.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + del).min(s.len());
        while !s.is_char_boundary(end) {
            end += 1;
        }
        s.replace_range(start..end, ins);
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn nginx_random_input(text in nginx_soup()) {
        check_nginx(&text);
    }

    #[test]
    fn fpm_random_input(text in fpm_soup()) {
        check_fpm(&text);
    }

    #[test]
    fn any_unicode_never_panics(text in any::<String>()) {
        check_nginx(&text);
        check_fpm(&text);
    }

    #[test]
    fn bytes_that_are_not_utf8_keep_their_offsets(
        pick in any::<prop::sample::Index>(),
        inserts in prop::collection::vec((any::<f64>(), 0x80u8..=0xFF), 1..6),
    ) {
        // Legacy-encoded bytes dropped into fixtures (in words, strings and comments alike):
        // the text has the file's length, and both parsers agree and round-trip on it.
        let (nginx_files, fpm_files) = fixture_texts();
        for text in [
            &nginx_files[pick.index(nginx_files.len())],
            &fpm_files[pick.index(fpm_files.len())],
        ] {
            let mut bytes = text.clone().into_bytes();
            for (at, byte) in &inserts {
                let i = ((at.abs() % 1.0) * bytes.len() as f64) as usize;
                bytes.insert(i.min(bytes.len()), *byte);
            }
            let decoded = nginx_fpm_lint::source::decode(bytes.clone()).unwrap();
            prop_assert_eq!(decoded.len(), bytes.len());
            check_nginx(&decoded);
            check_fpm(&decoded);
        }
    }

    #[test]
    fn mutated_fixtures(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(mutation(), 1..6),
    ) {
        let (nginx_files, fpm_files) = fixture_texts();
        let n = &nginx_files[pick.index(nginx_files.len())];
        check_nginx(&mutate(n, &edits));
        let f = &fpm_files[pick.index(fpm_files.len())];
        check_fpm(&mutate(f, &edits));
        // Cross-language: neither parser may panic on the other's files.
        check_fpm(&mutate(n, &edits));
        check_nginx(&mutate(f, &edits));
    }
}

// ---- fixing twice equals fixing once ---------------------------------------------------------

const NAMES: [&str; 3] = [
    "etc/nginx/nginx.conf",
    "etc/php/8.2/fpm/pool.d/www.conf",
    "etc/php/8.2/fpm/pool.d/api.conf",
];

/// One in-memory lint round for the fix loop: every fix at or above `Unsafe`.
fn round(texts: &BTreeMap<FileId, String>) -> Result<Vec<Fix>, (FileId, String)> {
    let files: Vec<(&str, &str)> = texts
        .iter()
        .map(|(id, t)| (NAMES[id.0 as usize], t.as_str()))
        .collect();
    let out = lint_project(
        Project::from_memory(&files, Options::default()),
        &Settings::default(),
        &all_rules,
    );
    if let Some(p) = out.project.problems.first() {
        return Err((p.span.map_or(FileId(0), |(f, _)| f), p.message.clone()));
    }
    Ok(out
        .diagnostics
        .iter()
        .filter_map(|d| d.fix.clone())
        .filter(|f| f.applicability >= Applicability::Unsafe)
        .filter(|f| f.edits.iter().all(|e| texts.contains_key(&e.file)))
        .collect())
}

/// Where nginx sends PHP and where the pools listen: near misses on purpose.
fn address() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("unix:/run/php/php8.2-fpm.sock"),
        Just("unix:/run/php/php8.1-fpm.sock"),
        Just("unix:/var/run/php/php8.2-fpm.sock"),
        Just("127.0.0.1:9000"),
        Just("127.0.0.1:9001"),
        Just("localhost:9000"),
        Just("[::1]:9000"),
        Just("php"),
        Just("$backend"),
    ]
}

fn listen_of(addr: &str) -> String {
    addr.strip_prefix("unix:").unwrap_or(addr).to_owned()
}

prop_compose! {
    fn broken_tree()(
        passes in prop::collection::vec(address(), 1..4),
        listens in prop::collection::vec(address(), 1..3),
        upstream in prop::option::of(prop::collection::vec(address(), 1..3)),
        crlf in any::<bool>(),
        comments in any::<bool>(),
    ) -> Vec<String> {
        let mut n = String::from("events {}\nhttp {\n");
        if let Some(servers) = &upstream {
            n.push_str("    upstream php {\n");
            for s in servers.iter().filter(|s| !s.starts_with('$') && **s != "php") {
                n.push_str(&format!("        server {s};\n"));
            }
            n.push_str("    }\n");
        }
        n.push_str("    server {\n        listen 80;\n        root /var/www;\n");
        for (i, p) in passes.iter().enumerate() {
            if comments {
                n.push_str(&format!("        # site {i}\n"));
            }
            n.push_str(&format!(
                "        location ~ ^/app{i}/.+\\.php$ {{\n            include fastcgi_params;\n            fastcgi_pass {p};\n        }}\n"
            ));
        }
        n.push_str("    }\n}\n");
        let pools: Vec<String> = listens
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let l = if l.starts_with('$') || *l == "php" { "127.0.0.1:9000".to_owned() } else { listen_of(l) };
                format!("; pool {i}\n[pool{i}]\nuser = www-data\nlisten = {l}\npm = static\npm.max_children = 4\n")
            })
            .collect();
        let mut files = vec![n];
        files.extend(pools);
        if crlf {
            files = files.into_iter().map(|f| f.replace('\n', "\r\n")).collect();
        }
        files
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn fixing_twice_equals_fixing_once(files in broken_tree()) {
        let texts: BTreeMap<FileId, String> = files
            .into_iter()
            .enumerate()
            .map(|(i, t)| (FileId(i as u32), t))
            .collect();
        prop_assume!(round(&texts).is_ok());
        let once = fix_until_stable(texts, 10, round)
            .unwrap_or_else(|e| panic!("a fix broke a file: {}", e.error));
        prop_assert_eq!(once.stop, Stop::Converged);
        for (id, text) in &once.texts {
            if id.0 == 0 {
                check_nginx(text);
                prop_assert!(nginx::parse(text).is_ok());
            } else {
                prop_assert!(fpm::parse(text).is_ok());
            }
        }
        let twice = fix_until_stable(once.texts.clone(), 10, round)
            .unwrap_or_else(|e| panic!("second pass failed: {}", e.error));
        prop_assert_eq!(&once.texts, &twice.texts);
        prop_assert!(twice.applied.is_empty());
    }
}
