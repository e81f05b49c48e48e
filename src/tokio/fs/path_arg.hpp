#pragma once
// fs::PathArg: the path parameter of every tokio::fs function. Built implicitly from a
// std::filesystem::path, a std::string (moved in), a std::string_view or a const char*,
// and kept as the native string the system calls take.
//
// Why not take std::filesystem::path directly: building a path from a string splits it
// into components (libstdc++ allocates a component list), which costs more than the
// io_uring submission of a cached open; the operations only need the bytes.

#include <string>
#include <string_view>
#include <concepts>
#include <utility>

#include "tokio/fs/detail/std_filesystem.hpp"

namespace tokio::fs {

class PathArg {
 public:
  // A template only so that this header needs std::filesystem::path's name, not its
  // definition (fs/detail/std_filesystem.hpp): P is exactly that type.
  template <std::same_as<std::filesystem::path> P>
  PathArg(const P& p) : s_(p.native()) {}                // NOLINT: implicit
  PathArg(std::string s) noexcept : s_(std::move(s)) {}  // NOLINT
  PathArg(std::string_view s) : s_(s) {}                 // NOLINT
  PathArg(const char* s) : s_(s) {}                      // NOLINT

  const std::string& str() const& noexcept { return s_; }
  std::string&& str() && noexcept { return std::move(s_); }

 private:
  std::string s_;
};

}  // namespace tokio::fs
