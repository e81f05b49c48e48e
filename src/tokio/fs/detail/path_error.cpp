// Path-carrying error codes: see path_error.hpp.
#include "tokio/fs/detail/path_error.hpp"

#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "tokio/core/detail/quote.hpp"

namespace tokio::detail {

namespace fs_path_error_impl {

constexpr std::size_t kMaxCategories = 4096;

class PathCategory final : public std::error_category {
 public:
  explicit PathCategory(std::string ctx) : ctx_(std::move(ctx)) {}
  const char* name() const noexcept override { return "tokio.fs"; }
  std::string message(int ev) const override {
    std::string m = std::generic_category().message(ev);
    m += " (os error ";
    m += std::to_string(ev);
    m += ")";
    if (!ctx_.empty()) {
      m += ": ";
      m += ctx_;
    }
    return m;
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    return {ev, std::generic_category()};
  }

 private:
  std::string ctx_;
};

struct Registry {
  std::mutex mu;
  std::unordered_map<std::string, const PathCategory*> map;
  const PathCategory* overflow = nullptr;
};

Registry& registry() {
  // Never destroyed: error codes may be examined during static destruction.
  static Registry* r = new Registry();
  return *r;
}

}  // namespace fs_path_error_impl

std::error_code fs_error_ctx(int err, std::string_view context) {
  using fs_path_error_impl::PathCategory;
  auto& reg = fs_path_error_impl::registry();
  try {
    std::lock_guard<std::mutex> g(reg.mu);
    std::string key(context);
    auto it = reg.map.find(key);
    if (it != reg.map.end()) return {err, *it->second};
    if (reg.map.size() < fs_path_error_impl::kMaxCategories) {
      auto* c = new PathCategory(key);
      reg.map.emplace(std::move(key), c);
      return {err, *c};
    }
    if (!reg.overflow) {
      reg.overflow = new PathCategory("(path not recorded: too many distinct failing paths)");
    }
    return {err, *reg.overflow};
  } catch (...) {
    return {err, std::system_category()};  // out of memory: the errno alone
  }
}

std::error_code fs_error(int err, std::string_view p) {
  std::string ctx;
  append_debug_quoted(ctx, p);
  return fs_error_ctx(err, ctx);
}

std::error_code fs_error(int err, std::string_view from, std::string_view to) {
  std::string ctx;
  append_debug_quoted(ctx, from);
  ctx += " -> ";
  append_debug_quoted(ctx, to);
  return fs_error_ctx(err, ctx);
}

}  // namespace tokio::detail
