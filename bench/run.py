#!/usr/bin/env python3
"""Run every benchmark pair (tokio.hpp vs real Tokio) with hyperfine; write bench/RESULTS.md.

bench/benchmarks.tsv lists the cases, one per line:
    <binary> <case> <workers> <iters> [timeout_s]
Both build/bench/<binary> and bench/tokio-rs/target/release/<binary> are run as
    <exe> <case> <workers> <iters>
in the same hyperfine invocation. Lines whose case starts with "memory/" are run --runs
times per side instead (alternating sides), each run timed by this script; the programs
print `bytes_per_task=...` and peak RSS, and the report shows the medians of time, bytes
per task and peak RSS.

The tail-latency benchmark (ids "latency echo c=<connections>") starts both echo servers
(build/bench/latency_echo and Tokio's latency_echo, 2 workers, 127.0.0.1) and drives each
with the same client, build/bench/latency_loadgen: first closed loop to measure each
server's maximum rate, then open loop at fixed fractions of Tokio's maximum, alternating
servers, --latency-runs times; `--filter latency` runs it alone.

With --filter, rows not rerun keep their previous figures: from bench/out/results.json, or,
in a fresh checkout, parsed back from bench/RESULTS.md.

A command that exceeds its timeout (default 60 s per run) is reported as such instead of
timed, and its ratio is not computed.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import select
import shutil
import statistics
import time
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
    # The crates the Rust twins build against (bench/tokio-rs/Cargo.toml), from Debian.
    registry = "/usr/share/cargo/registry"
    crates = (("tokio-1.", "librust-tokio-dev"), ("tokio-stream-", "librust-tokio-stream-dev"),
              ("tokio-util-", "librust-tokio-util-dev"), ("hyper-0.14", "librust-hyper-dev"))
    have = os.listdir(registry) if os.path.isdir(registry) else []
    missing = [pkg for prefix, pkg in crates if not any(d.startswith(prefix) for d in have)]
    if missing:
        if os.geteuid() == 0:
            sh("DEBIAN_FRONTEND=noninteractive apt-get install -y %s >/dev/null" % " ".join(missing))
        else:
            sys.exit("crate sources are missing: sudo apt-get install -y %s" % " ".join(missing))
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
            baseline = parts[5] if len(parts) > 5 else None
            cid = "%s %s w=%s" % (binary, case, workers)
            if flt and not re.search(flt, cid):
                continue
            cases.append(dict(binary=binary, case=case, workers=workers, iters=iters,
                              timeout=timeout, id=cid, baseline=baseline))
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
    if c.get("baseline"):
        hf += ["-n", "baseline", "%s %s %s %s" % (cpp, c["baseline"], c["workers"], c["iters"])]
        res["baseline_case"] = c["baseline"]
    subprocess.run(hf, check=True, stdout=subprocess.DEVNULL)
    with open(js) as f:
        data = json.load(f)
    for r in data["results"]:
        res[r["command"]] = r["median"]
        res[r["command"] + "_stddev"] = r["stddev"]
    if c["case"].startswith("latency/"):
        add_percentiles(res, cmds, args, c, runs)
    return res


def add_percentiles(res, cmds, args, c, runs):
    """latency/ cases print their own percentiles (`p50_us=... p99_us=...`): each side runs
    `runs` more times, alternating, and the row keeps the median of each percentile."""
    got = {side: [] for side, _ in cmds}
    for _ in range(max(1, runs)):
        for side, exe in cmds:
            out = subprocess.run([exe] + args.split(), check=True, capture_output=True, text=True,
                                 timeout=c["timeout"]).stdout
            m = re.search(r"p50_us=([0-9.]+) p99_us=([0-9.]+)", out)
            if m:
                got[side].append((float(m.group(1)), float(m.group(2))))
    for side, v in got.items():
        for i, name in ((0, "p50"), (1, "p99")):
            xs = sorted(x[i] for x in v)
            if xs:
                res["%s_%s_us" % (side, name)] = xs[len(xs) // 2]


def run_memory(c, runs):
    """Runs each side `runs` times (alternating which goes first); medians of wall time,
    bytes per task and peak RSS."""
    res = {"id": c["id"], "iters": c["iters"]}
    sides = (("cpp", os.path.join(CPP, c["binary"])), ("rust", os.path.join(RUST, c["binary"])))
    got = {side: {"time": [], "bpt": [], "rss": []} for side, _ in sides}
    failed = {}
    for i in range(max(1, runs)):
        for side, exe in (sides if i % 2 == 0 else sides[::-1]):
            if side in failed:
                continue
            t0 = time.perf_counter()
            try:
                out = subprocess.run([exe, c["case"], c["workers"], c["iters"]], check=True,
                                     capture_output=True, text=True,
                                     timeout=c["timeout"]).stdout
            except subprocess.TimeoutExpired:
                failed[side] = "did not finish in %d s" % c["timeout"]
                continue
            got[side]["time"].append(time.perf_counter() - t0)
            m = re.search(r"bytes_per_task=([0-9.]+)", out)
            r = re.search(r"rss_kb=([0-9]+)", out)
            if m:
                got[side]["bpt"].append(float(m.group(1)))
            if r:
                got[side]["rss"].append(int(r.group(1)))
    for side, _ in sides:
        g = got[side]
        med = lambda v: statistics.median(v) if v else None
        res[side] = med(g["bpt"])
        res[side + "_rss_kb"] = med(g["rss"])
        res[side + "_time"] = med(g["time"])
        if g["time"]:
            res[side + "_time_range"] = [min(g["time"]), max(g["time"])]
        if side in failed:
            res[side + "_note"] = failed[side]
    res["runs"] = max(1, runs)
    return res


# --- tail latency ---------------------------------------------------------------------------
LAT_CONNS = (50, 1000)
LAT_LOADS = (0.5, 1.0)     # fractions of the reference (Tokio's) closed-loop maximum (default)
LAT_WORKERS = 2
LAT_REFERENCE = "rust"
LOADGEN = os.path.join(CPP, "latency_loadgen")


def lat_id(conns):
    return "latency echo c=%d" % conns


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_server(exe):
    """Starts an echo server on 127.0.0.1 (a free port); returns (process, "ip:port"). The
    server exits when its stdin closes (stop_server), or if this script dies."""
    p = subprocess.Popen([exe, "serve", str(LAT_WORKERS), "0"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, preexec_fn=raise_nofile)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 10)
        line = p.stdout.readline() if ready else ""
        m = re.match(r"listening on (127\.0\.0\.1:[0-9]+)", line)
        if not m:
            raise RuntimeError("%s did not report its address (got %r)" % (exe, line))
        return p, m.group(1)
    except BaseException:
        stop_server(p)
        raise


def stop_server(p):
    try:
        p.stdin.close()
    except OSError:
        pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=5)


def cpu_seconds(pid):
    """User + system CPU time of a whole process (all its threads), from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadgen(server, addr, conns, rate, seconds, warmup):
    """One run of the load generator against a running server; a dict of its key=value
    output (floats), plus the server's CPU time per answered request (cpu_us)."""
    proc, _ = server
    cpu0 = cpu_seconds(proc.pid)
    cmd = [LOADGEN, addr, str(conns), "%.0f" % rate, "%g" % seconds, "%g" % warmup, "1"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         timeout=warmup + 2 * max(seconds, 2) + 30,
                         preexec_fn=raise_nofile).stdout
    if proc.poll() is not None:
        raise RuntimeError("echo server exited (status %s)" % proc.returncode)
    res = {k: float(v) for k, v in re.findall(r"([a-z0-9_]+)=([0-9.]+)", out)}
    if res.get("answers"):
        res["cpu_us"] = (cpu_seconds(proc.pid) - cpu0) * 1e6 / res["answers"]
    return res


