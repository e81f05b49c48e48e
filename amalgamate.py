#!/usr/bin/env python3
"""Build tokio.hpp from src/ (stdlib only, deterministic).

Layout of the output:

    // banner (no timestamp)
    #ifndef TOKIO_HPP_INCLUDED                      the user part: every header reached
    ...                                             from src/tokio/tokio.hpp
    #endif
    #if (TOKIO_IMPLEMENTATION || TOKIO_INTERNALS)   the internal headers: every other
    ...                                             header, reached from the .cpp files
    #endif
    #if TOKIO_IMPLEMENTATION                        every src/**.cpp, in layer order
    ...
    #endif

A translation unit that only uses the library parses the first part alone; the runtime's
internals (schedulers, drivers, queues, the timing wheel...) are only parsed by the one
that defines TOKIO_IMPLEMENTATION (or by tests that define TOKIO_INTERNALS to reach them).

Rules:
  * `#include "x"` resolving to a file under src/ is inlined the first time and dropped
    afterwards; `#pragma once` is stripped; system includes are kept once (later repeats
    become comments).
  * layers: each folder of src/tokio/ belongs to one layer (LAYERS, lowest first). A file
    may include files of its own layer or lower ones; an include that runs up a layer is
    an error. Within a folder, detail/ holds what users never name.
  * .cpp files must not open an anonymous namespace or a file-scope using-directive: in the
    amalgamation they share one translation unit, so either would leak into every file
    pasted after them. Private helpers go in a named `..._impl` namespace instead.
  * an include cycle is an error (the chain is printed);
  * a file under src/ that nothing reaches is an error;
  * `--check` regenerates in memory and exits 1 when tokio.hpp differs.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(ROOT, "src")
PKG = os.path.join(SRC, "tokio")
UMBRELLA = os.path.join(PKG, "tokio.hpp")
OUT = os.path.join(ROOT, "tokio.hpp")

# Lowest first. A file of layer i may include layers 0..i.
LAYERS = ["core", "runtime", "task", "time", "io", "sync", "net", "signal", "process", "fs",
          "stream", "codec"]

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
PRAGMA_ONCE_RE = re.compile(r"^\s*#\s*pragma\s+once\b")
IF_RE = re.compile(r"^\s*#\s*if")
ENDIF_RE = re.compile(r"^\s*#\s*endif\b")
ANON_NS_RE = re.compile(r"^\s*namespace\s*\{")
USING_DIRECTIVE_RE = re.compile(r"^using\s+namespace\b")


def rel(path):
    return os.path.relpath(path, ROOT)


def layer_of(path):
    """Index of the layer a file under src/tokio/ belongs to (the umbrella is above all)."""
    if path == UMBRELLA:
        return len(LAYERS)
    top = os.path.relpath(path, PKG).split(os.sep)[0]
    if top not in LAYERS:
        sys.exit("amalgamate.py: %s: folder '%s' is not in LAYERS (add it in layer order)"
                 % (rel(path), top))
    return LAYERS.index(top)


class Amalgamator:
    def __init__(self):
        self.emitted = set()      # project files already pasted
        self.stack = []           # current include chain, for cycle reports
        self.system = set()       # system headers already included
        self.out = []

    def resolve(self, name, including):
        """Map an include spelling to a file under src/, or None for a system header."""
        candidates = [
            os.path.join(os.path.dirname(including), name),
            os.path.join(SRC, name),
        ]
        for c in candidates:
            c = os.path.normpath(c)
            if os.path.isfile(c) and c.startswith(SRC + os.sep):
                return c
        return None

    def paste(self, path):
        if path in self.stack:
            chain = " -> ".join(rel(p) for p in self.stack + [path])
            sys.exit("amalgamate.py: include cycle: " + chain)
        if path in self.emitted:
            return
        self.emitted.add(path)
        self.stack.append(path)
        self.out.append("/* begin file %s */\n" % rel(path))
        is_cpp = path.endswith(".cpp")
        depth = 0  # conditional nesting: a system include under #if is kept and not recorded
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if IF_RE.match(line):
                    depth += 1
                elif ENDIF_RE.match(line):
                    depth -= 1
                if PRAGMA_ONCE_RE.match(line):
                    continue
                if is_cpp and (ANON_NS_RE.match(line) or USING_DIRECTIVE_RE.match(line)):
                    sys.exit("amalgamate.py: %s:%d: anonymous namespaces and file-scope "
                             "using-directives leak into the files pasted after this one; "
                             "use a named ..._impl namespace" % (rel(path), lineno))
                m = INCLUDE_RE.match(line)
                if m:
                    kind, name = m.group(1), m.group(2)
                    target = self.resolve(name, path) if kind == '"' else None
                    if target is not None:
                        if layer_of(target) > layer_of(path):
                            sys.exit("amalgamate.py: %s:%d includes %s, which is in a higher "
                                     "layer (%s above %s); layers, lowest first: %s"
                                     % (rel(path), lineno, rel(target),
                                        LAYERS[layer_of(target)],
                                        LAYERS[layer_of(path)] if path != UMBRELLA else "tokio.hpp",
                                        ", ".join(LAYERS)))
                        self.paste(target)
                        continue
                    if kind == '"':
                        sys.exit("amalgamate.py: %s: cannot find \"%s\" under src/" % (rel(path), name))
                    if name in self.system:
                        self.out.append("/* #include <%s> (already above) */\n" % name)
                        continue
                    if depth == 0:
                        self.system.add(name)
                if not line.endswith("\n"):
                    line += "\n"
                self.out.append(line)
        self.out.append("/* end file %s */\n" % rel(path))
        self.stack.pop()

    def paste_headers_of(self, cpp):
        """Pastes the project headers a .cpp file includes (and theirs), not the .cpp."""
        with open(cpp, encoding="utf-8") as f:
            for line in f:
                m = INCLUDE_RE.match(line)
                if m and m.group(1) == '"':
                    target = self.resolve(m.group(2), cpp)
                    if target is not None and target.endswith(".hpp"):
                        if layer_of(target) > layer_of(cpp):
                            sys.exit("amalgamate.py: %s includes %s, which is in a higher layer"
                                     % (rel(cpp), rel(target)))
                        self.paste(target)


def all_sources():
    found = []
    for dirpath, _, files in os.walk(SRC):
        for f in files:
            if f.endswith((".hpp", ".cpp")):
                found.append(os.path.normpath(os.path.join(dirpath, f)))
    return sorted(found)


def layered(paths):
    return sorted(paths, key=lambda p: (layer_of(p), p))


BANNER = (
    "// tokio.hpp: Tokio's asynchronous runtime for C++20 coroutines, in one header.\n"
    "// DO NOT EDIT: generated by amalgamate.py from src/. Edit src/ and rerun it.\n"
    "//\n"
    "// Use: in exactly one translation unit write\n"
    "//     #define TOKIO_IMPLEMENTATION\n"
    "//     #include \"tokio.hpp\"\n"
    "// and include it without the macro everywhere else.\n"
)


def build():
    if not os.path.isfile(UMBRELLA):
        sys.exit("amalgamate.py: missing umbrella header " + UMBRELLA)
    sources = all_sources()
    cpps = layered([p for p in sources if p.endswith(".cpp")])
    a = Amalgamator()
    a.out.append(BANNER)
    a.out.append("#ifndef TOKIO_HPP_INCLUDED\n#define TOKIO_HPP_INCLUDED\n")
    a.paste(UMBRELLA)
    a.out.append("#endif // TOKIO_HPP_INCLUDED\n\n")

    a.out.append(
        "// Internal headers: parsed only by the implementation unit (or with TOKIO_INTERNALS,\n"
        "// by tests of the internals).\n"
        "#if ((defined(TOKIO_IMPLEMENTATION) && !defined(TOKIO_COMPILED_LIB)) || "
        "defined(TOKIO_INTERNALS)) && !defined(TOKIO_INTERNALS_INCLUDED)\n"
        "#define TOKIO_INTERNALS_INCLUDED\n")
    for cpp in cpps:
        a.paste_headers_of(cpp)
    a.out.append("#endif // TOKIO_INTERNALS\n\n")

    a.out.append(
        "// TOKIO_COMPILED_LIB: the implementation is linked in from a compiled object or library\n"
        "// (tokio.cpp), so TOKIO_IMPLEMENTATION in a source file is ignored.\n"
        "#if defined(TOKIO_IMPLEMENTATION) && !defined(TOKIO_COMPILED_LIB) && "
        "!defined(TOKIO_IMPLEMENTATION_INCLUDED)\n"
        "#define TOKIO_IMPLEMENTATION_INCLUDED\n")
    for cpp in cpps:
        a.paste(cpp)
    a.out.append("#endif // TOKIO_IMPLEMENTATION\n")

    unused = [p for p in sources if p not in a.emitted]
    if unused:
        sys.exit("amalgamate.py: files under src/ that nothing includes:\n  " +
                 "\n  ".join(rel(p) for p in unused))
    return "".join(a.out)


def main(argv):
    text = build()
    if "--check" in argv:
        try:
            with open(OUT, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print("tokio.hpp is stale: run `python3 amalgamate.py` and commit the result.",
                  file=sys.stderr)
            return 1
        print("tokio.hpp is up to date.")
        return 0
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
