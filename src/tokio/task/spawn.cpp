// task::block_in_place's region.
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/task/spawn.hpp"

namespace tokio::detail {

BlockInPlace block_in_place_enter() {
  HandleInner* h = tls.handle;
  if (!h || !h->on_worker_thread()) return {nullptr, 0};
  if (h->flavor() == runtime::RuntimeFlavor::CurrentThread) {
    throw_misuse(
        "block_in_place can only be used on the multi-thread runtime; use spawn_blocking "
        "on a current-thread runtime");
  }
  BlockInPlace s{h, tls.budget};
  h->block_in_place_begin();
  ++tls.blocking_region;
  tls.budget = -1;
  return s;
}

void block_in_place_exit(BlockInPlace s) noexcept {
  if (!s.handle) return;
  --tls.blocking_region;
  tls.budget = s.budget;
  s.handle->block_in_place_end();
}

}  // namespace tokio::detail
