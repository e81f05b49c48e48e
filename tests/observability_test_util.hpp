#pragma once
// What the observability tests (observability_test.cpp, observability_hooks_test.cpp)
// share: stderr captured around a run, counting a phrase in it, a runtime of either flavor.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "test_util.hpp"

namespace {

namespace rt = tokio::runtime;

// Captures what the process writes to stderr while alive (a temporary file on fd 2).
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    char path[] = "/tmp/tokio-stderr-XXXXXX";
    fd_ = ::mkstemp(path);
    REQUIRE(fd_ >= 0);
    ::unlink(path);
    saved_ = ::dup(2);
    REQUIRE(::dup2(fd_, 2) == 2);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    std::string s;
    char buf[4096];
    ::lseek(fd_, 0, SEEK_SET);
    for (ssize_t n; (n = ::read(fd_, buf, sizeof buf)) > 0;)
      s.append(buf, static_cast<std::size_t>(n));
    return s;
  }

 private:
  void restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      ::dup2(saved_, 2);
      ::close(saved_);
      saved_ = -1;
    }
  }
  int fd_ = -1;
  int saved_ = -1;
};

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

template <class Configure>
rt::Runtime make_rt(bool multi, Configure configure) {
  auto b = multi ? rt::Builder::new_multi_thread() : rt::Builder::new_current_thread();
  if (multi) b.worker_threads(2);
  configure(b);
  return b.build();
}

}  // namespace
