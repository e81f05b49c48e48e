//! Twin of bench/cpp/sync_rwlock.cpp: Tokio's benches/sync_rwlock.rs.
use std::hint::black_box;
use std::sync::Arc;
use tokio::runtime::{self, Runtime};
use tokio::{sync::RwLock, task};
use tokio_bench::{parse, unknown};

fn multi_rt(workers: usize) -> Runtime {
    runtime::Builder::new_multi_thread().worker_threads(workers).build().unwrap()
}
fn single_rt() -> Runtime {
    runtime::Builder::new_current_thread().build().unwrap()
}

async fn read_task(lock: Arc<RwLock<()>>) {
    let read = lock.read().await;
    let _read = black_box(read);
}

fn read_uncontended(workers: usize, iters: usize) {
    let rt = multi_rt(workers);
    let lock = Arc::new(RwLock::new(()));
    for _ in 0..iters {
        let lock = lock.clone();
        rt.block_on(async move {
            for _ in 0..6 {
                let read = lock.read().await;
                let _read = black_box(read);
            }
        })
    }
}

fn read_concurrent_uncontended_multi(workers: usize, iters: usize) {
    let rt = multi_rt(workers);
    let lock = Arc::new(RwLock::new(()));
    for _ in 0..iters {
        let lock = lock.clone();
        rt.block_on(async move {
            let j = tokio::try_join! {
                task::spawn(read_task(lock.clone())),
                task::spawn(read_task(lock.clone())),
                task::spawn(read_task(lock.clone())),
                task::spawn(read_task(lock.clone())),
                task::spawn(read_task(lock.clone())),
                task::spawn(read_task(lock.clone()))
            };
            j.unwrap();
        })
    }
}

fn read_concurrent_uncontended(iters: usize) {
    let rt = single_rt();
    let lock = Arc::new(RwLock::new(()));
    for _ in 0..iters {
        let lock = lock.clone();
        rt.block_on(async move {
            tokio::join! {
                read_task(lock.clone()),
                read_task(lock.clone()),
                read_task(lock.clone()),
                read_task(lock.clone()),
                read_task(lock.clone()),
                read_task(lock.clone())
            };
        })
    }
}

fn read_concurrent_contended_multi(workers: usize, iters: usize) {
    let rt = multi_rt(workers);
    let lock = Arc::new(RwLock::new(()));
    for _ in 0..iters {
        let lock = lock.clone();
        rt.block_on(async move {
            let write = lock.write().await;
            let j = tokio::try_join! {
                async move { drop(write); Ok(()) },
                task::spawn(read_task(lock.clone())),
                task::spawn(read_task(lock.clone())),
                task::spawn(read_task(lock.clone())),
                task::spawn(read_task(lock.clone())),
                task::spawn(read_task(lock.clone())),
            };
            j.unwrap();
        })
    }
}

fn read_concurrent_contended(iters: usize) {
    let rt = single_rt();
    let lock = Arc::new(RwLock::new(()));
    for _ in 0..iters {
        let lock = lock.clone();
        rt.block_on(async move {
            let write = lock.write().await;
            tokio::join! {
                async move { drop(write) },
                read_task(lock.clone()),
                read_task(lock.clone()),
                read_task(lock.clone()),
                read_task(lock.clone()),
                read_task(lock.clone()),
            };
        })
    }
}

fn main() {
    let a = parse();
    match a.name.as_str() {
        "uncontended/read" => read_uncontended(a.workers, a.iters),
        "uncontended/read_concurrent" => read_concurrent_uncontended(a.iters),
        "uncontended/read_concurrent_multi" => read_concurrent_uncontended_multi(a.workers, a.iters),
        "contention/read_concurrent" => read_concurrent_contended(a.iters),
        "contention/read_concurrent_multi" => read_concurrent_contended_multi(a.workers, a.iters),
        _ => unknown(&a),
    }
}
