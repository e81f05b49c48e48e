#include "tokio/process/detail/spawn_error.hpp"

#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tokio::detail::process_spawn_error_impl {

class MessageCategory final : public std::error_category {
 public:
  MessageCategory(int errnum, std::string msg) : errnum_(errnum), msg_(std::move(msg)) {}
  const char* name() const noexcept override { return "tokio.process"; }
  std::string message(int ev) const override {
    if (ev == errnum_) return msg_;
    return std::generic_category().message(ev);
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    return {ev, std::generic_category()};
  }

 private:
  int errnum_;
  std::string msg_;
};

struct Interned {
  std::mutex mu;
  std::deque<MessageCategory> cats;  // stable addresses
  std::unordered_map<std::string, MessageCategory*> by_key;
  // Past kMaxMessages: the plain errno text.
  MessageCategory overflow{-1, ""};
};

Interned& interned() {
  // Never destroyed: error codes referring to these categories may outlive static
  // destruction.
  static Interned* i = new Interned();
  return *i;
}

}  // namespace tokio::detail::process_spawn_error_impl

namespace tokio::detail {

std::error_code error_with_message(int errnum, std::string message) {
  namespace impl = process_spawn_error_impl;
  impl::Interned& in = impl::interned();
  std::string key = std::to_string(errnum) + ":" + message;
  std::lock_guard<std::mutex> g(in.mu);
  auto it = in.by_key.find(key);
  if (it != in.by_key.end()) return {errnum, *it->second};
  if (in.cats.size() >= kMaxMessages) return {errnum, in.overflow};
  in.cats.emplace_back(errnum, std::move(message));
  in.by_key.emplace(std::move(key), &in.cats.back());
  return {errnum, in.cats.back()};
}

}  // namespace tokio::detail
