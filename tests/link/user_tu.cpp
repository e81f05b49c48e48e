// ...and this one includes the header without the macro, as every other user file does.
#include "tokio.hpp"

static tokio::Task<int> answer() {
  auto h = tokio::spawn([]() -> tokio::Task<int> { co_return 41; });
  co_return co_await h + 1;
}

int run_user_tu() {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build();
  return rt.block_on(answer());
}
