# tokio.hpp build. `make demo` runs an example, `make test` runs the test suite.
#
#   make                 header + tests + examples
#   make test            build and run the doctest suite (CXX=clang++ works too)
#   make test-asan       the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-tsan       the suite under ThreadSanitizer
#   make explore         the schedule explorer's cases (tests/explore/; also run by make test)
#   make check           freshness, self-contained headers, two-TU and split links, strict warnings, test
#   make check-strict    tokio.hpp under users' strict warnings (g++ and clang++), std::expected
#                        conversions in C++23 mode, and a build with the optional modules out
#   make install         PREFIX=/usr/local: the header, tokio.cpp, CMake package, pkg-config file
#   make check-consumers install into build/ and build the consumer projects (CMake, pkg-config)
#   make lint            clang-tidy (.clang-tidy) over src/ through the amalgamated header
#   make format          clang-format -i on every source; make format-check: fail if any differs
#   make bench           every benchmark beside real Tokio (hyperfine) -> bench/RESULTS.md
#   make weight          what including tokio.hpp costs a user TU, and make demo / make test
#                        on a fresh clone (compile and wall times)
#   make stress          the stress cases (tests/stress_*_test.cpp) at full size
#   make test-tsan-full  the suite under ThreadSanitizer without the 1/20 workload scaling
#   make fuzz            every libFuzzer target in fuzz/ for FUZZ_SECONDS each (default 30)
#   make fuzz-smoke      the same, a few seconds each (for CI)
#   make examples demo clean
#
# The implementation section is compiled once per configuration and linked into the tests
# and examples, cut into as many units as there are JOBS (at most 8: tokio.cpp ->
# tokio.1-of-2.o, tokio.2-of-2.o..., compiled side by side: README, "Compile time"); they are
# compiled with -DTOKIO_COMPILED_LIB, so an
# example's own `#define TOKIO_IMPLEMENTATION` (there for users who copy it) is ignored.
# `make check-link` still builds a program the documented way (one TU defines the macro).

CXX      ?= g++
STD      := -std=c++20
WARN     := -Wall -Wextra -Wpedantic -Werror
OPT      ?= -O2 -g
SAN      ?=
LDLIBS   := -lpthread
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
# Parallel by default (the implementation object and the program using it build side by
# side); `make -j1` still works.
MAKEFLAGS += --jobs=$(JOBS)

# The sanitizer builds run at -Og: it compiles the suite's ASan build in a quarter less time
# than -O1 (357 against 470 s on 2 cores) and the suite runs as fast (its time is waiting,
# not computing: 62 s against 64 s under ASan, 74 against 70 s under TSan). g++ 12 may
# report -Wmaybe-uninitialized for operands that ChildOp (io/detail/child_op.hpp) destroys
# only after building them; the header silences it on the inlining chain, but g++ loses
# that pragma when the header comes from the tests' precompiled header. It stays a warning
# there, not an error. -g1 (line tables only) keeps file:line in every sanitizer report and
# compiles in 30% less CPU than -g.
COMPILER := $(notdir $(firstword $(CXX)))
COMMA := ,
# clang's -fsanitize=function (part of "undefined") puts a prologue in each coroutine's
# .resume clone that clang 14 cannot assemble ("Cannot represent a difference across
# sections"), so the clang ASan build leaves that check out (g++ has no such check). It
# leaves out -fsanitize=vptr too: to read an object's vptr the check first proves the
# memory readable through a pipe (sanitizer_common's IsAccessibleMemoryRange), which fails
# once the program has used up its descriptors, and every virtual call is then reported
# as a bad vptr (the examples' EMFILE tests, `ulimit -n 32`: std::error_category). CI runs
# the ASan suite with clang++ (its build and run took 5 min 45 s on 2 cores, g++'s 8 min
# 36 s) and the TSan suite with g++; `make test-asan` alone is still g++ with both checks.
ifeq ($(SAN),asan)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  SANFLAGS += $(if $(findstring clang,$(COMPILER)),-fno-sanitize=function$(COMMA)vptr,-Wno-error=maybe-uninitialized)
  OPT      := -Og -g1
else ifeq ($(SAN),tsan)
  SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
  SANFLAGS += $(if $(findstring clang,$(COMPILER)),,-Wno-error=maybe-uninitialized)
  OPT      := -Og -g1
endif

BUILD    := build/$(COMPILER)$(if $(SAN),-$(SAN),)
CXXFLAGS := $(STD) $(WARN) $(OPT) $(SANFLAGS) -I. $(EXTRA_CXXFLAGS)
# The suite's own objects (its dozen units, main.o and their PCH) may take another
# optimisation level than the implementation and the examples they drive (g++'s back end is
# 90% of a unit's time at -O2, -ftime-report; the io unit alone took about 55 s at -O2, 34 s
# at -O1, 24 s at -O0), so -O2's code and warnings still cover tokio.o and the examples.
# `make test` builds the units at -O1 without -g: at -O2 -g a fresh clone's `make test`
# took 356 s on 2 cores (issue 9's target is 300). An OPT given on the command line or in
# the environment applies to the units too, and a sanitizer build keeps its OPT (line
# tables for the reports). CI's g++ step builds the units at -O2 (.ci/run says why).
TEST_OPT ?= $(if $(SAN),$(OPT),$(if $(filter file,$(origin OPT)),-O1,$(OPT)))
TEST_CXXFLAGS := $(STD) $(WARN) $(TEST_OPT) $(SANFLAGS) -I. $(EXTRA_CXXFLAGS)

DOCTEST_HDR := /usr/include/doctest/doctest.h

