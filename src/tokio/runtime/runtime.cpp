#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "tokio/runtime/builder.hpp"
#include "tokio/runtime/runtime.hpp"

namespace tokio::runtime {

Builder& Builder::worker_threads(std::size_t n) {
  if (n == 0) throw std::invalid_argument("tokio: Builder::worker_threads must be at least 1");
  cfg_.worker_threads = n;
  return *this;
}

Builder& Builder::max_blocking_threads(std::size_t n) {
  if (n == 0) {
    throw std::invalid_argument("tokio: Builder::max_blocking_threads must be at least 1");
  }
  cfg_.max_blocking_threads = n;
  return *this;
}

Builder& Builder::global_queue_interval(uint32_t ticks) {
  if (ticks == 0) {
    throw std::invalid_argument("tokio: Builder::global_queue_interval must be at least 1");
  }
  cfg_.global_queue_interval = ticks;
  return *this;
}

Builder& Builder::event_interval(uint32_t ticks) {
  if (ticks == 0) throw std::invalid_argument("tokio: Builder::event_interval must be at least 1");
  cfg_.event_interval = ticks;
  return *this;
}

Runtime Builder::build() {
  if (cfg_.start_paused && !cfg_.enable_time) {
    throw std::invalid_argument(
        "tokio: Builder::start_paused(true) needs the time driver: call enable_time() or "
        "enable_all()");
  }
  if (cfg_.start_paused && cfg_.flavor == RuntimeFlavor::MultiThread) {
    throw std::invalid_argument(
        "tokio: start_paused(true) is only supported on the current-thread runtime "
        "(Builder::new_current_thread())");
  }
  if (cfg_.flavor == RuntimeFlavor::CurrentThread) {
    return Runtime(detail::make_current_thread(cfg_));
  }
  return Runtime(detail::make_multi_thread(cfg_));
}

Runtime Runtime::create() { return Builder::new_multi_thread().enable_all().build(); }

detail::HandleInner* Runtime::checked() const {
  if (!h_) throw std::logic_error("tokio: use of a Runtime after it was moved from or shut down");
  return h_;
}

void Runtime::close(std::optional<std::chrono::nanoseconds> timeout) {
  detail::HandleInner* h = std::exchange(h_, nullptr);
  if (!h) return;
  if (h->on_worker_thread() || detail::tls.runtime_depth > 0) {
    std::fputs(
        "tokio: a Runtime was dropped (or shut down) from inside an asynchronous context. "
        "This would block a runtime thread waiting for itself. Drop it outside block_on, or "
        "use shutdown_background() from a spawn_blocking closure.\n",
        stderr);
    std::abort();
  }
  h->shutdown(timeout);
  h->ref_dec();
}

}  // namespace tokio::runtime
