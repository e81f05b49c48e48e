// Out-of-line pieces of error.hpp.
#include "tokio/sync/error.hpp"

namespace tokio::detail {

std::string lagged_text(uint64_t missed) { return "channel lagged by " + std::to_string(missed); }

}  // namespace tokio::detail