TEST_SRCS := $(sort $(wildcard tests/*.cpp))
# The suites compile as a dozen unity translation units, each #including the test files of
# one area (build/<config>/unity/<unit>.cpp, generated): one PCH load and one instantiation
# of the runtime's templates per area instead of per file cuts the suite's compile time by
# a fifth to a quarter (g++ -O2, 2 cores: 2 min 45 s for the 70 files one by one, 2 min 9 s
# as 12 units with main.cpp). A test file joins a unit by its name prefix; one matching no
# prefix below lands in `core`, so a new file is never left out. Names in anonymous
# namespaces are shared within a unit: a helper two files need goes into a tests/*.hpp
# header, and a file's own helpers get names of their own (a clash fails to compile).
UNIT_sync_a := $(wildcard tests/sync_[a-m]*.cpp)
UNIT_sync_b := $(wildcard tests/sync_[n-z]*.cpp)
UNIT_net    := $(wildcard tests/net_*.cpp)
UNIT_stress := $(wildcard tests/stress_*.cpp)
UNIT_io     := $(wildcard tests/io_*.cpp)
UNIT_time   := $(wildcard tests/time_*.cpp tests/oneshot_*.cpp tests/frame_*.cpp)
UNIT_fs     := $(wildcard tests/fs_*.cpp tests/blocking_*.cpp)
UNIT_codec  := $(wildcard tests/codec_*.cpp tests/combinators_*.cpp)
UNIT_stream := $(wildcard tests/stream_*.cpp tests/server_*.cpp)
UNIT_os     := $(wildcard tests/process_*.cpp tests/signal_*.cpp)
UNIT_obs    := $(wildcard tests/observability_*.cpp tests/api_*.cpp tests/reactor_*.cpp)
UNIT_NAMES  := sync_a sync_b net stress io time fs codec stream os obs
UNIT_core   := $(filter-out tests/main.cpp $(foreach u,$(UNIT_NAMES),$(UNIT_$(u))),$(TEST_SRCS))
UNITS       := $(UNIT_NAMES) core
TEST_OBJS := $(BUILD)/tests/main.o $(patsubst %,$(BUILD)/unity/%.o,$(UNITS))
TEST_BIN  := $(BUILD)/tests/run_tests

# The implementation's parts: tokio.cpp compiled once per TOKIO_IMPLEMENTATION_PART number,
# split into IMPL_SPLIT units (default: one per job, at most TOKIO_IMPLEMENTATION_MAX_SPLIT;
# each unit parses the headers its own files include again, 1-2 s, so more units than cores
# cost time: bench/NOTES.md, "The implementation in parts").
IMPL_MAX_SPLIT := $(shell sed -n 's/^\#define TOKIO_IMPLEMENTATION_MAX_SPLIT //p' tokio.hpp)
IMPL_SPLIT ?= $(shell j=$(JOBS); m=$(IMPL_MAX_SPLIT); echo $$(( j < m ? j : m )))
IMPL_PARTS := $(patsubst %,%-of-$(IMPL_SPLIT),$(shell seq 1 $(IMPL_SPLIT)))
IMPL_OBJ := $(patsubst %,$(BUILD)/tokio.%.o,$(IMPL_PARTS))
# tokio.K-of-N.o: -DTOKIO_IMPLEMENTATION_PART=K -DTOKIO_IMPLEMENTATION_SPLIT=N
impl_part_flags = -DTOKIO_IMPLEMENTATION_PART=$(word 1,$(subst -of-, ,$(1))) \
  -DTOKIO_IMPLEMENTATION_SPLIT=$(word 2,$(subst -of-, ,$(1)))

EXAMPLE_SRCS := $(sort $(wildcard examples/*.cpp))
EXAMPLE_BINS := $(patsubst examples/%.cpp,$(BUILD)/examples/%,$(EXAMPLE_SRCS))

SRC_FILES := $(shell find src -name '*.hpp' -o -name '*.cpp' | sort)

.PHONY: stress test-tsan-full fuzz fuzz-build fuzz-smoke explore
.PHONY: all test test-build test-asan test-tsan check check-without-test check-fresh check-headers check-link check-compiler examples demo bench bench-build weight clean doctest
.PHONY: check-tests-alone check-strict check-strict-clang check-syntax install check-consumers lint format format-check

all: tokio.hpp $(TEST_BIN) examples

tokio.hpp: amalgamate.py $(SRC_FILES)
	python3 amalgamate.py

doctest: $(DOCTEST_HDR)
$(DOCTEST_HDR):
	@if [ "$$(id -u)" = "0" ]; then \
	  echo "doctest.h missing: installing doctest-dev"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y doctest-dev >/dev/null || \
	  (apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y doctest-dev >/dev/null); \
	else \
	  echo "doctest.h is missing. Install it with:  sudo apt-get install -y doctest-dev"; exit 1; \
	fi

# Every test TU starts with tests/test_util.hpp (doctest + tokio.hpp): precompile it once per
# configuration (GCC .gch / Clang .pch next to a copy, picked up by -include).
PCH_HDR := $(BUILD)/pch/test_util.hpp
PCH_OUT := $(PCH_HDR)$(if $(findstring clang,$(COMPILER)),.pch,.gch)

$(PCH_HDR): tests/test_util.hpp
	@mkdir -p $(dir $@)
	cp $< $@

$(PCH_OUT): $(PCH_HDR) tokio.hpp | $(DOCTEST_HDR)
	$(CXX) $(TEST_CXXFLAGS) -x c++-header $< -o $@

# main.cpp defines doctest's implementation macro before including, so it cannot use the PCH.
$(BUILD)/tests/main.o: tests/main.cpp tokio.hpp $(wildcard tests/*.hpp) | $(DOCTEST_HDR)
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) -c $< -o $@

# The implementation section, compiled once per configuration, one part per object.
$(BUILD)/tokio.%.o: tokio.cpp tokio.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(call impl_part_flags,$*) -c $< -o $@

# A unit's source is rewritten only when its list of files changes (a new test file), so its
# object rebuilds when that list or one of its files (-MMD) changes. g++ warns
# (-Wsubobject-linkage) about a lambda-typed member of a template instantiated from an
# #included file, which is what every file of a unit is; it is not a problem here.
UNIT_WARN := $(if $(findstring clang,$(COMPILER)),,-Wno-subobject-linkage)
UNIT_SRCS := $(patsubst %,$(BUILD)/unity/%.cpp,$(UNITS))
# clang++ builds take each unit's files in the reverse order of g++'s: a file that leans on
# a helper, a `using` or an #include of a file before it in its unit compiles in one order
# and fails in the other, so building the suite with both compilers (as CI does) proves each
# test file stands on its own within its unit, which `make check-tests-alone` proves file
# by file at twice the cost (CI leaves it out; the one case it alone still catches is a
# standard header that both a file before and a file after the leaning one include).
reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
UNIT_ORDER = $(if $(findstring clang,$(COMPILER)),$(call reverse,$(UNIT_$(1))),$(UNIT_$(1)))
$(UNIT_SRCS): $(BUILD)/unity/%.cpp: FORCE
	@mkdir -p $(dir $@)
	@{ echo '// generated by the Makefile: the test files of unit $*'; \
	  for f in $(call UNIT_ORDER,$*); do echo "#include \"$$f\""; done; } > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

$(UNIT_SRCS:.cpp=.o): $(BUILD)/unity/%.o: $(BUILD)/unity/%.cpp tokio.hpp $(wildcard tests/*.hpp) $(PCH_OUT)
	$(CXX) $(TEST_CXXFLAGS) $(UNIT_WARN) -include $(PCH_HDR) -MMD -MP -c $< -o $@
-include $(wildcard $(BUILD)/unity/*.d)

.PHONY: FORCE
FORCE:

# The schedule explorer (issue 11 §2; tests/explore/): its own binary, built from src/
# directly with TOKIO_SCHEDULE_EXPLORER, which turns detail::Atomic into a wrapper with
# preemption points. Nothing else links with these objects (the macro changes types).
EXPLORE_SRCS := $(sort $(wildcard tests/explore/*.cpp))
EXPLORE_OBJS := $(patsubst tests/explore/%.cpp,$(BUILD)/explore/%.o,$(EXPLORE_SRCS))
EXPLORE_BIN  := $(BUILD)/explore/run_explore

$(BUILD)/explore/%.o: tests/explore/%.cpp | $(DOCTEST_HDR)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -Isrc -DTOKIO_SCHEDULE_EXPLORER -MMD -MP -c $< -o $@
-include $(EXPLORE_OBJS:.o=.d)

$(EXPLORE_BIN): $(EXPLORE_OBJS)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

explore: $(EXPLORE_BIN)
	$(EXPLORE_BIN) $(EXPLORE_ARGS)

# The implementation's objects first: where one of them and a unit both emit an inline function or template (a COMDAT
# group), the linker keeps the first copy, so the implementation's optimisation level
# (OPT) is what runs even when the units are built at a lower TEST_OPT.
$(TEST_BIN): $(IMPL_OBJ) $(TEST_OBJS)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

# The networking suites drive the example programs (they look for them next to the test
# binary, in $(BUILD)/examples), so the examples are built first. The schedule explorer's
# cases run after the suite (so test-asan and test-tsan run them too). Both run as
# TEST_SHARDS processes side by side (tests/run_shards.sh; default: one per CPU, at most 4).
test: test-build
	sh tests/run_shards.sh $(TEST_BIN) $(TEST_ARGS)
	sh tests/run_shards.sh $(EXPLORE_BIN) $(EXPLORE_ARGS)

# What `make test` runs, built and not run (.ci/run times building and running apart; with
# SAN=asan or SAN=tsan, the sanitizer builds).
test-build: $(TEST_BIN) $(EXAMPLE_BINS) $(EXPLORE_BIN)

test-asan:
	$(MAKE) test SAN=asan

test-tsan:
	$(MAKE) test SAN=tsan TEST_ARGS="$(TEST_ARGS)"

$(BUILD)/examples/%.o: examples/%.cpp tokio.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -DTOKIO_COMPILED_LIB -c $< -o $@

$(BUILD)/examples/%: $(BUILD)/examples/%.o $(IMPL_OBJ)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

# Headers of an example's own (not examples themselves: no main).
$(BUILD)/examples/mini_redis.o build/bench/mini_redis: examples/mini_redis_db.hpp examples/mini_redis_resp.hpp examples/cli_args.hpp
$(BUILD)/examples/http_server.o build/bench/http_server: examples/http_codec.hpp examples/linger.hpp examples/cli_args.hpp
$(BUILD)/examples/chat.o: examples/linger.hpp examples/cli_args.hpp
$(BUILD)/examples/echo_client.o: examples/cli_args.hpp

examples: $(EXAMPLE_BINS)

# `make demo` is a debug build (-O0, no -g) in its own directory: the implementation's parts
# and hello.cpp compile side by side (bench/weight.py --fresh times it on a fresh clone).
DEMO_DIR := build/$(COMPILER)-demo
DEMO_FLAGS := $(STD) $(WARN) -O0 -I.
DEMO_IMPL := $(patsubst %,$(DEMO_DIR)/tokio.%.o,$(IMPL_PARTS))
$(DEMO_DIR)/tokio.%.o: tokio.cpp tokio.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(DEMO_FLAGS) $(call impl_part_flags,$*) -c $< -o $@
$(DEMO_DIR)/hello.o: examples/hello.cpp tokio.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(DEMO_FLAGS) -DTOKIO_COMPILED_LIB -c $< -o $@
$(DEMO_DIR)/hello: $(DEMO_DIR)/hello.o $(DEMO_IMPL)
	$(CXX) $(DEMO_FLAGS) $^ -o $@ $(LDLIBS)

demo: $(DEMO_DIR)/hello
	$(DEMO_DIR)/hello

# `make check` is these checks, then `make test` (.ci/run runs them as separate steps).
check-without-test: check-fresh check-headers check-link check-misuse check-compiler check-strict
check: check-without-test test

check-fresh:
	python3 amalgamate.py --check

# Prints whether $(CXX) has the co_await closure bug of g++ 12 (README, "Compilers").
check-compiler:
	@mkdir -p $(BUILD)/probe
	@$(CXX) $(STD) -O1 tests/probe/gcc_co_await_closure.cpp -o $(BUILD)/probe/co_await_closure
	@printf '%s: ' "$(CXX)"; $(BUILD)/probe/co_await_closure

# Every src/ file compiles on its own: each header, and each .cpp (the amalgamation pastes
# the .cpp files into one unit, so one that leans on what an earlier one included would
# break the day the order changes).
# A header with a .cpp of the same name is checked through that .cpp, whose first #include
# must be that header (the rule enforces it): the .cpp compiling alone proves the header
# does, so the header is not compiled a second time (82 files fewer).
# Syntax only, with clang++ when there is one: it parses these files in two thirds of g++'s
# time (22 against 34 s for 20 of them), and both use the same standard library, so a
# missing #include fails the same way (the suites and examples compile with both anyway).
SELF_CXX  ?= $(if $(shell command -v clang++ 2>/dev/null),clang++,$(CXX))
SELF_HPPS := $(shell find src -name '*.hpp' | sort)
SELF_CPPS := $(shell find src -name '*.cpp' | sort)
SELF_SRCS := $(filter-out $(SELF_CPPS:.cpp=.hpp),$(SELF_HPPS)) $(SELF_CPPS)
SELF_OKS  := $(patsubst %,$(BUILD)/self/%.ok,$(SELF_SRCS))
$(BUILD)/self/%.ok: %
	@mkdir -p $(dir $@)
	@h="$(<:.cpp=.hpp)"; if [ "$$h" != "$<" ] && [ -f "$$h" ] && \
	  [ "$$(grep -m1 '^#include' $<)" != "#include \"$${h#src/}\"" ]; then \
	  echo "$<: its first #include must be \"$${h#src/}\" (check-headers checks that header through it)"; \
	  exit 1; fi
	@printf '#include "%s"\n' "$<" > $@.cpp
	@$(SELF_CXX) $(STD) $(WARN) -Isrc -I. -fsyntax-only -MMD -MP -MT $@ -MF $@.d $@.cpp || { echo "not self-contained: $<"; exit 1; }
	@touch $@
# What each file includes is a prerequisite too: a change to an included header re-checks it.
-include $(SELF_OKS:.ok=.ok.d)
check-headers: $(SELF_OKS)
	@echo "every src/ file compiles alone ($(SELF_CXX))"

# Every test file compiles on its own too (syntax only, with the same precompiled header):
# the suite builds them as unity units, where a file could lean on a helper or an #include
# of a file pasted before it and only break when the units are regrouped.
ALONE_SRCS := $(filter-out tests/main.cpp,$(TEST_SRCS))
ALONE_OKS  := $(patsubst tests/%.cpp,$(BUILD)/alone/%.ok,$(ALONE_SRCS))
$(BUILD)/alone/%.ok: tests/%.cpp $(PCH_OUT)
	@mkdir -p $(dir $@)
	@$(CXX) $(CXXFLAGS) -include $(PCH_HDR) -fsyntax-only -MMD -MP -MT $@ -MF $@.d $< || { echo "does not compile alone: $<"; exit 1; }
	@touch $@
-include $(ALONE_OKS:.ok=.ok.d)
check-tests-alone: $(ALONE_OKS)
	@echo "every test file compiles alone"

# Misuse that must not compile, and must say how to fix it: each `#elif CASE == n  // expect:
# words` block of tests/misuse/consume_lvalue.cpp fails with those words in the message;
# CASE 0 (the same calls written correctly) compiles.
# With g++ every case reads tokio.hpp from one precompiled copy (CASE, defined first, is
# not a name the header uses, so g++ takes the .gch; a copy it refused would be parsed from
# the plain copy beside it): 31 cases in 16 s instead of 44. clang++ parses it each time.
MISUSE_DIR := $(BUILD)/misuse
MISUSE_PCH := $(if $(findstring clang,$(COMPILER)),,$(MISUSE_DIR)/tokio.hpp.gch)
$(MISUSE_DIR)/tokio.hpp.gch: tokio.hpp
	@mkdir -p $(dir $@)
	cp tokio.hpp $(MISUSE_DIR)/tokio.hpp
	$(CXX) $(STD) -x c++-header $(MISUSE_DIR)/tokio.hpp -o $@
check-misuse: tokio.hpp $(MISUSE_PCH)
	@f=tests/misuse/consume_lvalue.cpp; inc="$(if $(MISUSE_PCH),-I$(MISUSE_DIR)) -I."; \
	$(CXX) $(STD) $$inc -fsyntax-only -DCASE=0 $$f || { echo "check-misuse: case 0 does not compile"; exit 1; }; \
	grep -o 'CASE == [0-9]*  // expect: .*' $$f | while IFS= read -r line; do \
	  n=$$(echo "$$line" | sed 's/CASE == \([0-9]*\).*/\1/'); want=$${line#*expect: }; \
	  if out=$$($(CXX) $(STD) $$inc -fsyntax-only -DCASE=$$n $$f 2>&1); then \
	    echo "check-misuse: case $$n compiled"; exit 1; fi; \
	  echo "$$out" | grep -qF -- "$$want" || { echo "check-misuse: case $$n lacks '$$want':"; echo "$$out" | head -5; exit 1; }; \
	done && echo "check-misuse: every misuse fails with its fix named"

# A program of two translation units: one defines TOKIO_IMPLEMENTATION, one does not.
# At -O0 (whatever OPT says): nothing is inlined, so every inline function and template the
# user TU names must really be emitted and link, the strictest form of this check.
LINK_FLAGS := $(STD) $(WARN) -O0 $(SANFLAGS) -I. $(EXTRA_CXXFLAGS)
# The finest split's parts, for check-link.
LINK_PARTS := $(patsubst %,$(BUILD)/link/part.%-of-$(IMPL_MAX_SPLIT).o,$(shell seq 1 $(IMPL_MAX_SPLIT)))
$(BUILD)/link/part.%.o: tokio.cpp tokio.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(LINK_FLAGS) $(call impl_part_flags,$*) -c $< -o $@

check-link: tokio.hpp $(LINK_PARTS)
	@mkdir -p $(BUILD)/link
	$(CXX) $(LINK_FLAGS) -c tests/link/impl_tu.cpp -o $(BUILD)/link/impl_tu.o
	$(CXX) $(LINK_FLAGS) -c tests/link/user_tu.cpp -o $(BUILD)/link/user_tu.o
	$(CXX) $(LINK_FLAGS) $(BUILD)/link/impl_tu.o $(BUILD)/link/user_tu.o -o $(BUILD)/link/two_tu $(LDLIBS)
	$(BUILD)/link/two_tu
	@# A user TU built against another version (another inline ABI namespace) must not link.
	$(CXX) $(LINK_FLAGS) -DTOKIO_ABI_NAMESPACE=v9_9 -c tests/link/user_tu.cpp -o $(BUILD)/link/user_tu_v9.o
	@if $(CXX) $(LINK_FLAGS) $(BUILD)/link/impl_tu.o $(BUILD)/link/user_tu_v9.o -o $(BUILD)/link/mixed \
	    $(LDLIBS) 2>/dev/null; then echo "check-link: two ABI versions linked together"; exit 1; \
	  else echo "check-link: two ABI versions refuse to link (as they must)"; fi
	@# So must one whose Task frames store their co_await location differently (core/task.hpp).
	$(CXX) $(LINK_FLAGS) -DTOKIO_CONFIG_NO_TASK_LOCATIONS -c tests/link/user_tu.cpp -o $(BUILD)/link/user_tu_noloc.o
	@if $(CXX) $(LINK_FLAGS) $(BUILD)/link/impl_tu.o $(BUILD)/link/user_tu_noloc.o -o $(BUILD)/link/mixed \
	    $(LDLIBS) 2>/dev/null; then echo "check-link: task-location layouts linked together"; exit 1; \
	  else echo "check-link: two task-location layouts refuse to link (as they must)"; fi
	@# A part number the header does not have is an error that says what to do (the tests and
	@# examples link the parts, so that the parts together are the whole is proven there).
	@for k in "0" "3 -DTOKIO_IMPLEMENTATION_SPLIT=2" "1 -DTOKIO_IMPLEMENTATION_SPLIT=0" \
	    "1 -DTOKIO_IMPLEMENTATION_SPLIT=$$(($(IMPL_MAX_SPLIT) + 1))"; do \
	  case "$$k" in *SPLIT=2|0) want="TOKIO_IMPLEMENTATION_PART must be a number from 1 to the split";; \
	    *) want="TOKIO_IMPLEMENTATION_SPLIT must be a number from 1 to $(IMPL_MAX_SPLIT)";; esac; \
	  if out=$$($(CXX) $(LINK_FLAGS) -DTOKIO_IMPLEMENTATION_PART=$$k -fsyntax-only tokio.cpp 2>&1); then \
	    echo "check-link: TOKIO_IMPLEMENTATION_PART=$$k compiled"; exit 1; fi; \
	  echo "$$out" | grep -q "$$want" || \
	    { echo "check-link: TOKIO_IMPLEMENTATION_PART=$$k failed without saying '$$want':"; echo "$$out" | head -5; exit 1; }; \
	done; echo "check-link: a part or split out of range is refused, with the range named"
	@# Every part of the finest split, linked together with a user file: nothing missing.
	$(CXX) $(LINK_FLAGS) -c tests/link/parts_main.cpp -o $(BUILD)/link/parts_main.o
	$(CXX) $(LINK_FLAGS) $(BUILD)/link/parts_main.o $(BUILD)/link/user_tu.o $(LINK_PARTS) \
	  -o $(BUILD)/link/parts $(LDLIBS)
	$(BUILD)/link/parts
	@echo "check-link: the $(IMPL_MAX_SPLIT) parts of the finest split link into one program"

