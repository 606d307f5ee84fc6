//! Work spread over the machine's cores, without a thread-pool dependency.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Below this many items, starting threads costs more than it saves (a pre-commit run
/// checks one or two files).
const MIN_PARALLEL: usize = 64;

/// As large as the main thread's default stack on Linux.
const WORKER_STACK: usize = 8 << 20;

/// `items.iter().map(f).collect()`, computed on every available core; results keep the
/// items' order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_when(items.len() >= MIN_PARALLEL, items, f)
}

/// [`map`] for few but costly items: on several cores only when `worth_it`.
pub fn map_when<T: Sync, R: Send>(
    worth_it: bool,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || !worth_it || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    // Small chunks handed out in turn keep the cores busy when some items cost far more
    // than others (one huge file among thousands of small ones).
    let chunk = (items.len() / (threads * 16)).clamp(1, 64);
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, Vec<R>)>> = Mutex::new(Vec::new());
    let work = || loop {
        let start = next.fetch_add(chunk, Ordering::Relaxed);
        if start >= items.len() {
            break;
        }
        let end = (start + chunk).min(items.len());
        let results: Vec<R> = items[start..end].iter().map(&f).collect();
        done.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((start, results));
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            // The main thread's stack size: parsing recurses once per nesting level. A thread
            // that cannot be started only means fewer hands; the calling thread works too.
            let _ = std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, work);
        }
        work();
    });
    let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    done.sort_unstable_by_key(|(start, _)| *start);
    done.into_iter().flat_map(|(_, results)| results).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order_on_any_size() {
        for n in [0, 1, 63, 64, 65, 1000, 4099] {
            let items: Vec<usize> = (0..n).collect();
            let doubled = super::map(&items, |x| x * 2);
            assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        }
    }
}
