#include "tokio/codec/error.hpp"

#include <string>

namespace tokio::detail::codec_error_impl {

class Category : public std::error_category {
 public:
  const char* name() const noexcept override { return "tokio.codec"; }
  std::string message(int c) const override {
    switch (static_cast<codec::Errc>(c)) {
      case codec::Errc::max_line_length_exceeded: return "max line length exceeded";
      case codec::Errc::max_chunk_length_exceeded: return "max chunk length exceeded";
      case codec::Errc::frame_too_large: return "frame size too big";
      case codec::Errc::invalid_frame_length:
        return "provided length would overflow after adjustment";
      case codec::Errc::bytes_remaining_on_stream: return "bytes remaining on stream";
      case codec::Errc::empty_frame_consumes_nothing:
        return "zero-length frame with num_skip 0 would consume no input";
    }
    return "unknown codec error";
  }
};

}  // namespace tokio::detail::codec_error_impl

namespace tokio::codec {

const std::error_category& codec_category() noexcept {
  static const detail::codec_error_impl::Category c;
  return c;
}

}  // namespace tokio::codec