# Users' strict warnings: tokio.hpp (implementation included) must compile clean under
# them, with both compilers. The header silences them between push/pop (amalgamate.py);
# the user section is also clean without that (TOKIO_CONFIG_NO_WARNING_SUPPRESSION with
# TOKIO_COMPILED_LIB; -Wuseless-cast and the other extras excepted: the header casts
# between uint64_t and size_t on purpose, for 32-bit targets). g++ 12 is not given -Wzero-as-null-pointer-constant: its coroutine
# lowering itself triggers it at every coroutine's closing brace, in the user's code.
STRICT_WARN := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wconversion -Wold-style-cast \
               -Wsign-conversion -Wdouble-promotion
STRICT_GCC  := -Wuseless-cast -Wduplicated-branches
STRICT_CLANG := -Wzero-as-null-pointer-constant -Wshadow-all -Wimplicit-int-conversion
# check-strict-clang runs the clang half alone, for another clang (CLANGXX=clang++-19).
CLANGXX ?= clang++
check-strict: tokio.hpp check-strict-clang
	@mkdir -p build/strict
	g++ $(STD) $(STRICT_WARN) $(STRICT_GCC) -I. -fsyntax-only tests/strict/strict_tu.cpp
	# After X11's headers (or their macros: Success, None, Status...), as GUI programs include them.
	g++ $(STD) $(WARN) -I. -fsyntax-only tests/strict/macros_tu.cpp
	# The README's quick start, as a user copies it, under the same strict warnings.
	awk '/^```cpp/ { n++; if (n == 1) { on = 1; next } } /^```/ { on = 0 } on' README.md \
	  > build/strict/quick_start.cpp
	g++ $(STD) $(STRICT_WARN) $(STRICT_GCC) -I. -fsyntax-only build/strict/quick_start.cpp
	# The README's other examples, as users copy them: the stream and codec server loop, then
	# the runtime options (inside a function that names their `peer` and `sock`).
	awk 'BEGIN { print "#include \"tokio.hpp\""; print "#include <cstdio>"; print "#include <string>" } \
	  /^```cpp/ { n++; if (n == 2) on = 1; \
	    if (n == 3) { print "void options(tokio::net::SocketAddr peer, tokio::net::TcpStream sock) {"; on = 1 } \
	    next } \
	  /^```/ { if (on && n == 3) print "}"; on = 0 } on' README.md > build/strict/readme_examples.cpp
	g++ $(STD) $(STRICT_WARN) $(STRICT_GCC) -I. -fsyntax-only build/strict/readme_examples.cpp
	g++ $(STD) $(STRICT_WARN) -DTOKIO_CONFIG_NO_WARNING_SUPPRESSION \
	  -DTOKIO_COMPILED_LIB -I. -fsyntax-only tests/strict/strict_tu.cpp
	g++ -std=c++2b $(WARN) -O0 -I. tests/strict/expected_tu.cpp -o build/strict/expected_tu $(LDLIBS)
	build/strict/expected_tu
	g++ $(STD) $(WARN) -O0 -I. -DTOKIO_CONFIG_NO_SIGNAL -DTOKIO_CONFIG_NO_FS -DTOKIO_CONFIG_NO_STREAM \
	  -DTOKIO_CONFIG_SYSTEM_ALLOCATOR -DTOKIO_CONFIG_HIDDEN_VISIBILITY -fvisibility=hidden \
	  tests/strict/config_tu.cpp -o build/strict/config_tu $(LDLIBS)
	build/strict/config_tu

