//! Twin of bench/cpp/process.cpp: spawn and wait for children of /bin/true, 32 at a time,
//! and collect large outputs.
use tokio::process::Command;
use tokio::runtime;
use tokio_bench::{parse, unknown};

const IN_FLIGHT: usize = 32;

async fn lane(n: usize) -> usize {
    let mut ok = 0;
    for _ in 0..n {
        let st = Command::new("/bin/true").status().await;
        if matches!(st, Ok(s) if s.success()) {
            ok += 1;
        }
    }
    ok
}

fn spawn_wait(workers: usize, iters: usize) {
    let rt = runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap();
    let ok = rt.block_on(async move {
        let mut set = tokio::task::JoinSet::new();
        for l in 0..IN_FLIGHT {
            set.spawn(lane(iters / IN_FLIGHT + if l < iters % IN_FLIGHT { 1 } else { 0 }));
        }
        let mut total = 0;
        while let Some(r) = set.join_next().await {
            total += r.unwrap();
        }
        total
    });
    if ok != iters {
        eprintln!("only {} of {} children succeeded", ok, iters);
        std::process::exit(1);
    }
}

fn output_10mb(workers: usize, iters: usize) {
    let rt = runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap();
    let ok = rt.block_on(async move {
        let mut ok = 0;
        for _ in 0..iters {
            let out = Command::new("sh")
                .arg("-c")
                .arg("head -c 10000000 /dev/zero; head -c 10000000 /dev/zero >&2")
                .output()
                .await;
            if matches!(&out, Ok(o) if o.stdout.len() == 10000000 && o.stderr.len() == 10000000) {
                ok += 1;
            }
        }
        ok
    });
    if ok != iters {
        eprintln!("only {} of {} outputs were complete", ok, iters);
        std::process::exit(1);
    }
}

fn main() {
    let a = parse();
    match a.name.as_str() {
        "spawn_wait/true" => spawn_wait(a.workers, a.iters),
        "output/10mb" => output_10mb(a.workers, a.iters),
        _ => unknown(&a),
    }
}
