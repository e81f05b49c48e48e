# tokio.hpp build. `make demo` runs an example, `make test` runs the test suite.
#
#   make                 header + tests + examples
#   make test            build and run the doctest suite (CXX=clang++ works too)
#   make test-asan       the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-tsan       the suite under ThreadSanitizer
#   make check           freshness, self-contained headers, two-TU link, then test
#   make bench           every benchmark beside real Tokio (hyperfine) -> bench/RESULTS.md
#   make examples demo clean

CXX      ?= g++
STD      := -std=c++20
WARN     := -Wall -Wextra -Wpedantic -Werror
OPT      ?= -O2 -g
SAN      ?=
LDLIBS   := -lpthread
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)

ifeq ($(SAN),asan)
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  OPT      := -O1 -g
else ifeq ($(SAN),tsan)
  SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
  OPT      := -O1 -g
endif

COMPILER := $(notdir $(firstword $(CXX)))
BUILD    := build/$(COMPILER)$(if $(SAN),-$(SAN),)
CXXFLAGS := $(STD) $(WARN) $(OPT) $(SANFLAGS) -I. $(EXTRA_CXXFLAGS)

DOCTEST_HDR := /usr/include/doctest/doctest.h

TEST_SRCS := $(sort $(wildcard tests/*.cpp))
TEST_OBJS := $(patsubst tests/%.cpp,$(BUILD)/tests/%.o,$(TEST_SRCS))
TEST_BIN  := $(BUILD)/tests/run_tests

EXAMPLE_SRCS := $(sort $(wildcard examples/*.cpp))
EXAMPLE_BINS := $(patsubst examples/%.cpp,$(BUILD)/examples/%,$(EXAMPLE_SRCS))

SRC_FILES := $(shell find src -name '*.hpp' -o -name '*.cpp' | sort)

.PHONY: all test test-asan test-tsan check check-fresh check-headers check-link examples demo bench bench-build clean doctest

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
	$(CXX) $(CXXFLAGS) -x c++-header $< -o $@

# main.cpp defines the implementation macros before including, so it cannot use the PCH.
$(BUILD)/tests/main.o: tests/main.cpp tokio.hpp $(wildcard tests/*.hpp) | $(DOCTEST_HDR)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/%.cpp tokio.hpp $(wildcard tests/*.hpp) $(PCH_OUT)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -include $(PCH_HDR) -c $< -o $@

$(TEST_BIN): $(TEST_OBJS)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

# The networking suites drive the example programs (they look for them next to the test
# binary, in $(BUILD)/examples), so the examples are built first.
test: $(TEST_BIN) $(EXAMPLE_BINS)
	$(TEST_BIN) $(TEST_ARGS)

test-asan:
	$(MAKE) test SAN=asan

test-tsan:
	$(MAKE) test SAN=tsan TEST_ARGS="$(TEST_ARGS)"

$(BUILD)/examples/%: examples/%.cpp tokio.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $< -o $@ $(LDLIBS)

examples: $(EXAMPLE_BINS)

demo: $(BUILD)/examples/hello
	$(BUILD)/examples/hello

check: check-fresh check-headers check-link test

check-fresh:
	python3 amalgamate.py --check

# Every src/ file compiles on its own: each header, and each .cpp (the amalgamation pastes
# the .cpp files into one unit, so one that leans on what an earlier one included would
# break the day the order changes).
SELF_SRCS := $(shell find src -name '*.hpp' -o -name '*.cpp' | sort)
SELF_OKS  := $(patsubst %,$(BUILD)/self/%.ok,$(SELF_SRCS))
$(BUILD)/self/%.ok: %
	@mkdir -p $(dir $@)
	@printf '#include "%s"\n' "$<" > $@.cpp
	@$(CXX) $(STD) $(WARN) -Isrc -I. -fsyntax-only $@.cpp || { echo "not self-contained: $<"; exit 1; }
	@touch $@
check-headers: $(SELF_OKS)
	@echo "every src/ file compiles alone"

# A program of two translation units: one defines TOKIO_IMPLEMENTATION, one does not.
check-link: tokio.hpp
	@mkdir -p $(BUILD)/link
	$(CXX) $(CXXFLAGS) -c tests/link/impl_tu.cpp -o $(BUILD)/link/impl_tu.o
	$(CXX) $(CXXFLAGS) -c tests/link/user_tu.cpp -o $(BUILD)/link/user_tu.o
	$(CXX) $(CXXFLAGS) $(BUILD)/link/impl_tu.o $(BUILD)/link/user_tu.o -o $(BUILD)/link/two_tu $(LDLIBS)
	$(BUILD)/link/two_tu

BENCH_SRCS := $(sort $(wildcard bench/cpp/*.cpp))
BENCH_BINS := $(patsubst bench/cpp/%.cpp,build/bench/%,$(BENCH_SRCS))
BENCH_FLAGS := -std=c++20 -O2 -DNDEBUG -I. -Ibench/cpp

build/bench/%: bench/cpp/%.cpp bench/cpp/bench_common.hpp tokio.hpp
	@mkdir -p $(dir $@)
	$(CXX) $(BENCH_FLAGS) $< -o $@ $(LDLIBS)

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

clean:
	rm -rf build bench/out
