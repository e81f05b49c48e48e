// task::block_in_place's region.
#include "tokio/task/spawn.hpp"

#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"

#include <optional>

namespace tokio::detail {

BlockInPlace block_in_place_enter() {
  HandleInner* h = tls.handle;
  if (!h) return {nullptr, 0, false};
  if (!h->on_worker_thread()) {
    // A multi-thread runtime's block_on root: no core to hand off, but blocking here (and
    // a nested Handle::block_on) is allowed, as in Tokio. Not on a current-thread root:
    // its thread holds the only core, which a nested block_on would wait on for ever.
    if (h->flavor() != runtime::RuntimeFlavor::MultiThread || tls.runtime_depth == 0) {
      return {nullptr, 0, false};
    }
    // Inside LocalSet::run_until (its future or a local task): refused, as in Tokio, whose
    // run_until forbids blocking there. On a worker (a spawned task running run_until,
    // which Rust's Send rule rules out) Tokio checks nothing, and neither does this.
    if (tls.run_until_depth != 0) {
      throw_misuse(
          "block_in_place called inside LocalSet::run_until: its local tasks cannot move "
          "to another thread while this one blocks; use spawn_blocking");
    }
    ++tls.blocking_region;
    return {nullptr, 0, true};
  }
  if (h->flavor() == runtime::RuntimeFlavor::CurrentThread) {
    throw_misuse(
        "block_in_place can only be used on the multi-thread runtime; use spawn_blocking "
        "on a current-thread runtime");
  }
  BlockInPlace s{h, tls.budget, true};
  h->block_in_place_begin();
  ++tls.blocking_region;
  tls.budget = -1;
  return s;
}

void block_in_place_exit(BlockInPlace s) noexcept {
  if (s.region) --tls.blocking_region;
  if (!s.handle) return;
  tls.budget = s.budget;
  s.handle->block_in_place_end();
}

}  // namespace tokio::detail

namespace tokio::task {

std::optional<Id> try_id() noexcept {
  if (detail::TaskHeader* t = detail::id_task()) return Id{t->id()};
  return std::nullopt;
}

}  // namespace tokio::task
