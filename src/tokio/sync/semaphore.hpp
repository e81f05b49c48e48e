#pragma once
// sync::Semaphore: an asynchronous counting semaphore, FIFO-fair.
//
//   tokio::sync::Semaphore sem(3);
//   auto permit = co_await sem.acquire();      // Result<SemaphorePermit, AcquireError>
//   if (!permit) co_return;                    // the semaphore was closed
//   ...                                        // the permit is released when destroyed
//
// Fairness: acquirers are served strictly in the order they first polled; a request for
// many permits at the head of the queue holds back later, smaller requests (it takes
// permits as they come back). try_acquire never overtakes a queued waiter.
//
// Cancel safety: acquire() / acquire_many() are not cancel-safe in the sense that a
// cancelled acquire loses its place in the queue; no permit is ever lost (those it had
// already been handed go to the next waiter). The same holds for acquire_owned() and
// acquire_many_owned().
//
// Owned permits (acquire_owned on a std::shared_ptr<Semaphore>) keep the semaphore alive
// and can be moved into other tasks.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/sync/error.hpp"
#include "tokio/sync/detail/batch_semaphore.hpp"
#include "tokio/sync/detail/blocking.hpp"
#include "tokio/sync/detail/permits.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"

namespace tokio::sync {

class Semaphore;

// Permits borrowed from a Semaphore; released when destroyed.
class SemaphorePermit : public detail::HeldPermits<detail::NoKeep> {
 public:
  SemaphorePermit() noexcept = default;
  SemaphorePermit(detail::BatchSemaphore* s, std::size_t n) noexcept : HeldPermits(s, n, {}) {}

  std::size_t num_permits() const noexcept { return n_; }
  // Keeps the permits out of the semaphore for good (they are not returned).
  void forget() noexcept { disown(); }
  // Adds `other`'s permits to this one. Both must come from the same semaphore (else
  // std::logic_error).
  void merge(SemaphorePermit&& other);
  // Splits n permits off into a new permit; fails (empty optional) when n > num_permits().
  std::optional<SemaphorePermit> split(std::size_t n) noexcept;
};

// Permits owned together with a reference to their Semaphore.
class OwnedSemaphorePermit : public detail::HeldPermits<std::shared_ptr<Semaphore>> {
 public:
  OwnedSemaphorePermit() noexcept = default;
  OwnedSemaphorePermit(std::shared_ptr<Semaphore> s, std::size_t n) noexcept;

  std::size_t num_permits() const noexcept { return n_; }
  const std::shared_ptr<Semaphore>& semaphore() const noexcept { return keep_; }
  void forget() noexcept;
  void merge(OwnedSemaphorePermit&& other);
  std::optional<OwnedSemaphorePermit> split(std::size_t n) noexcept;
};

class Semaphore {
 public:
  // The largest number of permits a semaphore can hold (Tokio's MAX_PERMITS).
  static constexpr std::size_t MAX_PERMITS = detail::BatchSemaphore::MAX_PERMITS;

  // Throws std::invalid_argument when permits > MAX_PERMITS.
  explicit Semaphore(std::size_t permits) : sem_(permits) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  std::size_t available_permits() const noexcept { return sem_.available_permits(); }
  // Adds n permits (waiters are served first, in order). Throws std::invalid_argument
  // when the total would exceed MAX_PERMITS.
  void add_permits(std::size_t n) { sem_.add_permits_checked(n); }
  // Removes up to n currently available permits; returns how many were removed.
  std::size_t forget_permits(std::size_t n) noexcept { return sem_.forget_permits(n); }
  // Fails every pending and future acquire with AcquireError. Permits held stay valid.
  void close() noexcept { sem_.close(); }
  bool is_closed() const noexcept { return sem_.is_closed(); }

  // --- async acquisition -----------------------------------------------------------------
  struct MakeBorrowed {
    static constexpr const char* kLeafName = "sync::Semaphore::acquire";
    detail::BatchSemaphore* s;
    SemaphorePermit operator()(std::size_t n) const noexcept { return SemaphorePermit(s, n); }
  };
  struct MakeOwned {
    static constexpr const char* kLeafName = "sync::Semaphore::acquire_owned";
    std::shared_ptr<Semaphore> s;
    OwnedSemaphorePermit operator()(std::size_t n) const noexcept {
      return OwnedSemaphorePermit(s, n);
    }
  };
  using Acquire = detail::PermitAcquire<MakeBorrowed, AcquireError>;
  using AcquireOwned = detail::PermitAcquire<MakeOwned, AcquireError>;

  // Waits for one permit. Yields Result<SemaphorePermit, AcquireError>.
  Acquire acquire() noexcept { return Acquire(&sem_, 1, MakeBorrowed{&sem_}); }
  // Waits for n permits at once (queued as one request).
  Acquire acquire_many(uint32_t n) noexcept { return Acquire(&sem_, n, MakeBorrowed{&sem_}); }

  Result<SemaphorePermit, TryAcquireError> try_acquire() noexcept { return try_acquire_many(1); }
  Result<SemaphorePermit, TryAcquireError> try_acquire_many(uint32_t n) noexcept {
    switch (sem_.try_acquire(n)) {
      case detail::BatchSemaphore::TryResult::Ok: return SemaphorePermit(&sem_, n);
      case detail::BatchSemaphore::TryResult::Closed: return unexpected(TryAcquireError::Closed);
      default: return unexpected(TryAcquireError::NoPermits);
    }
  }

  // Owned forms: the permit holds a reference to the semaphore.
  // (Out of line, in semaphore.cpp: a user TU that does not call them does not
  // instantiate what they return.) Throw std::logic_error on a null shared_ptr.
  static AcquireOwned acquire_owned(std::shared_ptr<Semaphore> s);
  static AcquireOwned acquire_many_owned(std::shared_ptr<Semaphore> s, uint32_t n);
  using TryOwned = Result<OwnedSemaphorePermit, TryAcquireError>;
  static TryOwned try_acquire_owned(std::shared_ptr<Semaphore> s);
  static TryOwned try_acquire_many_owned(std::shared_ptr<Semaphore> s, uint32_t n);

  // Blocking forms for plain threads (throw std::logic_error on a runtime thread).
  Result<SemaphorePermit, AcquireError> blocking_acquire();
  Result<SemaphorePermit, AcquireError> blocking_acquire_many(uint32_t n);

  detail::BatchSemaphore& raw() noexcept { return sem_; }

 private:
  detail::BatchSemaphore sem_;
};

}  // namespace tokio::sync
