// The reactor: readiness word and ticks, AsyncFd guards, waiter lists, cancellation,
// coop budget, parking in epoll_wait and waking it, runtimes without I/O.
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "internals.hpp"
#include "net_test_util.hpp"
#include "sync_test_util.hpp"

using tokio::Task;
using tokio::io::AsyncFd;
using tokio::io::Interest;
using tokio::io::Ready;
namespace oneshot = tokio::sync::oneshot;

namespace {

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int p[2];
    REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    r = p[0];
    w = p[1];
  }
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
  void put(const char* s) const {
    REQUIRE(::write(w, s, std::strlen(s)) == ssize_t(std::strlen(s)));
  }
};

tokio::io::Result<std::size_t> read_fd(int fd, char* buf, std::size_t n) {
  ssize_t r = ::read(fd, buf, n);
  if (r < 0) return tokio::io::last_os_error();
  return std::size_t(r);
}

// Reads one chunk through the guard protocol (wait, try, retry on would-block).
Task<std::string> guarded_read(AsyncFd<int>& afd) {
  for (;;) {
    auto g = co_await afd.readable();
    REQUIRE(g.has_value());
    char buf[256];
    auto r = g->try_io([&](AsyncFd<int>& a) { return read_fd(a.as_raw_fd(), buf, sizeof buf); });
    if (r) co_return std::string(buf, r->value());
  }
}

// Spawns `n` tasks that each wait once for `afd` to be readable, lets them all register
// (the first in the ScheduledIo's direct slot, the rest in its list), writes one byte and
// returns how many were woken with readiness.
Task<int> wake_all_waiters(AsyncFd<int>& afd, Pipe& p, int n) {
  std::atomic<int> woke{0};
  std::vector<tokio::JoinHandle<void>> hs;
  for (int i = 0; i < n; ++i) {
    hs.push_back(tokio::spawn(
        [](AsyncFd<int>* a, std::atomic<int>* w) -> Task<> {
          auto g = co_await a->readable();
          if (g) w->fetch_add(1);
        },
        &afd, &woke));
  }
  co_await nt::settle();
  p.put("!");
  for (auto& h : hs) co_await h;
  co_return woke.load();
}

}  // namespace

TEST_CASE("reactor: a clear with a stale tick never hides a newer edge") {
  using tokio::detail::ScheduledIo;
  auto* io = new ScheduledIo();
  const uint32_t rmask = Interest::READABLE.mask();
  io->set_readiness(Ready::kReadable);
  uint32_t seen = io->load();  // an operation observes readiness, then its syscall says EAGAIN
  io->set_readiness(Ready::kReadable);  // ...while a new edge arrives
  io->clear_readiness(seen, rmask);
  CHECK((io->load() & Ready::kReadable) != 0);  // the stale clear was dropped
  io->clear_readiness(io->load(), rmask);
  CHECK((io->load() & Ready::kReadable) == 0);
  // Closed states are final.
  io->set_readiness(Ready::kReadable | Ready::kReadClosed);
  io->clear_readiness(io->load(), rmask);
  CHECK((io->load() & Ready::kReadClosed) != 0);
  CHECK((io->load() & Ready::kReadable) == 0);
  // Writable readiness is untouched by a read clear.
  io->set_readiness(Ready::kWritable);
  io->clear_readiness(io->load(), rmask);
  CHECK((io->load() & Ready::kWritable) != 0);
  delete io;
}

