"""A/B timing of whole programs, runs interleaved so background load hits every program alike.

    python3 bench/ab.py N "cmd one ..." "cmd two ..." ...

Runs each command N times, in turn (1, 2, ..., 1, 2, ...), and prints per command the
median wall time and the median CPU time (user + system of the child). Used for
comparisons within tokio.hpp (one binary against another build of the same benchmark,
or a case with and without an option), where hyperfine's back-to-back runs of one command
then the next let a change in background load pass for a difference.
"""
import resource
import statistics
import subprocess
import sys
import time


def main():
    n = int(sys.argv[1])
    cmds = [c.split() for c in sys.argv[2:]]
    res = {i: [] for i in range(len(cmds))}
    for _ in range(n):
        for i, c in enumerate(cmds):
            t0 = time.perf_counter()
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(c, check=True)
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            res[i].append((time.perf_counter() - t0, cpu))
    for i, c in enumerate(cmds):
        wall = statistics.median(x[0] for x in res[i])
        cpu = statistics.median(x[1] for x in res[i])
        print(f"{' '.join(c)[:60]:60s} wall {wall * 1000:7.1f} ms  cpu {cpu * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
