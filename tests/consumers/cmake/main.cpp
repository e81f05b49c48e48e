// CMake consumer: includes the installed header; the implementation comes from the
// package's tokio_hpp::impl library.
#include <tokio.hpp>  // the installed header, or the subproject's

#include <cstdio>

tokio::Task<int> amain() {
  auto h = tokio::spawn([]() -> tokio::Task<int> {
    co_await tokio::time::sleep(std::chrono::milliseconds(1));
    co_return 40;
  });
  co_return co_await h + 2;
}

int main() {
  tokio::runtime::Runtime rt;
  int v = rt.block_on(amain());
  std::printf("cmake consumer: tokio.hpp %s, result %d\n", TOKIO_VERSION_STRING, v);
  return v == 42 ? 0 : 1;
}
