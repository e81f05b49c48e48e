#include "tokio/io/reactor_error.hpp"

#include <string>

namespace tokio::io {

namespace io_reactor_error_impl {
class ReactorCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tokio.reactor"; }
  std::string message(int) const override {
    return "the runtime's I/O driver has shut down (or the I/O object was closed while an "
           "operation on it was still waiting)";
  }
  std::error_condition default_error_condition(int) const noexcept override {
    return std::errc::operation_canceled;
  }
};
}  // namespace io_reactor_error_impl

const std::error_category& reactor_category() noexcept {
  static const io_reactor_error_impl::ReactorCategory c;
  return c;
}

}  // namespace tokio::io
