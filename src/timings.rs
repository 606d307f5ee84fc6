//! Phase timings on stderr when `NGINX_FPM_LINT_TIMINGS` is set: where a large run spends
//! its time, without a profiler (BENCHMARKS.md quotes them).

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

fn clock() -> &'static Option<Mutex<Instant>> {
    static CLOCK: OnceLock<Option<Mutex<Instant>>> = OnceLock::new();
    CLOCK.get_or_init(|| {
        std::env::var_os("NGINX_FPM_LINT_TIMINGS")
            .filter(|v| !v.is_empty())
            .map(|_| Mutex::new(Instant::now()))
    })
}

/// Start the clock (the first phase is measured from here).
pub fn start() {
    let _ = clock();
}

/// Print the time since the previous mark, labelled with the phase that just ended.
pub fn mark(phase: &str) {
    if let Some(clock) = clock() {
        let mut last = clock.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        eprintln!(
            "timing: {phase:<24} {:>8.1} ms{}",
            (now - *last).as_secs_f64() * 1000.0,
            memory()
        );
        *last = now;
    }
}

/// Resident and peak memory so far, from `/proc/self/status` where there is one: the memory
/// target is about the peak, and this shows which phase raises it.
fn memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().trim_end_matches(" kB").trim().to_string())
            .and_then(|kb| kb.parse::<u64>().ok())
    };
    match (field("VmRSS:"), field("VmHWM:")) {
        (Some(rss), Some(peak)) => {
            format!("  rss {:>5} MB  peak {:>5} MB", rss / 1024, peak / 1024)
        }
        _ => String::new(),
    }
}
