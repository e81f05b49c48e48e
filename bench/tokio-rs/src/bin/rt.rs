//! Twin of bench/cpp/rt.cpp: Tokio's rt_multi_threaded.rs, rt_current_thread.rs, spawn.rs,
//! remote_spawn.rs and spawn_blocking.rs, with their constants.
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc, Barrier};
use tokio::runtime::{self, Runtime};
use tokio::sync::oneshot;
use tokio_bench::{max_rss_kb, parse, stall, unknown};

const NUM_SPAWN: usize = 10_000;
const NUM_PINGS: usize = 1_000;
const NUM_YIELD: usize = 1_000;
const YIELD_TASKS: usize = 200;
const CHAIN_ITER: usize = 1_000;
const CT_NUM_SPAWN: usize = 1_000;
const REMOTE_TOTAL: usize = 12_800;
const NUM_BATCHES: usize = 100;
const BATCH_SIZE: usize = 16;

fn multi(workers: usize) -> Runtime {
    runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap()
}
fn current() -> Runtime {
    runtime::Builder::new_current_thread().build().unwrap()
}

fn spawn_many_local(workers: usize, iters: usize) {
    let rt = multi(workers);
    let (tx, rx) = mpsc::sync_channel(1000);
    let rem = Arc::new(AtomicUsize::new(0));
    for _ in 0..iters {
        rem.store(NUM_SPAWN, Relaxed);
        rt.block_on(async {
            for _ in 0..NUM_SPAWN {
                let tx = tx.clone();
                let rem = rem.clone();
                tokio::spawn(async move {
                    if 1 == rem.fetch_sub(1, Relaxed) {
                        tx.send(()).unwrap();
                    }
                });
            }
            let _ = rx.recv().unwrap();
        });
    }
}

