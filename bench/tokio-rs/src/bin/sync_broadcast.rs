//! Twin of bench/cpp/sync_broadcast.cpp: Tokio's benches/sync_broadcast.rs (group
//! `contention`, case contention/<N_TASKS>). do_work formats 10 random f64 and sums the
//! bytes, as Tokio's; both twins use the same small xorshift64* generator (seeded by task
//! index) instead of rand's StdRng, so the work per message is identical on both sides.
use std::fmt::Write;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::runtime::{self, Runtime};
use tokio::sync::{broadcast, Notify};
use tokio_bench::{parse, unknown};

const N_ITERS: usize = 100;

struct Rng(u64);
impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E3779B97F4A7C15).wrapping_add(1))
    }
    fn f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545F4914F6CDD1D);
        (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

fn do_work(rng: &mut Rng) -> u32 {
    let mut message = String::new();
    for i in 1..=10 {
        let _ = write!(&mut message, " {i}={}", rng.f64());
    }
    message.as_bytes().iter().map(|&c| c as u32).fold(0, u32::wrapping_add)
}

fn rt(workers: usize) -> Runtime {
    runtime::Builder::new_multi_thread().worker_threads(workers).build().unwrap()
}

fn contention(workers: usize, iters: usize, n_tasks: usize) {
    let rt = rt(workers);
    let (tx, _rx) = broadcast::channel::<usize>(1000);
    let wg = Arc::new((AtomicUsize::new(0), Notify::new()));
    for n in 0..n_tasks {
        let wg = wg.clone();
        let mut rx = tx.subscribe();
        let mut rng = Rng::new(n as u64);
        rt.spawn(async move {
            while (rx.recv().await).is_ok() {
                let r = do_work(&mut rng);
                let _ = black_box(r);
                if wg.0.fetch_sub(1, Ordering::Relaxed) == 1 {
                    wg.1.notify_one();
                }
            }
        });
    }
    for _ in 0..iters {
        rt.block_on({
            let wg = wg.clone();
            let tx = tx.clone();
            async move {
                for i in 0..N_ITERS {
                    assert_eq!(wg.0.fetch_add(n_tasks, Ordering::Relaxed), 0);
                    tx.send(i).unwrap();
                    while wg.0.load(Ordering::Relaxed) > 0 {
                        wg.1.notified().await;
                    }
                }
            }
        })
    }
}

fn main() {
    let a = parse();
    match a.name.split_once('/') {
        Some(("contention", n)) => contention(a.workers, a.iters, n.parse().unwrap_or_else(|_| unknown(&a))),
        _ => unknown(&a),
    }
}
