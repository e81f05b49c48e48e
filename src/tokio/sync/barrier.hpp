#pragma once
// sync::Barrier: n tasks wait until all n have arrived, then all continue together.
//
//   tokio::sync::Barrier barrier(3);
//   auto r = co_await barrier.wait();   // BarrierWaitResult
//   if (r.is_leader()) { ... }          // exactly one of each group of n is the leader
//
// The barrier is reusable: the (n+1)-th arrival starts the next generation. A barrier of
// 0 behaves like a barrier of 1 (every wait completes at once), as std::barrier and Tokio.
//
// Cancel safety: not cancel-safe. An arrival counts from the first poll of wait(); a
// cancelled wait still counts toward its generation (as in Tokio), it just is not woken.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "tokio/sync/detail/wait_list.hpp"
#include "tokio/core/detail/poll.hpp"

namespace tokio::sync {

class BarrierWaitResult {
 public:
  explicit BarrierWaitResult(bool leader) noexcept : leader_(leader) {}
  bool is_leader() const noexcept { return leader_; }

 private:
  bool leader_;
};

class Barrier {
 public:
  explicit Barrier(std::size_t n) noexcept : n_(n == 0 ? 1 : n) {}
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  class TOKIO_MUST_AWAIT Wait : public detail::Leaf<Wait> {
   public:
    explicit Wait(Barrier* b) noexcept : b_(b) {}
    Wait(Wait&& o) noexcept;
    // Copies start fresh (an awaitable may be copied before its first poll).
    Wait(const Wait& o) noexcept : detail::Leaf<Wait>(o), b_(o.b_) {}
    ~Wait();
    bool poll(task::Context& cx) noexcept;
    BarrierWaitResult await_resume() const noexcept { return BarrierWaitResult(leader_); }

   private:
    friend class Barrier;
    struct Node : detail::WaitNode {
      std::atomic<bool> released{false};
      std::atomic<detail::Wakeable*> waker{nullptr};
    };
    enum class St : uint8_t { Init, Waiting, Done };
    Barrier* b_;
    Node node_;
    St st_ = St::Init;
    bool leader_ = false;
  };

  // Arrives at the barrier and waits for the rest of the generation.
  Wait wait() noexcept { return Wait(this); }

 private:
  friend class Wait;
  detail::WaitLock lock_;
  std::size_t n_;
  std::size_t arrived_ = 0;   // guarded by lock_
  detail::WaitList waiters_;  // guarded by lock_
};

}  // namespace tokio::sync
