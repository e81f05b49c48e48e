//! Twin of bench/cpp/user.cpp: the user-shaped programs of issue 10, written as a Rust user
//! would write them with Tokio (Arc for shared state, `tokio::spawn(async move { .. })`, one
//! block_on of an async main). Same cases, same arguments, same bounded waits.
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::Duration;
use tokio::runtime::{self, Runtime};
use tokio::sync::{mpsc, Notify};
use tokio_bench::{max_rss_kb, parse, unknown};

fn fail(what: &str) -> ! {
    eprintln!("user: {}", what);
    std::process::exit(1);
}

fn runtime(workers: usize) -> Runtime {
    runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap()
}

// --- 1,000,000 idle tasks on one Notify ---------------------------------------------------
#[derive(Default)]
struct Progress {
    waiting: AtomicUsize,
    woken: AtomicUsize,
}

async fn idle_notify(tasks: usize) {
    let notify = Arc::new(Notify::new());
    let progress = Arc::new(Progress::default());
    for _ in 0..tasks {
        let notify = notify.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            progress.waiting.fetch_add(1, Relaxed);
            notify.notified().await;
            progress.woken.fetch_add(1, Relaxed);
        });
    }
    let mut ms = 0;
    while progress.waiting.load(Relaxed) < tasks {
        ms += 1;
        if ms > 120_000 {
            fail("tasks did not start waiting within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut ms = 0;
    while progress.woken.load(Relaxed) < tasks {
        ms += 1;
        if ms > 120_000 {
            fail("tasks were not woken within 120 s");
        }
        notify.notify_waiters();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn idle_notify_main(workers: usize, tasks: usize) {
    {
        let rt = runtime(workers);
        rt.block_on(idle_notify(tasks));
    }
    let rss = max_rss_kb();
    println!(
        "tasks={} rss_kb={} bytes_per_task={:.1}",
        tasks,
        rss,
        rss as f64 * 1024.0 / tasks as f64
    );
}

// --- chained spawn ------------------------------------------------------------------------
const CHAIN_DEPTH: usize = 1_000;

fn chain(done: std_mpsc::Sender<()>, n: usize) {
    if n == 0 {
        done.send(()).unwrap();
    } else {
        tokio::spawn(async move {
            chain(done, n - 1);
        });
    }
}

fn chained_main(workers: usize, iters: usize) {
    let rt = runtime(workers);
    for _ in 0..iters {
        rt.block_on(async {
            let (done, finished) = std_mpsc::channel();
            tokio::spawn(async move {
                chain(done, CHAIN_DEPTH);
            });
            // As in Tokio's chained_spawn bench, the block_on thread blocks until the chain ends.
            if finished.recv_timeout(Duration::from_secs(60)).is_err() {
                fail("chain did not finish within 60 s");
            }
        });
    }
}

// --- bounded mpsc -------------------------------------------------------------------------
const PRODUCERS: usize = 5;
const SENDS: usize = 1_000;

// Spawns the producers; `tx` is dropped on return, so the receive ends with them.
fn spawn_producers(tx: mpsc::Sender<usize>) {
    for _ in 0..PRODUCERS {
        let tx = tx.clone();
        tokio::spawn(async move {
            for i in 0..SENDS {
                if tx.send(i).await.is_err() {
                    fail("send on a closed channel");
                }
            }
        });
    }
}

async fn mpsc_round() {
    let (tx, mut rx) = mpsc::channel::<usize>(100);
    spawn_producers(tx);
    let mut received = 0;
    while let Some(_) = rx.recv().await {
        received += 1;
    }
    if received != PRODUCERS * SENDS {
        fail("lost messages");
    }
}

// --- select loops -------------------------------------------------------------------------
// Each message is raced against a fresh future from `other()`, which must never win.
async fn select_round<F: std::future::Future, M: Fn() -> F>(other: M) {
    let (tx, mut rx) = mpsc::channel::<usize>(100);
    spawn_producers(tx);
    let mut received = 0;
    loop {
        tokio::select! {
            v = rx.recv() => match v {
                Some(_) => received += 1,
                None => break,
            },
            _ = other() => fail("the other branch won"),
        }
    }
    if received != PRODUCERS * SENDS {
        fail("lost messages");
    }
}

// --- JoinSet rounds -----------------------------------------------------------------------
const ROUND_TASKS: u64 = 100_000;

async fn joinset_rounds(rounds: usize) {
    let mut total = 0u64;
    for _ in 0..rounds {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..ROUND_TASKS {
            set.spawn(async move { i * 2 });
        }
        while let Some(r) = set.join_next().await {
            total += r.unwrap();
        }
    }
    if total != rounds as u64 * ROUND_TASKS * (ROUND_TASKS - 1) {
        fail("wrong total");
    }
}

fn main() {
    let a = parse();
    match a.name.as_str() {
        // One Rust program for both C++ spawn forms: a Rust user has one way to spawn.
        "memory/idle_notify_callable" | "memory/idle_notify_coroutine" => {
            idle_notify_main(a.workers, a.iters)
        }
        "chained_spawn/callable" | "chained_spawn/coroutine" => chained_main(a.workers, a.iters),
        "mpsc_bounded" => runtime(a.workers).block_on(async {
            for _ in 0..a.iters {
                mpsc_round().await;
            }
        }),
        "select_loop" => runtime(a.workers).block_on(async {
            let stop = Notify::new();
            for _ in 0..a.iters {
                select_round(|| stop.notified()).await;
            }
        }),
        "select_sleep_loop" => runtime(a.workers).block_on(async {
            for _ in 0..a.iters {
                select_round(|| tokio::time::sleep(Duration::from_secs(1))).await;
            }
        }),
        "joinset_rounds" => runtime(a.workers).block_on(joinset_rounds(a.iters)),
        "joinset_rounds/current_thread" => runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(joinset_rounds(a.iters)),
        _ => unknown(&a),
    }
}
