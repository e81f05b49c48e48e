//! Twin of bench/cpp/stream.cpp: streams and codecs as a Rust user writes them, with
//! tokio-stream's StreamExt and tokio-util's FramedRead + LinesCodec (Debian's
//! librust-tokio-stream-dev / librust-tokio-util-dev). Same cases, same constants.
use tokio::io::{AsyncWriteExt, DuplexStream};
use tokio::runtime::{self, Runtime};
use tokio::sync::mpsc;
use tokio_bench::{parse, unknown};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt, StreamMap};
use tokio_util::codec::{FramedRead, LinesCodec};

const THEN_ITEMS: u64 = 100_000;
const PIPELINE_ITEMS: u64 = 1_000_000;
const MERGE_ITEMS: u64 = 50_000; // per producer
const MAP_STREAMS: u64 = 64;
const MAP_ITEMS: u64 = 2_000; // per stream
const LINES: usize = 100_000;
const LINE_LEN: usize = 32; // with the '\n'

fn fail(what: &str) -> ! {
    eprintln!("stream: {}", what);
    std::process::exit(1);
}

fn runtime(workers: usize) -> Runtime {
    runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap()
}

async fn triple(x: u64) -> u64 {
    x * 3
}

async fn sum_all<S: Stream<Item = u64>>(s: S) -> u64 {
    tokio::pin!(s);
    let mut sum = 0;
    while let Some(v) = s.next().await {
        sum += v;
    }
    sum
}

async fn then_rounds(rounds: usize) {
    for _ in 0..rounds {
        let s = tokio_stream::iter(0..THEN_ITEMS).then(triple);
        if sum_all(s).await != 3 * (THEN_ITEMS * (THEN_ITEMS - 1) / 2) {
            fail("then: wrong sum");
        }
    }
}

async fn pipeline_rounds(rounds: usize) {
    for _ in 0..rounds {
        let s = tokio_stream::iter(0..PIPELINE_ITEMS).map(|x| x * 3).filter(|x| x % 2 == 0);
        let sum = s.fold(0u64, |acc, x| acc + x).await;
        if sum == 0 {
            fail("pipeline: wrong sum");
        }
    }
}

async fn next_loop_rounds(rounds: usize) {
    for _ in 0..rounds {
        let s = tokio_stream::iter(0..PIPELINE_ITEMS).map(|x| x * 3).filter(|x| x % 2 == 0);
        if sum_all(s).await == 0 {
            fail("next_loop: wrong sum");
        }
    }
}

async fn merge_rounds(rounds: usize) {
    for _ in 0..rounds {
        let (tx1, rx1) = mpsc::channel::<u64>(128);
        let (tx2, rx2) = mpsc::channel::<u64>(128);
        for tx in [tx1, tx2] {
            tokio::spawn(async move {
                for i in 0..MERGE_ITEMS {
                    if tx.send(i).await.is_err() {
                        fail("merge: receiver gone");
                    }
                }
            });
        }
        let s = ReceiverStream::new(rx1).merge(ReceiverStream::new(rx2));
        if sum_all(s).await != MERGE_ITEMS * (MERGE_ITEMS - 1) {
            fail("merge: wrong sum");
        }
    }
}

async fn stream_map_rounds(rounds: usize) {
    for _ in 0..rounds {
        let mut map = StreamMap::new();
        for k in 0..MAP_STREAMS {
            let (tx, rx) = mpsc::channel::<u64>(32);
            tokio::spawn(async move {
                for i in 0..MAP_ITEMS {
                    if tx.send(i).await.is_err() {
                        fail("stream_map: receiver gone");
                    }
                }
            });
            map.insert(k, ReceiverStream::new(rx));
        }
        let (mut sum, mut keys) = (0u64, 0u64);
        while let Some((k, v)) = map.next().await {
            sum += v;
            keys += k;
        }
        if sum != MAP_STREAMS * (MAP_ITEMS * (MAP_ITEMS - 1) / 2) {
            fail("stream_map: wrong sum");
        }
        if keys != MAP_ITEMS * (MAP_STREAMS * (MAP_STREAMS - 1) / 2) {
            fail("stream_map: wrong keys");
        }
    }
}

async fn lines_rounds(rounds: usize) {
    let mut text = String::with_capacity(LINES * LINE_LEN);
    for i in 0..LINES {
        let mut line = format!("line {}", 1_000_000_000 + i);
        while line.len() < LINE_LEN - 1 {
            line.push('.');
        }
        text.push_str(&line);
        text.push('\n');
    }
    let text = std::sync::Arc::new(text);
    for _ in 0..rounds {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let t = text.clone();
        tokio::spawn(async move {
            let mut w: DuplexStream = a;
            for chunk in t.as_bytes().chunks(8192) {
                if w.write_all(chunk).await.is_err() {
                    fail("lines_codec: write failed");
                }
            }
            let _ = w.shutdown().await;
        });
        let mut lines = FramedRead::new(b, LinesCodec::new());
        let mut count = 0;
        while let Some(line) = lines.next().await {
            match line {
                Ok(l) if l.len() == LINE_LEN - 1 => count += 1,
                _ => fail("lines_codec: bad line"),
            }
        }
        if count != LINES {
            fail("lines_codec: lines lost");
        }
    }
}

fn main() {
    let a = parse();
    match a.name.as_str() {
        "then" => runtime(a.workers).block_on(then_rounds(a.iters)),
        "pipeline" => runtime(a.workers).block_on(pipeline_rounds(a.iters)),
        "next_loop" => runtime(a.workers).block_on(next_loop_rounds(a.iters)),
        "merge" => runtime(a.workers).block_on(merge_rounds(a.iters)),
        "stream_map" => runtime(a.workers).block_on(stream_map_rounds(a.iters)),
        "lines_codec" => runtime(a.workers).block_on(lines_rounds(a.iters)),
        _ => unknown(&a),
    }
}
