#!/usr/bin/env bash
# Syscalls per TCP echo round trip, tokio.hpp vs Tokio, counted with `strace -c -f`.
#
#   bench/net_syscalls.sh [workers] [iters]      (defaults: 2 workers, 1 iteration)
#
# Runs the `echo` case of build/bench/net and bench/tokio-rs/target/release/net (50
# connections x 2,000 round trips of 64 bytes per iteration, client and server in one
# process) under strace, and prints every syscall's count divided by the number of round
# trips, then the totals. Build first: `make bench-build` and
# `cd bench/tokio-rs && cargo build --release`. strace slows both programs down (every
# syscall stops the thread), which can make the runtimes park more often than in a plain
# run; both sides are measured the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-2}
iters=${2:-1}
trips=$((iters * 50 * 2000))
if ! command -v strace >/dev/null; then
  if [ "$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y strace >/dev/null
  else echo "strace is missing: sudo apt-get install -y strace" >&2; exit 1; fi
fi
cpp=build/bench/net
rust=bench/tokio-rs/target/release/net
for exe in "$cpp" "$rust"; do
  [ -x "$exe" ] || { echo "$exe is missing (make bench-build; cargo build --release)" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
strace -c -f -o "$out/cpp" "$cpp" echo "$workers" "$iters"
strace -c -f -o "$out/rust" "$rust" echo "$workers" "$iters"

# strace -c table rows: "% time  seconds  usecs/call  calls  [errors]  syscall".
calls() { awk '$NF != "syscall" && $NF != "total" && $1 ~ /^[0-9.]+$/ { print $NF, $4 }' "$1"; }
total() { awk '$NF == "total" { print $4 }' "$1"; }
echo "syscalls per echo round trip ($trips round trips, $workers workers)"
printf '%-16s %10s %10s\n' syscall tokio.hpp Tokio
join -a1 -a2 -e0 -o 0,1.2,2.2 <(calls "$out/cpp" | sort) <(calls "$out/rust" | sort) |
  sort -k2,2nr | while read -r name c r; do
    awk -v n="$name" -v c="$c" -v r="$r" -v t="$trips" \
      'BEGIN { if (c / t >= 0.001 || r / t >= 0.001) printf "%-16s %10.3f %10.3f\n", n, c / t, r / t }'
  done
tc=$(total "$out/cpp")
tr=$(total "$out/rust")
awk -v c="$tc" -v r="$tr" -v t="$trips" \
  'BEGIN { printf "%-16s %10.3f %10.3f   ratio %.2f\n", "total", c / t, r / t, (c / t) / (r / t) }'
