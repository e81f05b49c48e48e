// runtime::Builder, Runtime, Handle and EnterGuard, and the runtime's entry points for user
// translation units (runtime/detail/entry.hpp).
#include "tokio/runtime/runtime.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "tokio/runtime/builder.hpp"
#include "tokio/runtime/detail/config.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"

namespace tokio::detail {

void handle_ref_inc(HandleInner* h) noexcept { h->ref_inc(); }
void handle_ref_dec(HandleInner* h) noexcept { h->ref_dec(); }
void spawn_on(HandleInner* h, TaskHeader* t) noexcept { h->spawn(t); }
void spawn_blocking_cell_on(HandleInner* h, TaskHeader* t, bool mandatory) {
  h->blocking.spawn_task(t, mandatory);
}
Scheduler* handle_scheduler(HandleInner* h) noexcept { return h; }
void block_on_slot(HandleInner* h, PollSlot& slot) {
  // The block_on's own reference: its Runtime may be shut down and dropped while it runs
  // (from one of its tasks with shutdown_background, or from another thread), and the
  // scheduler is used until block_on_slot returns.
  HandleRef keep(h);
  if (TOKIO_UNLIKELY(h->is_shutdown.load(std::memory_order_acquire))) {
    throw std::logic_error(
        "tokio: Handle::block_on on a runtime that has been shut down (its Runtime was "
        "dropped while this Handle lived on): nothing would drive the future; keep the Runtime "
        "alive as long as its handles are used");
  }
  h->block_on_slot(slot);
}
runtime::RuntimeFlavor handle_flavor(const HandleInner* h) noexcept { return h->flavor(); }
uint64_t handle_id(const HandleInner* h) noexcept { return h->id; }

namespace runtime_stdio_impl {
// Opens /dev/null on every one of fds 0, 1 and 2 that is closed, as Rust's std does before
// main. A process started with one of them closed (`prog <&-`, `>&-`, a daemon) would
// otherwise give that number to the first fd the runtime opens (its epoll, an eventfd), and
// io::stdin() / stdout() / stderr() would read and write the runtime's own fd ("Invalid
// argument", or a read that eats the eventfd's wakeups). open(2) takes the lowest free
// number, and the lower standard fds are open by then, so it lands on `fd`; past 2 means
// another thread took `fd` meanwhile, and that fd is its, not ours to replace (no dup2).
// No O_CLOEXEC: like std's, these are the standard fds children inherit. If /dev/null
// cannot be opened (a chroot without it), the fd stays closed (Rust aborts there).
void reopen_closed_std_fds() noexcept {
  int saved = errno;
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    int n = ::open("/dev/null", O_RDWR);
    if (n > 2) ::close(n);
  }
  errno = saved;
}

// Once per process, before the first runtime opens any fd (Builder::build): a function
// static, so every later build pays only its guard's check.
void ensure_std_fds_open() noexcept {
  static const bool done = (reopen_closed_std_fds(), true);
  (void)done;
}
}  // namespace runtime_stdio_impl

}  // namespace tokio::detail