def run_latency(conns_list, runs, seconds, loads=LAT_LOADS):
    """Closed-loop maximum per server, then open loop at LAT_LOADS x the reference maximum,
    both servers alternating, `runs` times; medians per metric."""
    exes = {"cpp": os.path.join(CPP, "latency_echo"), "rust": os.path.join(RUST, "latency_echo")}
    sides = ("cpp", "rust")
    servers = {}
    res = {"workers": LAT_WORKERS, "seconds": seconds, "runs": runs, "reference": LAT_REFERENCE,
           "rows": []}
    try:
        for side in sides:
            servers[side] = start_server(exes[side])
        for conns in conns_list:
            # Each server's maximum at this concurrency: closed loop, 3 runs, median.
            maxima = {side: [] for side in sides}
            max_cpu = {side: [] for side in sides}
            for i in range(3):
                for side in (sides if i % 2 == 0 else sides[::-1]):
                    r = loadgen(servers[side], servers[side][1], conns, 0, 2, 0.5)
                    maxima[side].append(r["achieved"])
                    max_cpu[side].append(r.get("cpu_us", 0.0))
            cal = {side: statistics.median(v) for side, v in maxima.items()}
            cal_cpu = {side: statistics.median(v) for side, v in max_cpu.items()}
            print("    c=%d closed-loop max req/s: %s" % (conns, {k: round(v) for k, v in cal.items()}),
                  flush=True)
            for load in loads:
                rate = load * cal[LAT_REFERENCE]
                row = {"id": lat_id(conns), "conns": conns, "load": load, "rate": rate,
                       "max": cal, "max_runs": maxima, "max_cpu_us": cal_cpu}
                samples = {side: [] for side in sides}
                for i in range(runs):
                    for side in (sides if i % 2 == 0 else sides[::-1]):
                        samples[side].append(loadgen(servers[side], servers[side][1], conns,
                                                     rate, seconds, 1))
                for side in sides:
                    med = {}
                    for k in ("achieved", "p50_us", "p99_us", "p999_us", "max_us", "rtt_p99_us",
                              "lag_p99_us", "timer_sends", "unfinished", "cpu_us"):
                        vals = [s.get(k, 0.0) for s in samples[side]]
                        med[k] = statistics.median(vals)
                        med[k + "_range"] = [min(vals), max(vals)]
                    row[side] = med
                print("    c=%d load=%.0f%% rate=%.0f: %s" % (
                    conns, load * 100, rate, {s: (round(row[s]["p99_us"]), round(row[s]["p999_us"]))
                                              for s in sides}), flush=True)
                res["rows"].append(row)
    finally:
        for p in servers.values():
            stop_server(p[0])
    return res