TEST_CASE("reactor: the direct waiter slot and the list hand wakers over exactly once") {
  // The first waiter goes in the ScheduledIo's direct slot, later ones in the list; every
  // registration holds one waker reference until a wake takes it or remove_waiter drops it.
  using tokio::detail::IoWaiter;
  using tokio::detail::ScheduledIo;
  using CW = test::CountingWaker;
  auto io = std::make_unique<ScheduledIo>();
  const uint32_t rmask = Interest::READABLE.mask();
  const uint32_t wmask = Interest::WRITABLE.mask();
  auto a = CW::create(), b = CW::create(), c = CW::create();
  auto poll = [&](IoWaiter& w, CW& k) {
    tokio::task::Context cx(k.raw());
    uint32_t snap = 0;
    return io->poll_ready(cx, w, snap);
  };
  {
    IoWaiter w1(rmask), w2(rmask), w3(rmask);
    CHECK_FALSE(poll(w1, *a));  // slot
    CHECK(io->in_direct_slot(w1));
    CHECK_FALSE(poll(w2, *b));  // list
    CHECK_FALSE(io->in_direct_slot(w2));
    CHECK(w2.linked.load());
    CHECK(a->outstanding() == 1);
    CHECK(b->outstanding() == 1);
    // Polled again with another waker: the slot swaps it and drops the old one.
    CHECK_FALSE(poll(w1, *c));
    CHECK(a->outstanding() == 0);
    CHECK(c->outstanding() == 1);
    io->remove_waiter(w1);  // cancelled while in the slot: the slot is free again
    CHECK(c->outstanding() == 0);
    CHECK_FALSE(poll(w3, *a));  // takes the freed slot
    CHECK(io->in_direct_slot(w3));
    io->set_readiness(Ready::kReadable);  // wakes the slot and the list
    CHECK(a->take_woken());
    CHECK(b->take_woken());
    CHECK_FALSE(c->take_woken());
    CHECK(a->outstanding() == 0);
    CHECK(b->outstanding() == 0);
    CHECK_FALSE(w2.linked.load());
    CHECK_FALSE(w3.linked.load());  // the wake told the slot's owner in its own node
    CHECK_FALSE(io->in_direct_slot(w3));
    io->remove_waiter(w3);  // woken already: nothing to drop, no double release
    io->remove_waiter(w2);
    CHECK(a->outstanding() == 0);
    io->clear_readiness(io->load(), rmask);
  }
  {
    // A writer in the slot is not woken by readable; a reader in the list is.
    IoWaiter w(wmask), r(rmask);
    CHECK_FALSE(poll(w, *a));
    CHECK(io->in_direct_slot(w));
    CHECK_FALSE(poll(r, *b));
    CHECK(r.linked.load());
    io->set_readiness(Ready::kReadable);
    CHECK(b->take_woken());
    CHECK_FALSE(a->take_woken());
    CHECK(a->outstanding() == 1);
    io->remove_waiter(r);
    // Polled again with the same waker: still the slot's, no second reference.
    CHECK_FALSE(poll(w, *a));
    CHECK(a->outstanding() == 1);
    io->set_readiness(Ready::kWritable);
    CHECK(a->take_woken());
    CHECK(a->outstanding() == 0);
    // Re-registering after the wake: ready at once now, nothing held.
    CHECK(poll(w, *a));
    io->remove_waiter(w);
    CHECK(a->outstanding() == 0);
  }
  {
    // Shutdown wakes the slot and the list alike.
    io->clear_readiness(io->load(), rmask | wmask);
    IoWaiter w1(rmask), w2(wmask);
    CHECK_FALSE(poll(w1, *a));
    CHECK_FALSE(poll(w2, *b));
    CHECK(io->in_direct_slot(w1));
    CHECK(w2.linked.load());
    io->shutdown();
    CHECK(a->take_woken());
    CHECK(b->take_woken());
    CHECK(a->outstanding() == 0);
    CHECK(b->outstanding() == 0);
    io->remove_waiter(w1);
    io->remove_waiter(w2);
    CHECK(poll(w1, *a));  // every wait completes once the driver shut down
  }
}

