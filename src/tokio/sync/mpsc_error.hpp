#pragma once
// Errors of the mpsc channels (Tokio's names).

#include <utility>

namespace tokio::sync::mpsc {

// send() failed because the receiver is gone or closed; the value is handed back.
template <class T = void>
struct SendError {
  T value;
  T into_inner() && { return std::move(value); }
};
// reserve() failed because the receiver is gone or closed.
template <>
struct SendError<void> {
  friend bool operator==(SendError, SendError) = default;
};

// try_send() failed: the channel is full (bounded only) or closed; the value is handed back.
template <class T = void>
struct TrySendError {
  enum class Kind { Full, Closed };
  Kind kind;
  T value;
  bool is_full() const noexcept { return kind == Kind::Full; }
  bool is_closed() const noexcept { return kind == Kind::Closed; }
  T into_inner() && { return std::move(value); }
};
template <>
struct TrySendError<void> {
  enum class Kind { Full, Closed };
  Kind kind;
  bool is_full() const noexcept { return kind == Kind::Full; }
  bool is_closed() const noexcept { return kind == Kind::Closed; }
  friend bool operator==(TrySendError, TrySendError) = default;
};

// send_timeout() failed: the deadline passed before a slot freed up (Timeout) or the
// receiver is gone or closed (Closed); either way the value is handed back.
template <class T>
struct SendTimeoutError {
  enum class Kind { Timeout, Closed };
  Kind kind;
  T value;
  bool is_timeout() const noexcept { return kind == Kind::Timeout; }
  bool is_closed() const noexcept { return kind == Kind::Closed; }
  T into_inner() && { return std::move(value); }
};

// try_recv() found nothing: the channel is empty (Empty) or empty and closed
// (Disconnected).
enum class TryRecvError { Empty, Disconnected };

}  // namespace tokio::sync::mpsc
