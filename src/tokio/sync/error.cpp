// Out-of-line pieces of error.hpp.
#include "tokio/sync/error.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

namespace tokio::detail {

void throw_mpsc_capacity(std::size_t capacity, std::size_t max) {
  if (capacity == 0) {
    throw std::invalid_argument(
        "tokio::sync::mpsc::channel: capacity must be at least 1 (use a oneshot or a "
        "Notify for a rendezvous)");
  }
  throw std::invalid_argument("tokio::sync::mpsc::channel: capacity " + std::to_string(capacity) +
                              " exceeds the maximum (" + std::to_string(max) + ")");
}

void throw_broadcast_capacity(std::size_t capacity) {
  if (capacity == 0) {
    throw std::invalid_argument("tokio::sync::broadcast: channel capacity cannot be zero");
  }
  throw std::invalid_argument("tokio::sync::broadcast: channel capacity " +
                              std::to_string(capacity) + " is too large");
}

void throw_rwlock_max_reads(uint32_t n, uint32_t max) {
  throw std::invalid_argument("tokio::sync::RwLock: max_reads must be in 1..=" +
                              std::to_string(max) + " (got " + std::to_string(n) + ")");
}

std::string lagged_text(uint64_t missed) { return "channel lagged by " + std::to_string(missed); }

void report_destroyed_in_use(const char* what, const char* how) noexcept {
  std::fprintf(stderr,
               "tokio: %s destroyed while %s; its waiters can never be woken, and any use "
               "of it afterwards (a wake, a guard's unlock) is undefined behaviour: keep it "
               "alive (for example in a std::shared_ptr held by every task that uses it) "
               "until they are done\n",
               what, how);
}

void throw_second_recv() {
  throw std::logic_error(
      "tokio: a second recv() / recv_many() / try_recv() on one mpsc receiver while another "
      "is in progress (two tasks sharing the receiver): an mpsc channel has one consumer. To "
      "share the messages among workers, put the receiver in a tokio::sync::Mutex and "
      "recv() under the lock, or give each worker a channel");
}

void throw_second_broadcast_recv() {
  throw std::logic_error(
      "tokio: a second recv() / try_recv() on one broadcast receiver while another is in "
      "progress (two tasks sharing the receiver): a receiver has one position in the "
      "channel. Give each task its own receiver (Sender::subscribe() or "
      "Receiver::resubscribe()): each then sees every value");
}

}  // namespace tokio::detail
