// RwLock benchmarks: Tokio's benches/sync_rwlock.rs (6 workers in Tokio's bench).
// Twin: bench/tokio-rs/src/bin/sync_rwlock.rs.
#define TOKIO_IMPLEMENTATION
#include <cstdlib>
#include <memory>

#include "bench_common.hpp"

using tokio::Task;

namespace {

struct Unit {};
using Lock = tokio::sync::RwLock<Unit>;

tokio::runtime::Runtime multi(std::size_t workers) {
  return tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build();
}

Task<> read_task(std::shared_ptr<Lock> lock) {
  auto read = co_await lock->read();
  bench::black_box(read);
}

// The first branch of the contended joins: releases the write lock.
Task<> drop_write(tokio::sync::RwLockWriteGuard<Unit> w) {
  { auto gone = std::move(w); }
  co_return;
}
Task<tokio::Result<void, tokio::task::JoinError>> drop_write_ok(
    tokio::sync::RwLockWriteGuard<Unit> w) {
  { auto gone = std::move(w); }
  co_return tokio::Result<void, tokio::task::JoinError>{};
}

void read_uncontended(std::size_t workers, std::size_t iters) {
  auto rt = multi(workers);
  auto lock = std::make_shared<Lock>(Unit{});
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([](std::shared_ptr<Lock> lock) -> Task<> {
      for (int k = 0; k < 6; ++k) {
        auto read = co_await lock->read();
        bench::black_box(read);
      }
    }(lock));
  }
}

void read_concurrent_uncontended_multi(std::size_t workers, std::size_t iters) {
  auto rt = multi(workers);
  auto lock = std::make_shared<Lock>(Unit{});
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([](std::shared_ptr<Lock> lock) -> Task<> {
      auto h1 = tokio::spawn(read_task(lock));
      auto h2 = tokio::spawn(read_task(lock));
      auto h3 = tokio::spawn(read_task(lock));
      auto h4 = tokio::spawn(read_task(lock));
      auto h5 = tokio::spawn(read_task(lock));
      auto h6 = tokio::spawn(read_task(lock));
      auto j = co_await tokio::try_join(h1.result(), h2.result(), h3.result(), h4.result(),
                                        h5.result(), h6.result());
      if (!j) std::abort();
    }(lock));
  }
}

void read_concurrent_uncontended(std::size_t iters) {
  auto rt = tokio::runtime::Builder::new_current_thread().build();
  auto lock = std::make_shared<Lock>(Unit{});
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([](std::shared_ptr<Lock> lock) -> Task<> {
      co_await tokio::join(read_task(lock), read_task(lock), read_task(lock), read_task(lock),
                           read_task(lock), read_task(lock));
    }(lock));
  }
}

void read_concurrent_contended_multi(std::size_t workers, std::size_t iters) {
  auto rt = multi(workers);
  auto lock = std::make_shared<Lock>(Unit{});
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([](std::shared_ptr<Lock> lock) -> Task<> {
      auto write = co_await lock->write();
      auto h1 = tokio::spawn(read_task(lock));
      auto h2 = tokio::spawn(read_task(lock));
      auto h3 = tokio::spawn(read_task(lock));
      auto h4 = tokio::spawn(read_task(lock));
      auto h5 = tokio::spawn(read_task(lock));
      auto j = co_await tokio::try_join(drop_write_ok(std::move(write)), h1.result(), h2.result(),
                                        h3.result(), h4.result(), h5.result());
      if (!j) std::abort();
    }(lock));
  }
}

void read_concurrent_contended(std::size_t iters) {
  auto rt = tokio::runtime::Builder::new_current_thread().build();
  auto lock = std::make_shared<Lock>(Unit{});
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([](std::shared_ptr<Lock> lock) -> Task<> {
      auto write = co_await lock->write();
      co_await tokio::join(drop_write(std::move(write)), read_task(lock), read_task(lock),
                           read_task(lock), read_task(lock), read_task(lock));
    }(lock));
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  const std::string& n = a.name;
  if (n == "uncontended/read") read_uncontended(a.workers, a.iters);
  else if (n == "uncontended/read_concurrent") read_concurrent_uncontended(a.iters);
  else if (n == "uncontended/read_concurrent_multi")
    read_concurrent_uncontended_multi(a.workers, a.iters);
  else if (n == "contention/read_concurrent") read_concurrent_contended(a.iters);
  else if (n == "contention/read_concurrent_multi")
    read_concurrent_contended_multi(a.workers, a.iters);
  else bench::unknown(a);
  return 0;
}