TEST_CASE("reactor: a woken waiter never reads its entry again, even once it is released") {
  // An operation can outlive its I/O object: an accept in a task that abort() has not
  // cancelled yet when the listener is dropped. The deregistration wakes it (shutdown), the
  // driver releases the entry on a later turn, and only then is the operation destroyed.
  // Its remove_waiter must learn from its own node that it was woken; under ASan a read of
  // the released entry fails here (CI run 31 caught the first slot design doing that).
  using tokio::detail::IoWaiter;
  using tokio::detail::ScheduledIo;
  using CW = test::CountingWaker;
  auto a = CW::create(), b = CW::create();
  IoWaiter in_slot(Interest::READABLE.mask()), in_list(Interest::WRITABLE.mask());
  auto* io = new ScheduledIo();
  auto poll = [&](IoWaiter& w, CW& k) {
    tokio::task::Context cx(k.raw());
    uint32_t snap = 0;
    return io->poll_ready(cx, w, snap);
  };
  CHECK_FALSE(poll(in_slot, *a));
  CHECK_FALSE(poll(in_list, *b));
  REQUIRE(io->in_direct_slot(in_slot));
  REQUIRE(in_list.linked.load());
  io->shutdown();  // the deregistration wake
  CHECK(a->take_woken());
  CHECK(b->take_woken());
  // What each operation still points at (volatile: the compiler must not see the reads
  // below as the use after free they would be if remove_waiter read the entry).
  ScheduledIo* volatile entry = io;
  delete io;  // released by the driver before the owners look
  io = nullptr;
  CHECK_FALSE(in_slot.linked.load());
  CHECK_FALSE(in_list.linked.load());
  // What IoOp's destructor does; it may read only the node (ASan reports any entry read).
  entry->remove_waiter(in_slot);
  entry->remove_waiter(in_list);
  CHECK(a->outstanding() == 0);
  CHECK(b->outstanding() == 0);
}

TEST_CASE("reactor: a waiter of a reset entry's old generation fails and never links") {
  // An operation another task left waiting when it destroyed the I/O object: woken by the
  // deregistration, it may be polled only after the driver reset the entry, maybe after a
  // new socket took it. It must fail as after a shutdown, whatever the new word says.
  using tokio::detail::IoWaiter;
  using tokio::detail::ScheduledIo;
  using CW = test::CountingWaker;
  auto k = CW::create();
  ScheduledIo io;
  auto poll = [&](IoWaiter& w, uint32_t& snap) {
    tokio::task::Context cx(k->raw());
    return io.poll_ready(cx, w, snap);
  };
  IoWaiter old_op(Interest::READABLE.mask());
  old_op.gen = io.generation();
  uint32_t snap = 0;
  CHECK_FALSE(poll(old_op, snap));
  io.shutdown();  // the deregistration wake
  CHECK(k->take_woken());
  io.reset();  // released and reset by a later driver turn
  CHECK(io.generation() != old_op.gen);
  // Not ready in the new word: the slow path refuses to link the stale waiter.
  REQUIRE(poll(old_op, snap));
  CHECK(snap == ScheduledIo::kShutdown);
  CHECK_FALSE(old_op.linked.load());
  // A new socket's readiness does not reach it either.
  io.assume_ready(Interest::READABLE.mask());
  REQUIRE(poll(old_op, snap));
  CHECK(snap == ScheduledIo::kShutdown);
  // An operation made for the new registration sees that readiness; unchecked ones too.
  IoWaiter new_op(Interest::READABLE.mask()), internal(Interest::READABLE.mask());
  new_op.gen = io.generation();
  REQUIRE(poll(new_op, snap));
  CHECK((snap & Interest::READABLE.mask()) != 0);
  REQUIRE(poll(internal, snap));
  CHECK((snap & ScheduledIo::kShutdown) == 0);
  // The generation skips 0 (the unchecked value) when it wraps.
  io.generation_.store(0xFFFFFFFFu);
  io.reset();
  CHECK(io.generation() == 1);
  CHECK(k->outstanding() == 0);
}

TEST_CASE("reactor: Interest masks and Ready sets") {
  CHECK((Interest::READABLE | Interest::WRITABLE).is_readable());
  CHECK((Interest::READABLE | Interest::WRITABLE).is_writable());
  CHECK_FALSE(Interest::READABLE.is_writable());
  CHECK((Interest::READABLE.mask() & Ready::kReadClosed) != 0);
  CHECK((Interest::WRITABLE.mask() & Ready::kReadable) == 0);
  Ready r = Ready::READABLE | Ready::WRITE_CLOSED;
  CHECK(r.is_readable());
  CHECK(r.is_writable());  // a closed direction counts as ready
  CHECK_FALSE(r.is_read_closed());
  CHECK((r - Ready::READABLE) == Ready::WRITE_CLOSED);
  CHECK(Ready::EMPTY.is_empty());
}

