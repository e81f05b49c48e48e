//! Twin of bench/cpp/io.cpp: Tokio's benches/copy.rs (copy_mem_to_mem) with its constants,
//! duplex-pipe throughput and line splitting. Same arguments: <case> <workers> <iters>.
use std::hint::black_box;
use tokio::io::{self, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::runtime::{self, Runtime};
use tokio_bench::{parse, unknown};

const SOURCE_SIZE: usize = 256 * 1024; // copy.rs SOURCE_SIZE

const DUPLEX_BYTES: usize = 16 << 20;
const DUPLEX_CAP: usize = 64 * 1024;
const DUPLEX_CHUNK: usize = 8 * 1024;

const LINES: usize = 100_000;

fn current() -> Runtime {
    runtime::Builder::new_current_thread().enable_time().build().unwrap()
}

fn copy_mem_to_mem(iters: usize) {
    let rt = current();
    for _ in 0..iters {
        rt.block_on(async {
            let mut source = io::repeat(0).take(SOURCE_SIZE as u64);
            let mut dest = Vec::new();
            let n = io::copy(&mut source, &mut dest).await.unwrap();
            assert_eq!(n as usize, SOURCE_SIZE);
            black_box(dest);
        });
    }
}

fn duplex_copy(workers: usize, iters: usize) {
    let rt = if workers <= 1 {
        current()
    } else {
        runtime::Builder::new_multi_thread().worker_threads(workers).build().unwrap()
    };
    for _ in 0..iters {
        rt.block_on(async {
            let (mut a, mut b) = io::duplex(DUPLEX_CAP);
            let writer = tokio::spawn(async move {
                let chunk = vec![1u8; DUPLEX_CHUNK];
                let mut sent = 0;
                while sent < DUPLEX_BYTES {
                    a.write_all(&chunk).await.unwrap();
                    sent += chunk.len();
                }
                a.shutdown().await.unwrap();
            });
            let mut sink = io::sink();
            let n = io::copy(&mut b, &mut sink).await.unwrap();
            assert_eq!(n as usize, DUPLEX_BYTES);
            writer.await.unwrap();
        });
    }
}

fn lines(iters: usize) {
    let mut text = String::new();
    for i in 0..LINES {
        text.push_str(&format!("line number {} of the text\n", i));
    }
    let rt = current();
    for _ in 0..iters {
        rt.block_on(async {
            let mut ls = BufReader::new(text.as_bytes()).lines();
            let (mut count, mut bytes) = (0usize, 0usize);
            while let Some(l) = ls.next_line().await.unwrap() {
                count += 1;
                bytes += l.len();
            }
            assert_eq!(count, LINES);
            black_box(bytes);
        });
    }
}

fn main() {
    let a = parse();
    match a.name.as_str() {
        // The C++ twin tunes glibc malloc for the second name; Rust's Vec does not need it.
        "copy/copy_mem_to_mem" | "copy/copy_mem_to_mem_malloc_tuned" => copy_mem_to_mem(a.iters),
        "duplex_copy" => duplex_copy(a.workers, a.iters),
        "lines" => lines(a.iters),
        _ => unknown(&a),
    }
}
