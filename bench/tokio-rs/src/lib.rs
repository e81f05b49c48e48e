//! Helpers shared by the Tokio twins of the C++ benchmarks. Every binary takes
//! `<case> <workers> <iters>`, exactly like its C++ counterpart.
use std::time::{Duration, Instant};

pub struct Args {
    pub name: String,
    pub workers: usize,
    pub iters: usize,
}

pub fn parse() -> Args {
    let v: Vec<String> = std::env::args().collect();
    if v.len() < 4 {
        eprintln!("usage: {} <case> <workers> <iters>", v[0]);
        std::process::exit(2);
    }
    Args { name: v[1].clone(), workers: v[2].parse().unwrap(), iters: v[3].parse().unwrap() }
}

pub fn unknown(a: &Args) -> ! {
    eprintln!("unknown case: {}", a.name);
    std::process::exit(2);
}

/// Tokio's benches' stall(): spin for 10 µs, yielding the thread between checks.
pub fn stall() {
    let now = Instant::now();
    while now.elapsed() < Duration::from_micros(10) {
        std::thread::yield_now();
    }
}

pub fn max_rss_kb() -> i64 {
    let mut ru: libc_rusage = unsafe { std::mem::zeroed() };
    unsafe { getrusage(0, &mut ru) };
    ru.ru_maxrss
}

#[repr(C)]
pub struct libc_rusage {
    ru_utime: [i64; 2],
    ru_stime: [i64; 2],
    pub ru_maxrss: i64,
    rest: [i64; 13],
}
extern "C" {
    fn getrusage(who: i32, usage: *mut libc_rusage) -> i32;
}