TEST_CASE("reactor: AsyncFd readable guard, try_io would-block, wake on write") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("AsyncFd pipe");
    auto rt = nt::io_runtime(flavour);
    Pipe p;
    rt.block_on([](Pipe* p) -> Task<> {
      auto afd = AsyncFd<int>::create(p->r, Interest::READABLE);
      REQUIRE(afd.has_value());
      CHECK(afd->as_raw_fd() == p->r);
      // Nothing to read: try_io says would-block without a syscall result.
      auto t = afd->try_io(Interest::READABLE, [](int& fd) {
        char c;
        return read_fd(fd, &c, 1);
      });
      CHECK(tokio::io::is_would_block(t.error()));
      auto writer = tokio::spawn(
          [](int w) -> Task<> {
            co_await nt::settle();
            CHECK(::write(w, "ping", 4) == 4);
          },
          p->w);
      CHECK(co_await guarded_read(*afd) == "ping");
      co_await writer;
      // Drained: the next guard waits for a new edge; a spurious guard's try_io says
      // TryIoError and clears readiness.
      p->put("pong");
      CHECK(co_await guarded_read(*afd) == "pong");
    }(&p));
  }
}

// Every way to reach the fd of an AsyncFd that holds nothing: a clear error, never a
// dereference of an empty optional (or of a moved-from int that still looks like an fd).
Task<> check_empty_async_fd(AsyncFd<int>& e) {
  CHECK(e.as_raw_fd() == -1);
  CHECK_THROWS_WITH_AS((void)e.get_ref(), doctest::Contains("after into_inner() or a move"),
                       std::logic_error);
  CHECK_THROWS_AS((void)e.get_mut(), std::logic_error);
  CHECK_THROWS_WITH_AS((void)std::move(e).into_inner(), doctest::Contains("into_inner"),
                       std::logic_error);
  auto g = co_await e.readable();
  REQUIRE_FALSE(g.has_value());
  CHECK(g.error() == std::errc::bad_file_descriptor);
  auto w = co_await e.ready(Interest::WRITABLE);
  REQUIRE_FALSE(w.has_value());
  CHECK(w.error() == std::errc::bad_file_descriptor);
  int calls = 0;
  auto count = [&calls](int&) -> tokio::io::Result<std::size_t> {
    ++calls;
    return std::size_t{0};
  };
  auto a = co_await e.async_io(Interest::READABLE, count);
  REQUIRE_FALSE(a.has_value());
  CHECK(a.error() == std::errc::bad_file_descriptor);
  auto t = e.try_io(Interest::READABLE, count);
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error() == std::errc::bad_file_descriptor);
  CHECK(calls == 0);
}

TEST_CASE("reactor: an AsyncFd after into_inner() or a move is a clear error, never a crash") {
  auto rt = nt::io_multi(2);
  Pipe p;
  rt.block_on([](Pipe* p) -> Task<> {
    nt::Watchdog wd("AsyncFd after a move");
    auto made = AsyncFd<int>::create(p->r, Interest::READABLE);
    REQUIRE(made.has_value());
    AsyncFd<int> a = std::move(*made);  // move construction empties the source
    co_await check_empty_async_fd(*made);
    p->put("z");
    CHECK(co_await guarded_read(a) == "z");  // the moved-to one is registered and works

    // Move assignment: the target's own registration goes first, the source is emptied. (A
    // second registration of the same fd would be EEXIST: the other one has a dup.)
    int d = ::fcntl(p->r, F_DUPFD_CLOEXEC, 0);
    REQUIRE(d >= 0);
    auto other = AsyncFd<int>::create(d, Interest::READABLE);
    REQUIRE(other.has_value());
    a = std::move(*other);
    co_await check_empty_async_fd(*other);
    p->put("w");
    CHECK(co_await guarded_read(a) == "w");

    int fd = std::move(a).into_inner();  // deregisters, hands the fd back (still open)
    CHECK(fd == d);
    CHECK(::fcntl(fd, F_GETFD) >= 0);
    ::close(d);
    co_await check_empty_async_fd(a);
    // p->r was deregistered by the assignment: it registers again.
    CHECK(AsyncFd<int>::create(p->r, Interest::READABLE).has_value());
  }(&p));
}

