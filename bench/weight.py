#!/usr/bin/env python3
"""Compile weight of tokio.hpp (`make weight`): what including it costs a user.

Measures, with each compiler found (g++, clang++):
  user TU   `#include "tokio.hpp"` and one coroutine, at -O0 and -O2
  std TU    the same coroutine with <vector> <string> <thread> <mutex> <coroutine>
            <chrono> <memory> <functional> and no tokio.hpp (the yardstick)
  floor TU  the std TU plus every standard and system header the user part of tokio.hpp
            includes (<variant>, <sys/socket.h>, ...; as the compiler opens them): what the user TU
            would cost if tokio.hpp's own code were free, so user/floor is the part of
            the ratio that tokio.hpp's code adds and floor/std the part its includes add
  pch       the user TU with tokio.hpp precompiled (g++ .gch, clang++ -include-pch) with
            the same flags, and the time precompiling it takes
  impl TU   `#define TOKIO_IMPLEMENTATION` + `#include "tokio.hpp"` at -O2
  parts     the same unit cut into its most parts (TOKIO_IMPLEMENTATION_PART=1..N with the
            default split, README "Compile time"): the largest part, and all of them (CPU)
and prints the user/std ratio. Times are the minimum CPU time (user+sys) of --runs runs:
CPU time, not wall time, so a busy machine skews the figures less.

With --fresh it also clones this checkout (HEAD) into a temporary directory and times, as
a new user would meet them, `make demo` and then `make test` there: wall time (they run
in parallel on every core), so run it on an otherwise idle machine.

  python3 bench/weight.py [--runs N] [--fresh] [--results]   (--results rewrites the
                                  "Compile weight" section of bench/RESULTS.md)
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "RESULTS.md")

USER_TU = """#include "tokio.hpp"
tokio::Task<int> add_one(int x) {
  co_await tokio::task::yield_now();
  co_return x + 1;
}
"""

STD_TU = """#include <vector>
#include <string>
#include <thread>
#include <mutex>
#include <coroutine>
#include <chrono>
#include <memory>
#include <functional>
struct Coro {
  struct promise_type {
    Coro get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_value(int) {}
    void unhandled_exception() {}
  };
};
Coro add_one(int x) {
  co_await std::suspend_never{};
  co_return x + 1;
}
"""

def floor_tu(cxx, user_file):
    """STD_TU with the system headers tokio.hpp's user part includes in front: the ones this
    compiler opens directly from tokio.hpp (`-H`, depth 2), by path and in order, so the
    floor parses exactly the system code the user TU does (a header chosen under #if, as
    <bits/fs_fwd.h> in place of <filesystem> on libstdc++, counts as chosen)."""
    out = subprocess.run([cxx, "-std=c++20", "-I" + ROOT, "-H", "-fsyntax-only", user_file],
                         check=True, capture_output=True, text=True).stderr
    tokio_hpp = os.path.join(ROOT, "tokio.hpp")
    paths = []
    for line in out.splitlines():
        m = re.match(r"^(\.+) (.+)$", line)
        if m and len(m.group(1)) == 2 and os.path.abspath(m.group(2)) != tokio_hpp:
            paths.append(os.path.abspath(m.group(2)))
    # Spelled <relative> against the compiler's own search list, so they stay system
    # headers (clang warns inside some libstdc++ headers opened by a quoted path).
    verbose = subprocess.run([cxx, "-std=c++20", "-E", "-v", "-x", "c++", os.devnull],
                             capture_output=True, text=True).stderr
    dirs = sorted((os.path.abspath(l.strip()) for l in verbose.splitlines()
                   if l.startswith(" /")), key=len, reverse=True)
    names = []
    for p in paths:
        d = next((d for d in dirs if p.startswith(d + "/")), None)
        names.append("<%s>" % p[len(d) + 1:] if d else '"%s"' % p)
    return "".join("#include %s\n" % n for n in names) + STD_TU


IMPL_TU = """#define TOKIO_IMPLEMENTATION
#include "tokio.hpp"
"""


def cpu_time(cmd, runs):
    best = None
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = t if best is None else min(best, t)
    return best


def precompile(cxx, opt, d):
    """Precompiles tokio.hpp for cxx at opt into d; returns (CPU seconds, the flags a TU
    uses it with). g++ finds tokio.hpp.gch beside the copy of the header it includes;
    clang++ takes -include-pch."""
    pch_dir = os.path.join(d, "pch-%s%s" % (cxx, opt))
    os.makedirs(pch_dir, exist_ok=True)
    hdr = os.path.join(pch_dir, "tokio.hpp")
    shutil.copy(os.path.join(ROOT, "tokio.hpp"), hdr)
    if cxx.startswith("clang"):
        out, use = hdr + ".pch", ["-I" + pch_dir, "-include-pch", hdr + ".pch"]
    else:
        out, use = hdr + ".gch", ["-I" + pch_dir, "-Winvalid-pch", "-Werror"]
    t = cpu_time([cxx, "-std=c++20", opt, "-x", "c++-header", hdr, "-o", out], 1)
    return t, use


def measure(runs):
    """Rows: (compiler, kind, seconds, std TU seconds or None, floor TU seconds or None).
    kind: "-O0"/"-O2" (the user TU parsed from source), "pch -O0"/"pch -O2" (the same TU
    with tokio.hpp precompiled), "pch build -O0"/"pch build -O2" (precompiling it),
    "impl -O2", "largest part <k> -O2" and "all parts -O2"."""
    rows = []
    with tempfile.TemporaryDirectory() as d:
        files = {}
        for name, text in (("user", USER_TU), ("std", STD_TU), ("impl", IMPL_TU)):
            files[name] = os.path.join(d, name + ".cpp")
            with open(files[name], "w") as f:
                f.write(text)
        for cxx in ("g++", "clang++"):
            if not shutil.which(cxx):
                continue
            files["floor"] = os.path.join(d, "floor-%s.cpp" % cxx)
            with open(files["floor"], "w") as f:
                f.write(floor_tu(cxx, files["user"]))
            base = [cxx, "-std=c++20", "-c", "-o", os.devnull]
            for opt in ("-O0", "-O2"):
                user = cpu_time(base + ["-I" + ROOT, opt, files["user"]], runs)
                std = cpu_time(base + [opt, files["std"]], runs)
                floor = cpu_time(base + [opt, files["floor"]], runs)
                rows.append((cxx, opt, user, std, floor))
                build, use = precompile(cxx, opt, d)
                pch = cpu_time(base + use + [opt, files["user"]], runs)
                rows.append((cxx, "pch " + opt, pch, std, None))
                rows.append((cxx, "pch build " + opt, build, None, None))
            impl = cpu_time(base + ["-I" + ROOT, "-O2", files["impl"]], max(1, runs // 2))
            rows.append((cxx, "impl -O2", impl, None, None))
            # (at least two runs each: the largest of eight single runs is the noisiest figure)
            parts = [cpu_time(base + ["-I" + ROOT, "-O2", "-DTOKIO_IMPLEMENTATION_PART=%d" % k,
                                      files["impl"]], max(2, runs // 2))
                     for k in range(1, impl_part_count() + 1)]
            largest = max(range(len(parts)), key=lambda i: parts[i])
            rows.append((cxx, "largest part %d -O2" % (largest + 1), parts[largest], None, None))
            rows.append((cxx, "all parts -O2", sum(parts), None, None))
    return rows


def fresh_clone_times():
    """Wall seconds of `make demo`, then `make test`, in a fresh clone of HEAD."""
    with tempfile.TemporaryDirectory() as d:
        clone = os.path.join(d, "tokio.hpp")
        subprocess.run(["git", "clone", "-q", ROOT, clone], check=True)
        times = []
        for target in ("demo", "test"):
            t0 = time.monotonic()
            subprocess.run(["make", target], cwd=clone, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            times.append(time.monotonic() - t0)
        return times


def impl_part_count():
    with open(os.path.join(ROOT, "tokio.hpp"), encoding="utf-8") as f:
        m = re.search(r"^#define TOKIO_IMPLEMENTATION_MAX_SPLIT (\d+)$", f.read(), re.M)
    return int(m.group(1))


def header_lines():
    with open(os.path.join(ROOT, "tokio.hpp"), encoding="utf-8") as f:
        text = f.read()
    user = text.split("#endif // TOKIO_HPP_INCLUDED")[0].count("\n")
    return user, text.count("\n")


def render(rows, fresh=None):
    user_lines, total_lines = header_lines()
    out = ["| compiler | TU | tokio.hpp user TU (s) | std-headers TU (s) | ratio "
           "| floor TU (s) | floor / std | user / floor |",
           "|---|---|---|---|---|---|---|---|"]
    for cxx, kind, t, std, floor in rows:
        if kind == "impl -O2":
            out.append("| %s | implementation TU, -O2 | %.2f | | | | | |" % (cxx, t))
        elif kind.startswith("largest part "):
            out.append("| %s | implementation in %d parts, -O2: the largest (part %s) | %.2f "
                       "| | | | | |" % (cxx, impl_part_count(), kind.split()[2], t))
        elif kind == "all parts -O2":
            out.append("| %s | implementation in %d parts, -O2: all parts (CPU) | %.2f "
                       "| | | | | |" % (cxx, impl_part_count(), t))
        elif kind.startswith("pch build "):
            out.append("| %s | precompiling tokio.hpp, %s | %.2f | | | | | |"
                       % (cxx, kind[len("pch build "):], t))
        elif kind.startswith("pch "):
            out.append("| %s | one coroutine, tokio.hpp precompiled, %s | %.2f | %.2f | %.2f "
                       "| | | |" % (cxx, kind[len("pch "):], t, std, t / std))
        else:
            out.append("| %s | one coroutine, %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |"
                       % (cxx, kind, t, std, t / std, floor, floor / std, t / floor))
    out.append("")
    out.append("tokio.hpp: %d lines, of which %d in the part every user TU parses "
               "(the rest is parsed only with TOKIO_IMPLEMENTATION)." % (total_lines, user_lines))
    if fresh:
        out.append("")
        out.append("Fresh clone, %d cores, wall time: `make demo` %.1f s (target 12 s), then "
                   "`make test` %.0f s (target 300 s; builds the tests, the examples and the "
                   "schedule explorer, then runs both suites)." % (os.cpu_count() or 1, fresh[0], fresh[1]))
    return "\n".join(out)


def update_results(table):
    section = ("## Compile weight\n\n"
               "`make weight` (bench/weight.py): minimum CPU time of repeated compiles. The "
               "user TU includes tokio.hpp and defines one coroutine; the std TU defines the "
               "same coroutine with eight standard headers instead; the floor TU is the std "
               "TU plus every standard and system header tokio.hpp's user part includes, "
               "the cost of those includes alone. The precompiled rows compile the user TU "
               "against tokio.hpp precompiled with the same flags (README, \"Compile time\"); "
               "the std TU beside them is not precompiled.\n\n" + table + "\n")
    text = open(RESULTS, encoding="utf-8").read() if os.path.exists(RESULTS) else ""
    if "## Compile weight" in text:
        text = re.sub(r"## Compile weight\n.*?(?=\n## |\Z)", section, text, flags=re.S)
    elif "\n## Where " in text:
        # Before the notes (bench/NOTES.md, appended by bench/run.py), after the figures.
        at = text.find("\n## Where ")
        text = text[:at].rstrip("\n") + "\n\n" + section + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(RESULTS, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--results", action="store_true")
    ap.add_argument("--fresh", action="store_true")
    args = ap.parse_args()
    fresh = fresh_clone_times() if args.fresh else None
    table = render(measure(args.runs), fresh)
    print(table)
    if args.results:
        update_results(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
