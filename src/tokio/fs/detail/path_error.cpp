// Path-carrying error codes: see path_error.hpp.
#include "tokio/fs/detail/path_error.hpp"

#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

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

// The path in double quotes with what would garble a message escaped, as Rust's Debug
// output of a path does: a quote or backslash gets a backslash, a NUL, tab, newline or
// carriage return its short escape, and any other control byte (and DEL) \u{XX}. Bytes
// of 0x80 and above pass through unchanged (a path is bytes; UTF-8 stays readable).
void append_quoted(std::string& out, std::string_view p) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : p) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\0': out += "\\0"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u{";
          out += kHex[c >> 4];
          out += kHex[c & 15];
          out += '}';
        } else {
          out += ch;
        }
    }
  }
  out += '"';
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

std::string fs_quoted(std::string_view path) {
  std::string out;
  fs_path_error_impl::append_quoted(out, path);
  return out;
}

std::error_code fs_error(int err, std::string_view p) {
  std::string ctx;
  fs_path_error_impl::append_quoted(ctx, p);
  return fs_error_ctx(err, ctx);
}

std::error_code fs_error(int err, std::string_view from, std::string_view to) {
  std::string ctx;
  fs_path_error_impl::append_quoted(ctx, from);
  ctx += " -> ";
  fs_path_error_impl::append_quoted(ctx, to);
  return fs_error_ctx(err, ctx);
}

}  // namespace tokio::detail