TEST_CASE("reactor: async_io retries on would-block, guard clear_ready forgets readiness") {
  auto rt = nt::io_multi(2);
  Pipe p;
  rt.block_on([](Pipe* p) -> Task<> {
    auto afd = AsyncFd<int>::create(p->r);
    REQUIRE(afd.has_value());
    p->put("x");
    auto g = co_await afd->readable();
    REQUIRE(g.has_value());
    CHECK(g->ready().is_readable());
    g->clear_ready();  // pretend we consumed it (we did not)
    // The data is still there, but readiness was cleared: async_io must still succeed
    // only after a new edge. Write more so an edge arrives.
    // Joined before the test ends (also when a REQUIRE throws): a detached thread's CHECK
    // raced doctest's end of run (TSan, CI 152).
    struct Joined {
      std::thread t;
      ~Joined() { t.join(); }
    } writer{std::thread([w = p->w] {
      std::this_thread::sleep_for(20ms);
      CHECK(::write(w, "y", 1) == 1);
    })};
    char buf[8];
    // The f, args... form: the buffer and its size travel as arguments.
    auto n = co_await afd->async_io(
        Interest::READABLE, [](int& fd, char* b, std::size_t len) { return read_fd(fd, b, len); },
        buf, sizeof buf);
    REQUIRE(n.has_value());
    CHECK(std::string(buf, *n) == "xy");
  }(&p));
}

TEST_CASE("reactor: several tasks wait on one fd and all wake") {
  auto rt = nt::io_multi(2);
  Pipe p;
  int woke = rt.block_on([](Pipe* p) -> Task<int> {
    auto afd = AsyncFd<int>::create(p->r);
    REQUIRE(afd.has_value());
    co_return co_await wake_all_waiters(*afd, *p, 5);
  }(&p));
  CHECK(woke == 5);
}

TEST_CASE("reactor: slot and list waiters cancelled while edges arrive lose no wake-up") {
  // Four tasks wait on one fd (the first to register takes the ScheduledIo's direct slot,
  // the others the list) under short timeouts, so waits are cancelled at random points
  // while a writer thread delivers edges and the driver wakes them. Afterwards a fresh set
  // of waiters (slot and list again) must each be woken by one more edge: a registration
  // left behind by the churn (a stale slot owner, a list node not unlinked) would leave
  // one of them asleep (the watchdog fires) or be reported by the sanitizers.
  nt::Watchdog wd("slot/list churn", std::chrono::seconds(120));
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  Pipe p;
  std::atomic<bool> stop{false};
  const int writes = static_cast<int>(test::scaled(4000));
  std::thread writer([&] {
    uint32_t seed = 12345;
    for (int i = 0; i < writes; ++i) {
      (void)!::write(p.w, "e", 1);
      seed = seed * 1103515245u + 12345u;
      std::this_thread::sleep_for(std::chrono::microseconds((seed >> 16) % 200));
    }
    stop.store(true);
  });
  struct Counts {
    std::atomic<long> elapsed{0}, woken{0};
  } counts;
  int late = rt.block_on([](Pipe* p, std::atomic<bool>* stop, Counts* c) -> Task<int> {
    auto afd = AsyncFd<int>::create(p->r);
    REQUIRE(afd.has_value());
    std::vector<tokio::JoinHandle<void>> churn;
    for (uint32_t i = 0; i < 4; ++i) {
      churn.push_back(tokio::spawn(
          [](AsyncFd<int>* a, std::atomic<bool>* stop, Counts* c, uint32_t seed) -> Task<> {
            while (!stop->load()) {
              seed = seed * 1103515245u + 12345u;
              auto limit = std::chrono::microseconds(20 + (seed >> 16) % 300);
              auto g = co_await tokio::time::timeout(limit, a->readable());
              if (!g) {
                c->elapsed.fetch_add(1);  // cancelled while registered (or being woken)
                continue;
              }
              REQUIRE(g->has_value());
              c->woken.fetch_add(1);
              char buf[64];
              (void)(*g)->try_io(
                  [&](AsyncFd<int>& f) { return read_fd(f.as_raw_fd(), buf, sizeof buf); });
            }
          },
          &*afd, stop, c, i * 7919u + 1u));
    }
    for (auto& h : churn) co_await h;
    // Drain what is left, so the next wait has to be woken by a new edge.
    char buf[256];
    while (read_fd(p->r, buf, sizeof buf)) {
    }
    co_return co_await wake_all_waiters(*afd, *p, 4);
  }(&p, &stop, &counts));
  writer.join();
  CHECK(late == 4);
  // Both paths were taken: waits woken by edges and waits cancelled by their timeout.
  CHECK(counts.woken.load() > 0);
  CHECK(counts.elapsed.load() > 0);
}