# Another compiler's front end over what ships, without building it: the implementation
# and every example, -fsyntax-only (clang's warnings come from its front end), one file
# per job. CI runs it with clang++-19: its new warnings are what it adds.
SYNTAX_SRCS := tokio.cpp $(EXAMPLE_SRCS)
SYNTAX_OKS  := $(patsubst %.cpp,$(BUILD)/syntax/%.ok,$(SYNTAX_SRCS))
$(BUILD)/syntax/%.ok: %.cpp tokio.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(STD) $(WARN) -I. $(if $(filter tokio.cpp,$<),,-DTOKIO_COMPILED_LIB) -fsyntax-only $<
	@touch $@
check-syntax: $(SYNTAX_OKS)

check-strict-clang: tokio.hpp
	$(CLANGXX) $(STD) $(STRICT_WARN) $(STRICT_CLANG) -I. -fsyntax-only tests/strict/strict_tu.cpp
	$(CLANGXX) $(STD) $(WARN) -I. -fsyntax-only tests/strict/macros_tu.cpp
	$(CLANGXX) $(STD) $(STRICT_WARN) -DTOKIO_CONFIG_NO_WARNING_SUPPRESSION \
	  -DTOKIO_COMPILED_LIB -I. -fsyntax-only tests/strict/strict_tu.cpp

