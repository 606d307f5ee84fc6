//! Parser throughput over a generated tree of realistic files (>= 10 MB per language),
//! in MB/s: the hand-written fast paths that `parse` takes, and the pest grammars alone
//! (`parse_reference`) for comparison.
//!
//! `cargo bench --bench parse`. The whole-process comparison with other tools is
//! benches/compare.py (see BENCHMARKS.md).

use divan::counter::BytesCount;
use divan::Bencher;
use nginx_fpm_lint::syntax::{fpm, nginx};

fn main() {
    divan::main();
}

const SITE: &str = include_str!("site.conf.in");
const POOL: &str = include_str!("pool.conf.in");

/// `n` files from `template` with `@N@` replaced by the file's number, until `min_bytes`.
fn files(template: &str, min_bytes: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut total = 0;
    while total < min_bytes {
        let text = template.replace("@N@", &format!("{:05}", out.len()));
        total += text.len();
        out.push(text);
    }
    out
}

fn bytes(files: &[String]) -> usize {
    files.iter().map(String::len).sum()
}

const MB10: usize = 10 << 20;

#[divan::bench(sample_count = 10, sample_size = 1)]
fn nginx_fast(bencher: Bencher) {
    let texts = files(SITE, MB10);
    bencher.counter(BytesCount::new(bytes(&texts))).bench(|| {
        texts
            .iter()
            .map(|t| nginx::parse(t).is_ok() as usize)
            .sum::<usize>()
    });
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn fpm_fast(bencher: Bencher) {
    let texts = files(POOL, MB10);
    bencher.counter(BytesCount::new(bytes(&texts))).bench(|| {
        texts
            .iter()
            .map(|t| fpm::parse(t).is_ok() as usize)
            .sum::<usize>()
    });
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn nginx_pest_reference(bencher: Bencher) {
    let texts = files(SITE, MB10);
    bencher.counter(BytesCount::new(bytes(&texts))).bench(|| {
        texts
            .iter()
            .map(|t| nginx::parse_reference(t).is_ok() as usize)
            .sum::<usize>()
    });
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn fpm_pest_reference(bencher: Bencher) {
    let texts = files(POOL, MB10);
    bencher.counter(BytesCount::new(bytes(&texts))).bench(|| {
        texts
            .iter()
            .map(|t| fpm::parse_reference(t).is_ok() as usize)
            .sum::<usize>()
    });
}