TEST_CASE("reactor: cancelling a suspended readiness wait unregisters it") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("cancel readable");
    auto rt = nt::io_runtime(flavour);
    Pipe p;
    rt.block_on([](Pipe* p) -> Task<> {
      auto afd = AsyncFd<int>::create(p->r);
      REQUIRE(afd.has_value());
      // Lose a select: the readable() branch is destroyed while suspended.
      auto [tx, rx] = oneshot::channel<int>();
      (void)tx.send(1);
      auto v = co_await tokio::select(afd->readable(), std::move(rx));
      CHECK(v.index() == 1);
      // Abort a task suspended in readable().
      std::atomic<int> drops{0};
      auto h = tokio::spawn(
          [](AsyncFd<int>* a, test::DropCounter) -> Task<> {
            (void)co_await a->readable();
            FAIL("readable completed without data");
          },
          &*afd, test::DropCounter(drops));
      co_await nt::settle();
      h.abort();
      auto r = co_await h.result();
      CHECK_FALSE(r.has_value());
      CHECK(drops.load() == 1);
      // The fd still works for a new waiter.
      p->put("z");
      auto g = co_await afd->readable();
      CHECK(g.has_value());
    }(&p));
  }
}

TEST_CASE("reactor: the coop budget makes an always-ready I/O loop yield") {
  auto rt = nt::io_current();
  int efd = ::eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);  // readable forever (never read)
  REQUIRE(efd >= 0);
  bool other_ran_during_loop = rt.block_on([](int efd) -> Task<bool> {
    auto afd = AsyncFd<int>::create(efd);
    REQUIRE(afd.has_value());
    std::atomic<bool> ran{false};
    auto h = tokio::spawn(
        [](std::atomic<bool>* r) -> Task<> {
          r->store(true);
          co_return;
        },
        &ran);
    bool seen = false;
    for (int i = 0; i < 1000 && !seen; ++i) {
      auto g = co_await afd->readable();  // always ready: only the budget suspends it
      REQUIRE(g.has_value());
      seen = ran.load();
    }
    co_await h;
    co_return seen;
  }(efd));
  CHECK(other_ran_during_loop);
  ::close(efd);
}

