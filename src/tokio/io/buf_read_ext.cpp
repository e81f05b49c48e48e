// Out-of-line pieces of buf_read_ext.hpp.
#include "tokio/io/buf_read_ext.hpp"

namespace tokio::detail {

io::Result<std::optional<std::string>> take_chunk(std::string& buf, bool found) {
  if (!found && buf.empty()) return std::optional<std::string>();
  if (found) {
    buf.pop_back();
    if (!buf.empty() && buf.back() == '\r') buf.pop_back();
  }
  if (!utf8_valid(reinterpret_cast<const unsigned char*>(buf.data()), buf.size())) {
    buf.clear();
    return unexpected(invalid_utf8());
  }
  // The line moves once, straight into the result (no named temporary, no optional built
  // and moved again: io lines runs this once per line).
  io::Result<std::optional<std::string>> out(std::move(buf));
  buf.clear();  // moved from: empty for the next chunk whatever the string left behind
  return out;
}

io::Result<std::optional<std::vector<std::byte>>> take_chunk(std::vector<std::byte>& buf,
                                                             bool found) {
  if (!found && buf.empty()) return std::optional<std::vector<std::byte>>();
  if (found) buf.pop_back();
  return std::optional<std::vector<std::byte>>(std::exchange(buf, std::vector<std::byte>()));
}

}  // namespace tokio::detail
