#include "tokio/signal/detail/registry.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <system_error>

#include "tokio/core/detail/spin_lock.hpp"
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/io/detail/io_driver.hpp"
#include "tokio/io/detail/registration.hpp"
#include "tokio/runtime/detail/entry.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/detail/sigpipe.hpp"
#include "tokio/signal/errors.hpp"

namespace tokio::detail {

// One runtime's registration of the self-pipe (see registry.hpp). Guarded by Registry::mu
// except `reg`, whose ScheduledIo listeners use through their watcher reference.
class SignalWatcher {
 public:
  HandleInner* handle = nullptr;  // the runtime (a key only; `reg` holds the reference)
  int fd = -1;                    // our dup of the eventfd
  Registration reg;
  std::size_t refs = 0;           // listeners bound to this watcher
  SignalWatcher* next = nullptr;  // Registry::watchers
};

namespace signal_registry_impl {

struct Slot {
  SpinLock lock;                 // guards the waiter list and version bumps
  SignalWaiter* head = nullptr;  // waiters (guarded by lock)
  SignalWaiter* tail = nullptr;
  // Dispatched deliveries. Bumped under `lock` (release); read with acquire by listeners
  // checking for news, and under `lock` by waiters about to link.
  std::atomic<uint64_t> version{0};
  // The disposition our handler replaced, which it chains to: prev_seen, read before our
  // install, or prev_replaced when sigaction says another was in place by then (someone
  // changed it between our two calls). Each is written once (under Registry::mu) before
  // `prev` points at it (release; the handler's acquire load pairs with it), so a handler
  // running at any moment reads a whole one.
  struct sigaction prev_seen {};
  struct sigaction prev_replaced {};
  std::atomic<const struct sigaction*> prev{nullptr};
  bool installed = false;  // guarded by Registry::mu
};

struct Registry {
  std::mutex mu;  // handler installation and the watcher list
  Slot slots[kMaxSignal + 1];
  SignalWatcher* watchers = nullptr;
};

// What the handler touches: all lock-free atomics (async-signal-safe).
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free &&
              std::atomic<void*>::is_always_lock_free);
// Pending deliveries: bit (sig - 1). Set by the handler (seq_cst, before its eventfd
// write); taken by dispatch with an exchange (after its eventfd read).
std::atomic<uint64_t> g_pending{0};
// The self-pipe: an eventfd (non-blocking, close-on-exec), created by the first install
// and never closed. Published (release) before any handler that reads it is installed.
std::atomic<int> g_event_fd{-1};
// The registry, allocated on first use and never freed (handlers stay installed for the
// life of the process). The handler reads it (acquire) to find the chained handler.
std::atomic<Registry*> g_registry{nullptr};

Registry& registry() {
  static Registry* r = [] {
    auto* p = new Registry();
    g_registry.store(p, std::memory_order_release);
    return p;
  }();
  return *r;
}

void chain(const struct sigaction& p, int sig, siginfo_t* info, void* ctx) noexcept {
  // SIG_DFL: our listeners replace the default action (a SIGINT no longer terminates the
  // process, as in Tokio); SIG_IGN: nothing to run. Checked before SA_SIGINFO: the two
  // handler fields share storage, and sigaction(2) accepts SIG_IGN (the address 1) with
  // SA_SIGINFO set, which must not be called as a three-argument handler.
  if (p.sa_handler == SIG_DFL || p.sa_handler == SIG_IGN) return;
  if (p.sa_flags & SA_SIGINFO) {
    p.sa_sigaction(sig, info, ctx);
    return;
  }
  p.sa_handler(sig);
}

// The OS handler. Async-signal-safe: lock-free atomics, write(2), the chained handler.
void handler(int sig, siginfo_t* info, void* ctx) {
  int saved = errno;
  if (sig >= 1 && sig <= kMaxSignal) {
    g_pending.fetch_or(uint64_t(1) << (sig - 1), std::memory_order_seq_cst);
    int fd = g_event_fd.load(std::memory_order_acquire);
    if (fd >= 0) {
      uint64_t one = 1;
      ssize_t r = ::write(fd, &one, sizeof one);  // EAGAIN only at a 2^64-2 count: never
      (void)r;
    }
    Registry* reg = g_registry.load(std::memory_order_acquire);
    const struct sigaction* p =
        reg ? reg->slots[sig].prev.load(std::memory_order_acquire) : nullptr;
    if (p) chain(*p, sig, info, ctx);
  }
  errno = saved;
}

// Creates the self-pipe on first use (Registry::mu held).
io::Result<void> ensure_event_fd_locked() {
  if (g_event_fd.load(std::memory_order_relaxed) >= 0) return {};
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return io::last_os_error();
  g_event_fd.store(fd, std::memory_order_release);
  return {};
}

// Our handler's disposition. SA_RESTART: interrupted syscalls elsewhere in the program
// resume; SA_ONSTACK: runs on an alternate stack when the program set one up. No bits
// blocked while it runs.
struct sigaction our_disposition() noexcept {
  struct sigaction sa {};
  sa.sa_sigaction = &handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  return sa;
}

// Installs our handler for `sig` once (Registry::mu held).
io::Result<void> install_locked(Registry& r, int sig) {
  Slot& s = r.slots[sig];
  if (s.installed) return {};
  if (auto e = ensure_event_fd_locked(); !e) return e;
  struct sigaction cur {};
  if (::sigaction(sig, nullptr, &cur) < 0) return io::last_os_error();
  s.prev_seen = cur;
  s.prev.store(&s.prev_seen, std::memory_order_release);
  const struct sigaction sa = our_disposition();
  struct sigaction old {};
  if (::sigaction(sig, &sa, &old) < 0) return io::last_os_error();
  // Someone changed the disposition between our two calls: chain to what we replaced.
  if (old.sa_flags != cur.sa_flags || old.sa_sigaction != cur.sa_sigaction) {
    s.prev_replaced = old;
    s.prev.store(&s.prev_replaced, std::memory_order_release);
  }
  s.installed = true;
  if (sig == SIGPIPE) sigpipe_now_caught();  // runtime/detail/sigpipe.hpp
  return {};
}

void broadcast(Slot& s) noexcept {
  constexpr std::size_t kBatch = 32;
  Wakeable* batch[kBatch];
  s.lock.lock();
  s.version.store(s.version.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  for (;;) {
    std::size_t n = 0;
    while (s.head && n < kBatch) {
      SignalWaiter* w = s.head;
      s.head = w->next;
      if (s.head) s.head->prev = nullptr;
      else s.tail = nullptr;
      w->prev = w->next = nullptr;
      batch[n++] = w->waker;
      w->waker = nullptr;
      // Last touch of the node: its owner may complete (and free it) from here on.
      w->linked.store(false, std::memory_order_release);
    }
    bool more = s.head != nullptr;
    s.lock.unlock();
    for (std::size_t i = 0; i < n; ++i) batch[i]->vtable->wake(batch[i]);
    if (!more) return;
    s.lock.lock();
  }
}

// Drains the eventfd (clearing `io`'s readiness observed in `snap`, when given) and
// broadcasts every pending delivery.
void dispatch_with(ScheduledIo* io, uint32_t snap) noexcept {
  int fd = g_event_fd.load(std::memory_order_acquire);
  if (fd >= 0) {
    uint64_t v;
    ssize_t n;
    do {
      n = ::read(fd, &v, sizeof v);
    } while (n < 0 && errno == EINTR);
  }
  // The eventfd is empty now (its read takes the whole count). A write since our read
  // advanced the registration's tick, which makes this clear a no-op.
  if (io) io->clear_readiness(snap, io::Ready::kReadable);
  uint64_t mask = g_pending.exchange(0, std::memory_order_seq_cst);
  if (mask == 0) return;
  Registry* reg = g_registry.load(std::memory_order_acquire);
  while (mask) {
    int bit = __builtin_ctzll(mask);
    mask &= mask - 1;
    broadcast(reg->slots[bit + 1]);
  }
}

bool link_waiter(Slot& s, uint64_t seen, SignalWaiter& w, Wakeable* waker) noexcept {
  Wakeable* old = nullptr;
  s.lock.lock();
  if (s.version.load(std::memory_order_relaxed) != seen) {
    s.lock.unlock();
    return false;
  }
  if (w.linked.load(std::memory_order_relaxed)) {
    if (w.waker != waker) {
      old = w.waker;
      waker->vtable->clone(waker);
      w.waker = waker;
    }
  } else {
    waker->vtable->clone(waker);
    w.waker = waker;
    w.next = nullptr;
    w.prev = s.tail;
    if (s.tail) s.tail->next = &w;
    else s.head = &w;
    s.tail = &w;
    w.linked.store(true, std::memory_order_relaxed);
  }
  s.lock.unlock();
  if (old) old->vtable->drop(old);
  return true;
}

void unlink_waiter(Slot& s, SignalWaiter& w) noexcept {
  if (!w.linked.load(std::memory_order_acquire)) return;
  Wakeable* waker = nullptr;
  s.lock.lock();
  if (w.linked.load(std::memory_order_relaxed)) {
    if (w.prev) w.prev->next = w.next;
    else s.head = w.next;
    if (w.next) w.next->prev = w.prev;
    else s.tail = w.prev;
    w.prev = w.next = nullptr;
    waker = w.waker;
    w.waker = nullptr;
    w.linked.store(false, std::memory_order_relaxed);
  }
  s.lock.unlock();
  if (waker) waker->vtable->drop(waker);
}

int dup_event_fd() noexcept {
  int fd = g_event_fd.load(std::memory_order_acquire);
  if (fd < 0) {
    errno = EBADF;
    return -1;
  }
  return ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

// The current runtime's watcher, created on first use (Registry::mu held). Throws
// std::logic_error outside a runtime or without the I/O driver.
io::Result<SignalWatcher*> watcher_acquire_locked(Registry& r, HandleInner* h, const char* what) {
  (void)io_driver_of(h, what);
  for (SignalWatcher* w = r.watchers; w; w = w->next) {
    // A watcher whose driver shut down belongs to a dropped runtime, perhaps at this
    // runtime's address: it is not this runtime's.
    ScheduledIo* io = w->reg.io();
    if (w->handle == h && io && !(io->load() & ScheduledIo::kShutdown)) {
      ++w->refs;
      return w;
    }
  }
  if (auto e = ensure_event_fd_locked(); !e) return tokio::unexpected(e.error());
  int fd = dup_event_fd();
  if (fd < 0) return io::last_os_error();
  auto reg = Registration::create(fd, io::Interest::READABLE, what);
  if (!reg) {
    ::close(fd);
    return tokio::unexpected(reg.error());
  }
  auto* w = new SignalWatcher();
  w->handle = h;
  w->fd = fd;
  w->reg = std::move(*reg);
  w->refs = 1;
  w->next = r.watchers;
  r.watchers = w;
  return w;
}

// Drops one reference (Registry::mu held); returns the watcher to destroy, if it was the last.
SignalWatcher* watcher_release_locked(Registry& r, SignalWatcher* w) noexcept {
  if (--w->refs != 0) return nullptr;
  for (SignalWatcher** p = &r.watchers; *p; p = &(*p)->next) {
    if (*p == w) {
      *p = w->next;
      break;
    }
  }
  return w;
}

void watcher_destroy(SignalWatcher* w) noexcept {
  if (!w) return;
  // Deregistering wakes any waiter still linked on its reactor entry.
  (void)w->reg.deregister();
  ::close(w->fd);
  delete w;
}

// Unlinks the node from the reactor entry it parked on: the listener's watcher's (which
// cannot leave the listener while the node is counted there) or the node's own watcher's.
void unpark_io(SignalListener& l, SignalRecvNode& n) noexcept {
  ScheduledIo* io = std::exchange(n.parked, nullptr);
  if (!io) return;
  io->remove_waiter(n.io);
  if (!n.own) --l.parked;
}

// Drops the node's own watcher (after unpark_io).
void release_own(SignalRecvNode& n) noexcept {
  SignalWatcher* w = std::exchange(n.own, nullptr);
  if (!w) return;
  Registry& r = registry();
  SignalWatcher* dead;
  {
    std::lock_guard<std::mutex> g(r.mu);
    dead = watcher_release_locked(r, w);
  }
  watcher_destroy(dead);
}

bool watcher_live(const SignalWatcher* w) noexcept {
  ScheduledIo* io = w ? w->reg.io() : nullptr;
  return io && !(io->load() & ScheduledIo::kShutdown);
}

// A watcher of the node's own on `h`'s runtime (another wait pins the listener's watcher to
// another runtime). Null when none can be made (the caller then parks on the listener's).
ScheduledIo* own_watcher_io(SignalListener& l, SignalRecvNode& n, HandleInner* h) noexcept {
  // A dead watcher's handle is never compared: a new runtime may sit at a dropped one's
  // address.
  if (watcher_live(n.own) && n.own->handle == h) return n.own->reg.io();
  unpark_io(l, n);
  release_own(n);
  Registry& r = registry();
  SignalWatcher* dead = nullptr;
  {
    std::lock_guard<std::mutex> g(r.mu);
    try {
      auto w = watcher_acquire_locked(r, h, "process::Child::wait");
      if (w) n.own = *w;
    } catch (...) {
    }
    if (n.own && !watcher_live(n.own))
      dead = watcher_release_locked(r, std::exchange(n.own, nullptr));
  }
  watcher_destroy(dead);
  return n.own ? n.own->reg.io() : nullptr;
}

// The listener's watcher's reactor entry, on the runtime this thread runs when it can be.
// The listener re-binds to the polling thread's runtime when that runtime has an I/O driver
// and is not the watcher's: the watcher's runtime may be alive but idle (a current_thread
// runtime nobody drives), and then nobody would read its epoll, dispatch, and wake this
// wait (Tokio's signal driver lives in every runtime's driver, so a Signal or a Child
// created on one runtime is woken on whichever awaits it). When the watcher's driver shut
// down and this thread's runtime cannot take over, the listener waits on the signal's list
// only, woken by other runtimes' dispatches.
ScheduledIo* watcher_io(SignalListener& l, SignalRecvNode& n) noexcept {
  ScheduledIo* io = l.watcher ? l.watcher->reg.io() : nullptr;
  bool live = io && !(io->load() & ScheduledIo::kShutdown);
  HandleInner* h = tls.handle;
  // Bind here when this thread's runtime can watch and the watcher is dead (or missing) or
  // another runtime's. A dead watcher's handle is never compared: a new runtime may sit at
  // a dropped one's address.
  bool move = h && h->driver.io() != nullptr && (!live || h != l.watcher->handle);
  if (move && live && l.parked > (n.parked && !n.own ? 1u : 0u)) {
    // Other waits are parked on the listener's live watcher: it stays, this wait watches
    // through one of its own here (or, failing that, parks on the listener's as well).
    if (ScheduledIo* own = own_watcher_io(l, n, h)) return own;
    return io;
  }
  if (n.own) {
    unpark_io(l, n);
    release_own(n);
  }
  if (!move && (live || !l.watcher)) return live ? io : nullptr;
  unpark_io(l, n);
  Registry& r = registry();
  SignalWatcher* dead[2] = {nullptr, nullptr};
  {
    std::lock_guard<std::mutex> g(r.mu);
    SignalWatcher* next = nullptr;
    if (move) {
      try {
        auto w = watcher_acquire_locked(r, h, "signal::unix::Signal::recv");
        if (w) next = *w;
      } catch (...) {
        // Out of memory for the new watcher: as a failed registration, stay where we are.
      }
      // The runtime shut down since the check above.
      if (next && (next->reg.io()->load() & ScheduledIo::kShutdown)) {
        dead[1] = watcher_release_locked(r, next);
        next = nullptr;
      }
    }
    // A live watcher is given up only for a new one (a failed move keeps waiting there).
    if (next || !live) {
      if (l.watcher) dead[0] = watcher_release_locked(r, l.watcher);
      l.watcher = next;
    }
  }
  watcher_destroy(dead[0]);
  watcher_destroy(dead[1]);
  return l.watcher ? l.watcher->reg.io() : nullptr;
}

// Not a signal number this registry has a slot for, or one signal() refuses (the
// error's message says which).
bool refused(int sig) noexcept {
  return sig < 1 || sig > kMaxSignal || sig >= NSIG || signal_is_forbidden(sig);
}

}  // namespace signal_registry_impl

io::Result<void> signal_listener_init(SignalListener& l, int sig, const char* what) {
  namespace impl = signal_registry_impl;
  if (impl::refused(sig)) return tokio::unexpected(signal::refused_signal_error(sig));
  HandleInner* h = current_handle_or_throw(what);
  impl::Registry& r = impl::registry();
  SignalWatcher* dead = nullptr;
  std::error_code err;
  {
    std::lock_guard<std::mutex> g(r.mu);
    auto w = impl::watcher_acquire_locked(r, h, what);
    if (!w) return tokio::unexpected(w.error());
    auto ok = impl::install_locked(r, sig);
    if (!ok) {
      dead = impl::watcher_release_locked(r, *w);
      err = ok.error();
    } else {
      l.watcher = *w;
    }
  }
  if (err) {
    impl::watcher_destroy(dead);
    return tokio::unexpected(err);
  }
  l.sig = sig;
  // Deliveries that happened before this listener existed are not its own: dispatch them
  // to the listeners that were there, then start from the current version.
  impl::dispatch_with(nullptr, 0);
  l.seen = r.slots[sig].version.load(std::memory_order_acquire);
  return {};
}

void signal_listener_release(SignalListener& l) noexcept {
  namespace impl = signal_registry_impl;
  l.sig = 0;
  SignalWatcher* w = std::exchange(l.watcher, nullptr);
  if (!w) return;
  impl::Registry& r = impl::registry();
  SignalWatcher* dead;
  {
    std::lock_guard<std::mutex> g(r.mu);
    dead = impl::watcher_release_locked(r, w);
  }
  impl::watcher_destroy(dead);
}

bool signal_poll_recv(SignalListener& l, SignalRecvNode& n, task::Context& cx) noexcept {
  namespace impl = signal_registry_impl;
  if (l.sig == 0) return true;  // a moved-from Signal: recv reports "no more"
  if (!coop_poll_proceed(cx)) return false;
  impl::Slot& s = impl::registry().slots[l.sig];
  for (;;) {
    // Off the list first, so a dispatch by this very poll does not wake this task.
    impl::unlink_waiter(s, n.list);
    ScheduledIo* io = impl::watcher_io(l, n);
    if (n.parked != io) impl::unpark_io(l, n);  // parked elsewhere: unlink from there
    uint32_t snap = io ? io->load() : 0;
    if ((snap & io::Ready::kReadable) || impl::g_pending.load(std::memory_order_acquire) != 0) {
      impl::dispatch_with(io, snap);
    }
    uint64_t v = s.version.load(std::memory_order_acquire);
    if (v != l.seen) {
      l.seen = v;
      impl::unpark_io(l, n);
      impl::release_own(n);
      return true;
    }
    if (!impl::link_waiter(s, l.seen, n.list, cx.raw_waker())) continue;  // news: take it
    if (io) {
      uint32_t now;
      if (!n.parked) {  // (parked elsewhere was undone at the top of the loop)
        n.parked = io;
        if (!n.own) ++l.parked;
      }
      // Ready: the eventfd was written since our snapshot, go and dispatch. (A shut-down
      // driver is handled by watcher_io on the next round.)
      if (io->poll_ready(cx, n.io, now)) continue;
    }
    return false;
  }
}

bool signal_try_recv(SignalListener& l, SignalRecvNode& n) noexcept {
  namespace impl = signal_registry_impl;
  if (l.sig == 0) return true;
  return coop_try([&] {
    impl::Slot& s = impl::registry().slots[l.sig];
    // A delivery the handler recorded is broadcast here (the eventfd drained; the
    // watcher's readiness, if the driver set it, is cleared by the next poll's dispatch).
    if (impl::g_pending.load(std::memory_order_acquire) != 0) impl::dispatch_with(nullptr, 0);
    uint64_t v = s.version.load(std::memory_order_acquire);
    if (v == l.seen) return false;
    l.seen = v;
    signal_cancel_recv(l, n);  // a node an earlier poll left waiting leaves its lists
    return true;
  });
}

void signal_cancel_recv(SignalListener& l, SignalRecvNode& n) noexcept {
  namespace impl = signal_registry_impl;
  if (l.sig != 0) impl::unlink_waiter(impl::registry().slots[l.sig], n.list);
  impl::unpark_io(l, n);
  impl::release_own(n);
}

io::Result<void> signal_install(int sig, bool reclaim) {
  namespace impl = signal_registry_impl;
  if (impl::refused(sig)) return tokio::unexpected(signal::refused_signal_error(sig));
  impl::Registry& r = impl::registry();
  std::lock_guard<std::mutex> g(r.mu);
  impl::Slot& slot = r.slots[sig];
  if (reclaim && slot.installed) {
    struct sigaction cur {};
    if (::sigaction(sig, nullptr, &cur) < 0) return io::last_os_error();
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == &impl::handler) return {};
    // Replaced since we installed: ours goes back in, chaining to what replaced it. That
    // one is kept in a block of its own (never freed; this happens once per replacement):
    // prev_seen may be read by a handler still running on another thread.
    const struct sigaction sa = impl::our_disposition();
    auto* replaced = new struct sigaction(cur);
    slot.prev.store(replaced, std::memory_order_release);
    if (::sigaction(sig, &sa, nullptr) < 0) return io::last_os_error();
    return {};
  }
  return impl::install_locked(r, sig);
}

void signal_dispatch() noexcept { signal_registry_impl::dispatch_with(nullptr, 0); }

uint64_t signal_version(int sig) noexcept {
  return signal_registry_impl::registry().slots[sig].version.load(std::memory_order_acquire);
}

bool signal_link_waiter(int sig, uint64_t seen, SignalWaiter& w, Wakeable* waker) noexcept {
  return signal_registry_impl::link_waiter(signal_registry_impl::registry().slots[sig], seen, w,
                                           waker);
}

void signal_unlink_waiter(int sig, SignalWaiter& w) noexcept {
  signal_registry_impl::unlink_waiter(signal_registry_impl::registry().slots[sig], w);
}

int signal_dup_event_fd() noexcept { return signal_registry_impl::dup_event_fd(); }

}  // namespace tokio::detail
