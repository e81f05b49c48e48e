#pragma once
// Errors that carry a message: Command::spawn() reports which program failed and why
// ("failed to spawn 'nope': program not found in PATH: No such file or directory") through
// a plain std::error_code, as io::Result requires.
//
// A std::error_code is a value and a category, so the text lives in the category: each
// distinct message gets its own category object, kept for the life of the process (an
// error_code may outlive anything) and shared by every error with the same text, so a
// loop that keeps failing the same way allocates once. After kMaxMessages distinct texts,
// new ones fall back to one category without details.
//
// The codes compare equal to the std::errc of their errno value (default_error_condition
// maps them to std::generic_category):
//   r.error() == std::errc::no_such_file_or_directory   // true for a missing program
//   r.error().value()                                   // ENOENT
//   r.error().message()                                 // the full text
//   r.error().category().name()                         // "tokio.process"

#include <string>
#include <system_error>

namespace tokio::detail {

inline constexpr std::size_t kMaxMessages = 4096;

std::error_code error_with_message(int errnum, std::string message);

}  // namespace tokio::detail
