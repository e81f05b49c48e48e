"""Protocol servers against real servers, driven by real load generators (bench/run.py).

    http   examples/http_server vs a hyper 0.14 hello-world server on Tokio
           (bench/tokio-rs/src/bin/hyper_hello.rs), same response bytes, same worker
           count, measured with wrk (-t1, keep-alive, GET /) at 64 and 1,000 connections
    redis  examples/mini_redis (2 workers) vs redis-server 7 (no persistence), measured
           with redis-benchmark -t set,get -c 50, pipelined (-P 16) and not

Every server is started by this script on 127.0.0.1 (an ephemeral port) and stopped after
its case. Within a case both servers stay up; each round runs the load generator against
one then the other (the order alternates between rounds, after one warm-up run each), and
the table reports the median over the rounds of the requests per second and of each
latency percentile, all from the same runs. WRK_SECONDS (default 5) sets each wrk run's
length.
"""
import os
import re
import resource
import socket
import statistics
import subprocess
import time

CASES = [
    dict(id="server http c=64 w=1", kind="http", conns=64, workers=1),
    dict(id="server http c=1000 w=1", kind="http", conns=1000, workers=1),
    dict(id="server http c=64 w=2", kind="http", conns=64, workers=2),
    dict(id="server http c=1000 w=2", kind="http", conns=1000, workers=2),
    dict(id="server redis P=16 c=50 w=2", kind="redis", pipeline=16, workers=2, requests=1000000),
    dict(id="server redis P=1 c=50 w=2", kind="redis", pipeline=1, workers=2, requests=200000),
]


