//! Twin of bench/cpp/net.cpp: networking over loopback, client and server in one process
//! on the multi-thread runtime.
//!   echo        50 connections x 2,000 round trips of 64 bytes; `iters` repetitions
//!   throughput  1 GiB through one connection in 64 KiB writes; `iters` GiB
//!   churn       `iters` sequential connect / shutdown / read-to-EOF, accept / read-to-EOF / close
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::{self, Runtime};
use tokio_bench::{parse, unknown};

const CONNECTIONS: usize = 50;
const ROUND_TRIPS: usize = 2000;
const MSG: usize = 64;
const CHUNK: usize = 64 * 1024;
const GIB: usize = 1 << 30;

fn multi(workers: usize) -> Runtime {
    runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap()
}

async fn listen() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

async fn connect(a: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(a).await.unwrap();
    s.set_nodelay(true).unwrap();
    s
}

async fn echo_serve(mut s: TcpStream) {
    s.set_nodelay(true).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if s.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn echo_client(a: SocketAddr) {
    let mut s = connect(a).await;
    let msg = [b'e'; MSG];
    let mut back = [0u8; MSG];
    for _ in 0..ROUND_TRIPS {
        s.write_all(&msg).await.unwrap();
        s.read_exact(&mut back).await.unwrap();
    }
}

async fn echo_once() {
    let (l, a) = listen().await;
    let server = tokio::spawn(async move {
        for _ in 0..CONNECTIONS {
            let (s, _) = l.accept().await.unwrap();
            tokio::spawn(echo_serve(s));
        }
    });
    let clients: Vec<_> = (0..CONNECTIONS).map(|_| tokio::spawn(echo_client(a))).collect();
    for c in clients {
        c.await.unwrap();
    }
    server.await.unwrap();
}

async fn throughput_once() {
    let (l, a) = listen().await;
    let server = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0usize;
        loop {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                return total;
            }
            total += n;
        }
    });
    {
        let mut s = connect(a).await;
        let chunk = vec![b't'; CHUNK];
        let mut sent = 0;
        while sent < GIB {
            s.write_all(&chunk).await.unwrap();
            sent += CHUNK;
        }
    }
    assert_eq!(server.await.unwrap(), GIB);
}

async fn churn(n: usize) {
    let (l, a) = listen().await;
    let server = tokio::spawn(async move {
        let mut buf = [0u8; 64];
        for _ in 0..n {
            let (mut s, _) = l.accept().await.unwrap();
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
    });
    let mut buf = [0u8; 64];
    for _ in 0..n {
        let mut s = TcpStream::connect(a).await.unwrap();
        s.shutdown().await.unwrap();
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
    server.await.unwrap();
}

fn main() {
    let a = parse();
    let rt = multi(a.workers);
    // "echo+obs" is the C++ side's observability variant; Tokio runs plain echo.
    match a.name.trim_end_matches("+obs") {
        "echo" => {
            for _ in 0..a.iters {
                rt.block_on(echo_once());
            }
        }
        "throughput" => {
            for _ in 0..a.iters {
                rt.block_on(throughput_once());
            }
        }
        "churn" => rt.block_on(churn(a.iters)),
        _ => unknown(&a),
    }
}
