#pragma once
// The errors of tokio::sync, one definition each, with Tokio's names and meanings. The
// definitions shared by several primitives live in tokio::sync::error and each namespace
// re-exports the ones it uses (mpsc::SendError, broadcast::SendError and watch::SendError
// are all error::SendError; oneshot::RecvError and watch::RecvError are error::RecvError).
// An error that hands back the value a failed call consumed holds it in `value` and gives
// it up with into_inner(); a kind says why the call failed (is_full(), is_closed()...).

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "tokio/core/display.hpp"

namespace tokio::detail {

// An error of kind K that hands back the value the failed call consumed (T = void: none).
template <class K, class T>
struct KindedError {
  K kind;
  T value;
  T into_inner() && { return std::move(value); }
};
template <class K>
struct KindedError<K, void> {
  K kind;
  friend bool operator==(const KindedError&, const KindedError&) = default;
};

// broadcast's receive errors: Closed, or Lagged with how many values were missed.
template <class K>
struct LagError {
  K kind;
  uint64_t missed = 0;  // Lagged: how many values were skipped
  bool is_closed() const noexcept { return kind == K::Closed; }
  bool is_lagged() const noexcept { return kind == K::Lagged; }
  friend bool operator==(const LagError&, const LagError&) = default;
};

// A second recv() / recv_many() awaited on one mpsc receiver while another is pending
// (two tasks sharing it): mpsc has one consumer.
[[noreturn]] void throw_second_recv();
// A broadcast::Receiver used by two receive operations at once (two tasks sharing it).
[[noreturn]] void throw_second_broadcast_recv();

// One line on stderr: "tokio: <what> destroyed while <how>; ..." (a primitive destroyed
// in use: its waiters can never be woken, and touching it afterwards is undefined).
void report_destroyed_in_use(const char* what, const char* how) noexcept;

// The std::invalid_argument a bad capacity or reader limit throws (mpsc::channel,
// broadcast::channel, RwLock::with_max_readers), out of line: the callers are templates.
[[noreturn]] void throw_mpsc_capacity(std::size_t capacity, std::size_t max);
[[noreturn]] void throw_broadcast_capacity(std::size_t capacity);
[[noreturn]] void throw_rwlock_max_reads(uint32_t n, uint32_t max);

}  // namespace tokio::detail

namespace tokio::sync::error {

// A send failed because nobody can receive the value any more (the receiver is gone or
// closed: mpsc; no receiver: broadcast, watch); the value is handed back. SendError<> holds
// none (mpsc's reserve).
template <class T = void>
struct SendError {
  T value;
  T into_inner() && { return std::move(value); }
};
template <>
struct SendError<void> {
  friend bool operator==(SendError, SendError) = default;
};

// mpsc try_send / try_reserve: the channel is full (bounded only) or closed.
enum class TrySendErrorKind { Full, Closed };
template <class T = void>
struct TrySendError : detail::KindedError<TrySendErrorKind, T> {
  using Kind = TrySendErrorKind;
  bool is_full() const noexcept { return this->kind == Kind::Full; }
  bool is_closed() const noexcept { return this->kind == Kind::Closed; }
};

// mpsc send_timeout: the deadline passed before a slot freed up, or the receiver is gone
// or closed.
enum class SendTimeoutErrorKind { Timeout, Closed };
template <class T>
struct SendTimeoutError : detail::KindedError<SendTimeoutErrorKind, T> {
  using Kind = SendTimeoutErrorKind;
  bool is_timeout() const noexcept { return this->kind == Kind::Timeout; }
  bool is_closed() const noexcept { return this->kind == Kind::Closed; }
};

// The sender is gone (oneshot receive; watch changed / wait_for / has_changed).
struct RecvError {
  friend bool operator==(RecvError, RecvError) = default;
};

}  // namespace tokio::sync::error

namespace tokio::sync {

// try_lock / try_read / try_write found the lock held.
struct TryLockError {
  friend bool operator==(TryLockError, TryLockError) = default;
};

// The semaphore was closed.
struct AcquireError {
  friend bool operator==(AcquireError, AcquireError) = default;
};
enum class TryAcquireError { Closed, NoPermits };

// OnceCell::set: the cell is already set, or an initializer is running right now.
enum class SetErrorKind { AlreadyInitialized, InitializingError };
template <class T>
struct SetError : detail::KindedError<SetErrorKind, T> {
  using Kind = SetErrorKind;
  bool is_already_init_err() const noexcept { return this->kind == Kind::AlreadyInitialized; }
  bool is_initializing_err() const noexcept { return this->kind == Kind::InitializingError; }
};

}  // namespace tokio::sync

namespace tokio::sync::mpsc {

using error::SendError;
using error::SendTimeoutError;
using error::TrySendError;
// try_recv() found nothing: the channel is empty (Empty) or empty and closed
// (Disconnected).
enum class TryRecvError { Empty, Disconnected };

}  // namespace tokio::sync::mpsc

namespace tokio::sync::oneshot {

using error::RecvError;
// try_recv(): nothing sent yet (Empty), or the value was taken, the sender was dropped or
// the channel was closed (Closed).
enum class TryRecvError { Empty, Closed };

}  // namespace tokio::sync::oneshot

namespace tokio::sync::watch {

using error::RecvError;
using error::SendError;

}  // namespace tokio::sync::watch

