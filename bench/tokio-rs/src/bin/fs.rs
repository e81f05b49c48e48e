//! Twin of bench/cpp/fs.cpp: Tokio's fs (every call on the blocking pool) on the workloads of
//! issue 13. Same arguments: <case> <workers> <iters>. A case name may end in "/fallback"
//! (the C++ side then forces its blocking-pool engine); Tokio runs the same workload.
//!   read_files   10,000 files of 4 KiB, 256 in flight (256 tasks, each reading every
//!                256th file with fs::read); `iters` passes
//!   read_big     one 1 GiB file through File::read with a 64 KiB buffer; `iters` passes
//!   write_files  fs::write of 10,000 files of 4 KiB, 256 in flight; `iters` passes
//!   read_dir     read_dir + next_entry over 100,000 entries; `iters` passes
//! The data lives under $TOKIO_FS_BENCH_DIR (default /tmp/tokio-hpp-fs-bench) and is created
//! by whichever program runs first (same layout and contents for both).
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::runtime::{self, Runtime};
use tokio_bench::{parse, unknown};

const FILES: usize = 10_000;
const FILE_SIZE: usize = 4096;
const IN_FLIGHT: usize = 256;
const BIG: u64 = 1 << 30;
const CHUNK: usize = 64 * 1024;
const DIR_ENTRIES: usize = 100_000;

fn root() -> PathBuf {
    std::env::var_os("TOKIO_FS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/tokio-hpp-fs-bench"))
}

fn small_name(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("f{:05}", i))
}

// Same layout as bench/cpp/fs.cpp's setup (a "ready" marker once complete).
fn setup_small(dir: &Path) {
    if dir.join("ready").exists() {
        return;
    }
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..FILES {
        let data = vec![(i % 251) as u8; FILE_SIZE];
        std::fs::write(small_name(dir, i), data).unwrap();
    }
    std::fs::write(dir.join("ready"), b"").unwrap();
}

fn setup_big(path: &Path) {
    let marker = path.with_extension("ready");
    if marker.exists() {
        return;
    }
    use std::io::Write;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::fs::File::create(path).unwrap();
    let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 253) as u8).collect();
    let mut left = BIG;
    while left > 0 {
        f.write_all(&chunk).unwrap();
        left -= CHUNK as u64;
    }
    f.sync_all().unwrap();
    std::fs::write(marker, b"").unwrap();
}

fn setup_dir(dir: &Path) {
    if dir.join("ready").exists() {
        return;
    }
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..DIR_ENTRIES {
        std::fs::File::create(dir.join(format!("e{:06}", i))).unwrap();
    }
    std::fs::write(dir.join("ready"), b"").unwrap();
}

fn multi(workers: usize) -> Runtime {
    runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap()
}

fn read_files(workers: usize, iters: usize) {
    let dir = root().join("small");
    setup_small(&dir);
    let rt = multi(workers);
    let dir = Arc::new(dir);
    for _ in 0..iters {
        rt.block_on(async {
            let mut tasks = Vec::with_capacity(IN_FLIGHT);
            for t in 0..IN_FLIGHT {
                let dir = dir.clone();
                tasks.push(tokio::spawn(async move {
                    let mut sum = 0usize;
                    let mut i = t;
                    while i < FILES {
                        let v = tokio::fs::read(small_name(&dir, i)).await.unwrap();
                        assert_eq!(v.len(), FILE_SIZE);
                        sum += v[0] as usize;
                        i += IN_FLIGHT;
                    }
                    sum
                }));
            }
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap();
            }
            std::hint::black_box(total);
        });
    }
}

fn read_big(workers: usize, iters: usize) {
    let path = root().join("big");
    setup_big(&path);
    let rt = multi(workers);
    for _ in 0..iters {
        rt.block_on(async {
            let mut f = tokio::fs::File::open(&path).await.unwrap();
            let mut buf = vec![0u8; CHUNK];
            let mut total = 0u64;
            loop {
                let n = f.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            assert_eq!(total, BIG);
        });
    }
}

fn write_files(workers: usize, iters: usize) {
    let dir = root().join("write");
    std::fs::create_dir_all(&dir).unwrap();
    let rt = multi(workers);
    let dir = Arc::new(dir);
    let data = Arc::new(vec![7u8; FILE_SIZE]);
    for _ in 0..iters {
        rt.block_on(async {
            let mut tasks = Vec::with_capacity(IN_FLIGHT);
            for t in 0..IN_FLIGHT {
                let dir = dir.clone();
                let data = data.clone();
                tasks.push(tokio::spawn(async move {
                    let mut i = t;
                    while i < FILES {
                        tokio::fs::write(small_name(&dir, i), &data[..]).await.unwrap();
                        i += IN_FLIGHT;
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
    }
}

fn read_dir(workers: usize, iters: usize) {
    let dir = root().join("dir100k");
    setup_dir(&dir);
    let rt = multi(workers);
    for _ in 0..iters {
        rt.block_on(async {
            let mut rd = tokio::fs::read_dir(&dir).await.unwrap();
            let mut n = 0usize;
            while let Some(e) = rd.next_entry().await.unwrap() {
                n += e.file_name().len();
            }
            assert!(n >= DIR_ENTRIES * 7);
        });
    }
}

fn main() {
    let a = parse();
    let case = a.name.strip_suffix("/fallback").unwrap_or(&a.name).to_string();
    match case.as_str() {
        "read_files" => read_files(a.workers, a.iters),
        "read_big" => read_big(a.workers, a.iters),
        "write_files" => write_files(a.workers, a.iters),
        "read_dir" => read_dir(a.workers, a.iters),
        _ => unknown(&a),
    }
}