namespace tokio::runtime {

// --- Builder -----------------------------------------------------------------------------
Builder::Builder(RuntimeFlavor f) : cfg_(new detail::Config()) { cfg_->flavor = f; }
Builder::Builder(Builder&& o) noexcept = default;
Builder& Builder::operator=(Builder&&) noexcept = default;
Builder::~Builder() = default;

detail::Config* Builder::cfg() const {
  if (TOKIO_UNLIKELY(!cfg_)) {
    detail::throw_misuse(
        "runtime::Builder used after it was moved from: configure and build the Builder it "
        "was moved into");
  }
  return cfg_.get();
}

Builder Builder::new_current_thread() { return Builder(RuntimeFlavor::CurrentThread); }
Builder Builder::new_multi_thread() { return Builder(RuntimeFlavor::MultiThread); }

Builder& Builder::worker_threads(std::size_t n) {
  if (n == 0) throw std::invalid_argument("tokio: Builder::worker_threads must be at least 1");
  if (n > detail::kMaxWorkerThreads) {
    throw std::invalid_argument(
        "tokio: Builder::worker_threads(" + std::to_string(n) + "): a runtime has at most " +
        std::to_string(detail::kMaxWorkerThreads) + " workers (the default is one per CPU)");
  }
  cfg()->worker_threads = n;
  return *this;
}
Builder& Builder::thread_name(std::string name) {
  cfg()->thread_name = std::move(name);
  return *this;
}
Builder& Builder::thread_name_fn(detail::Callback<std::string()> f) {
  cfg()->thread_name_fn = std::move(f);
  return *this;
}
Builder& Builder::thread_stack_size(std::size_t bytes) {
  cfg()->thread_stack_size = bytes;
  return *this;
}
Builder& Builder::on_thread_start(detail::Callback<void()> f) {
  cfg()->on_thread_start = std::move(f);
  return *this;
}
Builder& Builder::on_thread_stop(detail::Callback<void()> f) {
  cfg()->on_thread_stop = std::move(f);
  return *this;
}
Builder& Builder::on_thread_park(detail::Callback<void()> f) {
  cfg()->on_thread_park = std::move(f);
  return *this;
}
Builder& Builder::on_thread_unpark(detail::Callback<void()> f) {
  cfg()->on_thread_unpark = std::move(f);
  return *this;
}
Builder& Builder::max_blocking_threads(std::size_t n) {
  if (n == 0) {
    throw std::invalid_argument("tokio: Builder::max_blocking_threads must be at least 1");
  }
  // "Unlimited" written as SIZE_MAX must not wrap when the runtime adds its own threads.
  cfg()->max_blocking_threads = std::min<std::size_t>(n, std::size_t{1} << 32);
  return *this;
}
Builder& Builder::thread_keep_alive(std::chrono::nanoseconds d) {
  cfg()->thread_keep_alive = d;
  return *this;
}
Builder& Builder::global_queue_interval(uint32_t ticks) {
  if (ticks == 0) {
    throw std::invalid_argument("tokio: Builder::global_queue_interval must be at least 1");
  }
  cfg()->global_queue_interval = ticks;
  return *this;
}
Builder& Builder::event_interval(uint32_t ticks) {
  if (ticks == 0) throw std::invalid_argument("tokio: Builder::event_interval must be at least 1");
  cfg()->event_interval = ticks;
  return *this;
}
Builder& Builder::enable_io() {
  cfg()->enable_io = true;
  return *this;
}
Builder& Builder::enable_time() {
  cfg()->enable_time = true;
  return *this;
}
Builder& Builder::enable_all() { return enable_io().enable_time(); }
Builder& Builder::start_paused(bool paused) {
  cfg()->start_paused = paused;
  return *this;
}
Builder& Builder::max_io_events_per_tick(std::size_t n) {
  cfg()->max_io_events_per_tick = n ? n : 1;
  return *this;
}
Builder& Builder::disable_lifo_slot() {
  cfg()->disable_lifo_slot = true;
  return *this;
}
Builder& Builder::rng_seed(uint64_t seed) {
  cfg()->rng_seed = seed;
  return *this;
}
Builder& Builder::disable_io_uring() {
  cfg()->disable_io_uring = true;
  return *this;
}

Builder& Builder::unhandled_exception(UnhandledException policy) {
  cfg()->unhandled = policy;
  return *this;
}
Builder& Builder::on_unhandled_exception(
    detail::Callback<void(const task::TaskInfo&, std::exception_ptr)> f) {
  cfg()->on_unhandled_exception = std::move(f);
  return *this;
}
Builder& Builder::on_task_spawn(detail::Callback<void(const task::TaskInfo&)> f) {
  cfg()->task_hooks.on_spawn = std::move(f);
  return *this;
}
Builder& Builder::on_task_terminate(detail::Callback<void(const task::TaskInfo&)> f) {
  cfg()->task_hooks.on_terminate = std::move(f);
  return *this;
}
Builder& Builder::on_before_task_poll(detail::Callback<void(const task::TaskInfo&)> f) {
  cfg()->task_hooks.before_poll = std::move(f);
  return *this;
}
Builder& Builder::on_after_task_poll(detail::Callback<void(const task::TaskInfo&)> f) {
  cfg()->task_hooks.after_poll = std::move(f);
  return *this;
}

Builder& Builder::enable_metrics_poll_time_histogram() {
  cfg()->poll_time_histogram = true;
  return *this;
}
Builder& Builder::metrics_poll_time_histogram_configuration(std::chrono::nanoseconds resolution,
                                                            std::size_t buckets) {
  if (resolution.count() <= 0 || buckets < 2 || buckets > 1024) {
    throw std::invalid_argument(
        "tokio: metrics_poll_time_histogram_configuration needs a positive resolution and "
        "2 to 1024 buckets");
  }
  // The last bucket starts at resolution * (buckets - 1): it must be a representable time.
  if (resolution.count() >
      std::chrono::nanoseconds::max().count() / static_cast<int64_t>(buckets - 1)) {
    throw std::invalid_argument(
        "tokio: metrics_poll_time_histogram_configuration: resolution * (buckets - 1) "
        "overflows std::chrono::nanoseconds; use a smaller resolution or fewer buckets");
  }
  cfg()->poll_hist_resolution = resolution;
  cfg()->poll_hist_buckets = buckets;
  return *this;
}

Builder& Builder::metrics_poll_count_histogram_resolution(std::chrono::nanoseconds resolution) {
  return metrics_poll_time_histogram_configuration(resolution, cfg()->poll_hist_buckets);
}
Builder& Builder::metrics_poll_count_histogram_buckets(std::size_t buckets) {
  return metrics_poll_time_histogram_configuration(cfg()->poll_hist_resolution, buckets);
}

Builder& Builder::stall_threshold(std::chrono::nanoseconds threshold) {
  if (threshold.count() <= 0) {
    throw std::invalid_argument(
        "tokio: Builder::stall_threshold needs a positive duration (leave it unset to keep "
        "the stall detector off)");
  }
  cfg()->stall_threshold = threshold;
  return *this;
}

Runtime Builder::build() {
  // Before the driver opens its epoll and eventfds: none may take the number of a closed
  // standard fd (see reopen_closed_std_fds).
  detail::runtime_stdio_impl::ensure_std_fds_open();
  const detail::Config& cfg = *this->cfg();
  if (cfg.start_paused && !cfg.enable_time) {
    throw std::invalid_argument(
        "tokio: Builder::start_paused(true) needs the time driver: call enable_time() or "
        "enable_all()");
  }
  if (cfg.start_paused && cfg.flavor == RuntimeFlavor::MultiThread) {
    throw std::invalid_argument(
        "tokio: start_paused(true) is only supported on the current-thread runtime "
        "(Builder::new_current_thread())");
  }
  if (cfg.flavor == RuntimeFlavor::CurrentThread) {
    return Runtime(detail::make_current_thread(cfg));
  }
  return Runtime(detail::make_multi_thread(cfg));
}

// --- Runtime, Handle, EnterGuard ---------------------------------------------------------
Runtime Runtime::create() { return Builder::new_multi_thread().enable_all().build(); }
Runtime::Runtime() : Runtime(create()) {}

detail::HandleInner* Runtime::checked() const {
  if (!h_) throw std::logic_error("tokio: use of a Runtime after it was moved from or shut down");
  return h_;
}

void Runtime::close(std::chrono::nanoseconds timeout) {
  detail::HandleInner* h = h_;
  if (!h) return;
  const bool drives_h =
      h->on_worker_thread() || (detail::tls.runtime_depth > 0 && detail::tls.handle == h);
  const bool in_async = drives_h || detail::tls.runtime_depth > 0;
  if (in_async && timeout.count() > 0) {
    // shutdown_timeout(d > 0) is an ordinary call: refuse it (Tokio panics) and leave the
    // Runtime as it was.
    throw std::logic_error(
        "tokio: Runtime::shutdown_timeout called from inside an asynchronous context "
        "(block_on or a task): waiting there would block a runtime thread. Shut the runtime "
        "down outside block_on, use shutdown_background() (which never waits), or call it "
        "from a spawn_blocking closure.");
  }
  // In async code only shutdown_background gets here: allowed anywhere, as in Tokio,
  // because it never waits for blocking work. Another runtime's shutdown is bounded (a
  // current-thread core held elsewhere is abandoned to its holder at once; multi-thread
  // workers hand their cores back at their next turn). A multi-thread runtime this very
  // thread works for would wait for this thread's own core: a thread of its own shuts it
  // down (if none can be started, the Runtime stays as it was and the error goes to the
  // caller). The current-thread shutdown run here finds the core taken by this thread and
  // leaves the rest to it (CurrentThread::shutdown); this thread's block_on holds its own
  // reference on h (block_on_slot), so the ref_dec below frees nothing it uses.
  if (drives_h && h->flavor() == RuntimeFlavor::MultiThread) {
    std::thread([h] {
      h->shutdown(std::chrono::nanoseconds(0));
      h->ref_dec();
    }).detach();
    h_ = nullptr;
    return;
  }
  h_ = nullptr;
  h->shutdown(in_async ? std::chrono::nanoseconds(0) : timeout);  // in async: never waits
  h->ref_dec();
}

void Runtime::drop_now() noexcept {
  detail::HandleInner* h = std::exchange(h_, nullptr);
  if (!h) return;
  if (h->on_worker_thread() || detail::tls.runtime_depth > 0) {
    if (std::uncaught_exceptions() > 0) {
      // Dropped while an exception unwinds out of async code (a nested block_on's error, a
      // task's own exception): aborting would hide that exception. As Tokio does while
      // panicking, skip the wait here: a thread of its own shuts the runtime down.
      try {
        std::thread([h] {
          h->shutdown(std::nullopt);
          h->ref_dec();
        }).detach();
        return;
      } catch (...) {
        // No thread to be had: fall through to the report below.
      }
    }
    std::fputs(
        "tokio: a Runtime was dropped (or shut down) from inside an asynchronous context. "
        "This would block a runtime thread waiting for itself. Drop it outside block_on, or "
        "call shutdown_background() on it first (it never waits, so it is allowed there).\n",
        stderr);
    std::abort();
  }
  h->shutdown(std::nullopt);
  h->ref_dec();
}

Handle Handle::current() { return Handle(detail::current_handle_or_throw("Handle::current()")); }

std::optional<Handle> Handle::try_current() noexcept {
  if (detail::HandleInner* h = detail::tls.handle) return Handle(h);
  return std::nullopt;
}

namespace runtime_enter_impl {
// How many EnterGuards are alive on this thread. Each guard remembers the depth it made;
// destroyed in reverse order, every guard finds its own depth on top.
inline thread_local constinit uint32_t enter_depth = 0;
}  // namespace runtime_enter_impl

// prev_ is raw: it is the handle of the enclosing guard (whose reference outlives this one
// when guards are dropped in order, which the destructor enforces) or of a block_on or
// worker scope enclosing this guard's whole life (EnterRuntime, run_worker).
EnterGuard::EnterGuard(detail::HandleInner* h) noexcept
    : ref_(h),
      prev_(detail::tls.handle),
      depth_(++runtime_enter_impl::enter_depth),
      owner_(&detail::tls) {
  detail::tls.handle = h;
}
EnterGuard::~EnterGuard() {
  if (depth_ == 0) return;  // moved from
  if (TOKIO_UNLIKELY(depth_ != runtime_enter_impl::enter_depth || owner_ != &detail::tls)) {
    // Restoring prev_ now would leave the thread inside a runtime whose guard (and
    // reference) is gone, possibly freed: refuse, as Tokio panics here.
    std::fputs(
        "tokio: EnterGuard values dropped out of order. Guards returned by Runtime::enter() "
        "and Handle::enter() must be dropped in the reverse order as they were acquired, on "
        "the thread that acquired them: keep each guard in a scope of its own (a local "
        "variable), not in containers or objects that outlive an inner guard.\n",
        stderr);
    std::abort();
  }
  --runtime_enter_impl::enter_depth;
  detail::tls.handle = prev_;
}

}  // namespace tokio::runtime
