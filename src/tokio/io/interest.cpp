// Interest and Ready as text (interest.hpp).
#include "tokio/io/interest.hpp"

#include <string>

namespace tokio::detail::interest_impl {
inline void add(std::string& s, bool on, const char* name) {
  if (!on) return;
  if (!s.empty()) s += " | ";
  s += name;
}
}  // namespace tokio::detail::interest_impl

namespace tokio::io {

std::string to_string(Interest i) {
  std::string s;
  detail::interest_impl::add(s, i.is_readable(), "READABLE");
  detail::interest_impl::add(s, i.is_writable(), "WRITABLE");
  detail::interest_impl::add(s, i.is_priority(), "PRIORITY");
  detail::interest_impl::add(s, i.is_error(), "ERROR");
  return s.empty() ? "EMPTY" : s;
}

std::string to_string(Ready r) {
  std::string s;
  detail::interest_impl::add(s, (r.bits() & Ready::READABLE.bits()) != 0, "READABLE");
  detail::interest_impl::add(s, (r.bits() & Ready::WRITABLE.bits()) != 0, "WRITABLE");
  detail::interest_impl::add(s, r.is_read_closed(), "READ_CLOSED");
  detail::interest_impl::add(s, r.is_write_closed(), "WRITE_CLOSED");
  detail::interest_impl::add(s, r.is_priority(), "PRIORITY");
  detail::interest_impl::add(s, r.is_error(), "ERROR");
  return s.empty() ? "EMPTY" : s;
}

}  // namespace tokio::io
