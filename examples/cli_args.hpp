#pragma once
// Numbers on the examples' command lines: a bad value is a usage error naming the flag
// (exit status 2), not an uncaught std::invalid_argument or a negative count read as a
// huge one.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

inline unsigned long long parse_number(const char* program, const char* flag,
                                       const std::string& text, unsigned long long min,
                                       unsigned long long max) {
  if (!text.empty() && text[0] >= '0' && text[0] <= '9') {
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (errno == 0 && *end == '\0' && v >= min && v <= max) return v;
  }
  std::fprintf(stderr, "%s: %s takes a whole number from %llu to %llu, not \"%s\"\n", program, flag,
               min, max, text.c_str());
  std::exit(2);
}

// A word that is not one of the program's flags: --help / -h prints the usage on stdout
// (exit 0); another word starting with '-' is a usage error naming it (exit 2), not an
// address to bind.
inline void not_a_flag(const char* program, const char* usage, const std::string& word) {
  if (word == "--help" || word == "-h") {
    std::printf("usage: %s %s\n", program, usage);
    std::exit(0);
  }
  if (!word.empty() && word[0] == '-') {
    std::fprintf(stderr, "%s: unknown option %s (or it needs a value)\nusage: %s %s\n", program,
                 word.c_str(), program, usage);
    std::exit(2);
  }
}
