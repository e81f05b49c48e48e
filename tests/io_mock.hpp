#pragma once
// Scripted in-memory readers and writers for the io_* suites: they deliver data in tiny
// pieces, report "not ready" (waking themselves, like a spurious wake-up) and fail on
// demand, so every partial-read/partial-write/error path of the utilities is reachable.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "test_util.hpp"

namespace iotest {

namespace io = tokio::io;

inline std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> v(s.size());
  if (!s.empty()) std::memcpy(v.data(), s.data(), s.size());
  return v;
}
inline std::string str(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// A reader following a script of steps.
class MockReader {
 public:
  struct Step {
    enum Kind { Data, Pending, Error } kind;
    std::vector<std::byte> data;
    std::error_code err;
  };

  // Every read returns at most `chunk` bytes.
  explicit MockReader(std::size_t chunk = SIZE_MAX) : chunk_(chunk) {}

  MockReader& data(std::string_view s) {
    steps_.push_back({Step::Data, bytes(s), {}});
    return *this;
  }
  MockReader& data(std::vector<std::byte> b) {
    steps_.push_back({Step::Data, std::move(b), {}});
    return *this;
  }
  MockReader& pending(int n = 1) {
    for (int i = 0; i < n; ++i) steps_.push_back({Step::Pending, {}, {}});
    return *this;
  }
  MockReader& error(std::errc e) {
    steps_.push_back({Step::Error, {}, std::make_error_code(e)});
    return *this;
  }
  // Inserts a pending step before every data chunk delivered.
  MockReader& pending_between(bool on = true) {
    pending_between_ = on;
    return *this;
  }

  std::size_t reads = 0;               // completed reads
  std::size_t pendings = 0;            // polls answered "not ready"
  std::size_t min_offered = SIZE_MAX;  // the smallest buffer a completed read was given
  bool at_end() const { return steps_.empty(); }

  class ReadOp : public tokio::detail::Leaf<ReadOp> {
   public:
    ReadOp(MockReader* r, std::span<std::byte> buf) : r_(r), buf_(buf) {}
    bool poll(tokio::task::Context& cx) noexcept {
      auto& st = r_->steps_;
      if (r_->pending_between_ && !yielded_ && !st.empty() && st.front().kind == Step::Data) {
        yielded_ = true;
        ++r_->pendings;
        cx.wake_by_ref();
        return false;
      }
      if (!st.empty() && st.front().kind == Step::Pending) {
        st.pop_front();
        ++r_->pendings;
        cx.wake_by_ref();
        return false;
      }
      ++r_->reads;
      r_->min_offered = std::min(r_->min_offered, buf_.size());
      if (st.empty()) {
        res_ = std::size_t{0};
        return true;
      }
      if (st.front().kind == Step::Error) {
        res_ = tokio::unexpected(st.front().err);
        st.pop_front();
        return true;
      }
      auto& d = st.front().data;
      std::size_t n = std::min({buf_.size(), d.size(), r_->chunk_});
      if (n) std::memcpy(buf_.data(), d.data(), n);  // an empty step has no data pointer
      d.erase(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n));
      if (d.empty()) st.pop_front();
      res_ = n;
      return true;
    }
    io::Result<std::size_t> await_resume() { return res_; }

   private:
    MockReader* r_;
    std::span<std::byte> buf_;
    bool yielded_ = false;
    io::Result<std::size_t> res_ = std::size_t{0};
  };
  ReadOp read(std::span<std::byte> buf) { return ReadOp(this, buf); }

 private:
  std::deque<Step> steps_;
  std::size_t chunk_;
  bool pending_between_ = false;
};

// A writer that takes at most `chunk` bytes per write, answers "not ready" before every
// `pending_every`-th operation, and can be told to fail.
class MockWriter {
 public:
  explicit MockWriter(std::size_t chunk = SIZE_MAX, int pending_every = 0)
      : chunk_(chunk), pending_every_(pending_every) {}

  std::vector<std::byte> out;
  std::size_t writes = 0;
  std::size_t flushes = 0;
  std::size_t shutdowns = 0;
  std::size_t pendings = 0;
  std::size_t fail_after = SIZE_MAX;  // writes fail once out.size() reaches this
  std::errc fail_with = std::errc::connection_reset;
  bool zero_writes = false;  // accept nothing (write returns 0)
  bool fail_flush = false;
  bool block_forever = false;  // every op stays pending (never woken)
  std::string text() const { return str(out); }

