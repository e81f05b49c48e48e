#pragma once
// Outcome<T>: what a coroutine or task finished with: a value, an exception, or (for
// spawned tasks) cancellation. Used by Task promises and task cells.

#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"

namespace tokio::detail {

enum class OutcomeState : uint8_t { Empty, Value, Exception, Cancelled, Consumed };

template <class T>
class Outcome {
 public:
  Outcome() noexcept {}
  Outcome(const Outcome&) = delete;
  Outcome& operator=(const Outcome&) = delete;
  ~Outcome() { clear(); }

  OutcomeState state() const noexcept { return state_; }
  const std::exception_ptr* exception() const noexcept {
    return state_ == OutcomeState::Exception ? &ex_ : nullptr;
  }

  template <class... A>
  void set_value(A&&... a) {
    clear();
    set_first_value(std::forward<A>(a)...);
  }
  // set_value for an outcome known to be Empty (a Task promise's co_return: nothing sets
  // the outcome before it), without clear()'s test of the old state.
  template <class... A>
  void set_first_value(A&&... a) {
    new (&value_) T(std::forward<A>(a)...);
    state_ = OutcomeState::Value;
  }
  void set_exception(std::exception_ptr e) noexcept {
    clear();
    new (&ex_) std::exception_ptr(std::move(e));
    state_ = OutcomeState::Exception;
  }
  void set_cancelled() noexcept {
    clear();
    state_ = OutcomeState::Cancelled;
  }
  void move_from(Outcome& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    clear();
    if (o.state_ == OutcomeState::Value) new (&value_) T(std::move(o.value_));
    else if (o.state_ == OutcomeState::Exception) new (&ex_) std::exception_ptr(std::move(o.ex_));
    state_ = o.state_;
    o.clear();
    o.state_ = OutcomeState::Consumed;
  }

  // For co_await of a Task: the value, or the exception rethrown.
  T take() {
    if (state_ == OutcomeState::Exception) {
      std::exception_ptr e = std::move(ex_);
      clear();
      state_ = OutcomeState::Consumed;
      std::rethrow_exception(e);
    }
    T v(std::move(value_));
    clear();
    state_ = OutcomeState::Consumed;
    return v;
  }
  // take() for an outcome destroyed right after (a finished frame's, whose promise goes
  // with the frame): the state is left as it is, and the destructor destroys the
  // moved-from value or exception_ptr, one store fewer than take().
  T take_last() {
    if (state_ == OutcomeState::Exception) std::rethrow_exception(std::move(ex_));
    return std::move(value_);
  }
  // For JoinHandle/JoinSet (task/join_handle.hpp turns these into a JoinError): the value
  // (state() == Value) or the exception (Exception; null when Cancelled or Empty); the
  // outcome is Consumed afterwards.
  T take_value() {
    T v(std::move(value_));
    clear();
    state_ = OutcomeState::Consumed;
    return v;
  }
  std::exception_ptr take_exception() noexcept {
    std::exception_ptr e;
    if (state_ == OutcomeState::Exception) e = std::move(ex_);
    clear();
    state_ = OutcomeState::Consumed;
    return e;
  }
  void clear() noexcept {
    if (state_ == OutcomeState::Value) value_.~T();
    else if (state_ == OutcomeState::Exception) ex_.~exception_ptr();
    state_ = OutcomeState::Empty;
  }

 private:
  union {
    T value_;
    std::exception_ptr ex_;
  };
  OutcomeState state_ = OutcomeState::Empty;
};

template <>
class Outcome<void> {
 public:
  Outcome() noexcept = default;
  Outcome(const Outcome&) = delete;
  Outcome& operator=(const Outcome&) = delete;

  OutcomeState state() const noexcept { return state_; }
  const std::exception_ptr* exception() const noexcept {
    return state_ == OutcomeState::Exception ? &ex_ : nullptr;
  }
  void set_value() noexcept {
    ex_ = nullptr;
    state_ = OutcomeState::Value;
  }
  void set_exception(std::exception_ptr e) noexcept {
    ex_ = std::move(e);
    state_ = OutcomeState::Exception;
  }
  void set_cancelled() noexcept {
    ex_ = nullptr;
    state_ = OutcomeState::Cancelled;
  }
  void move_from(Outcome& o) noexcept {
    ex_ = std::move(o.ex_);
    state_ = o.state_;
    o.ex_ = nullptr;
    o.state_ = OutcomeState::Consumed;
  }
  void take() {
    OutcomeState s = detail::exchange(state_, OutcomeState::Consumed);
    if (s == OutcomeState::Exception) std::rethrow_exception(detail::exchange(ex_, nullptr));
  }
  void take_value() noexcept { state_ = OutcomeState::Consumed; }
  std::exception_ptr take_exception() noexcept {
    state_ = OutcomeState::Consumed;
    return detail::exchange(ex_, nullptr);
  }
  void clear() noexcept {
    ex_ = nullptr;
    state_ = OutcomeState::Empty;
  }

 private:
  std::exception_ptr ex_;
  OutcomeState state_ = OutcomeState::Empty;
};

}  // namespace tokio::detail
