#pragma once
// net::Ipv4Addr, net::Ipv6Addr and net::IpAddr (either), as in Rust's std::net.
//
//   auto ip = tokio::net::IpAddr::parse("::1");       // io::Result<IpAddr>
//   ip->is_loopback();  ip->to_string();               // "::1"
//
// Parsing accepts exactly what inet_pton accepts (dotted quad without leading zeros; any
// RFC 4291 IPv6 text form); formatting is canonical (RFC 5952 for IPv6).

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tokio/core/display.hpp"
#include "tokio/core/result.hpp"

namespace tokio::net {

class Ipv4Addr {
 public:
  constexpr Ipv4Addr() noexcept = default;  // 0.0.0.0
  constexpr Ipv4Addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d) noexcept : o_{a, b, c, d} {}
  constexpr explicit Ipv4Addr(std::array<uint8_t, 4> octets) noexcept : o_(octets) {}
  // From a host-order 32-bit value (0x7f000001 = 127.0.0.1).
  static constexpr Ipv4Addr from_bits(uint32_t v) noexcept {
    return Ipv4Addr(uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v));
  }
  static constexpr Ipv4Addr localhost() noexcept { return {127, 0, 0, 1}; }
  static constexpr Ipv4Addr unspecified() noexcept { return {}; }
  static constexpr Ipv4Addr broadcast() noexcept { return {255, 255, 255, 255}; }

  static io::Result<Ipv4Addr> parse(std::string_view s);

  constexpr std::array<uint8_t, 4> octets() const noexcept { return o_; }
  constexpr uint32_t to_bits() const noexcept {
    return uint32_t(o_[0]) << 24 | uint32_t(o_[1]) << 16 | uint32_t(o_[2]) << 8 | o_[3];
  }
  constexpr bool is_unspecified() const noexcept { return to_bits() == 0; }
  constexpr bool is_loopback() const noexcept { return o_[0] == 127; }
  constexpr bool is_multicast() const noexcept { return (o_[0] & 0xF0) == 0xE0; }
  constexpr bool is_broadcast() const noexcept { return to_bits() == 0xFFFFFFFFu; }
  constexpr bool is_private() const noexcept {
    return o_[0] == 10 || (o_[0] == 172 && (o_[1] & 0xF0) == 16) || (o_[0] == 192 && o_[1] == 168);
  }
  std::string to_string() const;

  friend constexpr auto operator<=>(const Ipv4Addr&, const Ipv4Addr&) =
      default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 false positive

 private:
  std::array<uint8_t, 4> o_{};
};

class Ipv6Addr {
 public:
  constexpr Ipv6Addr() noexcept = default;  // ::
  constexpr explicit Ipv6Addr(std::array<uint8_t, 16> octets) noexcept : o_(octets) {}
  // From eight 16-bit segments: Ipv6Addr(0, 0, 0, 0, 0, 0, 0, 1) is ::1.
  constexpr Ipv6Addr(uint16_t a, uint16_t b, uint16_t c, uint16_t d, uint16_t e, uint16_t f,
                     uint16_t g, uint16_t h) noexcept
      : o_{uint8_t(a >> 8), uint8_t(a), uint8_t(b >> 8), uint8_t(b), uint8_t(c >> 8), uint8_t(c),
           uint8_t(d >> 8), uint8_t(d), uint8_t(e >> 8), uint8_t(e), uint8_t(f >> 8), uint8_t(f),
           uint8_t(g >> 8), uint8_t(g), uint8_t(h >> 8), uint8_t(h)} {}
  static constexpr Ipv6Addr localhost() noexcept { return {0, 0, 0, 0, 0, 0, 0, 1}; }
  static constexpr Ipv6Addr unspecified() noexcept { return {}; }

  static io::Result<Ipv6Addr> parse(std::string_view s);

  constexpr std::array<uint8_t, 16> octets() const noexcept { return o_; }
  constexpr std::array<uint16_t, 8> segments() const noexcept {
    std::array<uint16_t, 8> s{};
    for (std::size_t i = 0; i < 8; ++i) s[i] = uint16_t(o_[2 * i] << 8 | o_[2 * i + 1]);
    return s;
  }
  constexpr bool is_unspecified() const noexcept { return *this == Ipv6Addr(); }
  constexpr bool is_loopback() const noexcept { return *this == localhost(); }
  constexpr bool is_multicast() const noexcept { return o_[0] == 0xFF; }
  // ::ffff:a.b.c.d
  constexpr bool is_ipv4_mapped() const noexcept {
    for (std::size_t i = 0; i < 10; ++i) {
      if (o_[i]) return false;
    }
    return o_[10] == 0xFF && o_[11] == 0xFF;
  }
  constexpr Ipv4Addr to_ipv4_mapped() const noexcept { return {o_[12], o_[13], o_[14], o_[15]}; }
  std::string to_string() const;

  friend constexpr auto operator<=>(const Ipv6Addr&, const Ipv6Addr&) =
      default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 false positive

 private:
  std::array<uint8_t, 16> o_{};
};

class IpAddr {
 public:
  constexpr IpAddr() noexcept = default;  // 0.0.0.0
  constexpr IpAddr(Ipv4Addr a) noexcept
      : v6_(false), v4a_(a) {}                                   // NOLINT: implicit, as Rust's From
  constexpr IpAddr(Ipv6Addr a) noexcept : v6_(true), v6a_(a) {}  // NOLINT

  static io::Result<IpAddr> parse(std::string_view s);

  constexpr bool is_ipv4() const noexcept { return !v6_; }
  constexpr bool is_ipv6() const noexcept { return v6_; }
  // The address as the given family (check is_ipv4() first).
  constexpr Ipv4Addr v4() const noexcept { return v4a_; }
  constexpr Ipv6Addr v6() const noexcept { return v6a_; }

  constexpr bool is_unspecified() const noexcept {
    return v6_ ? v6a_.is_unspecified() : v4a_.is_unspecified();
  }
  constexpr bool is_loopback() const noexcept {
    return v6_ ? v6a_.is_loopback() : v4a_.is_loopback();
  }
  constexpr bool is_multicast() const noexcept {
    return v6_ ? v6a_.is_multicast() : v4a_.is_multicast();
  }
  std::string to_string() const { return v6_ ? v6a_.to_string() : v4a_.to_string(); }

  friend constexpr bool operator==(const IpAddr& a, const IpAddr& b) noexcept {
    return a.v6_ == b.v6_ && (a.v6_ ? a.v6a_ == b.v6a_ : a.v4a_ == b.v4a_);
  }
  // IPv4 orders before IPv6, as in Rust.
  friend constexpr std::strong_ordering operator<=>(const IpAddr& a, const IpAddr& b) noexcept {
    if (a.v6_ != b.v6_) return a.v6_ ? std::strong_ordering::greater : std::strong_ordering::less;
    return a.v6_ ? a.v6a_ <=> b.v6a_ : a.v4a_ <=> b.v4a_;
  }

 private:
  bool v6_ = false;
  Ipv4Addr v4a_{};
  Ipv6Addr v6a_{};
};

// `os << ip` and (TOKIO_CONFIG_STD_FORMAT) std::format("{}", ip): the to_string() form.
using detail::operator<<;

}  // namespace tokio::net

namespace tokio::detail {
template <>
struct enable_display<net::Ipv4Addr> : std::true_type {};
template <>
struct enable_display<net::Ipv6Addr> : std::true_type {};
template <>
struct enable_display<net::IpAddr> : std::true_type {};
}  // namespace tokio::detail
