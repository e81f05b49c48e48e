//! Twin of bench/cpp/signal.cpp: delivery latency from raise() to the listening task
//! resuming, p50 / p99 / max in microseconds.
use std::sync::mpsc;
use std::time::Instant;
use tokio::runtime;
use tokio::signal::unix::{signal, SignalKind};
use tokio_bench::{parse, unknown};

extern "C" {
    fn raise(sig: i32) -> i32;
}
const SIGUSR1: i32 = 10; // Linux

fn latency(workers: usize, iters: usize) {
    let rt = if workers == 1 {
        runtime::Builder::new_current_thread().enable_all().build().unwrap()
    } else {
        runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap()
    };
    let (tx, rx) = mpsc::channel::<Instant>();
    let mut us: Vec<f64> = rt.block_on(async move {
        let mut sig = signal(SignalKind::user_defined1()).unwrap();
        let listener = tokio::spawn(async move {
            for _ in 0..iters {
                sig.recv().await;
                tx.send(Instant::now()).unwrap();
            }
        });
        let raiser = std::thread::spawn(move || {
            let mut out = Vec::with_capacity(iters);
            for _ in 0..iters {
                let t0 = Instant::now();
                unsafe { raise(SIGUSR1) };
                let t1 = rx.recv().unwrap();
                out.push((t1 - t0).as_secs_f64() * 1e6);
            }
            out
        });
        listener.await.unwrap();
        raiser.join().unwrap()
    });
    us.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| us[((p * us.len() as f64) as usize).min(us.len() - 1)];
    println!("p50_us={:.2} p99_us={:.2} max_us={:.2} n={}", pct(0.50), pct(0.99), us[us.len() - 1], us.len());
}

fn main() {
    let a = parse();
    match a.name.as_str() {
        "latency/raise" => latency(a.workers, a.iters),
        _ => unknown(&a),
    }
}
