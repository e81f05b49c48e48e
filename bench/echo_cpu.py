"""Server CPU per request of echo servers, runs interleaved so background load hits all alike.

    python3 bench/echo_cpu.py CONNS ROUNDS label=server_binary ... [--rate R] [--secs S]

Starts every server (`<binary> serve 2 0`: 2 workers, any port; the latency_echo
benchmarks of bench/cpp and bench/tokio-rs), then ROUNDS times drives each in turn with
build/bench/latency_loadgen (CONNS connections, closed loop, or open loop at R req/s),
alternating the order every round. Prints per server the median achieved req/s and the
median server CPU (user + system, from /proc) per answered request. Used to compare builds
of tokio.hpp's server with each other and with Tokio's (bench/NOTES.md, issue 10), where a
difference of 1-3% is below what back-to-back runs can show.

Example: python3 bench/echo_cpu.py 1000 10 old=/tmp/latency_echo_old \\
    new=build/bench/latency_echo tokio=bench/tokio-rs/target/release/latency_echo
"""
import argparse
import os
import re
import statistics
import subprocess


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("conns")
    ap.add_argument("rounds", type=int)
    ap.add_argument("servers", nargs="+", help="label=path of a latency_echo binary")
    ap.add_argument("--rate", default="0", help="open-loop req/s (0: closed loop)")
    ap.add_argument("--secs", default="2", help="measured seconds per run")
    ap.add_argument("--loadgen", default="build/bench/latency_loadgen")
    a = ap.parse_args()
    servers = {}
    for spec in a.servers:
        label, path = spec.split("=", 1)
        p = subprocess.Popen([path, "serve", "2", "0"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        addr = re.search(r"127\.0\.0\.1:\d+", p.stdout.readline())
        if not addr:
            raise SystemExit("%s did not print its address" % path)
        servers[label] = (p, addr.group(0))
    results = {label: [] for label in servers}
    try:
        labels = list(servers)
        for r in range(a.rounds):
            for label in (labels if r % 2 == 0 else labels[::-1]):
                p, addr = servers[label]
                c0 = cpu_seconds(p.pid)
                out = subprocess.run([a.loadgen, addr, a.conns, a.rate, a.secs, "0.5", "1"],
                                     capture_output=True, text=True, check=True).stdout
                kv = dict(re.findall(r"([a-z0-9_]+)=([0-9.]+)", out))
                per_req = (cpu_seconds(p.pid) - c0) * 1e6 / float(kv["answers"])
                results[label].append((float(kv["achieved"]), per_req))
    finally:
        for p, _ in servers.values():
            p.stdin.close()
            p.wait()
    for label, runs in results.items():
        print("%-8s req/s median %8.0f  cpu us/req median %.2f  (all: %s)" % (
            label, statistics.median(x[0] for x in runs), statistics.median(x[1] for x in runs),
            " ".join("%.2f" % x[1] for x in sorted(runs, key=lambda x: x[1]))))


if __name__ == "__main__":
    main()
