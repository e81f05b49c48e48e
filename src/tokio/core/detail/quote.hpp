#pragma once
// How reports show text that came from the user (a path, a task name): in double quotes,
// with what would garble a one-line message escaped, as Rust's Debug output of a string
// does: a quote or backslash gets a backslash, a NUL, tab, newline or carriage return its
// short escape (\0 \t \n \r), any other control byte and DEL \u{X} (hex without leading
// zeros, as Rust: \u{1}, \u{7f}). Well-formed UTF-8 passes unchanged (readable) but for
// the C1 controls, the spaces other than U+0020, the line and paragraph separators, the
// invisible format characters (U+200B, U+202E, U+FEFF...) and private use, shown as
// \u{...} too; any other byte of 0x80 and above is shown as \xNN, as Rust's Debug output
// of a Unix path shows it, so the report stays valid UTF-8. So a name holding a newline
// (or a U+2028, or NEL) cannot forge a second report line, nor hide or reorder text with
// invisible characters.

#include <string>
#include <string_view>

namespace tokio::detail {

void append_debug_quoted(std::string& out, std::string_view text);
std::string debug_quoted(std::string_view text);

}  // namespace tokio::detail
