//! Twin of bench/cpp/sync_semaphore.cpp: Tokio's benches/sync_semaphore.rs.
use std::sync::Arc;
use tokio::runtime::{self, Runtime};
use tokio::{sync::Semaphore, task};
use tokio_bench::{parse, unknown};

fn single_rt() -> Runtime {
    runtime::Builder::new_current_thread().build().unwrap()
}
fn multi_rt(workers: usize) -> Runtime {
    runtime::Builder::new_multi_thread().worker_threads(workers).build().unwrap()
}

async fn task(s: Arc<Semaphore>) {
    let permit = s.acquire().await;
    drop(permit);
}

fn uncontended(workers: usize, iters: usize) {
    let rt = multi_rt(workers);
    let s = Arc::new(Semaphore::new(10));
    for _ in 0..iters {
        let s = s.clone();
        rt.block_on(async move {
            for _ in 0..6 {
                let permit = s.acquire().await;
                drop(permit);
            }
        })
    }
}

fn concurrent_multi(workers: usize, iters: usize, permits: usize) {
    let rt = multi_rt(workers);
    let s = Arc::new(Semaphore::new(permits));
    for _ in 0..iters {
        let s = s.clone();
        rt.block_on(async move {
            let j = tokio::try_join! {
                task::spawn(task(s.clone())),
                task::spawn(task(s.clone())),
                task::spawn(task(s.clone())),
                task::spawn(task(s.clone())),
                task::spawn(task(s.clone())),
                task::spawn(task(s.clone()))
            };
            j.unwrap();
        })
    }
}

fn concurrent_single(iters: usize, permits: usize) {
    let rt = single_rt();
    let s = Arc::new(Semaphore::new(permits));
    for _ in 0..iters {
        let s = s.clone();
        rt.block_on(async move {
            tokio::join! {
                task(s.clone()),
                task(s.clone()),
                task(s.clone()),
                task(s.clone()),
                task(s.clone()),
                task(s.clone())
            };
        })
    }
}

fn main() {
    let a = parse();
    match a.name.as_str() {
        "uncontended/multi" => uncontended(a.workers, a.iters),
        "uncontended/concurrent_multi" => concurrent_multi(a.workers, a.iters, 10),
        "uncontended/concurrent_single" => concurrent_single(a.iters, 10),
        "contention/concurrent_multi" => concurrent_multi(a.workers, a.iters, 5),
        "contention/concurrent_single" => concurrent_single(a.iters, 5),
        _ => unknown(&a),
    }
}
