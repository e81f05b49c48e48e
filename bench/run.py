#!/usr/bin/env python3
"""Run every benchmark pair (tokio.hpp vs real Tokio) with hyperfine; write bench/RESULTS.md.

bench/benchmarks.tsv lists the cases, one per line:
    <binary> <case> <workers> <iters> [timeout_s]
Both build/bench/<binary> and bench/tokio-rs/target/release/<binary> are run as
    <exe> <case> <workers> <iters>
in the same hyperfine invocation. Lines whose case starts with "memory/" are run once
each instead; the programs print `bytes_per_task=...` and peak RSS.

A command that exceeds its timeout (default 60 s per run) is reported as such instead of
timed, and its ratio is not computed.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402  (protocol servers against real servers: wrk, redis-benchmark)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
MANIFEST = os.path.join(ROOT, "bench", "benchmarks.tsv")
RESULTS = os.path.join(ROOT, "bench", "RESULTS.md")
CPP = os.path.join(ROOT, "build", "bench")
RUST = os.path.join(ROOT, "bench", "tokio-rs", "target", "release")


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def ensure_tools():
    if not shutil.which("hyperfine"):
        if os.geteuid() == 0:
            sh("DEBIAN_FRONTEND=noninteractive apt-get install -y hyperfine >/dev/null")
        else:
            sys.exit("hyperfine is missing: sudo apt-get install -y hyperfine")
    if not os.path.isdir("/usr/share/cargo/registry"):
        if os.geteuid() == 0:
            sh("DEBIAN_FRONTEND=noninteractive apt-get install -y librust-tokio-dev >/dev/null")
        else:
            sys.exit("Tokio sources are missing: sudo apt-get install -y librust-tokio-dev")
    for tool, pkg in (("wrk", "wrk"), ("redis-server", "redis-server"), ("redis-benchmark", "redis-tools")):
        if not shutil.which(tool):
            if os.geteuid() == 0:
                sh("DEBIAN_FRONTEND=noninteractive apt-get install -y %s >/dev/null" % pkg)
            else:
                sys.exit("%s is missing: sudo apt-get install -y %s" % (tool, pkg))
    sh("cd %s/bench/tokio-rs && cargo build --release --offline -q" % ROOT)


def load_manifest(flt):
    cases = []
    with open(MANIFEST) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            binary, case, workers, iters = parts[:4]
            timeout = int(parts[4]) if len(parts) > 4 else 60
            cid = "%s %s w=%s" % (binary, case, workers)
            if flt and not re.search(flt, cid):
                continue
            cases.append(dict(binary=binary, case=case, workers=workers, iters=iters,
                              timeout=timeout, id=cid))
    return cases


def probe(exe, c):
    """One run with a timeout: returns seconds, or None when it did not finish."""
    cmd = [exe, c["case"], c["workers"], c["iters"]]
    t0 = datetime.datetime.now()
    try:
        subprocess.run(cmd, check=True, timeout=c["timeout"], stdout=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None
    return (datetime.datetime.now() - t0).total_seconds()


def run_timing(c, runs):
    cpp = os.path.join(CPP, c["binary"])
    rust = os.path.join(RUST, c["binary"])
    args = "%s %s %s" % (c["case"], c["workers"], c["iters"])
    res = {"id": c["id"], "iters": c["iters"]}
    # A pathological implementation must not stall the whole run: probe each side once.
    alive = {}
    for side, exe in (("cpp", cpp), ("rust", rust)):
        t = probe(exe, c)
        alive[side] = t is not None
        if t is None:
            res[side] = None
            res[side + "_note"] = "did not finish in %d s" % c["timeout"]
    cmds = [(side, exe) for side, exe in (("cpp", cpp), ("rust", rust)) if alive[side]]
    if not cmds:
        return res
    js = os.path.join(OUT, re.sub(r"[^A-Za-z0-9]+", "_", c["id"]) + ".json")
    hf = ["hyperfine", "-N", "--warmup", "1", "--runs", str(runs), "--export-json", js,
          "--style", "basic"]
    for side, exe in cmds:
        hf += ["-n", side, "%s %s" % (exe, args)]
    subprocess.run(hf, check=True, stdout=subprocess.DEVNULL)
    with open(js) as f:
        data = json.load(f)
    for r in data["results"]:
        res[r["command"]] = r["median"]
        res[r["command"] + "_stddev"] = r["stddev"]
    return res


def run_memory(c):
    res = {"id": c["id"], "iters": c["iters"]}
    for side, exe in (("cpp", os.path.join(CPP, c["binary"])), ("rust", os.path.join(RUST, c["binary"]))):
        out = subprocess.run([exe, c["case"], c["workers"], c["iters"]], check=True,
                             capture_output=True, text=True, timeout=c["timeout"]).stdout
        m = re.search(r"bytes_per_task=([0-9.]+)", out)
        r = re.search(r"rss_kb=([0-9]+)", out)
        res[side] = float(m.group(1)) if m else None
        res[side + "_rss_kb"] = int(r.group(1)) if r else None
    return res


def fmt_s(v):
    if v is None:
        return "n/a"
    return "%.1f ms" % (v * 1e3) if v < 10 else "%.2f s" % v


def write_report(timings, memory, syscalls=None, server_results=None):
    lines = []
    lines.append("# Benchmarks: tokio.hpp vs Tokio\n")
    lines.append("Generated by `make bench` (bench/run.py) on %s: %s, %d CPUs, %s; %s; Tokio %s.\n" % (
        datetime.date.today().isoformat(), platform.machine(), os.cpu_count(),
        platform.platform(), subprocess.run(["g++", "--version"], capture_output=True,
                                            text=True).stdout.splitlines()[0],
        "1.24.2 (Debian librust-tokio-dev, release build)"))
    lines.append("Each row is one hyperfine invocation running both programs (same workload, same "
                 "constants as Tokio's `benches/`, same iteration count, same worker count); times "
                 "are hyperfine medians of whole-process wall time. **ratio = tokio.hpp / Tokio**: "
                 "below 1.0 means tokio.hpp is faster.\n")
    lines.append("| benchmark | iters | tokio.hpp | Tokio | ratio |")
    lines.append("|---|---:|---:|---:|---:|")
    for r in timings:
        cpp, rust = r.get("cpp"), r.get("rust")
        ratio = "%.2f" % (cpp / rust) if cpp and rust else "—"
        cs = fmt_s(cpp) if cpp is not None else r.get("cpp_note", "n/a")
        rs = fmt_s(rust) if rust is not None else r.get("rust_note", "n/a")
        lines.append("| %s | %s | %s | %s | %s |" % (r["id"], r["iters"], cs, rs, ratio))
    if memory:
        lines.append("\n## Memory\n")
        lines.append("`memory/parked_tasks`: RSS growth per task while N tasks are parked, each "
                     "awaiting a oneshot (senders held outside). `memory/timers`: RSS growth per "
                     "timer while N sleeps are registered. Peak RSS is the whole process's. "
                     "**ratio = tokio.hpp / Tokio** (bytes per item).\n")
        lines.append("| benchmark | items | tokio.hpp B/item | Tokio B/item | ratio | tokio.hpp peak RSS | Tokio peak RSS |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for r in memory:
            cpp, rust = r.get("cpp"), r.get("rust")
            ratio = "%.2f" % (cpp / rust) if cpp and rust else "—"
            rss = lambda k: "%.1f MiB" % (r[k] / 1024) if r.get(k) else "n/a"
            lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (r["id"], r["iters"],
                         "%.0f" % cpp if cpp else "n/a", "%.0f" % rust if rust else "n/a", ratio,
                         rss("cpp_rss_kb"), rss("rust_rss_kb")))
    if syscalls:
        lines.append("\n## Syscalls per TCP echo round trip\n")
        lines.append("`bench/net_syscalls.sh` (`strace -c -f` over the `net echo` case, both "
                     "programs; counts divided by the number of round trips):\n")
        lines.append("```\n" + syscalls.strip() + "\n```")
    if server_results:
        lines.append(servers.report(server_results))
    notes = os.path.join(ROOT, "bench", "NOTES.md")
    if os.path.exists(notes):
        with open(notes) as f:
            lines.append("\n" + f.read().strip() + "\n")
    with open(RESULTS, "w") as f:
        f.write("\n".join(lines) + "\n")


def update_servers_section(server_results):
    with open(RESULTS) as f:
        text = f.read()
    head = "\n## Protocol servers against real servers\n"
    start = text.find(head)
    if start >= 0:
        end = text.find("\n## ", start + len(head))
        text = text[:start] + ("\n" + text[end + 1:] if end >= 0 else "\n")
    # Then the notes, refreshed from NOTES.md, as write_report lays them out.
    notes_at = text.find("\n## Where ")
    if notes_at >= 0:
        text = text[:notes_at]
    text = text.rstrip("\n") + "\n" + servers.report(server_results)
    notes = os.path.join(ROOT, "bench", "NOTES.md")
    if os.path.exists(notes):
        with open(notes) as f:
            text += "\n" + f.read().strip() + "\n"
    with open(RESULTS, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--filter", default="")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--server-rounds", type=int, default=3,
                    help="rounds of the protocol-server comparisons (wrk, redis-benchmark)")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if not a.no_build:
        ensure_tools()
    cases = load_manifest(a.filter)
    # With --filter, rows not rerun keep their previous figures (bench/out/results.json).
    prev = {}
    prev_path = os.path.join(OUT, "results.json")
    if a.filter and os.path.exists(prev_path):
        with open(prev_path) as f:
            old = json.load(f)
        for r in old.get("timings", []) + old.get("memory", []):
            prev[r["id"]] = r
    timings, memory = [], []
    for c in cases:
        print("bench:", c["id"], flush=True)
        if c["case"].startswith("memory/"):
            memory.append(run_memory(c))
        else:
            timings.append(run_timing(c, a.runs))
        r = (memory or timings)[-1] if c["case"].startswith("memory/") else timings[-1]
        print("   ", {k: v for k, v in r.items() if k in ("cpp", "rust")}, flush=True)
    if a.filter:
        done = {r["id"] for r in timings + memory}
        for c in load_manifest(""):
            if c["id"] in done or c["id"] not in prev:
                continue
            (memory if c["case"].startswith("memory/") else timings).append(prev[c["id"]])
        order = {c["id"]: i for i, c in enumerate(load_manifest(""))}
        timings.sort(key=lambda r: order.get(r["id"], 1e9))
        memory.sort(key=lambda r: order.get(r["id"], 1e9))
    # Syscalls per echo round trip (strace): rerun whenever the net echo row was run.
    syscalls = None
    if any(r["id"].startswith("net echo") for r in timings if r["id"] in
           {c["id"] for c in cases}):
        print("bench: net syscalls (strace)", flush=True)
        syscalls = subprocess.run([os.path.join(ROOT, "bench", "net_syscalls.sh")], check=True,
                                  capture_output=True, text=True).stdout
    elif a.filter and os.path.exists(prev_path):
        with open(prev_path) as f:
            syscalls = json.load(f).get("syscalls")
    # Protocol servers against real servers (bench/servers.py).
    prev_servers = {}
    if os.path.exists(prev_path):
        with open(prev_path) as f:
            prev_servers = {r["id"]: r for r in json.load(f).get("servers", [])}
    server_results = []
    for c in servers.CASES:
        if a.filter and not re.search(a.filter, c["id"]):
            if c["id"] in prev_servers:
                server_results.append(prev_servers[c["id"]])
            continue
        print("bench:", c["id"], flush=True)
        server_results.append(servers.run_case(c, ROOT, a.server_rounds))
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump({"timings": timings, "memory": memory, "syscalls": syscalls,
                   "servers": server_results}, f, indent=1)
    if not timings and not memory and os.path.exists(RESULTS):
        # Only protocol servers were run and no earlier figures are at hand (a fresh
        # checkout): update that section of RESULTS.md in place, keep the rest.
        update_servers_section(server_results)
    else:
        write_report(timings, memory, syscalls, server_results)
    print("wrote", RESULTS)


if __name__ == "__main__":
    main()
