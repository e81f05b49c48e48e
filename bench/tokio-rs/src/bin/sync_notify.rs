//! Twin of bench/cpp/sync_notify.cpp: Tokio's benches/sync_notify.rs. Case names carry the
//! number of waiting tasks: notify_one/<N>, notify_waiters/<N>.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::runtime::{self, Runtime};
use tokio::sync::Notify;
use tokio_bench::{parse, unknown};

const N_ITERS: usize = 500;

fn rt(workers: usize) -> Runtime {
    runtime::Builder::new_multi_thread().worker_threads(workers).build().unwrap()
}

fn run(workers: usize, iters: usize, n_waiters: usize, all: bool) {
    let rt = rt(workers);
    let notify = Arc::new(Notify::new());
    let counter = Arc::new(AtomicUsize::new(0));
    for _ in 0..n_waiters {
        rt.spawn({
            let notify = notify.clone();
            let counter = counter.clone();
            async move {
                loop {
                    notify.notified().await;
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    for _ in 0..iters {
        counter.store(0, Ordering::Relaxed);
        loop {
            if all {
                notify.notify_waiters();
            } else {
                notify.notify_one();
            }
            if counter.load(Ordering::Relaxed) >= N_ITERS {
                break;
            }
        }
    }
}

fn main() {
    let a = parse();
    let (kind, n) = match a.name.split_once('/') {
        Some((k, n)) => (k.to_string(), n.parse::<usize>().unwrap_or(0)),
        None => unknown(&a),
    };
    match kind.as_str() {
        "notify_one" if n > 0 => run(a.workers, a.iters, n, false),
        "notify_waiters" if n > 0 => run(a.workers, a.iters, n, true),
        _ => unknown(&a),
    }
}
