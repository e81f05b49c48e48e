//! Twin of bench/cpp/time.cpp: Tokio's time_now.rs and time_timeout.rs with their
//! constants, 200,000 tasks each sleeping 1-50 ms, and 1,000,000 timers registered then
//! cancelled (time and peak memory).
use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::runtime::{self, Runtime};
use tokio::time::{sleep, sleep_until, timeout, Instant, Sleep};
use tokio_bench::{max_rss_kb, parse, unknown};

const SLEEP_TASKS: usize = 200_000;
const TIMERS: usize = 1_000_000;

fn build_run_time(workers: usize) -> Runtime {
    if workers == 1 {
        runtime::Builder::new_current_thread().enable_all().build().unwrap()
    } else {
        runtime::Builder::new_multi_thread().enable_all().worker_threads(workers).build().unwrap()
    }
}

fn time_now(iters: usize) {
    let rt = runtime::Builder::new_current_thread().enable_time().build().unwrap();
    for _ in 0..iters {
        rt.block_on(async {
            black_box(tokio::time::Instant::now());
        });
    }
}

async fn quick_job() -> usize {
    1
}

fn timeout_test(workers: usize, iters: usize) {
    let rt = build_run_time(workers);
    rt.block_on(async {
        let procs = workers;
        let mut handles = Vec::with_capacity(procs);
        for _ in 0..procs {
            handles.push(tokio::spawn(async move {
                for _ in 0..iters / procs {
                    let h = timeout(Duration::from_secs(1), quick_job());
                    assert_eq!(black_box(h.await.unwrap()), 1);
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

fn sleep_test(workers: usize, iters: usize) {
    let rt = build_run_time(workers);
    rt.block_on(async {
        let procs = workers;
        let mut handles = Vec::with_capacity(procs);
        for _ in 0..procs {
            handles.push(tokio::spawn(async move {
                for _ in 0..iters / procs {
                    let _h = black_box(sleep(Duration::from_secs(1)));
                }
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
    });
}

fn sleep_tasks(workers: usize, iters: usize) {
    let rt = build_run_time(workers);
    for _ in 0..iters {
        rt.block_on(async {
            let mut hs = Vec::with_capacity(SLEEP_TASKS);
            for i in 0..SLEEP_TASKS {
                hs.push(tokio::spawn(async move {
                    sleep(Duration::from_millis(1 + (i % 50) as u64)).await;
                }));
            }
            for h in hs {
                h.await.unwrap();
            }
        });
    }
}

fn spread(now: Instant, i: usize) -> Instant {
    now + Duration::from_millis(1000 + ((i * 7919) % 3_600_000) as u64)
}

// Registers every sleep in one poll, outside the coop budget. The Vec never reallocates
// after the sleeps are created, so pinning its elements in place is sound.
async fn register_all(v: &mut Vec<Sleep>) {
    tokio::task::unconstrained(poll_fn(|cx| {
        for s in v.iter_mut() {
            let p = unsafe { Pin::new_unchecked(s) };
            assert!(p.poll(cx).is_pending());
        }
        Poll::Ready(())
    }))
    .await
}

fn insert_cancel(iters: usize) {
    let rt = runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        for _ in 0..iters {
            let mut v: Vec<Sleep> = Vec::with_capacity(TIMERS);
            let now = Instant::now();
            for i in 0..TIMERS {
                v.push(sleep_until(spread(now, i)));
            }
            register_all(&mut v).await;
            drop(v); // cancels every timer
        }
    });
}

fn timers_memory(n: usize) {
    let rt = runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let before = max_rss_kb();
        let mut v: Vec<Sleep> = Vec::with_capacity(n);
        let now = Instant::now();
        for i in 0..n {
            v.push(sleep_until(spread(now, i)));
        }
        register_all(&mut v).await;
        let after = max_rss_kb();
        println!(
            "timers={} sizeof={} rss_kb={} bytes_per_task={:.1}",
            n,
            std::mem::size_of::<Sleep>(),
            after,
            (after - before) as f64 * 1024.0 / n as f64
        );
    });
}

fn main() {
    let a = parse();
    match a.name.as_str() {
        "now/current_thread" => time_now(a.iters),
        "timeout/single_thread_timeout" => timeout_test(1, a.iters),
        "timeout/multi_thread_timeout" => timeout_test(a.workers, a.iters),
        "timeout/single_thread_sleep" => sleep_test(1, a.iters),
        "timeout/multi_thread_sleep" => sleep_test(a.workers, a.iters),
        "sleep_tasks" => sleep_tasks(a.workers, a.iters),
        "insert_cancel" => insert_cancel(a.iters),
        "memory/timers" => timers_memory(a.iters),
        _ => unknown(&a),
    }
}
