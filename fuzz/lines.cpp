// Fuzzes io::lines().next_line(), io::read_line, io::read_until and io::split().next_segment()
// over arbitrary byte streams delivered in arbitrary pieces.
//
// The input chooses the operation, the delimiter, a BufReader capacity (1..64 bytes or the
// default 8 KiB), whether each call is raced against yield_now (so it is cancelled
// mid-line whenever the reader is not ready), whether the stream ends with an error
// before its end, and the piece sizes the in-memory reader hands out (a piece of 0 means
// "not ready now", with a wake-up, like a socket without data). Every run is compared with
// a reference computed directly from the whole stream: the same lines/segments in the same
// order, invalid UTF-8 reported (and that line dropped) exactly where the reference finds
// it, cancelled calls losing nothing (lines, split) or keeping what they appended
// (read_until), the error surfacing once after the last complete line.
#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_util.hpp"

namespace io = tokio::io;
using tokio::Task;

namespace {

// An AsyncRead over borrowed bytes, handing them out in the given piece sizes.
class PieceReader {
 public:
  PieceReader(std::string_view data, std::deque<uint8_t> pieces, bool fail_at_end)
      : data_(data), pieces_(std::move(pieces)), fail_at_end_(fail_at_end) {}

  class ReadOp : public tokio::detail::Leaf<ReadOp> {
   public:
    ReadOp(PieceReader* r, std::span<std::byte> buf) noexcept : r_(r), buf_(buf) {}
    bool poll(tokio::task::Context& cx) noexcept {
      auto& ps = r_->pieces_;
      if (!ps.empty() && ps.front() == 0) {
        ps.pop_front();
        cx.wake_by_ref();
        return false;
      }
      if (r_->data_.empty()) {
        if (r_->fail_at_end_) {
          r_->fail_at_end_ = false;
          res_ = tokio::unexpected(std::make_error_code(std::errc::connection_reset));
        } else {
          res_ = std::size_t{0};
        }
        return true;
      }
      std::size_t piece = r_->data_.size();
      if (!ps.empty()) {
        piece = ps.front();
        ps.pop_front();
      }
      std::size_t n = std::min({buf_.size(), piece, r_->data_.size()});
      if (n) std::memcpy(buf_.data(), r_->data_.data(), n);
      r_->data_.remove_prefix(n);
      res_ = n;
      return true;
    }
    io::Result<std::size_t> await_resume() noexcept { return res_; }

   private:
    PieceReader* r_;
    std::span<std::byte> buf_;
    io::Result<std::size_t> res_ = std::size_t{0};
  };
  ReadOp read(std::span<std::byte> buf) noexcept { return ReadOp(this, buf); }

 private:
  std::string_view data_;
  std::deque<uint8_t> pieces_;
  bool fail_at_end_;
};

// One outcome of a call: a line/segment, an error, or the end of the stream.
struct Err {
  std::errc e;
  bool operator==(const Err&) const = default;
};
struct End {
  bool operator==(const End&) const = default;
};
using Item = std::variant<std::string, Err, End>;

std::string show_item(const Item& it) {
  if (auto* s = std::get_if<std::string>(&it)) return fuzz::show(*s);
  if (auto* e = std::get_if<Err>(&it)) return "error " + std::make_error_code(e->e).message();
  return "end";
}
std::string show_items(const std::vector<Item>& v) {
  std::string out = "[";
  for (auto& it : v) out += show_item(it) + ", ";
  return out + "]";
}

// The delimiter-terminated segments of data (the last may lack its delimiter).
std::vector<std::string> segments(std::string_view data, char delim) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    auto e = data.find(delim, pos);
    if (e == std::string_view::npos) {
      out.emplace_back(data.substr(pos));
      break;
    }
    out.emplace_back(data.substr(pos, e - pos + 1));
    pos = e + 1;
  }
  return out;
}

enum Mode { kLines, kReadLine, kReadUntil, kSplit };

std::vector<Item> reference(Mode mode, std::string_view data, char delim, bool fail_at_end) {
  std::vector<Item> out;
  auto segs = segments(data, delim);
  const bool partial_last = !segs.empty() && segs.back().back() != delim;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    std::string s = segs[i];
    const bool complete = s.back() == delim;
    if (!complete && fail_at_end) out.push_back(Err{std::errc::connection_reset});
    switch (mode) {
      case kLines:
        if (complete) {
          s.pop_back();
          if (!s.empty() && s.back() == '\r') s.pop_back();
        }
        out.push_back(fuzz::utf8_reference(s) ? Item(s)
                                              : Item(Err{std::errc::illegal_byte_sequence}));
        break;
      case kReadLine:
        out.push_back(fuzz::utf8_reference(s) ? Item(s)
                                              : Item(Err{std::errc::illegal_byte_sequence}));
        break;
      case kReadUntil: out.push_back(s); break;
      case kSplit:
        if (complete) s.pop_back();
        out.push_back(s);
        break;
    }
  }
  if (fail_at_end && !partial_last) out.push_back(Err{std::errc::connection_reset});
  out.push_back(End{});
  return out;
}

