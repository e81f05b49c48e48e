//! Twin of bench/cpp/sync_watch.cpp: Tokio's benches/sync_watch.rs (group
//! `contention_resubscribe`, case contention_resubscribe/<N_TASKS>). Same do_work and RNG
//! as sync_broadcast.rs (identical on both sides).
use std::fmt::Write;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::runtime::{self, Runtime};
use tokio::sync::{watch, Notify};
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

fn contention_resubscribe(workers: usize, iters: usize, n_tasks: usize) {
    let rt = rt(workers);
    let (snd, _) = watch::channel(0i32);
    let snd = Arc::new(snd);
    let wg = Arc::new((AtomicU64::new(0), Notify::new()));
    for n in 0..n_tasks {
        let mut rcv = snd.subscribe();
        let wg = wg.clone();
        let mut rng = Rng::new(n as u64);
        rt.spawn(async move {
            while rcv.changed().await.is_ok() {
                let _ = *rcv.borrow(); // contend on rwlock
                let r = do_work(&mut rng);
                let _ = black_box(r);
                if wg.0.fetch_sub(1, Ordering::Release) == 1 {
                    wg.1.notify_one();
                }
            }
        });
    }
    for _ in 0..iters {
        rt.block_on({
            let snd = snd.clone();
            let wg = wg.clone();
            async move {
                tokio::spawn(async move {
                    for _ in 0..N_ITERS {
                        assert_eq!(wg.0.fetch_add(n_tasks as u64, Ordering::Relaxed), 0);
                        let _ = snd.send(black_box(42));
                        while wg.0.load(Ordering::Acquire) > 0 {
                            wg.1.notified().await;
                        }
                    }
                })
                .await
                .unwrap();
            }
        });
    }
}

fn main() {
    let a = parse();
    match a.name.split_once('/') {
        Some(("contention_resubscribe", n)) => {
            contention_resubscribe(a.workers, a.iters, n.parse().unwrap_or_else(|_| unknown(&a)))
        }
        _ => unknown(&a),
    }
}
