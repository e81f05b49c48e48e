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
      "tokio: a second recv() was awaited on one mpsc receiver while another is pending (two "
      "tasks sharing the receiver): an mpsc channel has one consumer, and one of the two "
      "would never wake. To share the messages among workers, put the receiver in a "
      "tokio::sync::Mutex and recv() under the lock, or give each worker a channel");
}

}  // namespace tokio::detail
