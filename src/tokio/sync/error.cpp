// Out-of-line pieces of error.hpp.
#include "tokio/sync/error.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

namespace tokio::detail {

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
