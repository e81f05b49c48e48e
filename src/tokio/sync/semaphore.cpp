// Out-of-line pieces of semaphore.hpp: the owned and blocking forms and the permit
// bookkeeping (what most user TUs never call).
#include "tokio/sync/semaphore.hpp"

namespace tokio::sync {

void SemaphorePermit::merge(SemaphorePermit&& other) {
  merge_from(other, "SemaphorePermit::merge: the permits belong to different semaphores");
}

std::optional<SemaphorePermit> SemaphorePermit::split(std::size_t n) noexcept {
  if (!split_off(n)) return std::nullopt;
  return SemaphorePermit(s_, n);
}

OwnedSemaphorePermit::OwnedSemaphorePermit(std::shared_ptr<Semaphore> s, std::size_t n) noexcept
    : HeldPermits(nullptr, n, std::move(s)) {
  if (keep_) s_ = &keep_->raw();
}

void OwnedSemaphorePermit::forget() noexcept {
  disown();
  keep_.reset();
}

void OwnedSemaphorePermit::merge(OwnedSemaphorePermit&& other) {
  merge_from(other, "OwnedSemaphorePermit::merge: the permits belong to different semaphores");
}

std::optional<OwnedSemaphorePermit> OwnedSemaphorePermit::split(std::size_t n) noexcept {
  if (!split_off(n)) return std::nullopt;
  return OwnedSemaphorePermit(keep_, n);
}

Semaphore::AcquireOwned Semaphore::acquire_owned(std::shared_ptr<Semaphore> s) {
  return acquire_many_owned(std::move(s), 1);
}

Semaphore::AcquireOwned Semaphore::acquire_many_owned(std::shared_ptr<Semaphore> s, uint32_t n) {
  if (!s) detail::throw_misuse("Semaphore::acquire_owned on a null shared_ptr");
  detail::BatchSemaphore* raw = &s->sem_;
  return AcquireOwned(raw, n, MakeOwned{std::move(s)});
}

Semaphore::TryOwned Semaphore::try_acquire_owned(std::shared_ptr<Semaphore> s) {
  return try_acquire_many_owned(std::move(s), 1);
}

Semaphore::TryOwned Semaphore::try_acquire_many_owned(std::shared_ptr<Semaphore> s, uint32_t n) {
  if (!s) detail::throw_misuse("Semaphore::try_acquire_owned on a null shared_ptr");
  switch (s->sem_.try_acquire(n)) {
    case detail::BatchSemaphore::TryResult::Ok: return OwnedSemaphorePermit(std::move(s), n);
    case detail::BatchSemaphore::TryResult::Closed: return unexpected(TryAcquireError::Closed);
    default: return unexpected(TryAcquireError::NoPermits);
  }
}

Result<SemaphorePermit, AcquireError> Semaphore::blocking_acquire() {
  return blocking_acquire_many(1);
}

Result<SemaphorePermit, AcquireError> Semaphore::blocking_acquire_many(uint32_t n) {
  Acquire a = acquire_many(n);
  return detail::blocking_wait(a, "Semaphore::blocking_acquire");
}

}  // namespace tokio::sync
