#pragma once
// Operands the combinator tests (combinators_test.cpp, combinators_leaf_test.cpp) share.
#include <atomic>
#include <system_error>

#include "test_util.hpp"

namespace {

tokio::Task<int> after(int v, int yields) {
  for (int i = 0; i < yields; ++i) co_await tokio::task::yield_now();
  co_return v;
}

tokio::Task<> counted_forever(test::DropCounter d, int* polls) {
  (void)d;
  for (;;) {
    ++*polls;
    co_await tokio::task::yield_now();
  }
}

tokio::io::Result<int> ok_value(int v) { return v; }

tokio::Task<tokio::io::Result<int>> io_after(int v, int yields, bool fail) {
  for (int i = 0; i < yields; ++i) co_await tokio::task::yield_now();
  if (fail) co_return tokio::unexpected(std::make_error_code(std::errc::connection_reset));
  co_return ok_value(v);
}

// Hands a combinator's result on, noting in `seen` how many operands `drops` had counted
// destroyed when the result was handed out (inside the expression that awaits it, where a
// select! handler would run).
template <class R>
R note_drops(const std::atomic<int>& drops, int& seen, R r) {
  seen = drops.load();
  return r;
}

}  // namespace
