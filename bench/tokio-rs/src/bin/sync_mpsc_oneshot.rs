//! Twin of bench/cpp/sync_mpsc_oneshot.cpp: Tokio's benches/sync_mpsc_oneshot.rs
//! (request_reply on a current-thread runtime and on a 1-worker multi-thread runtime).
use tokio::runtime::{self, Runtime};
use tokio::sync::{mpsc, oneshot};
use tokio_bench::{parse, unknown};

fn request_reply(rt: Runtime, iters: usize) {
    let tx = rt.block_on(async move {
        let (tx, mut rx) = mpsc::channel::<oneshot::Sender<()>>(10);
        tokio::spawn(async move {
            while let Some(reply) = rx.recv().await {
                reply.send(()).unwrap();
            }
        });
        tx
    });
    for _ in 0..iters {
        let task_tx = tx.clone();
        rt.block_on(async move {
            for _ in 0..1_000 {
                let (o_tx, o_rx) = oneshot::channel();
                task_tx.send(o_tx).await.unwrap();
                let _ = o_rx.await;
            }
        })
    }
}

fn main() {
    let a = parse();
    match a.name.as_str() {
        "request_reply/current_thread" => {
            request_reply(runtime::Builder::new_current_thread().build().unwrap(), a.iters)
        }
        "request_reply/multi_thread" => request_reply(
            runtime::Builder::new_multi_thread().worker_threads(a.workers).build().unwrap(),
            a.iters,
        ),
        _ => unknown(&a),
    }
}
