#pragma once
// Helpers for the sync suites: a counting waker and manual polling of leaf awaitables, so
// a test can drive a future step by step (exactly like Tokio's task::spawn test harness)
// and check when it is woken and when it completes, deterministically, on one thread.

#include <atomic>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "test_util.hpp"

namespace test {

// A Wakeable that counts wake-ups and the references resources hold on it. It lives as
// long as any reference does (a channel may keep a waker after the future that
// registered it is gone, exactly as with a task).
struct CountingWaker {
  tokio::detail::Wakeable w;  // first member (standard layout)
  std::atomic<int> wakes{0};
  std::atomic<int> refs{1};  // the test's own handle counts as one

  // The test's handle.
  struct Handle {
    CountingWaker* p;
    explicit Handle(CountingWaker* q) : p(q) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { do_drop(&p->w); }
    CountingWaker* operator->() const { return p; }
    CountingWaker& operator*() const { return *p; }
  };
  static Handle create() {
    auto* p = new CountingWaker();
    p->w.vtable = &kVTable;
    return Handle(p);
  }
  tokio::detail::Wakeable* raw() noexcept { return &w; }
  // True (and resets the count) when woken since the last call.
  bool take_woken() noexcept { return wakes.exchange(0) > 0; }
  // References held by resources (0 once everything released this waker).
  int outstanding() const noexcept { return refs.load() - 1; }

  static CountingWaker* from(tokio::detail::Wakeable* w) noexcept {
    return reinterpret_cast<CountingWaker*>(w);
  }
  static void do_wake(tokio::detail::Wakeable* w) noexcept {
    from(w)->wakes.fetch_add(1);
    do_drop(w);
  }
  static void do_wake_by_ref(tokio::detail::Wakeable* w) noexcept { from(w)->wakes.fetch_add(1); }
  static void do_clone(tokio::detail::Wakeable* w) noexcept { from(w)->refs.fetch_add(1); }
  static void do_drop(tokio::detail::Wakeable* w) noexcept {
    if (from(w)->refs.fetch_sub(1) == 1) delete from(w);
  }
  static constexpr tokio::detail::WakeableVTable kVTable{&do_wake, &do_wake_by_ref, &do_clone,
                                                         &do_drop};
};
static_assert(std::is_standard_layout_v<CountingWaker>);

// What Polled polls: the awaitable itself when it can be polled (a leaf, or Notified), else
// what its operator co_await makes (mpsc recv(), a stream's next()).
template <class A>
struct leaf_of {
  using type = A;
};
template <class A>
  requires(
      requires(A&& a) { std::move(a).operator co_await(); } &&
      !requires(A & a, tokio::task::Context& cx) { a.poll(cx); })
struct leaf_of<A> {
  using type = decltype(std::declval<A&&>().operator co_await());
};

// Owns a leaf awaitable (or the leaf an awaitable makes) and polls it by hand with a
// CountingWaker.
template <class A>
class Polled {
  using L = typename leaf_of<A>::type;

 public:
  explicit Polled(A&& a) : waker_(CountingWaker::create()), leaf_(make(std::move(a))) {}
  ~Polled() { leaf_.reset(); }

  // One poll; true when ready (the result is then available through take()).
  bool poll() {
    tokio::task::Context cx(waker_->raw());
    ready_ = leaf_->poll(cx);
    return *ready_;
  }
  bool is_ready() const noexcept { return ready_.value_or(false); }
  bool woken() noexcept { return waker_->take_woken(); }
  decltype(auto) take() { return leaf_->await_resume(); }
  // Destroys the awaitable (cancellation).
  void cancel() { leaf_.reset(); }
  L& leaf() { return *leaf_; }
  CountingWaker& waker() { return *waker_; }

 private:
  static std::unique_ptr<L> make(A&& a) {
    if constexpr (std::is_same_v<L, A>) {
      return std::make_unique<L>(std::move(a));
    } else {
      return std::unique_ptr<L>(new L(std::move(a).operator co_await()));  // made in place
    }
  }

  CountingWaker::Handle waker_;  // outlives the awaitable (declared first)
  std::unique_ptr<L> leaf_;      // (not std::optional: GCC's -Wmaybe-uninitialized misfires on it)
  std::optional<bool> ready_;
};

template <class L>
Polled<L> polled(L&& l) {
  return Polled<L>(std::forward<L>(l));
}

}  // namespace test