# --- Packaging (issue 16) -------------------------------------------------------------------
# Tools the targets below need: installed with apt-get when missing and root (as doctest is),
# otherwise the command to run is printed.
define need
@command -v $(1) >/dev/null 2>&1 || { \
  if [ "$$(id -u)" = "0" ]; then \
    echo "$(1) missing: installing $(2)"; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y $(2) >/dev/null || \
    (apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y $(2) >/dev/null); \
  else echo "$(1) is missing. Install it with:  sudo apt-get install -y $(2)"; exit 1; fi; }
endef

PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := $(shell sed -n 's/^\#define TOKIO_VERSION_STRING "\(.*\)"/\1/p' src/tokio/core/config.hpp)
VERSION_MAJOR := $(word 1,$(subst ., ,$(VERSION)))
VERSION_MINOR := $(word 2,$(subst ., ,$(VERSION)))
INSTALL_ROOT := $(DESTDIR)$(PREFIX)

# <prefix>/include/tokio.hpp, <prefix>/share/tokio_hpp/{tokio.cpp,LICENSE},
# <prefix>/lib/cmake/tokio_hpp/ (find_package(tokio_hpp), with tokio_hpp_impl.cmake),
# <prefix>/lib/pkgconfig/tokio_hpp.pc.
install: tokio.hpp
	install -d $(INSTALL_ROOT)/include $(INSTALL_ROOT)/share/tokio_hpp \
	  $(INSTALL_ROOT)/lib/cmake/tokio_hpp $(INSTALL_ROOT)/lib/pkgconfig
	install -m 644 tokio.hpp $(INSTALL_ROOT)/include/tokio.hpp
	install -m 644 tokio.cpp LICENSE $(INSTALL_ROOT)/share/tokio_hpp/
	sed -e 's|@REL_PREFIX@|../../..|' -e 's|@VERSION@|$(VERSION)|' \
	  cmake/tokio_hppConfig.cmake.in > $(INSTALL_ROOT)/lib/cmake/tokio_hpp/tokio_hppConfig.cmake
	install -m 644 cmake/tokio_hpp_impl.cmake $(INSTALL_ROOT)/lib/cmake/tokio_hpp/
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@MAJOR@|$(VERSION_MAJOR)|g' -e 's|@MINOR@|$(VERSION_MINOR)|g' \
	  cmake/tokio_hppConfigVersion.cmake.in > $(INSTALL_ROOT)/lib/cmake/tokio_hpp/tokio_hppConfigVersion.cmake
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	  cmake/tokio_hpp.pc.in > $(INSTALL_ROOT)/lib/pkgconfig/tokio_hpp.pc
	@echo "installed tokio.hpp $(VERSION) under $(INSTALL_ROOT)"

