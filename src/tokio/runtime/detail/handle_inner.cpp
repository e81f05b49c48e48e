#include <stdexcept>
#include <cstdio>
#include <string>

#include "tokio/runtime/detail/handle_inner.hpp"

namespace tokio::detail {

namespace runtime_handle_inner_impl {
std::atomic<uint64_t> g_next_runtime_id{1};
}

HandleInner::HandleInner(Config cfg, std::size_t owned_shards, std::size_t blocking_threads_extra)
    : config(std::move(cfg)),
      id(runtime_handle_inner_impl::g_next_runtime_id.fetch_add(1, std::memory_order_relaxed)),
      driver(config),
      owned(this, owned_shards),
      blocking(this, config, config.max_blocking_threads + blocking_threads_extra) {}

HandleInner::~HandleInner() = default;

EnterRuntime::EnterRuntime(HandleInner* h, const char* what) {
  ThreadContext& t = tls;
  if (t.runtime_depth > 0) {
    throw std::logic_error(
        std::string("tokio: ") + what +
        " called from a thread that is already driving a runtime (inside block_on or a "
        "task). Await the future instead, or run the blocking code with "
        "tokio::task::spawn_blocking / block_in_place.");
  }
  ++t.runtime_depth;
  prev_handle_ = t.handle;
  t.handle = h;
}

EnterRuntime::~EnterRuntime() {
  ThreadContext& t = tls;
  --t.runtime_depth;
  t.handle = prev_handle_;
}

HandleInner* current_handle_or_throw(const char* what) {
  if (HandleInner* h = tls.handle) return h;
  throw std::logic_error(std::string("tokio: ") + what +
                         " called outside a tokio runtime: call it from a task, inside "
                         "Runtime::block_on, or while holding a Runtime::enter() guard");
}

}  // namespace tokio::detail
