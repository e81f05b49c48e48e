// run_main's error reporting (main.hpp).
#include "tokio/runtime/main.hpp"

#include <cstdio>
#include <exception>
#include <system_error>

namespace tokio::detail {

int report_main_exception(const char* program) noexcept {
  try {
    throw;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: error: an exception not derived from std::exception\n", program);
  }
  return 1;
}

std::vector<std::string> main_args(int argc, char** argv) {
  return std::vector<std::string>(argv, argv + argc);
}

int report_main_error(const char* program, const std::error_code& ec) noexcept {
  std::fprintf(stderr, "%s: error: %s\n", program, ec.message().c_str());
  return 1;
}

}  // namespace tokio::detail