fn remote_spawn_and_await(rt: &Runtime, n: usize) {
    let h = rt.handle();
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        handles.push(h.spawn(async {}));
    }
    rt.block_on(async {
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

fn spawn_many_remote_idle(workers: usize, iters: usize) {
    let rt = multi(workers);
    for _ in 0..iters {
        remote_spawn_and_await(&rt, NUM_SPAWN);
    }
}

fn spawn_many_remote_busy1(workers: usize, iters: usize) {
    let rt = multi(workers);
    let flag = Arc::new(AtomicBool::new(true));
    for _ in 0..(2 * workers) {
        let flag = flag.clone();
        rt.spawn(async move {
            while flag.load(Relaxed) {
                tokio::task::yield_now().await;
                stall();
            }
        });
    }
    for _ in 0..iters {
        remote_spawn_and_await(&rt, NUM_SPAWN);
    }
    flag.store(false, Relaxed);
}

fn spawn_many_remote_busy2(workers: usize, iters: usize) {
    let rt = multi(workers);
    let flag = Arc::new(AtomicBool::new(true));
    for _ in 0..workers {
        let flag = flag.clone();
        fn iter(flag: Arc<AtomicBool>) {
            tokio::spawn(async {
                if flag.load(Relaxed) {
                    stall();
                    iter(flag);
                }
            });
        }
        rt.spawn(async {
            iter(flag);
        });
    }
    for _ in 0..iters {
        remote_spawn_and_await(&rt, 1000);
    }
    flag.store(false, Relaxed);
}

fn ping_pong(workers: usize, iters: usize) {
    let rt = multi(workers);
    let (done_tx, done_rx) = mpsc::sync_channel(1000);
    let rem = Arc::new(AtomicUsize::new(0));
    for _ in 0..iters {
        let done_tx = done_tx.clone();
        let rem = rem.clone();
        rem.store(NUM_PINGS, Relaxed);
        rt.block_on(async {
            tokio::spawn(async move {
                for _ in 0..NUM_PINGS {
                    let rem = rem.clone();
                    let done_tx = done_tx.clone();
                    tokio::spawn(async move {
                        let (tx1, rx1) = oneshot::channel();
                        let (tx2, rx2) = oneshot::channel();
                        tokio::spawn(async move {
                            rx1.await.unwrap();
                            tx2.send(()).unwrap();
                        });
                        tx1.send(()).unwrap();
                        rx2.await.unwrap();
                        if 1 == rem.fetch_sub(1, Relaxed) {
                            done_tx.send(()).unwrap();
                        }
                    });
                }
            });
            done_rx.recv().unwrap();
        });
    }
}

fn yield_many(workers: usize, iters: usize) {
    let rt = multi(workers);
    let (tx, rx) = mpsc::sync_channel(YIELD_TASKS);
    for _ in 0..iters {
        for _ in 0..YIELD_TASKS {
            let tx = tx.clone();
            rt.spawn(async move {
                for _ in 0..NUM_YIELD {
                    tokio::task::yield_now().await;
                }
                tx.send(()).unwrap();
            });
        }
        for _ in 0..YIELD_TASKS {
            let _ = rx.recv().unwrap();
        }
    }
}

fn chained_spawn(workers: usize, iters: usize) {
    fn iter(done_tx: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            tokio::spawn(async move {
                iter(done_tx, n - 1);
            });
        }
    }
    let rt = multi(workers);
    let (done_tx, done_rx) = mpsc::sync_channel(1000);
    for _ in 0..iters {
        let done_tx = done_tx.clone();
        rt.block_on(async {
            tokio::spawn(async move {
                iter(done_tx, CHAIN_ITER);
            });
            done_rx.recv().unwrap();
        });
    }
}

fn ct_spawn_many_local(iters: usize) {
    let rt = current();
    let mut handles = Vec::with_capacity(CT_NUM_SPAWN);
    for _ in 0..iters {
        rt.block_on(async {
            for _ in 0..CT_NUM_SPAWN {
                handles.push(tokio::spawn(async move {}));
            }
            for handle in handles.drain(..) {
                handle.await.unwrap();
            }
        });
    }
}

fn ct_spawn_many_remote_idle(iters: usize) {
    let rt = current();
    for _ in 0..iters {
        remote_spawn_and_await(&rt, CT_NUM_SPAWN);
    }
}

fn ct_spawn_many_remote_busy(iters: usize) {
    let rt = current();
    rt.spawn(async {
        fn iter() {
            tokio::spawn(async { iter() });
        }
        iter()
    });
    for _ in 0..iters {
        remote_spawn_and_await(&rt, CT_NUM_SPAWN);
    }
}

async fn work() -> usize {
    let val = 1 + 1;
    tokio::task::yield_now().await;
    black_box(val)
}

fn spawn_n(rt: &Runtime, n: usize, iters: usize) {
    for _ in 0..iters {
        rt.block_on(async {
            let mut hs = Vec::with_capacity(n);
            for _ in 0..n {
                hs.push(tokio::spawn(work()));
            }
            for h in hs {
                assert_eq!(h.await.unwrap(), 2);
            }
        });
    }
}

fn remote_spawn(threads: usize, iters: usize) {
    let rt = runtime::Builder::new_multi_thread().build().unwrap();
    for _ in 0..iters {
        let barrier = Arc::new(Barrier::new(threads));
        let mut joins = Vec::new();
        for _ in 0..threads {
            let h = rt.handle().clone();
            let barrier = barrier.clone();
            joins.push(std::thread::spawn(move || {
                barrier.wait();
                let mut hs = Vec::with_capacity(REMOTE_TOTAL / threads);
                for _ in 0..REMOTE_TOTAL / threads {
                    hs.push(h.spawn(async {}));
                }
                hs
            }));
        }
        let all: Vec<_> = joins.into_iter().map(|j| j.join().unwrap()).collect();
        rt.block_on(async {
            for v in all {
                for h in v {
                    h.await.unwrap();
                }
            }
        });
    }
}

async fn blocking_batches() {
    let mut hs = Vec::with_capacity(BATCH_SIZE);
    for _ in 0..NUM_BATCHES {
        for _ in 0..BATCH_SIZE {
            hs.push(tokio::task::spawn_blocking(|| black_box(0)));
        }
        for h in hs.drain(..) {
            h.await.unwrap();
        }
    }
}

fn spawn_blocking(concurrency: usize, iters: usize) {
    let rt = runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for _ in 0..iters {
        rt.block_on(async {
            let mut hs = Vec::new();
            for _ in 0..concurrency {
                hs.push(tokio::spawn(blocking_batches()));
            }
            for h in hs {
                h.await.unwrap();
            }
        });
    }
}

fn parked_memory(workers: usize, tasks: usize) {
    let rt = multi(workers);
    let mut senders = Vec::with_capacity(tasks);
    let mut handles = Vec::with_capacity(tasks);
    let before = max_rss_kb();
    {
        let _g = rt.enter();
        for _ in 0..tasks {
            let (tx, rx) = oneshot::channel::<i32>();
            senders.push(tx);
            handles.push(tokio::spawn(async move {
                let _ = rx.await;
            }));
        }
    }
    rt.block_on(async {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(100));
    let after = max_rss_kb();
    println!(
        "tasks={} rss_kb={} bytes_per_task={:.1}",
        tasks,
        after,
        (after - before) as f64 * 1024.0 / tasks as f64
    );
    for s in senders {
        let _ = s.send(1);
    }
    rt.block_on(async {
        for h in handles {
            h.await.unwrap();
        }
    });
}

fn main() {
    let a = parse();
    // "<case>+obs" is the C++ side's observability variant; Tokio runs the plain case.
    match a.name.trim_end_matches("+obs") {
        "multi/spawn_many_local" => spawn_many_local(a.workers, a.iters),
        "multi/spawn_many_remote_idle" => spawn_many_remote_idle(a.workers, a.iters),
        "multi/spawn_many_remote_busy1" => spawn_many_remote_busy1(a.workers, a.iters),
        "multi/spawn_many_remote_busy2" => spawn_many_remote_busy2(a.workers, a.iters),
        "multi/ping_pong" => ping_pong(a.workers, a.iters),
        "multi/yield_many" => yield_many(a.workers, a.iters),
        "multi/chained_spawn" => chained_spawn(a.workers, a.iters),
        "current/spawn_many_local" => ct_spawn_many_local(a.iters),
        "current/spawn_many_remote_idle" => ct_spawn_many_remote_idle(a.iters),
        "current/spawn_many_remote_busy" => ct_spawn_many_remote_busy(a.iters),
        "spawn/basic_scheduler_spawn" => spawn_n(&current(), 1, a.iters),
        "spawn/basic_scheduler_spawn10" => spawn_n(&current(), 10, a.iters),
        "spawn/threaded_scheduler_spawn" => spawn_n(&multi(1), 1, a.iters),
        "spawn/threaded_scheduler_spawn10" => spawn_n(&multi(1), 10, a.iters),
        "remote_spawn" => remote_spawn(a.workers, a.iters),
        "spawn_blocking" => spawn_blocking(a.workers, a.iters),
        "memory/parked_tasks" => parked_memory(a.workers, a.iters),
        _ => unknown(&a),
    }
}
