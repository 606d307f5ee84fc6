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
            "timing: {phase:<24} {:>8.1} ms",
            (now - *last).as_secs_f64() * 1000.0
        );
        *last = now;
    }
}
