//! Twin of bench/cpp/latency_echo.cpp: the echo server of Tokio's documentation (one task
//! per connection, `tokio::spawn(async move { .. })`, read then write_all), on the
//! multi-thread runtime with WORKERS workers.
//!
//!   latency_echo serve WORKERS PORT   binds 127.0.0.1:PORT, prints "listening on ADDR",
//!                                     serves until stdin reaches end of file or 30 minutes.
use std::io::Read;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn amain(addr: String) -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (mut socket, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("latency_echo: accept: {} (pausing)", e);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        tokio::spawn(async move {
            // 16 KiB, as in bench/cpp/latency_echo.cpp (examples/echo_server.cpp): the same
            // workload on both sides. Tokio's documentation uses 1 KiB; with 1,000
            // connections the larger buffer costs each runtime about 10% more CPU per
            // request (bench/NOTES.md), so unequal buffers would skew the comparison.
            let mut buf = [0; 16 * 1024];
            loop {
                let n = match socket.read(&mut buf).await {
                    Ok(n) if n == 0 => return,
                    Ok(n) => n,
                    Err(_) => return,
                };
                if socket.write_all(&buf[0..n]).await.is_err() {
                    return;
                }
            }
        });
    }
}

fn main() {
    let v: Vec<String> = std::env::args().collect();
    if v.len() < 4 || v[1] != "serve" {
        eprintln!("usage: {} serve WORKERS PORT", v[0]);
        std::process::exit(2);
    }
    // Ends the process when stdin closes or after 30 minutes: a server is never left behind.
    std::thread::spawn(|| {
        let deadline = Instant::now() + Duration::from_secs(30 * 60);
        let mut b = [0u8; 1];
        while Instant::now() < deadline {
            match std::io::stdin().read(&mut b) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        std::process::exit(0);
    });
    let workers: usize = v[2].parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap();
    if let Err(e) = rt.block_on(amain(format!("127.0.0.1:{}", v[3]))) {
        eprintln!("latency_echo: {}", e);
        std::process::exit(1);
    }
}
