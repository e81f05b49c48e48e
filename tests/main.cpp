// The test binary's doctest main. tokio's implementation is linked in from tokio.o (tokio.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "test_util.hpp"

// ThreadSanitizer suppressions, read by TSan at start-up (it calls this function when the
// program defines it). libstdc++.so is not built with TSan, so the atomic reference counts
// inside it are invisible to TSan: the count of a std::exception_ptr, and of the
// copy-on-write message string inside std::runtime_error. When a worker drops the last
// reference to a task's exception after the thread that awaited the task read it (the
// worker keeps a copy until task_complete has reported it; harness.cpp), TSan sees a free
// on one thread and an earlier read on another with no synchronisation between them, and
// reports a race that the reference count rules out (seen in 1 of 7 TSan runs of the
// suite: "exceptions cross JoinHandles"). Only these two libstdc++ functions are named:
// a race in tokio's own code, or in a template libstdc++ instantiates into it, still fails.
#if defined(TOKIO_TSAN)  // core/config.hpp
extern "C" const char* __tsan_default_suppressions() {
  return "race:std::__exception_ptr::exception_ptr::_M_release\n"
         "race:std::runtime_error::~runtime_error\n";
}
#endif
