#!/usr/bin/env python3
"""make lint: clang-tidy (.clang-tidy) over tokio.cpp, the whole library in one unit, and
tests/strict/strict_tu.cpp, which instantiates the main templates (spawn, channels, select,
join, I/O, Result), with each finding in tokio.hpp mapped back to the src/ file and line it
came from.

Usage: tools/lint.py [clang-tidy binary]. Exits 1 when clang-tidy reports any warning.
"""
import bisect
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "tokio.hpp")
BEGIN_RE = re.compile(r"^/\* begin file (\S+) \*/$")
END_RE = re.compile(r"^/\* end file (\S+) \*/$")
DIAG_RE = re.compile(r"^(?P<file>[^:\s]*tokio\.hpp):(?P<line>\d+):(?P<col>\d+): (?P<rest>.*)$")


PRAGMA_ONCE_RE = re.compile(r"^\s*#\s*pragma\s+once\b")
PROJECT_INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"')
GENERATED = ("TOKIO_SYSTEM_HEADERS_", "#if TOKIO_HAS_", "#endif // TOKIO_HAS_")


def line_map():
    """For each line of tokio.hpp, (src file, line in it) or None (generated lines).

    Replays amalgamate.py: a pasted file's lines appear in order, minus `#pragma once`, with
    each project #include replaced by the included file (between begin/end markers)."""
    out = [None]
    stack = []  # [path, src lines, index of the next src line]

    def skippable(text):
        return PRAGMA_ONCE_RE.match(text) or PROJECT_INCLUDE_RE.match(text)

    def advance(frame):
        # Lines that never reach the output: #pragma once and project #includes (each is
        # replaced by the file it names, or dropped when that file was pasted before).
        lines = frame[1]
        while frame[2] < len(lines) and skippable(lines[frame[2]]):
            frame[2] += 1
        frame[2] += 1
        return frame[2]  # 1-based number of the line just consumed

    def consume_include(frame, child):
        # Moves past the #include that pasted `child` (and the dropped ones before it).
        lines, i = frame[1], frame[2]
        name = os.path.relpath(child, "src")
        while i < len(lines) and skippable(lines[i]):
            i += 1
            if PROJECT_INCLUDE_RE.match(lines[i - 1]) and \
                    os.path.basename(name) in lines[i - 1]:
                frame[2] = i
                return

    with open(HEADER, encoding="utf-8") as f:
        for text in f:
            text = text.rstrip("\n")
            m = BEGIN_RE.match(text)
            if m:
                if stack:
                    consume_include(stack[-1], m.group(1))
                with open(os.path.join(ROOT, m.group(1)), encoding="utf-8") as src:
                    stack.append([m.group(1), src.read().split("\n"), 0])
                out.append(None)
            elif END_RE.match(text):
                stack.pop()
                out.append(None)
            elif stack and not text.startswith(GENERATED):
                out.append((stack[-1][0], advance(stack[-1])))
            else:
                out.append(None)
    return out


def main(argv):
    tidy = argv[1] if len(argv) > 1 else "clang-tidy"
    mapping = line_map()
    warnings = 0
    seen = set()
    output, failed = [], False
    for unit in ("tokio.cpp", os.path.join("tests", "strict", "strict_tu.cpp")):
        cmd = [tidy, "--quiet", os.path.join(ROOT, unit), "--", "-std=c++20", "-I" + ROOT,
               "-x", "c++"]
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        output += (p.stdout + p.stderr).splitlines()
        failed = failed or p.returncode != 0
    for text in output:
        if text in seen:
            continue
        seen.add(text)
        m = DIAG_RE.match(text)
        if m:
            n = int(m.group("line"))
            where = mapping[n] if n < len(mapping) else None
            loc = "%s:%d:%s" % (where[0], where[1], m.group("col")) if where else \
                "tokio.hpp:%d:%s" % (n, m.group("col"))
            if " warning: " in " " + m.group("rest") or m.group("rest").startswith("warning:"):
                warnings += 1
            print("%s: %s" % (loc, m.group("rest")))
        elif not text.startswith(("Suppressed ", "Use -header-filter", "Error while processing")) \
                and "warnings generated" not in text and "warning generated" not in text:
            print(text)
    if failed and warnings == 0:
        print("clang-tidy failed", file=sys.stderr)
        return 1
    print("lint: %d warning(s)" % warnings)
    return 1 if warnings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
