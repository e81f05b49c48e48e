//! Twin of bench/cpp/sync_mpsc.cpp: Tokio's benches/sync_mpsc.rs with its constants.
//! Tokio 1.24.2 has no `recv_many` (added in 1.37); the `_recv_many` cases use its
//! 1.24-era equivalent: `recv().await` for the first message, then `try_recv()` up to the
//! limit.
use std::hint::black_box;
use tokio::runtime::{self, Runtime};
use tokio::sync::mpsc;
use tokio_bench::{parse, unknown};

#[derive(Debug, Copy, Clone)]
struct Medium(#[allow(dead_code)] [usize; 64]);
impl Default for Medium {
    fn default() -> Self {
        Medium([0; 64])
    }
}

#[derive(Debug, Copy, Clone)]
struct Large(#[allow(dead_code)] [Medium; 64]);
impl Default for Large {
    fn default() -> Self {
        Large([Medium::default(); 64])
    }
}

fn rt(workers: usize) -> Runtime {
    runtime::Builder::new_multi_thread().worker_threads(workers).build().unwrap()
}

async fn recv_many<T>(rx: &mut mpsc::Receiver<T>, buf: &mut Vec<T>, limit: usize) -> usize {
    match rx.recv().await {
        None => 0,
        Some(v) => {
            buf.push(v);
            let mut n = 1;
            while n < limit {
                match rx.try_recv() {
                    Ok(v) => {
                        buf.push(v);
                        n += 1;
                    }
                    Err(_) => break,
                }
            }
            n
        }
    }
}
async fn urecv_many<T>(rx: &mut mpsc::UnboundedReceiver<T>, buf: &mut Vec<T>, limit: usize) -> usize {
    match rx.recv().await {
        None => 0,
        Some(v) => {
            buf.push(v);
            let mut n = 1;
            while n < limit {
                match rx.try_recv() {
                    Ok(v) => {
                        buf.push(v);
                        n += 1;
                    }
                    Err(_) => break,
                }
            }
            n
        }
    }
}

fn create_medium(size: usize, iters: usize) {
    for _ in 0..iters {
        black_box(&mpsc::channel::<Medium>(size));
    }
}

fn send_data<T: Default>(workers: usize, iters: usize) {
    let rt = rt(workers);
    for _ in 0..iters {
        let (tx, mut rx) = mpsc::channel::<T>(1000);
        let _ = rt.block_on(tx.send(T::default()));
        rt.block_on(rx.recv()).unwrap();
    }
}

fn contention_bounded(workers: usize, iters: usize, cap: usize, many: bool) {
    let rt = rt(workers);
    for _ in 0..iters {
        rt.block_on(async move {
            let (tx, mut rx) = mpsc::channel::<usize>(cap);
            for _ in 0..5 {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for i in 0..1000 {
                        tx.send(i).await.unwrap();
                    }
                });
            }
            if many {
                let mut buffer = Vec::<usize>::with_capacity(5_000);
                let mut total = 0;
                while total < 1_000 * 5 {
                    total += recv_many(&mut rx, &mut buffer, 5_000).await;
                }
            } else {
                for _ in 0..1_000 * 5 {
                    let _ = rx.recv().await;
                }
            }
        })
    }
}

fn contention_unbounded(workers: usize, iters: usize, many: bool) {
    let rt = rt(workers);
    for _ in 0..iters {
        rt.block_on(async move {
            let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
            for _ in 0..5 {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for i in 0..1000 {
                        tx.send(i).unwrap();
                    }
                });
            }
            if many {
                let mut buffer = Vec::<usize>::with_capacity(5_000);
                let mut total = 0;
                while total < 1_000 * 5 {
                    total += urecv_many(&mut rx, &mut buffer, 5_000).await;
                }
            } else {
                for _ in 0..1_000 * 5 {
                    let _ = rx.recv().await;
                }
            }
        })
    }
}

fn uncontented_bounded(workers: usize, iters: usize, many: bool) {
    let rt = rt(workers);
    for _ in 0..iters {
        rt.block_on(async move {
            let (tx, mut rx) = mpsc::channel::<usize>(1_000_000);
            for i in 0..5000 {
                tx.send(i).await.unwrap();
            }
            if many {
                let mut buffer = Vec::<usize>::with_capacity(5_000);
                let mut total = 0;
                while total < 1_000 * 5 {
                    total += recv_many(&mut rx, &mut buffer, 5_000).await;
                }
            } else {
                for _ in 0..5_000 {
                    let _ = rx.recv().await;
                }
            }
        })
    }
}

fn uncontented_unbounded(workers: usize, iters: usize, many: bool) {
    let rt = rt(workers);
    for _ in 0..iters {
        rt.block_on(async move {
            let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
            for i in 0..5000 {
                tx.send(i).unwrap();
            }
            if many {
                let mut buffer = Vec::<usize>::with_capacity(5_000);
                let mut total = 0;
                while total < 1_000 * 5 {
                    total += urecv_many(&mut rx, &mut buffer, 5_000).await;
                }
            } else {
                for _ in 0..5_000 {
                    let _ = rx.recv().await;
                }
            }
        })
    }
}

fn main() {
    let a = parse();
    let (w, it) = (a.workers, a.iters);
    match a.name.as_str() {
        "create_medium/1" => create_medium(1, it),
        "create_medium/100" => create_medium(100, it),
        "create_medium/100000" => create_medium(100_000, it),
        "send/medium_1000" => send_data::<Medium>(w, it),
        "send/large_1000" => send_data::<Large>(w, it),
        "contention/bounded" => contention_bounded(w, it, 1_000_000, false),
        "contention/bounded_recv_many" => contention_bounded(w, it, 1_000_000, true),
        "contention/bounded_full" => contention_bounded(w, it, 100, false),
        "contention/bounded_full_recv_many" => contention_bounded(w, it, 100, true),
        "contention/unbounded" => contention_unbounded(w, it, false),
        "contention/unbounded_recv_many" => contention_unbounded(w, it, true),
        "uncontented/bounded" => uncontented_bounded(w, it, false),
        "uncontented/bounded_recv_many" => uncontented_bounded(w, it, true),
        "uncontented/unbounded" => uncontented_unbounded(w, it, false),
        "uncontented/unbounded_recv_many" => uncontented_unbounded(w, it, true),
        _ => unknown(&a),
    }
}
