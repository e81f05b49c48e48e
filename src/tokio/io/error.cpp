// io::Errc's error category, and the misuse error of detail::ExclusiveUse.
#include "tokio/io/error.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "tokio/io/detail/exclusive.hpp"

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

namespace tokio::detail {

void throw_concurrent_use(const char* what) {
  throw std::logic_error(std::string("tokio: a second operation was started on one ") + what +
                         " while another one on it is still pending (as in a join or select of "
                         "two of its reads or writes); they share its buffer: await them one "
                         "after the other");
}

void throw_concurrent_next(const char* what) {
  throw std::logic_error(std::string("tokio: a second next() was started on one ") + what +
                         " while another next() on it is still waiting (in another task, or "
                         "a join of two): the stream keeps one waker, so the first would wait "
                         "for ever; await them one after the other, from one task (share the "
                         "items through a channel)");
}

void abort_moved_while_pending(const char* what) noexcept {
  std::fprintf(stderr,
               "tokio: a %s was moved while a next() on it was waiting (in another task): "
               "that next() would poll the moved-from stream and wait for ever, or see an "
               "end that never was; move a stream between items. This move cannot throw "
               "(the stream moves without throwing, so that it can go through channels "
               "and vectors): aborting.\n",
               what);
  std::abort();
}

void throw_moved_while_pending(const char* what) {
  throw std::logic_error(std::string("tokio: a ") + what +
                         " was moved while a next() on it was waiting (in another task): the "
                         "move would cancel that wait and leave the task waiting for ever; "
                         "move a stream between items");
}

void throw_moved_from(const char* what) {
  throw std::logic_error(std::string("tokio: ") + what +
                         " used after it was moved from: use the object it was moved into");
}

}  // namespace tokio::detail
