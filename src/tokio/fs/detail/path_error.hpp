#pragma once
// Errors that name their path. Every tokio::fs failure is an io::Result error whose
// std::error_code keeps the errno as its value() and compares equal to the matching
// std::errc (`r.error() == std::errc::no_such_file_or_directory`), while its message()
// names the path(s) involved:
//
//   "No such file or directory (os error 2): \"/etc/nope\""
//   "File exists (os error 17): \"/tmp/a\" -> \"/tmp/b\""
//
// A path is shown quoted with its quotes, backslashes and control bytes escaped (a newline
// as \n, a NUL as \0, other control bytes as \u{1b}), as Rust's Debug output shows a path,
// so a message stays one unambiguous line.
// How: the code's category is a "tokio.fs" category object per distinct path text,
// created on the first error about that path and kept for the life of the process (an
// error_code holds a bare category pointer, so categories are never freed). Its
// default_error_condition maps the value to std::generic_category, which is what makes
// the std::errc comparisons work. To bound memory, after 4096 distinct paths further
// errors use one shared "tokio.fs" category whose message says the path was not recorded.
// What this changes: an error_code compared with another error_code compares categories,
// so it equals neither `std::make_error_code(std::errc::...)` (generic category) nor
// `std::error_code(ENOENT, std::system_category())`, nor the same errno on another path.
// Compare with a std::errc (`e == std::errc::no_such_file_or_directory`), which goes
// through the error condition, or with value().

#include <string_view>
#include <system_error>

namespace tokio::detail {

// An error code for `err` (an errno value) about `context` (the text shown after the
// errno's description).
std::error_code fs_error_ctx(int err, std::string_view context);
std::error_code fs_error(int err, std::string_view path);
std::error_code fs_error(int err, std::string_view from, std::string_view to);

}  // namespace tokio::detail