template <class Op>
Task<std::optional<tokio::detail::task_value_t<Op>>> maybe_cancelled(Op op, bool cancel) {
  if (!cancel) co_return co_await std::move(op);
  auto r = co_await tokio::select_biased(std::move(op), tokio::task::yield_now());
  if (r.index() == 0) co_return std::move(std::get<0>(r));
  co_return std::nullopt;
}

Task<std::vector<Item>> run(Mode mode, std::string_view data, std::deque<uint8_t> pieces,
                            char delim, std::size_t cap, bool cancel, bool fail_at_end,
                            std::size_t limit) {
  std::vector<Item> out;
  io::BufReader<PieceReader> r(PieceReader(data, std::move(pieces), fail_at_end), cap);
  switch (mode) {
    case kLines: {
      auto ls = io::lines(r);
      while (out.size() < limit) {
        auto got = co_await maybe_cancelled(ls.next_line(), cancel);
        if (!got) continue;  // cancelled: the partial line stays inside ls
        if (!*got) {
          out.push_back(Err{static_cast<std::errc>(got->error().value())});
        } else if (!**got) {
          out.push_back(End{});
          break;
        } else {
          out.push_back(***got);
        }
      }
      break;
    }
    case kSplit: {
      auto sp = io::split(r, delim);
      while (out.size() < limit) {
        auto got = co_await maybe_cancelled(sp.next_segment(), cancel);
        if (!got) continue;
        if (!*got) {
          out.push_back(Err{static_cast<std::errc>(got->error().value())});
        } else if (!**got) {
          out.push_back(End{});
          break;
        } else {
          const auto& v = ***got;
          out.push_back(std::string(reinterpret_cast<const char*>(v.data()), v.size()));
        }
      }
      break;
    }
    case kReadUntil: {
      // A cancelled read_until keeps what it appended; the next call continues the segment.
      std::vector<std::byte> seg;
      while (out.size() < limit) {
        auto got = co_await maybe_cancelled(io::read_until(r, delim, seg), cancel);
        if (!got) continue;
        if (!*got) {
          out.push_back(Err{static_cast<std::errc>(got->error().value())});
          continue;
        }
        if (**got == 0 && seg.empty()) {
          out.push_back(End{});
          break;
        }
        out.push_back(std::string(reinterpret_cast<const char*>(seg.data()), seg.size()));
        seg.clear();
      }
      break;
    }
    case kReadLine: {
      while (out.size() < limit) {
        std::string line = "keep";
        auto got = co_await io::read_line(r, line);
        if (!got) {
          FUZZ_CHECK(line == "keep",
                     "read_line changed the string on an error: " + fuzz::show(line));
          out.push_back(Err{static_cast<std::errc>(got.error().value())});
          continue;
        }
        FUZZ_CHECK(line.size() == 4 + *got, "read_line's count differs from what it appended");
        if (*got == 0) {
          out.push_back(End{});
          break;
        }
        out.push_back(line.substr(4));
      }
      break;
    }
  }
  co_return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, std::size_t size) {
  FuzzedDataProvider in(bytes, size);
  const auto mode = static_cast<Mode>(in.ConsumeIntegralInRange<int>(0, 3));
  const char delim =
      mode == kLines || mode == kReadLine ? '\n' : static_cast<char>(in.ConsumeIntegral<uint8_t>());
  const uint8_t cap_pick = in.ConsumeIntegral<uint8_t>();
  const std::size_t cap = cap_pick >= 64 ? io::kDefaultBufSize : cap_pick + 1u;
  const bool cancel = mode != kReadLine && in.ConsumeBool();
  // read_line's contract after an error is not "continue"; the error path is covered by
  // lines() and split().
  const bool fail_at_end = (mode == kLines || mode == kSplit) && in.ConsumeBool();
  const std::string data = in.ConsumeRandomLengthString(1 << 14);
  std::deque<uint8_t> pieces;
  while (in.remaining_bytes() > 0 && pieces.size() < 4096)
    pieces.push_back(in.ConsumeIntegralInRange<uint8_t>(0, 40));

  const auto expected = reference(mode, data, delim, fail_at_end);
  const auto got = fuzz::runtime().block_on(
      run(mode, data, pieces, delim, cap, cancel, fail_at_end, expected.size() + 4));
  FUZZ_CHECK(got == expected, std::string("mode ") + std::to_string(mode) + " cap " +
                                  std::to_string(cap) + (cancel ? " cancel" : "") +
                                  (fail_at_end ? " fail-at-end" : "") + "\n  data " +
                                  fuzz::show(data) + "\n  expected " + show_items(expected) +
                                  "\n  got      " + show_items(got));
  return 0;
}