def merge_latency(new, old):
    """Rows of `old` for connection counts not in `new` are kept."""
    if not old or "rows" not in old:
        return new
    if not new:
        return old
    done = {r["conns"] for r in new["rows"]}
    rows = new["rows"] + [r for r in old["rows"] if r["conns"] not in done]
    rows.sort(key=lambda r: (LAT_CONNS.index(r["conns"]) if r["conns"] in LAT_CONNS else 99,
                             r["load"]))
    return dict(new, rows=rows)


def fmt_s(v):
    if v is None:
        return "n/a"
    return "%.1f ms" % (v * 1e3) if v < 10 else "%.2f s" % v


def parse_s(text):
    m = re.match(r"([0-9.]+) (ms|s)$", text)
    if not m:
        return None
    return float(m.group(1)) / (1e3 if m.group(2) == "ms" else 1)


def fmt_us(v):
    if v is None:
        return "n/a"
    if v >= 100000:
        return "%.0f ms" % (v / 1e3)
    if v >= 1000:
        return "%.1f ms" % (v / 1e3)
    return "%.0f µs" % v


def load_previous_md():
    """Figures of a previous report, parsed back from bench/RESULTS.md (used with --filter
    when bench/out/results.json is missing, e.g. in a fresh checkout): timing and memory rows,
    the syscall table, and the tail-latency section kept as text."""
    prev, syscalls, latency = {}, None, None
    if not os.path.exists(RESULTS):
        return prev, syscalls, latency
    with open(RESULTS) as f:
        text = f.read()
    sections = re.split(r"(?m)^## ", text)
    for i, sec in enumerate(sections):
        title = sec.splitlines()[0] if sec else ""
        if i == 0 or title.startswith("Memory"):
            for line in sec.splitlines():
                if not line.startswith("| ") or line.startswith("| benchmark"):
                    continue
                cells = [x.strip() for x in line.strip().strip("|").split("|")]
                if i == 0 and len(cells) == 5:
                    r = {"id": cells[0], "iters": cells[1], "ratio_text": cells[4]}
                    for side, cell in (("cpp", cells[2]), ("rust", cells[3])):
                        r[side] = parse_s(cell)
                        if r[side] is None and cell != "n/a":
                            r[side + "_note"] = cell
                    prev[r["id"]] = r
                elif i > 0 and len(cells) >= 7:
                    num = lambda x: float(x) if re.match(r"^[0-9.]+$", x) else None
                    mib = lambda x: float(x.split()[0]) * 1024 if x.endswith("MiB") else None
                    r = {"id": cells[0], "iters": cells[1], "cpp": num(cells[2]),
                         "rust": num(cells[3]), "cpp_rss_kb": mib(cells[5]),
                         "rust_rss_kb": mib(cells[6]), "ratio_text": cells[4]}
                    if len(cells) >= 10:
                        r["cpp_time"], r["rust_time"] = parse_s(cells[7]), parse_s(cells[8])
                    prev[r["id"]] = r
        elif title.startswith("Against a plain blocking loop"):
            for line in sec.splitlines():
                m = re.match(r"^\| (.*) \(loop: `([^`]*)`\) \| [^|]* \| [^|]* \| ([^|]*) \| ([^|]*) \|",
                             line)
                if m and m.group(1) in prev:
                    prev[m.group(1)].update(baseline_case=m.group(2),
                                            baseline=parse_s(m.group(3).strip()),
                                            baseline_ratio_text=m.group(4).strip())
        elif title.startswith("Latency percentiles"):
            for line in sec.splitlines():
                cells = [x.strip() for x in line.strip().strip("|").split("|")]
                if len(cells) != 7 or cells[0] not in prev:
                    continue
                us = lambda x: float(x.split()[0]) if x.endswith(" us") else None
                for k, side, cell in (("p50", "cpp", 1), ("p50", "rust", 2), ("p99", "cpp", 4),
                                      ("p99", "rust", 5)):
                    prev[cells[0]]["%s_%s_us" % (side, k)] = us(cells[cell])
                prev[cells[0]]["pct_ratio_text"] = {"p50": cells[3], "p99": cells[6]}
        elif title.startswith("Syscalls") and syscalls is None:
            m = re.search(r"```\n(.*?)```", sec, re.S)
            if m:
                syscalls = m.group(1)
        elif title.startswith("Tail latency: TCP echo") and latency is None:
            latency = {"markdown": "## " + sec.strip()}
    return prev, syscalls, latency


