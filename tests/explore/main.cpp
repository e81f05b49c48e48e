// The explorer binary's doctest main and the library sources its scenarios use, compiled
// from src/ with TOKIO_SCHEDULE_EXPLORER (set by the Makefile for every file of this
// folder): this binary never links with code built without it, since the macro changes
// the type of the atomics in the headers.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#if !defined(TOKIO_SCHEDULE_EXPLORER)
#error "tests/explore/ is built with -DTOKIO_SCHEDULE_EXPLORER (make explore)"
#endif

#include "tokio/core/detail/core.cpp"
#include "tokio/core/detail/frame_alloc.cpp"
#include "tokio/core/detail/pages.cpp"
#include "tokio/sync/detail/batch_semaphore.cpp"
#include "tokio/sync/error.cpp"
#include "tokio/io/detail/scheduled_io.cpp"
#include "tokio/io/detail/byte_pipe.cpp"

#include <cstdlib>

#include "tokio/runtime/detail/task_header.hpp"

// Inject::push releases a task's reference when the queue is closed. The scenarios never
// close one (and their tasks are fake addresses); the real definition, in
// runtime/detail/harness.cpp, would bring the whole task harness in.
namespace tokio::detail {
void task_drop_ref(TaskHeader*) noexcept { std::abort(); }
}  // namespace tokio::detail
