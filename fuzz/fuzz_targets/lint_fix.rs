//! Any set of files: linting and the whole fix loop never panic or hang, the loop never keeps
//! (so --fix never writes) a file that does not parse, and fixing the fixed output changes
//! nothing more.
//!
//! Input: up to six files separated by NUL bytes (configs never hold NUL, so the separator
//! cannot collide with content). Each file is classified by its name and content, as on disk.
//!
//! The rules' arithmetic on user values (counts x sizes, sums of timeouts, pm.max_children x
//! memory_limit) runs under settings chosen by the input, from the defaults to their extremes
//! (a budget of one byte or of u64::MAX, minimums of u32::MAX). Build with debug assertions
//! (`cargo fuzz run -O -a`, as fuzz/run.sh does) so an overflow panics; `lint_fix.dict` feeds
//! the fuzzer the huge and zero values and the keys they go with.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use nginx_fpm_lint::fix::apply::fix_until_stable;
use nginx_fpm_lint::fix::{Applicability, Fix};
use nginx_fpm_lint::lint::{all_rules, lint_project};
use nginx_fpm_lint::project::{Options, Project};
use nginx_fpm_lint::settings::Settings;
use nginx_fpm_lint::source::FileId;

const NAMES: &[&str] = &[
    "etc/nginx/nginx.conf",
    "etc/nginx/sites-enabled/site.conf",
    "etc/php/8.2/fpm/php-fpm.conf",
    "etc/php/8.2/fpm/pool.d/www.conf",
    "etc/nginx/snippets/fastcgi-php.conf",
    "etc/php/8.2/fpm/pool.d/api.conf",
];

/// Settings by the input's byte sum: the defaults half of the time, else one of the extremes.
fn settings_for(data: &[u8]) -> Settings {
    let pick = data
        .iter()
        .fold(0u32, |h, &b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let defaults = Settings::default();
    match pick % 6 {
        0 => Settings {
            memory_budget: Some(1),
            worker_memory: u64::MAX,
            min_header_buffer: u64::MAX,
            min_max_children: u32::MAX,
            min_listen_backlog: u32::MAX,
            ..defaults
        },
        1 => Settings {
            memory_budget: Some(u64::MAX),
            worker_memory: 0,
            min_header_buffer: 0,
            min_max_children: 0,
            min_listen_backlog: 0,
            ..defaults
        },
        2 => Settings {
            memory_budget: Some(2 << 30),
            ..defaults
        },
        _ => defaults,
    }
}

/// One lint of `texts` in memory: `Err` if a file does not parse, else every unsafe-or-safer fix.
fn round(
    texts: &BTreeMap<FileId, String>,
    settings: &Settings,
) -> Result<Vec<Fix>, (FileId, String)> {
    let files: Vec<(&str, &str)> = texts
        .iter()
        .map(|(id, t)| (NAMES[id.0 as usize], t.as_str()))
        .collect();
    let project = Project::from_memory(&files, Options::default());
    let out = lint_project(project, settings, &all_rules);
    if let Some(p) = out.project.problems.first() {
        let file = p.span.map_or(FileId(0), |(f, _)| f);
        return Err((file, p.message.clone()));
    }
    Ok(out
        .diagnostics
        .iter()
        .filter_map(|d| d.fix.clone())
        .filter(|f| f.applicability >= Applicability::Unsafe)
        // Built-in (packaged) files come after ours and are never edited.
        .filter(|f| f.edits.iter().all(|e| texts.contains_key(&e.file)))
        .collect())
}

fuzz_target!(|data: &[u8]| {
    let mut texts = BTreeMap::new();
    for (i, piece) in data.split(|&b| b == 0).take(NAMES.len()).enumerate() {
        let Ok(text) = std::str::from_utf8(piece) else {
            return;
        };
        texts.insert(FileId(i as u32), text.to_owned());
    }
    // Both parsers' fast paths agree with pest on every file, whichever language it is.
    for text in texts.values() {
        assert_eq!(
            nginx_fpm_lint::syntax::nginx::parse(text),
            nginx_fpm_lint::syntax::nginx::parse_reference(text)
        );
        assert_eq!(
            nginx_fpm_lint::syntax::fpm::parse(text),
            nginx_fpm_lint::syntax::fpm::parse_reference(text)
        );
    }
    let settings = settings_for(data);
    let round = |t: &BTreeMap<FileId, String>| round(t, &settings);
    // Only inputs that parse are interesting for fixes; others must merely not panic.
    if round(&texts).is_err() {
        return;
    }
    let first = match fix_until_stable(texts, 10, round) {
        Ok(outcome) => outcome,
        Err(e) => {
            // A rule proposed edits that break parsing (found here: NFL101 copying a pool's
            // `listen` holding "{" into fastcgi_pass). The engine's promise is that such a
            // round is refused and what is kept, and written by --fix, still parses.
            assert!(
                round(&e.kept.texts).is_ok(),
                "the fix loop kept texts that do not parse"
            );
            return;
        }
    };
    let second = fix_until_stable(first.texts.clone(), 10, round)
        .unwrap_or_else(|e| panic!("second pass failed: {}", e.error));
    if first.stop == nginx_fpm_lint::fix::apply::Stop::Converged {
        assert_eq!(
            first.texts, second.texts,
            "fixing twice differs from fixing once"
        );
    }
});