  template <int Kind>  // 0 write, 1 flush, 2 shutdown
  class Op : public tokio::detail::Leaf<Op<Kind>> {
   public:
    Op(MockWriter* w, std::span<const std::byte> buf) : w_(w), buf_(buf) {}
    bool poll(tokio::task::Context& cx) noexcept {
      if (w_->block_forever) return false;
      if (w_->pending_every_ > 0 && !yielded_ && (++w_->ops_ % w_->pending_every_) == 0) {
        yielded_ = true;
        ++w_->pendings;
        cx.wake_by_ref();
        return false;
      }
      if constexpr (Kind == 0) {
        ++w_->writes;
        if (w_->shutdowns > 0) {
          res_ = tokio::unexpected(std::make_error_code(std::errc::broken_pipe));
          return true;
        }
        if (w_->out.size() >= w_->fail_after) {
          res_ = tokio::unexpected(std::make_error_code(w_->fail_with));
          return true;
        }
        if (w_->zero_writes) {
          res_ = std::size_t{0};
          return true;
        }
        std::size_t n = std::min({buf_.size(), w_->chunk_, w_->fail_after - w_->out.size()});
        w_->out.insert(w_->out.end(), buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(n));
        res_ = n;
      } else if constexpr (Kind == 1) {
        ++w_->flushes;
        if (w_->fail_flush) vres_ = tokio::unexpected(std::make_error_code(std::errc::io_error));
      } else {
        ++w_->shutdowns;
      }
      return true;
    }
    auto await_resume() {
      if constexpr (Kind == 0) return res_;
      else return vres_;
    }

   private:
    MockWriter* w_;
    std::span<const std::byte> buf_;
    bool yielded_ = false;
    io::Result<std::size_t> res_ = std::size_t{0};
    io::Result<void> vres_;
  };
  Op<0> write(std::span<const std::byte> buf) { return Op<0>(this, buf); }
  Op<1> flush() { return Op<1>(this, {}); }
  Op<2> shutdown() { return Op<2>(this, {}); }

 private:
  std::size_t chunk_;
  int pending_every_;
  std::size_t ops_ = 0;
};

static_assert(io::AsyncRead<MockReader>);
static_assert(io::AsyncWrite<MockWriter>);

// A reader and a writer glued together (for copy_bidirectional / split tests).
struct MockStream {
  MockReader r;
  MockWriter w;
  auto read(std::span<std::byte> b) { return r.read(b); }
  auto write(std::span<const std::byte> b) { return w.write(b); }
  auto flush() { return w.flush(); }
  auto shutdown() { return w.shutdown(); }
};

// FNV-1a, to compare large transfers without keeping them.
struct Fnv {
  uint64_t h = 1469598103934665603ULL;
  void add(std::span<const std::byte> b) {
    for (std::byte c : b) {
      h ^= std::to_integer<uint8_t>(c);
      h *= 1099511628211ULL;
    }
  }
};

// Deterministic pseudo-random bytes.
inline void fill_pattern(std::span<std::byte> b, uint64_t& state) {
  for (auto& c : b) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    c = static_cast<std::byte>(state);
  }
}

// Every item of a FramedRead / Framed until it ends: each frame as show(frame) gives it,
// each error as "<message>". After an error, the nullopt that follows is looked past: if
// next() then yields more, "(pause)" marks it (tokio-util's pause after a decode error);
// if it yields nullopt again, "(end)" does.
template <class F, class Show>
tokio::Task<std::vector<std::string>> collect_frames(F& f, Show show) {
  std::vector<std::string> got;
  bool after_error = false;
  for (;;) {
    auto item = co_await f.next();
    if (!item) {
      if (!after_error) co_return got;
      item = co_await f.next();
      if (!item) {
        got.push_back("(end)");
        co_return got;
      }
      got.push_back("(pause)");
    }
    after_error = !*item;
    got.push_back(*item ? show(**item) : "<" + item->error().message() + ">");
  }
}

}  // namespace iotest