# Installs into build/consumers/prefix and builds the two consumer projects of
# tests/consumers/ against it (unoptimised: this checks the packaging, not the code).
CONSUMERS := $(abspath build/consumers)
check-consumers: tokio.hpp
	$(call need,cmake,cmake)
	$(call need,pkg-config,pkg-config)
	rm -rf $(CONSUMERS)
	$(MAKE) --no-print-directory install PREFIX=$(CONSUMERS)/prefix
	cmake -S tests/consumers/cmake -B $(CONSUMERS)/cmake -DCMAKE_PREFIX_PATH=$(CONSUMERS)/prefix \
	  -DCMAKE_CXX_COMPILER=$(CXX) >/dev/null
	cmake --build $(CONSUMERS)/cmake -j2
	@# The precompiled header was built (g++ .gch, clang++ .pch) and used (-Winvalid-pch).
	@ls $(CONSUMERS)/cmake/CMakeFiles/consumer.dir/cmake_pch.hxx.[gp]ch >/dev/null 2>&1 || \
	  { echo "check-consumers: CMake built no precompiled header for the consumer"; exit 1; }
	$(CONSUMERS)/cmake/consumer
	@# A misspelt component must fail at find_package, naming it.
	@if cmake -S tests/consumers/cmake_badcomp -B $(CONSUMERS)/badcomp \
	    -DCMAKE_PREFIX_PATH=$(CONSUMERS)/prefix >$(CONSUMERS)/badcomp.log 2>&1; then \
	  echo "check-consumers: COMPONENTS impI was accepted"; exit 1; fi
	@grep -q "no component 'impI'" $(CONSUMERS)/badcomp.log && \
	  echo "check-consumers: an unknown component is refused, by name"
	@# The source tree as a subproject (add_subdirectory / FetchContent): the same targets.
	cmake -S tests/consumers/cmake_subdir -B $(CONSUMERS)/subdir -DTOKIO_HPP_SOURCE_DIR=$(CURDIR) \
	  -DCMAKE_CXX_COMPILER=$(CXX) >/dev/null
	cmake --build $(CONSUMERS)/subdir -j2
	$(CONSUMERS)/subdir/consumer
	PKG_CONFIG_PATH=$(CONSUMERS)/prefix/lib/pkgconfig $(MAKE) --no-print-directory \
	  -C tests/consumers/pkgconfig OUT=$(CONSUMERS) CXX=$(CXX)
	$(CONSUMERS)/consumer
	@# The pkg-config flags must not set the standard: appended to a C++23 build they
	@# would downgrade it.
	@PKG_CONFIG_PATH=$(CONSUMERS)/prefix/lib/pkgconfig; export PKG_CONFIG_PATH; \
	  v=$$($(CXX) -std=c++2b $$(pkg-config --cflags tokio_hpp) -dM -E -x c++ /dev/null | \
	    sed -n 's/^#define __cplusplus \([0-9]*\).*/\1/p'); \
	  if [ "$$v" -le 202002 ]; then \
	    echo "check-consumers: pkg-config's Cflags turned -std=c++2b into $$v"; exit 1; fi; \
	  echo "check-consumers: pkg-config's Cflags keep the user's standard ($$v)"