TEST_CASE("reactor: a driver parked in epoll_wait is woken by other threads") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("unpark");
    auto rt = nt::io_runtime(flavour);
    auto h = rt.handle();
    // Remote spawns and an fd written from a plain thread, while the runtime is idle.
    int got = rt.block_on([](tokio::runtime::Handle h) -> Task<int> {
      int sum = 0;
      for (int i = 0; i < 50; ++i) {
        auto [tx, rx] = oneshot::channel<int>();
        std::thread t([&h, tx = std::move(tx), i]() mutable {
          h.spawn([](oneshot::Sender<int> tx, int i) -> Task<> {
            (void)tx.send(i);
            co_return;
          }(std::move(tx), i));
        });
        auto v = co_await std::move(rx);
        t.join();
        sum += v.value();
      }
      Pipe p;
      auto afd = AsyncFd<int>::create(p.r);
      REQUIRE(afd.has_value());
      for (int i = 0; i < 50; ++i) {
        std::thread t([w = p.w] { CHECK(::write(w, "a", 1) == 1); });
        char c;
        auto n =
            co_await afd->async_io(Interest::READABLE, [&](int& fd) { return read_fd(fd, &c, 1); });
        CHECK(n.value() == 1);
        t.join();
      }
      co_return sum;
    }(h));
    CHECK(got == 49 * 50 / 2);
  }
}

TEST_CASE("reactor: a runtime without enable_io runs, and I/O on it is a clear error") {
  auto rt = test::current_thread();
  CHECK(rt.block_on([]() -> Task<int> { co_return 7; }()) == 7);
  std::string msg;
  try {
    rt.block_on([]() -> Task<> {
      auto l = co_await tokio::net::TcpListener::bind("127.0.0.1:0");
      (void)l;
    }());
  } catch (const std::logic_error& e) {
    msg = e.what();
  }
  CHECK(msg.find("enable_io") != std::string::npos);
  Pipe p;
  CHECK_THROWS_AS(rt.block_on([](int fd) -> Task<> {
    (void)AsyncFd<int>::create(fd);
    co_return;
  }(p.r)),
                  std::logic_error);
  // Outside any runtime.
  CHECK_THROWS_AS((void)AsyncFd<int>::create(p.r), std::logic_error);
  // A regular file cannot be polled: epoll refuses it, and the error is returned.
  auto io_rt = nt::io_current();
  auto err = io_rt.block_on([]() -> Task<std::error_code> {
    int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto afd = AsyncFd<int>::create(fd);
    ::close(fd);
    co_return afd ? std::error_code() : afd.error();
  }());
  CHECK(err == std::errc::operation_not_permitted);
  CHECK_THROWS_AS((void)tokio::net::UnixStream::pair(), std::logic_error);
}

TEST_CASE("reactor: an I/O object outliving its runtime fails cleanly") {
  Pipe p;
  std::optional<AsyncFd<int>> kept;
  {
    auto rt = nt::io_current();
    rt.block_on([](Pipe* p, std::optional<AsyncFd<int>>* kept) -> Task<> {
      auto afd = AsyncFd<int>::create(p->r);
      REQUIRE(afd.has_value());
      kept->emplace(std::move(*afd));
      co_return;
    }(&p, &kept));
  }  // runtime shut down: the registration keeps the driver alive, marked shut down
  auto rt2 = nt::io_current();
  auto r = rt2.block_on([](AsyncFd<int>* a) -> Task<tokio::io::Result<void>> {
    auto g = co_await a->readable();
    if (!g) co_return tokio::unexpected(g.error());
    co_return tokio::io::Result<void>();
  }(&*kept));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == tokio::io::ReactorErrc::shutdown);
  CHECK(r.error() == std::errc::operation_canceled);
  kept.reset();  // deregisters against the dead runtime's driver
}

TEST_CASE("reactor: shutdown with tasks suspended on I/O destroys them cleanly") {
  std::atomic<int> drops{0};
  std::vector<Pipe> pipes(8);
  {
    auto rt = nt::io_multi(2);
    rt.block_on([](std::vector<Pipe>* ps, std::atomic<int>* drops) -> Task<> {
      for (auto& p : *ps) {
        tokio::spawn(
            [](int fd, test::DropCounter) -> Task<> {
              auto afd = AsyncFd<int>::create(fd);
              REQUIRE(afd.has_value());
              (void)co_await afd->readable();
            },
            p.r, test::DropCounter(*drops));
      }
      co_await nt::settle();
    }(&pipes, &drops));
  }
  CHECK(drops.load() == 8);
}

