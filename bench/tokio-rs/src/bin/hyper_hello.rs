//! The peer of examples/http_server in bench/run.py: a hyper 0.14 hello-world server on
//! Tokio's multi-thread runtime, answering every request with "Hello, World!" (hyper adds
//! the content-length and date headers: the same bytes as http_server's "/" route).
//!   hyper_hello ADDR WORKERS      prints "listening on ADDR" once bound
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;

use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server};

async fn hello(_req: Request<Body>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Body::from("Hello, World!")))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr: SocketAddr = args.get(1).map(|s| s.as_str()).unwrap_or("127.0.0.1:8080").parse().expect("ADDR");
    let workers: usize = args.get(2).map(|s| s.parse().expect("WORKERS")).unwrap_or(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let make = make_service_fn(|_conn| async { Ok::<_, Infallible>(service_fn(hello)) });
        let server = Server::bind(&addr).serve(make);
        println!("listening on {}", server.local_addr());
        std::io::stdout().flush().unwrap();
        server.await.unwrap();
    });
}