def _nofile():
    # 1,000 connections need more descriptors than a default soft limit may allow.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """A server process; `port` once it accepts connections."""

    def __init__(self, cmd, port=None):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     preexec_fn=_nofile, text=True)
        if port is None:  # our servers and hyper_hello print "listening on ADDR"
            line = self.proc.stdout.readline().strip()
            if not line.startswith("listening on "):
                self.stop()
                raise RuntimeError("%s said %r" % (cmd[0], line))
            port = int(line.rsplit(":", 1)[1])
        self.port = port
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    self.stop()
                    raise RuntimeError("%s does not accept connections" % cmd[0])
                time.sleep(0.05)

    def cpu_seconds(self):
        """User + system CPU time of the server so far (/proc/PID/stat, clock ticks)."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _to_ms(v, unit):
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def run_wrk(port, conns, seconds):
    out = subprocess.run(["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds, "--latency",
                          "http://127.0.0.1:%d/" % port], capture_output=True, text=True,
                         preexec_fn=_nofile, timeout=seconds + 60).stdout
    r = {"rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),
         "requests": int(re.search(r"(\d+) requests in", out).group(1))}
    for pct in ("50", "75", "90", "99"):
        m = re.search(r"^\s+%s%%\s+([0-9.]+)(us|ms|s)\s*$" % pct, out, re.M)
        r["p" + pct] = _to_ms(m.group(1), m.group(2)) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    return r


def run_redis_benchmark(port, pipeline, requests):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set,get", "-n", str(requests),
                          "-c", "50", "-P", str(pipeline), "--csv"], capture_output=True,
                         text=True, preexec_fn=_nofile, timeout=600).stdout
    rows = {}
    for line in out.splitlines():
        f = [x.strip('"') for x in line.split(",")]
        if len(f) >= 8 and f[0] in ("SET", "GET"):
            rows[f[0]] = {"rps": float(f[1]), "avg": float(f[2]), "p50": float(f[4]),
                          "p95": float(f[5]), "p99": float(f[6]), "max": float(f[7])}
    return rows


def _median(rs, key):
    vals = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def _summary(rs, keys):
    return {k: _median(rs, k) for k in keys} | {"runs": len(rs)}


def run_case(c, root, rounds):
    cpp_dir = os.path.join(root, "build", "bench")
    rust_dir = os.path.join(root, "bench", "tokio-rs", "target", "release")
    if c["kind"] == "http":
        ours = Server([os.path.join(cpp_dir, "http_server"), "127.0.0.1:0", "--workers", str(c["workers"])])
        peer = Server([os.path.join(rust_dir, "hyper_hello"), "127.0.0.1:0", str(c["workers"])])
        run = lambda s: run_wrk(s.port, c["conns"], int(os.environ.get("WRK_SECONDS", "5")))
        count = lambda r: r["requests"]
    else:
        ours = Server([os.path.join(cpp_dir, "mini_redis"), "127.0.0.1:0", "--workers", str(c["workers"])])
        port = _free_port()
        peer = Server(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                       "--appendonly", "no", "--protected-mode", "no"], port=port)
        run = lambda s: run_redis_benchmark(s.port, c["pipeline"], c["requests"])
        count = lambda r: 2 * c["requests"]  # SET and GET
    try:
        runs = {"cpp": [], "peer": []}
        for side, s in (("cpp", ours), ("peer", peer)):  # warm-up, not counted
            run(s)
        for i in range(rounds):
            order = (("cpp", ours), ("peer", peer)) if i % 2 == 0 else (("peer", peer), ("cpp", ours))
            for side, s in order:
                t0 = s.cpu_seconds()
                ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                r = run(s)
                ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                # The server's CPU time per request (user + system): the load generator
                # shares the cores, so this is the figure least disturbed by it.
                cpu_us = (s.cpu_seconds() - t0) * 1e6 / count(r)
                # The load generator's, the same way (it is the only child that exited
                # meanwhile): with both on two cores, it bounds what any server can reach.
                client_us = ((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)) * 1e6 / count(r)
                if c["kind"] == "http":
                    r["cpu_us"] = cpu_us
                    r["client_cpu_us"] = client_us
                else:
                    for t in r.values():
                        t["cpu_us"] = cpu_us
                        t["client_cpu_us"] = client_us
                runs[side].append(r)
    finally:
        ours.stop()
        peer.stop()
    res = {"id": c["id"], "kind": c["kind"], "rounds": rounds}
    if c["kind"] == "http":
        for side in ("cpp", "peer"):
            res[side] = _summary(runs[side], ("rps", "p50", "p75", "p90", "p99", "errors", "non2xx", "cpu_us",
                                              "client_cpu_us"))
            res[side]["all_rps"] = [r["rps"] for r in runs[side]]
    else:
        for side in ("cpp", "peer"):
            res[side] = {}
            for test in ("SET", "GET"):
                rs = [r[test] for r in runs[side] if test in r]
                res[side][test] = _summary(rs, ("rps", "avg", "p50", "p95", "p99", "max", "cpu_us",
                                                "client_cpu_us"))
                res[side][test]["all_rps"] = [r["rps"] for r in rs]
    return res


def _fmt_rps(v):
    return "n/a" if v is None else "{:,.0f}".format(v)


def _fmt_ms(v):
    return "n/a" if v is None else ("%.2f" % v if v < 10 else "%.1f" % v)


def report(results):
    lines = ["\n## Protocol servers against real servers\n",
             "`bench/servers.py` (run by `make bench`): every server started and stopped by the "
             "script on loopback, same machine, load generator and servers sharing its cores. "
             "Figures are medians over the rounds (one run of each side per round, alternating "
             "order, after a warm-up run each); **ratio = tokio.hpp / peer requests per second**: "
             "above 1.0 means tokio.hpp serves more. Latencies in ms, from the same runs. CPU µs/req: "
             "the server process's user + system CPU time per request over the same runs "
             "(for redis, over the SET and GET runs together); client CPU µs/req: the same for "
             "the load generator (wrk, redis-benchmark) while it drove each server.\n"]
    http = [r for r in results if r.get("kind") == "http"]
    if http:
        lines.append("HTTP: `examples/http_server` vs hyper 0.14.19 on Tokio 1.24.2 "
                     "(`bench/tokio-rs/src/bin/hyper_hello.rs`), both answering `GET /` with the "
                     "same 89 bytes, same worker count; `wrk -t1 -cN -d5s --latency`.\n")
        lines.append("| case | rounds | tokio.hpp req/s | hyper req/s | ratio | tokio.hpp p50 / p90 / p99 | hyper p50 / p90 / p99 | CPU µs/req tokio.hpp / hyper | client CPU µs/req tokio.hpp / hyper |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in http:
            a, b = r["cpp"], r["peer"]
            ratio = "%.2f" % (a["rps"] / b["rps"]) if a.get("rps") and b.get("rps") else "—"
            lat = lambda s: "%s / %s / %s" % (_fmt_ms(s.get("p50")), _fmt_ms(s.get("p90")), _fmt_ms(s.get("p99")))
            errs = ""
            if (a.get("errors") or 0) + (a.get("non2xx") or 0) + (b.get("errors") or 0) + (b.get("non2xx") or 0):
                errs = " (socket errors / non-2xx: tokio.hpp %s/%s, hyper %s/%s)" % (
                    a.get("errors"), a.get("non2xx"), b.get("errors"), b.get("non2xx"))
            lines.append("| %s%s | %d | %s | %s | %s | %s | %s | %s / %s | %s / %s |" % (
                r["id"].replace("server ", ""), errs, r["rounds"], _fmt_rps(a.get("rps")),
                _fmt_rps(b.get("rps")), ratio, lat(a), lat(b), _fmt_ms(a.get("cpu_us")), _fmt_ms(b.get("cpu_us")),
                _fmt_ms(a.get("client_cpu_us")), _fmt_ms(b.get("client_cpu_us"))))
    redis = [r for r in results if r.get("kind") == "redis"]
    if redis:
        lines.append("\nRESP: `examples/mini_redis --workers 2` vs redis-server 7.0.15 (`--save \"\" "
                     "--appendonly no`); `redis-benchmark -t set,get -c 50 -P N --csv`.\n")
        lines.append("| case | test | rounds | tokio.hpp req/s | redis req/s | ratio | tokio.hpp p50 / p95 / p99 | redis p50 / p95 / p99 | CPU µs/req tokio.hpp / redis | client CPU µs/req tokio.hpp / redis |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in redis:
            for test in ("SET", "GET"):
                a, b = r["cpp"].get(test, {}), r["peer"].get(test, {})
                ratio = "%.2f" % (a["rps"] / b["rps"]) if a.get("rps") and b.get("rps") else "—"
                lat = lambda s: "%s / %s / %s" % (_fmt_ms(s.get("p50")), _fmt_ms(s.get("p95")), _fmt_ms(s.get("p99")))
                lines.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s / %s | %s / %s |" % (
                    r["id"].replace("server ", ""), test, r["rounds"], _fmt_rps(a.get("rps")),
                    _fmt_rps(b.get("rps")), ratio, lat(a), lat(b), _fmt_ms(a.get("cpu_us")), _fmt_ms(b.get("cpu_us")),
                    _fmt_ms(a.get("client_cpu_us")), _fmt_ms(b.get("client_cpu_us"))))
    return "\n".join(lines) + "\n"
