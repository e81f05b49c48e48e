// io::Errc's error category.
#include "tokio/io/error.hpp"

namespace tokio::io {

namespace io_error_impl {
class IoCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tokio.io"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::unexpected_eof: return "unexpected end of file";
      case Errc::write_zero: return "write returned zero bytes: the writer can accept no more data";
    }
    return "unknown tokio.io error";
  }
};
}  // namespace io_error_impl

const std::error_category& io_category() noexcept {
  static const io_error_impl::IoCategory cat;
  return cat;
}

}  // namespace tokio::io
