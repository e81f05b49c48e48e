// Out-of-line pieces of read_ext.hpp.
#include "tokio/io/read_ext.hpp"

#include <stdexcept>

namespace tokio::detail {

void throw_overlong_read() {
  throw std::logic_error(
      "an AsyncRead/AsyncWrite implementation reported more bytes than the buffer it was "
      "given; fix its read/write to return at most buf.size()");
}

}  // namespace tokio::detail