TEST_CASE("reactor: deregistering while the driver is waking the fd's waiters is safe") {
  // A writer thread keeps producing edges while tasks register, wait and drop their
  // AsyncFds; run under the sanitizers this checks the driver never touches a recycled
  // registration and wake-ups racing with deregistration only cause spurious polls.
  nt::Watchdog wd("dereg race");
  auto rt = nt::io_multi(2);
  const int rounds = static_cast<int>(test::scaled(2000));
  std::vector<Pipe> pipes(4);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop.load()) {
      for (auto& p : pipes) (void)!::write(p.w, "e", 1);
      std::this_thread::yield();
    }
  });
  int done = rt.block_on([](std::vector<Pipe>* ps, int rounds) -> Task<int> {
    std::vector<tokio::JoinHandle<int>> hs;
    for (auto& p : *ps) {
      hs.push_back(tokio::spawn(
          [](int fd, int rounds) -> Task<int> {
            int n = 0;
            for (int i = 0; i < rounds; ++i) {
              auto afd = AsyncFd<int>::create(fd);
              REQUIRE(afd.has_value());
              char buf[64];
              auto r = co_await afd->async_io(Interest::READABLE,
                                              [&](int& f) { return read_fd(f, buf, sizeof buf); });
              if (r) ++n;
            }  // deregistered here, possibly while the driver dispatches an edge for it
            co_return n;
          },
          p.r, rounds));
    }
    int total = 0;
    for (auto& h : hs) total += co_await h;
    co_return total;
  }(&pipes, rounds));
  stop.store(true);
  writer.join();
  CHECK(done == 4 * rounds);
}

TEST_CASE("reactor: a storm of signals (EINTR everywhere) causes no I/O errors") {
  nt::Watchdog wd("signal storm");
  struct sigaction sa {
  }, old{};
  sa.sa_handler = [](int) {};
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls (epoll_wait, futex...) see EINTR
  sigemptyset(&sa.sa_mask);
  REQUIRE(::sigaction(SIGUSR1, &sa, &old) == 0);
  std::atomic<bool> stop{false};
  std::thread storm([&] {
    while (!stop.load()) {
      ::kill(::getpid(), SIGUSR1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  auto rt = nt::io_multi(2);
  std::size_t total = rt.block_on([]() -> Task<std::size_t> {
    auto p = co_await nt::tcp_pair();
    auto writer = tokio::spawn(
        [](tokio::net::TcpStream s) -> Task<> {
          std::string chunk(1000, 'z');
          for (int i = 0; i < 2000; ++i) {
            REQUIRE((co_await s.write_all(chunk)).has_value());
            if (i % 50 == 0) co_await nt::settle(1);
          }
        },
        std::move(p.client));
    std::size_t got = 0;
    char buf[4096];
    for (;;) {
      auto n = co_await p.server.read(buf);
      REQUIRE(n.has_value());
      if (*n == 0) break;
      got += *n;
    }
    co_await writer;
    co_return got;
  }());
  stop.store(true);
  storm.join();
  ::sigaction(SIGUSR1, &old, nullptr);
  CHECK(total == 2000u * 1000u);
}

TEST_CASE("reactor: a hung-up fd whose operation keeps saying EAGAIN yields instead of spinning") {
  nt::Watchdog wd("hup spin");
  auto rt = nt::io_current();
  Pipe p;
  ::close(p.w);  // the read end now reports hang-up forever
  p.w = -1;
  int attempts = rt.block_on([](int fd) -> Task<int> {
    auto afd = AsyncFd<int>::create(fd);
    REQUIRE(afd.has_value());
    REQUIRE((co_await afd->readable()).has_value());
    int n = 0;
    // A closure that never makes progress: without the yield this poll would never
    // return and the other branch (on this single thread) could never run.
    auto stuck = afd->async_io(Interest::READABLE, [&n](int&) -> tokio::io::Result<int> {
      ++n;
      return tokio::io::os_error(EAGAIN);
    });
    auto v = co_await tokio::select_biased(std::move(stuck), nt::settle(50));
    CHECK(v.index() == 1);
    co_return n;
  }(p.r));
  CHECK(attempts >= 1);
}