# clang-tidy with .clang-tidy's checks over tokio.cpp (the whole library in one unit) and
# tests/strict/strict_tu.cpp (the main templates instantiated), about 25 s of CPU; findings
# reported at their src/ file and line (tools/lint.py). Clean = exit 0.
lint: tokio.hpp
	$(call need,clang-tidy,clang-tidy)
	python3 tools/lint.py

# House style (.clang-format): `make format` rewrites every C++ source in place,
# `make format-check` lists the files that differ and fails (CI).
FORMAT_SRCS = $(shell find src tests examples bench/cpp fuzz -name '*.hpp' -o -name '*.cpp' | sort)
format:
	$(call need,clang-format,clang-format)
	clang-format -i --style=file $(FORMAT_SRCS)
format-check:
	$(call need,clang-format,clang-format)
	@bad=0; for f in $(FORMAT_SRCS); do \
	  clang-format --style=file $$f | cmp -s - $$f || { echo "not formatted: $$f"; bad=1; }; \
	done; [ $$bad = 0 ] && echo "every source is formatted (.clang-format)"

BENCH_SRCS := $(sort $(wildcard bench/cpp/*.cpp))
BENCH_BINS := $(patsubst bench/cpp/%.cpp,build/bench/%,$(BENCH_SRCS))
BENCH_FLAGS := -std=c++20 -O2 -DNDEBUG -I. -Ibench/cpp

build/bench/tokio.o: tokio.cpp tokio.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(BENCH_FLAGS) -c $< -o $@

build/bench/%.o: bench/cpp/%.cpp $(wildcard bench/cpp/*.hpp) tokio.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(BENCH_FLAGS) -DTOKIO_COMPILED_LIB -c $< -o $@

build/bench/%: build/bench/%.o build/bench/tokio.o
	$(CXX) $(BENCH_FLAGS) $^ -o $@ $(LDLIBS)

# The protocol servers of bench/servers.py, built from examples/ with the benchmark flags.
BENCH_SERVERS := build/bench/http_server build/bench/mini_redis
$(BENCH_SERVERS): build/bench/%: examples/%.cpp tokio.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(BENCH_FLAGS) $< -o $@ $(LDLIBS)

bench-build: $(BENCH_BINS) $(BENCH_SERVERS)

# Builds every C++ benchmark and its Tokio twin, runs each pair with hyperfine and writes
# bench/RESULTS.md. BENCH_FILTER=regex limits the cases.
bench: bench-build
	python3 bench/run.py $(if $(BENCH_FILTER),--filter '$(BENCH_FILTER)',)

# Also times `make demo` and `make test` in a fresh clone of HEAD (a few minutes; run it on
# an idle machine). WEIGHT_ARGS=--results rewrites the section of bench/RESULTS.md.
weight: tokio.hpp
	python3 bench/weight.py --fresh $(WEIGHT_ARGS)

# --- Checks of issue 11 §2: stress, full-scale TSan, fuzzing --------------------------------
# The stress cases run scaled down in every `make test`; TOKIO_STRESS=1 selects full size
# (10,000 connections, 1,000,000 tasks and timers, a 60 s soak: TOKIO_STRESS_SECONDS sets
# its length). Works with any configuration: `make stress SAN=asan`, `CXX=clang++`...
stress: $(TEST_BIN) $(EXAMPLE_BINS)
	TOKIO_STRESS=1 $(TEST_BIN) -tc='stress:*' $(TEST_ARGS)

# The whole suite under TSan with test::kScale = 1 (every workload at its normal size), in
# its own build directory so it never mixes objects with `make test-tsan`.
test-tsan-full:
	$(MAKE) test SAN=tsan BUILD=build/$(COMPILER)-tsan-full \
	  EXTRA_CXXFLAGS="$(EXTRA_CXXFLAGS) -DTOKIO_TEST_SCALE=1" TEST_ARGS="$(TEST_ARGS)"

# libFuzzer targets: every fuzz/<name>.cpp becomes build/fuzz/<name>, linked with the
# implementation compiled once with the same sanitizers (clang only: -fsanitize=fuzzer).
# Seeds: fuzz/corpus/<name>/; fuzz/run.sh runs each target for FUZZ_SECONDS.
FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 30
# -fno-sanitize=function: clang 14's function-type check puts a prologue in each coroutine's
# .resume clone that refers across sections ("Cannot represent a difference across sections").
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize=function -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
# FUZZ_OPT=-O0 halves the build (CI's smoke run, where the seeds and a few seconds of new
# inputs are the point, not the executions per second).
FUZZ_OPT     ?= -O1
FUZZ_CFLAGS  := $(STD) $(WARN) $(FUZZ_OPT) -g1 $(FUZZ_SAN) -I. -Ifuzz
FUZZ_SRCS    := $(sort $(wildcard fuzz/*.cpp))
FUZZ_BINS    := $(patsubst fuzz/%.cpp,build/fuzz/%,$(FUZZ_SRCS))

build/fuzz/tokio.o: tokio.cpp tokio.hpp
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/%: fuzz/%.cpp build/fuzz/tokio.o $(wildcard fuzz/*.hpp) tokio.hpp
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DTOKIO_COMPILED_LIB $< build/fuzz/tokio.o -o $@ $(LDLIBS)

# Targets that compile an example in (without its main) rebuild when it changes.
build/fuzz/resp: examples/mini_redis.cpp examples/mini_redis_db.hpp examples/mini_redis_resp.hpp examples/cli_args.hpp
build/fuzz/http: examples/http_server.cpp examples/http_codec.hpp examples/linger.hpp examples/cli_args.hpp

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh fuzz/run.sh $(FUZZ_BINS)

fuzz-smoke: fuzz-build
	FUZZ_SECONDS=$(or $(FUZZ_SMOKE_SECONDS),5) sh fuzz/run.sh $(FUZZ_BINS)

# Keep the object files of examples and benchmarks (intermediates of a rule chain).
.SECONDARY:

clean:
	rm -rf build bench/out
