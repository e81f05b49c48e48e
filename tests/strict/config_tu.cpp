// Built and run by `make check-strict` with the optional modules configured out
// (TOKIO_CONFIG_NO_SIGNAL/FS/STREAM, which also drop process and codec), the system
// allocator and hidden visibility: what is left must compile, link and run, and the
// inline ABI namespace must name the configuration.
#define TOKIO_IMPLEMENTATION
#include "tokio.hpp"

#include <cstdio>
#include <cstring>

static_assert(TOKIO_HAS_SIGNAL == 0 && TOKIO_HAS_PROCESS == 0 && TOKIO_HAS_FS == 0 &&
              TOKIO_HAS_STREAM == 0 && TOKIO_HAS_CODEC == 0);

#define TOKIO_STR2(x) #x
#define TOKIO_STR(x) TOKIO_STR2(x)

tokio::Task<int> amain() {
  auto [a, b] = tokio::io::duplex(64);
  (void)co_await a.write_all("abc");
  char buf[3];
  auto n = co_await b.read_exact(std::span<char>(buf));
  auto h = tokio::spawn([]() -> tokio::Task<int> {
    co_await tokio::time::sleep(std::chrono::milliseconds(1));
    co_return 2;
  });
  co_return static_cast<int>(n.value_or(0)) + co_await h;
}

int main() {
  const char* abi = TOKIO_STR(TOKIO_ABI_NAMESPACE);
  if (std::strstr(abi, "sysalloc") == nullptr) {
    std::printf("config_tu: ABI namespace %s does not name the system allocator\n", abi);
    return 1;
  }
  tokio::runtime::Runtime rt;
  int v = rt.block_on(amain());
  std::printf("config_tu: %s, result %d\n", abi, v);
  return v == 5 ? 0 : 1;
}
