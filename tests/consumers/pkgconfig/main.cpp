// pkg-config consumer: one translation unit with the implementation, as README's quick start.
#define TOKIO_IMPLEMENTATION
#include <tokio.hpp>

#include <cstdio>

tokio::Task<int> amain(int argc, char**) {
  auto [a, b] = tokio::io::duplex(64);
  (void)co_await a.write_all("pkg");
  char buf[3];
  auto n = co_await b.read_exact(std::span<char>(buf));
  std::printf("pkg-config consumer: tokio.hpp %s, read %zu bytes\n", TOKIO_VERSION_STRING,
              n.value_or(0));
  co_return n.value_or(0) == 3 && argc == 1 ? 0 : 1;
}

TOKIO_MAIN(amain)
