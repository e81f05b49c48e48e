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
    #if TOKIO_IMPLEMENTATION                        every src/**.cpp, part by part
    #if TOKIO_IMPLEMENTATION_GROUP_IS_(g)           (IMPL_PARTS' groups), in layer order within one
    ...
    #endif

A translation unit that only uses the library parses the first part alone; the runtime's
internals (schedulers, drivers, queues, the timing wheel...) are only parsed by the one
that defines TOKIO_IMPLEMENTATION (or by tests that define TOKIO_INTERNALS to reach them).
Headers are pasted dependencies first; one that not every group of .cpp files includes sits
under `#if TOKIO_PART_NEEDS_(g) || ...` naming the groups that do, so a unit compiling part
of the implementation parses only its groups' headers (everywhere else the macro is 1).

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
  * The user part ends with a reference to a symbol named after a hash of the generated
    header, which the implementation part defines (see BUILD_SYMBOL).
"""
import hashlib
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


# The modules a build can leave out (TOKIO_CONFIG_NO_<MODULE>), as Tokio's cargo features do.
# Their files are wrapped in `#if TOKIO_HAS_<MODULE>`; a module is out when it or a module it
# includes is configured out (computed from the include graph, see module_deps()).
OPTIONAL_MODULES = ["signal", "process", "fs", "stream", "codec"]

# The implementation in parts (TOKIO_IMPLEMENTATION_PART=k of TOKIO_IMPLEMENTATION_SPLIT=n,
# README "Compile time"): the group (1 to 8) each .cpp file belongs to; a split into n units
# gives each unit a run of consecutive groups. A unit that defines TOKIO_IMPLEMENTATION
# alone still compiles every group. Files that call each other on hot paths (a spawn, a
# wake, a poll) share a group, so no split costs them inlining; the groups are balanced by
# their -O2 compile time (bench/NOTES.md, "The implementation in parts").
IMPL_PARTS = [  # (path under src/tokio/, group): the longest matching prefix decides
    # 1: the spawn path, parking, the timer wheel, the signal registry
    ("core/", 1), ("task/", 1), ("runtime/detail/park", 1), ("time/", 1), ("signal/", 1),
    # 2: the schedulers, the task harness (poll, wake, complete), the runtime handle and the
    # owned-task list: one unit, so g++ sees through a wake's Scheduler::schedule and a
    # free's Scheduler::on_dealloc to the scheduler's and the list's code
    ("runtime/detail/current_thread", 2), ("runtime/detail/multi_thread", 2),
    ("runtime/detail/harness", 2), ("runtime/detail/owned_tasks", 2),
    ("runtime/detail/handle_inner", 2),
    # 3: the runtime's construction, drivers, blocking pool, dumps and metrics; cold helpers
    ("runtime/", 3), ("core/detail/quote", 3), ("core/detail/utf8", 3),
    ("core/detail/task_name", 3), ("core/detail/pages", 3),
    ("io/", 4), ("sync/", 4),
    ("net/", 5),
    ("codec/", 6), ("fs/detail/", 6),
    ("process/", 7),
    ("fs/", 8), ("process/command", 8), ("process/exit_status", 8), ("process/stdio", 8),
    ("process/child_io", 8), ("process/detail/spawn_error", 8),
]
IMPL_PART_COUNT = max(part for _, part in IMPL_PARTS)

# Every `namespace tokio...` opening is rewritten to open the inline ABI namespace
# (tokio::inline v0_1...): users and tests still spell tokio::net::TcpStream and
# tokio::detail::x, while two copies of different versions (or of different ABI-changing
# configurations) in one program mangle differently and fail to link instead of mixing.
NS_OPEN_RE = re.compile(r"^(\s*)namespace\s+tokio((?:::[A-Za-z_]\w*)*)\s*\{")
NS_ANY_RE = re.compile(r"^\s*(inline\s+)?namespace\s+tokio\b(?!\s*=)")


def abi_namespace(line, path, lineno):
    m = NS_OPEN_RE.match(line)
    if m:
        return "%snamespace tokio::inline TOKIO_ABI_NAMESPACE%s {%s" % (
            m.group(1), m.group(2), line[m.end():])
    if NS_ANY_RE.match(line):
        sys.exit("amalgamate.py: %s:%d: open the namespace on one line as "
                 "`namespace tokio::a::b {` (amalgamate.py inserts the ABI namespace)"
                 % (rel(path), lineno))
    return line


def optional_module_of(path):
    """The optional module (OPTIONAL_MODULES) a file under src/tokio/ belongs to, or None."""
    if not path.startswith(PKG + os.sep):
        return None
    top = os.path.relpath(path, PKG).split(os.sep)[0]
    return top if top in OPTIONAL_MODULES else None


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

    def paste(self, path, depth0=0):
        """Pastes `path`, whose project includes must be pasted already (header_order puts
        them first). depth0: how many #if levels the caller has opened around it (a system
        include under one is not recorded as included for the files after it)."""
        if path in self.emitted:
            return
        self.emitted.add(path)
        self.out.append("/* begin file %s */\n" % rel(path))
        module = optional_module_of(path)
        if module:
            self.out.append("#if TOKIO_HAS_%s\n" % module.upper())
        is_cpp = path.endswith(".cpp")
        # conditional nesting: a system include under #if is kept and not recorded. A file
        # of an optional module sits under #if TOKIO_HAS_<MODULE>, so it starts at depth 1.
        depth = depth0 + (1 if module else 0)
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
                        if target not in self.emitted:
                            sys.exit("amalgamate.py: %s:%d: %s is not pasted yet (header_order "
                                     "missed it)" % (rel(path), lineno, rel(target)))
                        continue
                    if kind == '"':
                        sys.exit("amalgamate.py: %s: cannot find \"%s\" under src/" % (rel(path), name))
                    if name in self.system:
                        self.out.append("/* #include <%s> (already above) */\n" % name)
                        continue
                    if depth == 0:
                        self.system.add(name)
                    # System headers keep default visibility under TOKIO_CONFIG_HIDDEN_VISIBILITY.
                    self.out.append("TOKIO_SYSTEM_HEADERS_BEGIN\n%sTOKIO_SYSTEM_HEADERS_END\n"
                                    % (line if line.endswith("\n") else line + "\n"))
                    continue
                line = abi_namespace(line, path, lineno)
                if not line.endswith("\n"):
                    line += "\n"
                self.out.append(line)
        if module:
            self.out.append("#endif // TOKIO_HAS_%s\n" % module.upper())
        self.out.append("/* end file %s */\n" % rel(path))

    def project_includes(self, path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = INCLUDE_RE.match(line)
                if m and m.group(1) == '"':
                    target = self.resolve(m.group(2), path)
                    if target is not None and target.endswith(".hpp"):
                        yield target

    def header_order(self, roots):
        """The headers reached from `roots` that are not pasted yet, dependencies first, so
        each is pasted on its own, under its own #if (module, part), never inside another's.
        An include cycle is an error naming the chain."""
        order, done, chain = [], set(), []

        def visit(path):
            chain.append(path)
            for target in self.project_includes(path):
                if target in chain:
                    sys.exit("amalgamate.py: include cycle: " +
                             " -> ".join(rel(p) for p in chain + [target]))
                if target not in self.emitted and target not in done:
                    visit(target)
                    done.add(target)
                    order.append(target)
            chain.pop()

        for r in roots:
            visit(r)
        return order

    def groups_reaching(self, cpps):
        """For every header, the implementation groups (IMPL_PARTS) whose .cpp files reach it."""
        groups = {}

        def visit(path, group):
            for target in self.project_includes(path):
                if group not in groups.setdefault(target, set()):
                    groups[target].add(group)
                    visit(target, group)

        for cpp in cpps:
            visit(cpp, impl_part_of(cpp))
        return groups

    def paste_for_parts(self, headers, groups):
        """Pastes `headers` (dependencies first), each under the #if of the implementation
        groups that need it: a unit compiling some parts of the implementation skips the
        rest (TOKIO_PART_NEEDS_, part_needs())."""
        every = set(range(1, IMPL_PART_COUNT + 1))
        for h in headers:
            need = groups.get(h, set())
            if need == every:
                self.paste(h)
                continue
            self.out.append("#if %s\n" % " || ".join("TOKIO_PART_NEEDS_(%d)" % g
                                                     for g in sorted(need or {0})))
            self.paste(h, depth0=1)
            self.out.append("#endif\n")


def all_sources():
    found = []
    for dirpath, _, files in os.walk(SRC):
        for f in files:
            if f.endswith((".hpp", ".cpp")):
                found.append(os.path.normpath(os.path.join(dirpath, f)))
    return sorted(found)


def layered(paths):
    return sorted(paths, key=lambda p: (layer_of(p), p))


def read_version():
    """(major, minor, patch) from src/tokio/core/config.hpp."""
    with open(os.path.join(PKG, "core", "config.hpp"), encoding="utf-8") as f:
        text = f.read()
    parts = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(r"#define TOKIO_VERSION_%s (\d+)" % part, text)
        if not m:
            sys.exit("amalgamate.py: TOKIO_VERSION_%s missing from core/config.hpp" % part)
        parts.append(int(m.group(1)))
    return tuple(parts)


# The configuration macros a user may define before including tokio.hpp (README, "Configuration").
CONFIG_MACROS = [
    ("TOKIO_CONFIG_NO_SIGNAL", "leave out tokio::signal (and process, which needs it)"),
    ("TOKIO_CONFIG_NO_PROCESS", "leave out tokio::process"),
    ("TOKIO_CONFIG_NO_FS", "leave out tokio::fs (the io_uring engine with it)"),
    ("TOKIO_CONFIG_NO_STREAM", "leave out tokio::stream (and codec, which needs it)"),
    ("TOKIO_CONFIG_NO_CODEC", "leave out tokio::codec"),
    ("TOKIO_CONFIG_SYSTEM_ALLOCATOR", "coroutine frames from operator new, not the frame slabs"),
    ("TOKIO_CONFIG_NO_TASK_LOCATIONS", "Task frames keep no co_await location (dumps show none)"),
    ("TOKIO_CONFIG_HIDDEN_VISIBILITY", "give every tokio symbol hidden visibility (a .so that"),
    ("", "  embeds tokio.hpp does not export it; build that .so with"),
    ("", "  -fvisibility=hidden too, or g++ warns about your types"),
    ("", "  holding hidden tokio types)"),
    ("TOKIO_CONFIG_STD_FORMAT", "std::formatter for the printable types (needs <format>)"),
    ("TOKIO_CONFIG_NO_WARNING_SUPPRESSION", "do not silence -Wshadow, -Wconversion... in the header"),
]

# Warnings users enable that the header does not promise to be clean of: silenced between
# push and pop (the pragmas apply to templates too: both compilers take a diagnostic's state
# from where the template is written, not where it is instantiated).
COMMON_WARNINGS = ["-Wshadow", "-Wconversion", "-Wsign-conversion", "-Wold-style-cast",
                   "-Wdouble-promotion", "-Wzero-as-null-pointer-constant", "-Wfloat-equal",
                   "-Wcast-qual", "-Wmissing-declarations", "-Wswitch-enum", "-Wundef"]
# -Wmaybe-uninitialized (in g++'s -Wall) judges optimised code after inlining: the header's
# operands held in unions behind a `live` flag (ChildOp, Branch) and values behind an atomic
# flag (OnceCell) read as "may be used uninitialized" in some callers at -O2, an error under
# -Werror. The cases the suite meets are fixed in the code; this keeps users' builds clean of
# the ones it does not. The suite is built at -O2 without the suppression
# (TOKIO_CONFIG_NO_WARNING_SUPPRESSION in CI's g++ step), so new cases still show there.
GCC_WARNINGS = ["-Wuseless-cast", "-Wduplicated-branches", "-Wnull-dereference", "-Wcast-align",
                "-Wmaybe-uninitialized"]
CLANG_WARNINGS = ["-Wshadow-all", "-Wimplicit-int-conversion", "-Wshorten-64-to-32",
                  "-Wcomma", "-Wextra-semi-stmt", "-Wunused-member-function",
                  "-Wdocumentation", "-Wreserved-identifier", "-Wunused-template"]


def section_open():
    # GNU modes (-std=gnu++20, CMake's default) predefine `unix` and `linux` as 1, which
    # would break namespace tokio::signal::unix; the header hides them while it is parsed.
    lines = ['#pragma push_macro("unix")\n#pragma push_macro("linux")\n#undef unix\n#undef linux\n',
             "#if !defined(TOKIO_CONFIG_NO_WARNING_SUPPRESSION)\n",
             "#pragma GCC diagnostic push\n"]
    lines += ['#pragma GCC diagnostic ignored "%s"\n' % w for w in COMMON_WARNINGS]
    lines.append("#if defined(__clang__)\n")
    lines += ['#pragma clang diagnostic ignored "%s"\n' % w for w in CLANG_WARNINGS]
    lines.append("#else\n")
    lines += ['#pragma GCC diagnostic ignored "%s"\n' % w for w in GCC_WARNINGS]
    lines.append("#endif\n#endif\n")
    lines.append("#if defined(TOKIO_CONFIG_HIDDEN_VISIBILITY)\n"
                 "#pragma GCC visibility push(hidden)\n#endif\n")
    return "".join(lines)


def section_close():
    return ("#if defined(TOKIO_CONFIG_HIDDEN_VISIBILITY)\n#pragma GCC visibility pop\n#endif\n"
            "#if !defined(TOKIO_CONFIG_NO_WARNING_SUPPRESSION)\n"
            "#pragma GCC diagnostic pop\n#endif\n"
            '#pragma pop_macro("linux")\n#pragma pop_macro("unix")\n')


def banner(version):
    v = "%d.%d.%d" % version
    lines = [
        "// SPDX-License-Identifier: MIT",
        "// tokio.hpp %s: Tokio's asynchronous runtime for C++20 coroutines, in one header." % v,
        "// Copyright (c) 2026 the tokio.hpp authors. MIT licence: see the end of this banner.",
        "// DO NOT EDIT: generated by amalgamate.py from src/. Edit src/ and rerun it.",
        "//",
        "// Use: in exactly one translation unit write",
        "//     #define TOKIO_IMPLEMENTATION",
        "//     #include \"tokio.hpp\"",
        "// and include it without the macro everywhere else (or compile tokio.cpp, or link the",
        "// tokio_hpp::impl CMake target, and define TOKIO_COMPILED_LIB). -std=c++20 -pthread.",
        "//",
        "// Contents (namespaces, lowest layer first):",
        "//   tokio            Task<T>, Result<T, E>, join, select, spawn, run_main/TOKIO_MAIN",
        "//   tokio::runtime   Runtime, Builder, Handle, RuntimeMetrics",
        "//   tokio::task      JoinHandle, JoinSet, LocalSet, spawn_blocking, task_local",
        "//   tokio::time      Instant, sleep, interval, timeout",
        "//   tokio::io        AsyncRead/AsyncWrite, AsyncFd, Interest, buffered I/O, copy, duplex",
        "//   tokio::sync      mpsc, oneshot, broadcast, watch, Mutex, RwLock, Semaphore, Notify,",
        "//                    Barrier, OnceCell, CancellationToken",
        "//   tokio::net       TcpStream/Listener/Socket, UdpSocket, Unix sockets, lookup_host",
        "//   tokio::signal    ctrl_c, unix::signal          (optional: TOKIO_CONFIG_NO_SIGNAL)",
        "//   tokio::process   Command, Child              (optional: TOKIO_CONFIG_NO_PROCESS)",
        "//   tokio::fs        File, read_dir, functions   (optional: TOKIO_CONFIG_NO_FS)",
        "//   tokio::stream    Stream, Generator, adapters (optional: TOKIO_CONFIG_NO_STREAM)",
        "//   tokio::codec     Framed, codecs, BytesMut    (optional: TOKIO_CONFIG_NO_CODEC)",
        "//",
        "// Version: TOKIO_VERSION_MAJOR/MINOR/PATCH, TOKIO_VERSION (MAJOR*10000 + MINOR*100 +",
        "// PATCH), TOKIO_VERSION_STRING. Symbols live in the inline namespace tokio::%s" % abi_tag(version),
        "// (TOKIO_ABI_NAMESPACE): two versions in one program fail to link instead of mixing.",
        "//",
        "// Configuration (define before including, the same in every translation unit):",
    ]
    for name, doc in CONFIG_MACROS:
        lines.append("//   %-36s %s" % (name, doc))
    lines += [
        "//",
        "// MIT License. Permission is hereby granted, free of charge, to any person obtaining a",
        "// copy of this software and associated documentation files (the \"Software\"), to deal",
        "// in the Software without restriction, including without limitation the rights to use,",
        "// copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the",
        "// Software, and to permit persons to whom the Software is furnished to do so, subject to",
        "// the following conditions: the above copyright notice and this permission notice shall",
        "// be included in all copies or substantial portions of the Software. THE SOFTWARE IS",
        "// PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED. See LICENSE.",
    ]
    return "\n".join(lines) + "\n"


def abi_tag(version):
    # 0.x: a minor version may break the ABI (semver); from 1.0 on, a major version.
    return "v%d_%d" % (version[0], version[1]) if version[0] == 0 else "v%d" % version[0]


def prologue(version, deps):
    """Config-derived macros, emitted once before the first section."""
    tag = abi_tag(version)
    out = ["// TOKIO_CONFIG_HIDDEN_VISIBILITY hides tokio's symbols, not the system headers' (each\n",
           "// system #include below sits between these two).\n",
           "#if defined(TOKIO_CONFIG_HIDDEN_VISIBILITY)\n",
           "#define TOKIO_SYSTEM_HEADERS_BEGIN _Pragma(\"GCC visibility push(default)\")\n",
           "#define TOKIO_SYSTEM_HEADERS_END _Pragma(\"GCC visibility pop\")\n",
           "#else\n#define TOKIO_SYSTEM_HEADERS_BEGIN\n#define TOKIO_SYSTEM_HEADERS_END\n#endif\n",
           "// The inline ABI namespace; a configuration that changes the ABI changes its name:\n",
           "// the allocator, and how every Task frame stores its co_await location (core/task.hpp:\n",
           "// none with TOKIO_CONFIG_NO_TASK_LOCATIONS; a std::source_location where the library\n",
           "// has it, as g++; a file and a line otherwise, as clang++ 14 on libstdc++ 12). A user\n",
           "// file and an implementation that disagree on either fail to link, never mix.\n",
           "#if !defined(TOKIO_ABI_NAMESPACE)\n",
           "#if defined(TOKIO_CONFIG_NO_TASK_LOCATIONS)\n#define TOKIO_ABI_LOCATIONS_ 0\n#else\n",
           "TOKIO_SYSTEM_HEADERS_BEGIN\n#include <version>\nTOKIO_SYSTEM_HEADERS_END\n",
           "#if defined(__cpp_lib_source_location)\n#define TOKIO_ABI_LOCATIONS_ 1\n#else\n",
           "#define TOKIO_ABI_LOCATIONS_ 2\n#endif\n#endif\n",
           "#if defined(TOKIO_CONFIG_SYSTEM_ALLOCATOR) && TOKIO_ABI_LOCATIONS_ == 0\n",
           "#define TOKIO_ABI_NAMESPACE %s_sysalloc_noloc\n" % tag,
           "#elif defined(TOKIO_CONFIG_SYSTEM_ALLOCATOR) && TOKIO_ABI_LOCATIONS_ == 2\n",
           "#define TOKIO_ABI_NAMESPACE %s_sysalloc_fileline\n" % tag,
           "#elif defined(TOKIO_CONFIG_SYSTEM_ALLOCATOR)\n",
           "#define TOKIO_ABI_NAMESPACE %s_sysalloc\n" % tag,
           "#elif TOKIO_ABI_LOCATIONS_ == 0\n",
           "#define TOKIO_ABI_NAMESPACE %s_noloc\n" % tag,
           "#elif TOKIO_ABI_LOCATIONS_ == 2\n",
           "#define TOKIO_ABI_NAMESPACE %s_fileline\n" % tag,
           "#else\n",
           "#define TOKIO_ABI_NAMESPACE %s\n" % tag,
           "#endif\n#undef TOKIO_ABI_LOCATIONS_\n#endif\n",
           "// The most units the implementation can be cut into (TOKIO_IMPLEMENTATION_SPLIT).\n",
           "#define TOKIO_IMPLEMENTATION_MAX_SPLIT %d\n" % IMPL_PART_COUNT,
           "// TOKIO_HAS_<MODULE>: 1 when the module is built (its own TOKIO_CONFIG_NO_ macro and\n",
           "// those of the modules it includes are unset).\n"]
    for m in OPTIONAL_MODULES:
        need = [m] + sorted(deps.get(m, ()))
        cond = " || ".join("defined(TOKIO_CONFIG_NO_%s)" % d.upper() for d in need)
        out.append("#if %s\n#define TOKIO_HAS_%s 0\n#else\n#define TOKIO_HAS_%s 1\n#endif\n"
                   % (cond, m.upper(), m.upper()))
    return "".join(out)


def module_deps(sources):
    """For each optional module, the other optional modules its files reach (transitively)."""
    direct = {m: set() for m in OPTIONAL_MODULES}
    for path in sources:
        m = optional_module_of(path)
        if not m:
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                inc = INCLUDE_RE.match(line)
                if inc and inc.group(1) == '"':
                    for cand in (os.path.join(os.path.dirname(path), inc.group(2)),
                                 os.path.join(SRC, inc.group(2))):
                        cand = os.path.normpath(cand)
                        if os.path.isfile(cand):
                            n = optional_module_of(cand)
                            if n and n != m:
                                direct[m].add(n)
                            break
    closed = {}
    for m in OPTIONAL_MODULES:
        seen, todo = set(), list(direct[m])
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(direct[n])
        closed[m] = seen
    return closed


# The build check. Every TU that includes tokio.hpp refers to a symbol whose name carries a
# hash of the generated header; only the implementation unit compiled from that same header
# defines it. An object compiled against one tokio.hpp linked with an implementation built
# from another (a stale tokio.o after updating the header) then fails to link, naming the
# symbol, instead of linking two different layouts of the same classes together.
BUILD_ID_PLACEHOLDER = "@TOKIO_BUILD_ID@"
BUILD_SYMBOL = ("tokio_hpp_build_%s_link_only_with_an_implementation_compiled_from_"
                "this_same_tokio_hpp" % BUILD_ID_PLACEHOLDER)


def build_check_reference():
    return ("\n// Build check (amalgamate.py): the implementation unit compiled from this same header\n"
            "// defines this symbol. Linked with one compiled from another tokio.hpp, this TU fails\n"
            "// to link, naming it: rebuild the TOKIO_IMPLEMENTATION unit (tokio.cpp) too.\n"
            "namespace tokio::inline TOKIO_ABI_NAMESPACE::detail {\n"
            "extern const char %s;\n"
            "[[maybe_unused, gnu::used]] static const char* const tokio_build_check = &%s;\n"
            "}  // namespace tokio::inline TOKIO_ABI_NAMESPACE::detail\n" % (BUILD_SYMBOL, BUILD_SYMBOL))


def build_check_definition():
    return ("namespace tokio::inline TOKIO_ABI_NAMESPACE::detail {\n"
            "const char %s = 0;  // see the build check in the user part\n"
            "}  // namespace tokio::inline TOKIO_ABI_NAMESPACE::detail\n" % BUILD_SYMBOL)


def impl_part_of(cpp):
    name = os.path.relpath(cpp, PKG).replace(os.sep, "/")
    best = None
    for prefix, part in IMPL_PARTS:
        if name.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, part)
    if best is None:
        sys.exit("amalgamate.py: %s has no implementation part (add it to IMPL_PARTS)" % rel(cpp))
    return best[1]


def impl_part_selector():
    """Defines TOKIO_IMPLEMENTATION_GROUP_IS_(g), unless an earlier section did."""
    n = IMPL_PART_COUNT
    return ("#ifndef TOKIO_IMPLEMENTATION_GROUP_IS_\n"
            "// Which of the implementation's %d groups of files this unit compiles (IMPL_PARTS in\n"
            "// amalgamate.py). Without TOKIO_IMPLEMENTATION_PART: all of them. With it, the\n"
            "// implementation is cut into TOKIO_IMPLEMENTATION_SPLIT units (1 to\n"
            "// TOKIO_IMPLEMENTATION_MAX_SPLIT, which is the default) that link together, and this\n"
            "// is unit TOKIO_IMPLEMENTATION_PART (1 to the split): unit k of n takes the groups g\n"
            "// with (k - 1) * %d / n < g <= k * %d / n, so any split takes each group once.\n"
            "#if !defined(TOKIO_IMPLEMENTATION_PART)\n"
            "#define TOKIO_IMPLEMENTATION_GROUP_IS_(g) 1\n"
            "#else\n"
            "#if defined(TOKIO_IMPLEMENTATION_SPLIT)\n"
            "#define TOKIO_IMPLEMENTATION_SPLIT_ TOKIO_IMPLEMENTATION_SPLIT\n"
            "#else\n"
            "#define TOKIO_IMPLEMENTATION_SPLIT_ %d\n"
            "#endif\n"
            "#if !(TOKIO_IMPLEMENTATION_SPLIT_ >= 1 && TOKIO_IMPLEMENTATION_SPLIT_ <= %d)\n"
            "#error \"TOKIO_IMPLEMENTATION_SPLIT must be a number from 1 to %d "
            "(TOKIO_IMPLEMENTATION_MAX_SPLIT): how many units the implementation is cut into\"\n"
            "#elif !(TOKIO_IMPLEMENTATION_PART >= 1 && "
            "TOKIO_IMPLEMENTATION_PART <= TOKIO_IMPLEMENTATION_SPLIT_)\n"
            "#error \"TOKIO_IMPLEMENTATION_PART must be a number from 1 to the split "
            "(TOKIO_IMPLEMENTATION_SPLIT, default %d): compile the implementation once per part, "
            "each with its own number, and link them all; or leave it undefined to compile the "
            "whole implementation in this unit\"\n"
            "#endif\n"
            "#define TOKIO_IMPLEMENTATION_GROUP_IS_(g) "
            "((TOKIO_IMPLEMENTATION_PART - 1) * %d / TOKIO_IMPLEMENTATION_SPLIT_ < (g) && "
            "(g) <= TOKIO_IMPLEMENTATION_PART * %d / TOKIO_IMPLEMENTATION_SPLIT_)\n"
            "#endif\n"
            "#endif\n" % ((n,) * 9))


def part_needs():
    """TOKIO_PART_NEEDS_(g): whether this unit compiles the headers group g's files need.
    Only a unit compiling part of the implementation leaves headers out; everywhere else
    (users' units, the whole implementation, TOKIO_INTERNALS) it is 1."""
    return ("// A unit that compiles part of the implementation (TOKIO_IMPLEMENTATION_PART) parses\n"
            "// only the headers its groups of files include: it declares no more than it needs,\n"
            "// so it holds nothing but the implementation (README, \"Compile time\"). Group 0:\n"
            "// headers no file of the implementation includes.\n"
            "#ifndef TOKIO_PART_NEEDS_\n"
            "#if defined(TOKIO_IMPLEMENTATION) && !defined(TOKIO_COMPILED_LIB) && "
            "!defined(TOKIO_INTERNALS)\n"
            + impl_part_selector() +
            "#define TOKIO_PART_NEEDS_(g) TOKIO_IMPLEMENTATION_GROUP_IS_(g)\n"
            "#else\n"
            "#define TOKIO_PART_NEEDS_(g) 1\n"
            "#endif\n"
            "#endif\n")


def build():
    if not os.path.isfile(UMBRELLA):
        sys.exit("amalgamate.py: missing umbrella header " + UMBRELLA)
    sources = all_sources()
    # The .cpp files part by part (each compiles alone, so their order is free), layer order
    # within a part.
    cpps = sorted(layered([p for p in sources if p.endswith(".cpp")]), key=impl_part_of)
    version = read_version()
    a = Amalgamator()
    a.out.append(banner(version))
    a.out.append("#ifndef TOKIO_HPP_INCLUDED\n#define TOKIO_HPP_INCLUDED\n")
    a.out.append(prologue(version, module_deps(sources)))
    a.out.append(part_needs())
    a.out.append(section_open())
    groups = a.groups_reaching(cpps)
    a.paste_for_parts(a.header_order([UMBRELLA]), groups)
    a.paste(UMBRELLA)
    a.out.append(build_check_reference())
    a.out.append(section_close())
    a.out.append("#undef TOKIO_PART_NEEDS_\n")
    a.out.append("#endif // TOKIO_HPP_INCLUDED\n\n")

    a.out.append(
        "// Internal headers: parsed only by the implementation unit (or with TOKIO_INTERNALS,\n"
        "// by tests of the internals).\n"
        "#if ((defined(TOKIO_IMPLEMENTATION) && !defined(TOKIO_COMPILED_LIB)) || "
        "defined(TOKIO_INTERNALS)) && !defined(TOKIO_INTERNALS_INCLUDED)\n"
        "#define TOKIO_INTERNALS_INCLUDED\n")
    a.out.append(part_needs())
    a.out.append(section_open())
    a.paste_for_parts(a.header_order(cpps), groups)
    a.out.append(section_close())
    a.out.append("#undef TOKIO_PART_NEEDS_\n")
    a.out.append("#endif // TOKIO_INTERNALS\n\n")

    a.out.append(
        "// TOKIO_COMPILED_LIB: the implementation is linked in from a compiled object or library\n"
        "// (tokio.cpp), so TOKIO_IMPLEMENTATION in a source file is ignored.\n"
        "#if defined(TOKIO_IMPLEMENTATION) && !defined(TOKIO_COMPILED_LIB) && "
        "!defined(TOKIO_IMPLEMENTATION_INCLUDED)\n"
        "#define TOKIO_IMPLEMENTATION_INCLUDED\n")
    a.out.append(section_open())
    a.out.append(impl_part_selector())
    current = None
    # A system header a .cpp includes is emitted again in each run of a part: the copy an
    # earlier part's file included is not compiled in this part's unit.
    shared_system = set(a.system)
    for cpp in cpps:
        part = impl_part_of(cpp)
        if part != current:
            a.system = set(shared_system)
            if current is not None:
                a.out.append("#endif // TOKIO_IMPLEMENTATION_GROUP %d\n" % current)
            a.out.append("#if TOKIO_IMPLEMENTATION_GROUP_IS_(%d)\n" % part)
            current = part
        a.paste(cpp)
    a.out.append("#endif // TOKIO_IMPLEMENTATION_GROUP %d\n" % current)
    a.out.append("#if TOKIO_IMPLEMENTATION_GROUP_IS_(1)\n")
    a.out.append(build_check_definition())
    a.out.append("#endif\n#undef TOKIO_IMPLEMENTATION_GROUP_IS_\n#undef TOKIO_IMPLEMENTATION_SPLIT_\n")
    a.out.append(section_close())
    a.out.append("#endif // TOKIO_IMPLEMENTATION\n")

    unused = [p for p in sources if p not in a.emitted]
    if unused:
        sys.exit("amalgamate.py: files under src/ that nothing includes:\n  " +
                 "\n  ".join(rel(p) for p in unused))
    text = "".join(a.out)
    build_id = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return text.replace(BUILD_ID_PLACEHOLDER, build_id)


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