def latency_markdown(lat):
    if "markdown" in lat:
        return lat["markdown"]
    if "error" in lat:
        return "## Tail latency: TCP echo under load\n\nThe last run failed: %s" % lat["error"]
    out = []
    out.append("## Tail latency: TCP echo under load\n")
    out.append(
        "Both echo servers (`bench/cpp/latency_echo.cpp`, written as `examples/echo_server.cpp`; "
        "`bench/tokio-rs/src/bin/latency_echo.rs`, the echo server of Tokio's documentation with "
        "the same 16 KiB read buffer) run one task per connection on a %d-worker runtime on 127.0.0.1, and face the same client, "
        "`bench/cpp/latency_loadgen.cpp` (plain C++, one epoll thread, no async runtime): 64-byte "
        "requests, one in flight per connection. First each server's maximum rate is measured "
        "closed loop (median of 3 runs of 2 s). Then both are driven open loop at fixed fractions "
        "of **Tokio's** maximum (the same offered rate for both), %g s per run after 1 s of "
        "warm-up, servers alternating, runs per cell: %d; latency is measured from each request's "
        "*scheduled* send time (coordinated omission corrected). Figures are medians over the "
        "runs; the p99 range is the lowest and highest p99 of the runs. *p99 from send*: the "
        "p99 measured from when each request actually left the client instead (what a "
        "closed-loop tool would report). *client lag p99*: how "
        "late the client itself sent timer-driven requests (on a busy machine the client is "
        "delayed too, which inflates every percentile alike). *server CPU/req*: the server "
        "process's user + system CPU time over the run divided by the answers it sent, the "
        "figure least disturbed by a busy machine. **ratio = tokio.hpp / Tokio**.\n"
        % (lat.get("workers", 2), lat.get("seconds", 5), lat.get("runs", 1)))
    seen = []
    for r in lat["rows"]:
        if r["conns"] not in seen:
            seen.append(r["conns"])
    for conns in seen:
        rows = [r for r in lat["rows"] if r["conns"] == conns]
        mx = rows[0]["max"]
        cpu = rows[0].get("max_cpu_us")
        out.append("Closed-loop maximum with %d connections: tokio.hpp %.0f req/s, Tokio %.0f "
                   "req/s%s.\n" % (conns, mx["cpp"], mx["rust"],
                                   "; server CPU per request %.2f µs and %.2f µs" % (cpu["cpp"], cpu["rust"])
                                   if cpu else ""))
    out.append("| connections | load | offered req/s | server | achieved req/s | p50 | p99 | p99.9 | max "
               "| p99 range | p99 from send | client lag p99 | server CPU/req | p99 ratio | p99.9 ratio |")
    out.append("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in lat["rows"]:
        for side, name in (("cpp", "tokio.hpp"), ("rust", "Tokio")):
            d = r[side]
            ratio = lambda k: ("%.2f" % (d[k] / r["rust"][k])) if side == "cpp" and r["rust"][k] else ""
            unfinished = " (%d unanswered)" % d["unfinished"] if d.get("unfinished") else ""
            out.append("| %d | %.0f%% | %.0f | %s | %.0f%s | %s | %s | %s | %s | %s–%s | %s | %s | %s | %s | %s |" % (
                r["conns"], r["load"] * 100, r["rate"], name, d["achieved"], unfinished,
                fmt_us(d["p50_us"]), fmt_us(d["p99_us"]), fmt_us(d["p999_us"]),
                fmt_us(d["max_us"]), fmt_us(d["p99_us_range"][0]), fmt_us(d["p99_us_range"][1]),
                fmt_us(d.get("rtt_p99_us")),
                fmt_us(d["lag_p99_us"]) if d.get("timer_sends", 1) else "n/a",
                "%.2f µs" % d["cpu_us"] if d.get("cpu_us") else "n/a",
                ratio("p99_us"), ratio("p999_us")))
    return "\n".join(out)


def write_report(timings, memory, syscalls=None, latency=None, partial=False,
                 server_results=None):
    lines = []
    lines.append("# Benchmarks: tokio.hpp vs Tokio\n")
    lines.append("Generated by `make bench` (bench/run.py) on %s: %s, %d CPUs, %s; %s; Tokio %s.%s\n" % (
        datetime.date.today().isoformat(), platform.machine(), os.cpu_count(),
        platform.platform(), subprocess.run(["g++", "--version"], capture_output=True,
                                            text=True).stdout.splitlines()[0],
        "1.24.2 (Debian librust-tokio-dev, release build)",
        " Only some rows were rerun on that date (`--filter`); the others keep the figures of "
        "their earlier run." if partial else ""))
    lines.append("Each row is one hyperfine invocation running both programs (same workload, same "
                 "constants as Tokio's `benches/`, same iteration count, same worker count); times "
                 "are hyperfine medians of whole-process wall time. **ratio = tokio.hpp / Tokio**: "
                 "below 1.0 means tokio.hpp is faster. Rows starting with `user` are the "
                 "user-shaped programs of issue 10 (`bench/cpp/user.cpp`, written as the README "
                 "shows, against `bench/tokio-rs/src/bin/user.rs`, written as a Rust user would): "
                 "`chained_spawn/callable` spawns each link as `tokio::spawn(lambda, "
                 "shared_ptr<promise>, n)`, `chained_spawn/coroutine` as "
                 "`tokio::spawn(link(done, n))`; iters = chains of 1,000 tasks; `mpsc_bounded`: "
                 "capacity 100, 5 producers x 1,000 sends, iters = rounds. `select_loop`: the "
                 "same channel and producers, the receiver looping on `select(rx.recv(), "
                 "stop.notified())` (Tokio: `tokio::select!` over the same two), iters = rounds; "
                 "`select_sleep_loop`: the same with a fresh `sleep(1 s)` in place of "
                 "`stop.notified()`.\n")
    lines.append("| benchmark | iters | tokio.hpp | Tokio | ratio |")
    lines.append("|---|---:|---:|---:|---:|")
    for r in timings:
        cpp, rust = r.get("cpp"), r.get("rust")
        ratio = "%.2f" % (cpp / rust) if cpp and rust else "—"
        ratio = r.get("ratio_text", ratio)  # a row parsed back from RESULTS.md keeps its ratio
        cs = fmt_s(cpp) if cpp is not None else r.get("cpp_note", "n/a")
        rs = fmt_s(rust) if rust is not None else r.get("rust_note", "n/a")
        lines.append("| %s | %s | %s | %s | %s |" % (r["id"], r["iters"], cs, rs, ratio))
    based = [r for r in timings if r.get("baseline_case")]
    if based:
        lines.append("\n## Against a plain blocking loop\n")
        lines.append("Rows with a baseline ran a third command in the same hyperfine invocation: "
                     "the same work as a single-threaded loop of plain system calls, no runtime "
                     "(`<case>` given after the timeout in bench/benchmarks.tsv). "
                     "**vs loop = tokio.hpp / loop**.\n")
        lines.append("| benchmark | tokio.hpp | Tokio | loop | vs loop |")
        lines.append("|---|---:|---:|---:|---:|")
        for r in based:
            cpp, loop = r.get("cpp"), r.get("baseline")
            ratio = "%.2f" % (cpp / loop) if cpp and loop else "—"
            ratio = r.get("baseline_ratio_text", ratio)  # parsed back: keep its ratio
            lines.append("| %s (loop: `%s`) | %s | %s | %s | %s |" % (
                r["id"], r["baseline_case"], fmt_s(cpp), fmt_s(r.get("rust")), fmt_s(loop), ratio))
    pct = [r for r in timings if r.get("cpp_p50_us") is not None]
    if pct:
        lines.append("\n## Latency percentiles\n")
        lines.append("`latency/` cases measure each event themselves and print percentiles; each side "
                     "ran --runs more times, alternating, and the table shows the median of each "
                     "percentile (microseconds). **ratio = tokio.hpp / Tokio**.\n")
        lines.append("| benchmark | tokio.hpp p50 | Tokio p50 | ratio | tokio.hpp p99 | Tokio p99 | ratio |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for r in pct:
            def ratio(k):
                if "pct_ratio_text" in r:  # parsed back: keep its ratio
                    return r["pct_ratio_text"][k]
                a, b = r.get("cpp_%s_us" % k), r.get("rust_%s_us" % k)
                return "%.2f" % (a / b) if a and b else "—"
            def us(k, side):
                v = r.get("%s_%s_us" % (side, k))
                return "%.1f us" % v if v is not None else "n/a"
            lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                r["id"], us("p50", "cpp"), us("p50", "rust"), ratio("p50"),
                us("p99", "cpp"), us("p99", "rust"), ratio("p99")))
    if memory:
        lines.append("\n## Memory\n")
        lines.append("`memory/parked_tasks`: RSS growth per task while N tasks are parked, each "
                     "awaiting a oneshot (senders held outside). `memory/timers`: RSS growth per "
                     "timer while N sleeps are registered. `user memory/idle_notify_*` (issue 10): "
                     "N tasks each awaiting `notified()` on one shared `Notify`, then woken by "
                     "`notify_waiters()`, spawned as `tokio::spawn(lambda, shared_ptr<Notify>, "
                     "shared_ptr<Progress>)` (`_callable`) or `tokio::spawn(waiter(notify, "
                     "progress))` (`_coroutine`); Tokio runs one program for both (`async move`); "
                     "there B/item is the whole process's **peak RSS / tasks**. Peak RSS is the "
                     "whole process's. Each side runs --runs times (alternating); B/item, peak "
                     "RSS and whole-process wall time are medians (rows without time are from "
                     "before times were recorded). **ratio = tokio.hpp / Tokio**.\n")
        lines.append("| benchmark | items | tokio.hpp B/item | Tokio B/item | ratio | tokio.hpp peak RSS | "
                     "Tokio peak RSS | tokio.hpp time | Tokio time | time ratio |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in memory:
            cpp, rust = r.get("cpp"), r.get("rust")
            ratio = "%.2f" % (cpp / rust) if cpp and rust else "—"
            ratio = r.get("ratio_text", ratio)
            rss = lambda k: "%.1f MiB" % (r[k] / 1024) if r.get(k) else "n/a"
            ct, rt = r.get("cpp_time"), r.get("rust_time")
            tratio = "%.2f" % (ct / rt) if ct and rt else "—"
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["id"], r["iters"], "%.0f" % cpp if cpp else r.get("cpp_note", "n/a"),
                "%.0f" % rust if rust else r.get("rust_note", "n/a"), ratio,
                rss("cpp_rss_kb"), rss("rust_rss_kb"), fmt_s(ct) if ct else "n/a",
                fmt_s(rt) if rt else "n/a", tratio))
    if syscalls:
        lines.append("\n## Syscalls per TCP echo round trip\n")
        lines.append("`bench/net_syscalls.sh` (`strace -c -f` over the `net echo` case, both "
                     "programs; counts divided by the number of round trips):\n")
        lines.append("```\n" + syscalls.strip() + "\n```")
    if latency:
        lines.append("\n" + latency_markdown(latency))
    if server_results:
        lines.append(servers.report(server_results))
    else:
        # None rerun and no results.json (a fresh checkout): keep the section as it was.
        kept = existing_section("## Protocol servers against real servers")
        if kept:
            lines.append("\n" + kept)
    # `make weight --results` owns the compile-weight section: keep it as it was.
    weight = existing_section("## Compile weight")
    if weight:
        lines.append("\n" + weight)
    notes = os.path.join(ROOT, "bench", "NOTES.md")
    if os.path.exists(notes):
        with open(notes) as f:
            lines.append("\n" + f.read().strip() + "\n")
    with open(RESULTS, "w") as f:
        f.write("\n".join(lines) + "\n")


