// Out-of-line pieces of error.hpp.
#include "tokio/sync/error.hpp"

namespace tokio::detail {

std::string lagged_text(uint64_t missed) { return "channel lagged by " + std::to_string(missed); }

void throw_second_recv() {
  throw std::logic_error(
      "tokio: a second recv() was awaited on one mpsc receiver while another is pending (two "
      "tasks sharing the receiver): an mpsc channel has one consumer, and one of the two "
      "would never wake. To share the messages among workers, put the receiver in a "
      "tokio::sync::Mutex and recv() under the lock, or give each worker a channel");
}

}  // namespace tokio::detail
