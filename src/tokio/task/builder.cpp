// task::Builder's copies, moves and name() on an lvalue (builder.hpp): configuration, out
// of line; the temporary-Builder path (name() &&, the destructor, spawn) stays inline.
#include "tokio/task/builder.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace tokio::task {

Builder::Builder(const Builder& o) : owned_(o.name_), name_(owned_) {}

Builder::Builder(Builder&& o) : owned_(o.take_name()), name_(owned_) {}

Builder& Builder::operator=(const Builder& o) {
  if (this != &o) {
    owned_.assign(o.name_);
    name_ = owned_;
  }
  return *this;
}

Builder& Builder::operator=(Builder&& o) {
  if (this != &o) {
    owned_ = o.take_name();
    name_ = owned_;
  }
  return *this;
}

Builder& Builder::name(std::string_view n) & {
  owned_.assign(n);
  name_ = owned_;
  return *this;
}

std::string Builder::take_name() {
  if (name_.data() != owned_.data()) return std::string(name_);
  std::string s = std::move(owned_);
  name_ = {};  // this moved-from Builder names nothing
  return s;
}

}  // namespace tokio::task