def existing_section(head):
    """The section of the current RESULTS.md that starts with `head` (up to the next
    second-level heading), or None."""
    if not os.path.exists(RESULTS):
        return None
    with open(RESULTS) as f:
        text = f.read()
    start = text.find("\n" + head + "\n")
    if start < 0:
        return None
    end = text.find("\n## ", start + 1)
    return (text[start + 1:end] if end >= 0 else text[start + 1:]).rstrip("\n") + "\n"


def update_servers_section(server_results):
    with open(RESULTS) as f:
        text = f.read()
    head = "\n## Protocol servers against real servers\n"
    start = text.find(head)
    if start >= 0:
        end = text.find("\n## ", start + len(head))
        text = text[:start] + ("\n" + text[end + 1:] if end >= 0 else "\n")
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
    ap.add_argument("--latency-runs", type=int, default=3,
                    help="open-loop runs per server and load level (tail latency)")
    ap.add_argument("--latency-seconds", type=float, default=5,
                    help="measured seconds per open-loop run (after 1 s of warm-up)")
    ap.add_argument("--latency-loads", default=",".join("%g" % x for x in LAT_LOADS),
                    help="open-loop rates as fractions of Tokio's closed-loop maximum")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--server-rounds", type=int, default=3,
                    help="rounds of the protocol-server comparisons (wrk, redis-benchmark)")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if not a.no_build:
        ensure_tools()
    cases = load_manifest(a.filter)
    lat_conns = [n for n in LAT_CONNS if not a.filter or re.search(a.filter, lat_id(n))]
    # With --filter, rows not rerun keep their previous figures (bench/out/results.json, or
    # bench/RESULTS.md when that is missing).
    prev, prev_syscalls, prev_latency = {}, None, None
    prev_path = os.path.join(OUT, "results.json")
    if a.filter:
        if os.path.exists(prev_path):
            with open(prev_path) as f:
                old = json.load(f)
            for r in old.get("timings", []) + old.get("memory", []):
                prev[r["id"]] = r
            prev_syscalls, prev_latency = old.get("syscalls"), old.get("latency")
        else:
            prev, prev_syscalls, prev_latency = load_previous_md()
    timings, memory = [], []
    for c in cases:
        print("bench:", c["id"], flush=True)
        if c["case"].startswith("memory/"):
            memory.append(run_memory(c, a.runs))
            r = memory[-1]
        else:
            timings.append(run_timing(c, a.runs))
            r = timings[-1]
        print("   ", {k: v for k, v in r.items() if k in ("cpp", "rust", "cpp_time", "rust_time")},
              flush=True)
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
    else:
        syscalls = prev_syscalls
    latency = None
    if lat_conns:
        print("bench: latency echo (connections %s)" % ", ".join(map(str, lat_conns)), flush=True)
        try:
            latency = run_latency(lat_conns, a.latency_runs, a.latency_seconds,
                                  [float(x) for x in a.latency_loads.split(",")])
        except (subprocess.SubprocessError, RuntimeError, OSError) as e:
            print("    latency benchmark failed:", e, flush=True)
            latency = {"error": str(e)}
        if "error" not in latency and prev_latency and "markdown" not in prev_latency:
            latency = merge_latency(latency, prev_latency)
    else:
        latency = prev_latency
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
                   "latency": latency, "servers": server_results}, f, indent=1)
    if a.filter and not timings and not memory and not lat_conns and os.path.exists(RESULTS):
        # Only protocol servers were run: update that section of RESULTS.md in place.
        update_servers_section(server_results)
    else:
        write_report(timings, memory, syscalls, latency, partial=bool(a.filter),
                     server_results=server_results)
    print("wrote", RESULTS)


if __name__ == "__main__":
    main()