namespace tokio::sync::broadcast {

using error::SendError;

// recv(): every sender is gone and every value was read (Closed), or this receiver fell
// behind and `missed` values were overwritten before it read them (Lagged).
enum class RecvErrorKind { Closed, Lagged };
struct RecvError : detail::LagError<RecvErrorKind> {
  using Kind = RecvErrorKind;
  static RecvError closed() noexcept { return {{Kind::Closed, 0}}; }
  static RecvError lagged(uint64_t n) noexcept { return {{Kind::Lagged, n}}; }
};

// try_recv(): as RecvError, or nothing new yet (Empty).
enum class TryRecvErrorKind { Empty, Closed, Lagged };
struct TryRecvError : detail::LagError<TryRecvErrorKind> {
  using Kind = TryRecvErrorKind;
  bool is_empty() const noexcept { return kind == Kind::Empty; }
};

}  // namespace tokio::sync::broadcast

// --- Display: Tokio's messages, for `std::cout << e` and `to_string(e)` --------------------

namespace tokio::detail {
std::string lagged_text(uint64_t missed);  // "channel lagged by N" (sync/error.cpp)
}  // namespace tokio::detail

namespace tokio::sync::error {
template <class T>
std::string to_string(const SendError<T>&) {
  return "channel closed";
}
template <class T>
std::string to_string(const TrySendError<T>& e) {
  return e.is_full() ? "no available capacity" : "channel closed";
}
template <class T>
std::string to_string(const SendTimeoutError<T>& e) {
  return e.is_timeout() ? "timed out waiting on send operation" : "channel closed";
}
inline std::string to_string(const RecvError&) { return "channel closed"; }
using detail::operator<<;
}  // namespace tokio::sync::error

namespace tokio::sync {
inline std::string to_string(const TryLockError&) { return "operation would block"; }
inline std::string to_string(const AcquireError&) { return "semaphore closed"; }
inline std::string to_string(TryAcquireError e) {
  return e == TryAcquireError::Closed ? "semaphore closed" : "no permits available";
}
// Tokio's Display prints the variant's name.
template <class T>
std::string to_string(const SetError<T>& e) {
  return e.is_already_init_err() ? "AlreadyInitializedError" : "InitializingError";
}
using detail::operator<<;
}  // namespace tokio::sync

namespace tokio::sync::mpsc {
inline std::string to_string(TryRecvError e) {
  return e == TryRecvError::Empty ? "receiving on an empty channel"
                                  : "receiving on a closed channel";
}
using detail::operator<<;
}  // namespace tokio::sync::mpsc

namespace tokio::sync::oneshot {
inline std::string to_string(TryRecvError e) {
  return e == TryRecvError::Empty ? "channel empty" : "channel closed";
}
using detail::operator<<;
}  // namespace tokio::sync::oneshot

namespace tokio::detail {
template <class K>
std::string lag_error_text(const LagError<K>& e) {
  return e.is_lagged() ? lagged_text(e.missed) : "channel closed";
}
}  // namespace tokio::detail

namespace tokio::sync::broadcast {
inline std::string to_string(const RecvError& e) { return detail::lag_error_text(e); }
inline std::string to_string(const TryRecvError& e) {
  return e.is_empty() ? "channel empty" : detail::lag_error_text(e);
}
using detail::operator<<;
}  // namespace tokio::sync::broadcast

namespace tokio::detail {
template <class T>
struct enable_display<sync::error::SendError<T>> : std::true_type {};
template <class T>
struct enable_display<sync::error::TrySendError<T>> : std::true_type {};
template <class T>
struct enable_display<sync::error::SendTimeoutError<T>> : std::true_type {};
template <>
struct enable_display<sync::error::RecvError> : std::true_type {};
template <>
struct enable_display<sync::TryLockError> : std::true_type {};
template <>
struct enable_display<sync::AcquireError> : std::true_type {};
template <>
struct enable_display<sync::TryAcquireError> : std::true_type {};
template <class T>
struct enable_display<sync::SetError<T>> : std::true_type {};
template <>
struct enable_display<sync::mpsc::TryRecvError> : std::true_type {};
template <>
struct enable_display<sync::oneshot::TryRecvError> : std::true_type {};
template <>
struct enable_display<sync::broadcast::RecvError> : std::true_type {};
template <>
struct enable_display<sync::broadcast::TryRecvError> : std::true_type {};
}  // namespace tokio::detail

// Tokio's paths to the channel errors (`mpsc::error::TrySendError`,
// `broadcast::error::RecvError`, ...): the same types, so a match on them ports as is.
namespace tokio::sync::mpsc::error {
using mpsc::TryRecvError;
using sync::error::SendError;
using sync::error::SendTimeoutError;
using sync::error::SendTimeoutErrorKind;
using sync::error::TrySendError;
using sync::error::TrySendErrorKind;
}  // namespace tokio::sync::mpsc::error

namespace tokio::sync::oneshot::error {
using oneshot::TryRecvError;
using sync::error::RecvError;
}  // namespace tokio::sync::oneshot::error

namespace tokio::sync::watch::error {
using sync::error::RecvError;
using sync::error::SendError;
}  // namespace tokio::sync::watch::error

namespace tokio::sync::broadcast::error {
using broadcast::RecvError;
using broadcast::RecvErrorKind;
using broadcast::TryRecvError;
using broadcast::TryRecvErrorKind;
using sync::error::SendError;
}  // namespace tokio::sync::broadcast::error
