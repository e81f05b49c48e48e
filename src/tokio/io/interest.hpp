#pragma once
// io::Interest (what a registration waits for) and io::Ready (what the reactor reported).
//
//   Interest: READABLE | WRITABLE | PRIORITY | ERROR, combined with `|`.
//   Ready:    READABLE, WRITABLE, READ_CLOSED, WRITE_CLOSED, PRIORITY, ERROR.
//
// The Ready bit values are the low bits of a registration's readiness word (see
// reactor/scheduled_io.hpp), so converting between the two costs nothing.

#include <cstdint>
#include <string>

#include "tokio/core/display.hpp"

namespace tokio::io {

class Ready {
 public:
  constexpr Ready() noexcept = default;
  static constexpr Ready from_bits(uint32_t b) noexcept { return Ready(b & kAll); }

  static const Ready EMPTY;
  static const Ready READABLE;
  static const Ready WRITABLE;
  static const Ready READ_CLOSED;
  static const Ready WRITE_CLOSED;
  static const Ready PRIORITY;
  static const Ready ERROR;
  static const Ready ALL;

  constexpr bool is_empty() const noexcept { return bits_ == 0; }
  constexpr bool is_readable() const noexcept { return bits_ & (kReadable | kReadClosed); }
  constexpr bool is_writable() const noexcept { return bits_ & (kWritable | kWriteClosed); }
  constexpr bool is_read_closed() const noexcept { return bits_ & kReadClosed; }
  constexpr bool is_write_closed() const noexcept { return bits_ & kWriteClosed; }
  constexpr bool is_priority() const noexcept { return bits_ & kPriority; }
  constexpr bool is_error() const noexcept { return bits_ & kError; }
  constexpr uint32_t bits() const noexcept { return bits_; }

  constexpr Ready operator|(Ready o) const noexcept { return Ready(bits_ | o.bits_); }
  constexpr Ready operator&(Ready o) const noexcept { return Ready(bits_ & o.bits_); }
  // Set difference.
  constexpr Ready operator-(Ready o) const noexcept { return Ready(bits_ & ~o.bits_); }
  constexpr Ready& operator|=(Ready o) noexcept {
    bits_ |= o.bits_;
    return *this;
  }
  friend constexpr bool operator==(Ready, Ready) noexcept = default;

  // Bit values (shared with the readiness word).
  static constexpr uint32_t kReadable = 1;
  static constexpr uint32_t kWritable = 2;
  static constexpr uint32_t kReadClosed = 4;
  static constexpr uint32_t kWriteClosed = 8;
  static constexpr uint32_t kPriority = 16;
  static constexpr uint32_t kError = 32;
  static constexpr uint32_t kAll = 63;
  static constexpr uint32_t kClosed = kReadClosed | kWriteClosed;

 private:
  constexpr explicit Ready(uint32_t b) noexcept : bits_(b) {}
  uint32_t bits_ = 0;
};

inline constexpr Ready Ready::EMPTY{};
inline constexpr Ready Ready::READABLE{kReadable};
inline constexpr Ready Ready::WRITABLE{kWritable};
inline constexpr Ready Ready::READ_CLOSED{kReadClosed};
inline constexpr Ready Ready::WRITE_CLOSED{kWriteClosed};
inline constexpr Ready Ready::PRIORITY{kPriority};
inline constexpr Ready Ready::ERROR{kError};
inline constexpr Ready Ready::ALL{kAll};

class Interest {
 public:
  static const Interest READABLE;
  static const Interest WRITABLE;
  static const Interest PRIORITY;
  static const Interest ERROR;

  constexpr bool is_readable() const noexcept { return bits_ & kR; }
  constexpr bool is_writable() const noexcept { return bits_ & kW; }
  constexpr bool is_priority() const noexcept { return bits_ & kP; }
  constexpr bool is_error() const noexcept { return bits_ & kE; }

  constexpr Interest operator|(Interest o) const noexcept { return Interest(bits_ | o.bits_); }
  constexpr Interest add(Interest o) const noexcept { return *this | o; }
  friend constexpr bool operator==(Interest, Interest) noexcept = default;

  // The readiness bits that satisfy this interest. A closed direction counts as ready (the
  // operation then reports EOF or the error), and so does ERROR (the syscall surfaces it).
  constexpr uint32_t mask() const noexcept {
    uint32_t m = Ready::kError;
    if (bits_ & kR) m |= Ready::kReadable | Ready::kReadClosed;
    if (bits_ & kW) m |= Ready::kWritable | Ready::kWriteClosed;
    if (bits_ & kP) m |= Ready::kPriority | Ready::kReadClosed;
    return m;
  }
  constexpr uint8_t bits() const noexcept { return bits_; }

 private:
  static constexpr uint8_t kR = 1, kW = 2, kP = 4, kE = 8;
  constexpr explicit Interest(uint8_t b) noexcept : bits_(b) {}
  uint8_t bits_;
};

inline constexpr Interest Interest::READABLE{kR};
inline constexpr Interest Interest::WRITABLE{kW};
inline constexpr Interest Interest::PRIORITY{kP};
inline constexpr Interest Interest::ERROR{kE};

// "READABLE | WRITABLE", as Tokio's Debug prints them ("EMPTY" for no bits); `os << i`
// and (TOKIO_CONFIG_STD_FORMAT) std::format("{}", i) print the same.
std::string to_string(Interest i);
std::string to_string(Ready r);
using detail::operator<<;

}  // namespace tokio::io

namespace tokio::detail {
template <>
struct enable_display<io::Interest> : std::true_type {};
template <>
struct enable_display<io::Ready> : std::true_type {};
}  // namespace tokio::detail
