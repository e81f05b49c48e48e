#pragma once
// tokio::join, tokio::try_join, tokio::select (and select_biased).
//
// All run their operands concurrently inside the calling task (never in parallel), exactly
// like Tokio's join!/try_join!/select! macros. Operands are tokio::Tasks or any other tokio
// awaitable. A plain leaf (rx.recv(), notify.notified(), sleep(d), a socket read, a
// JoinHandle...) is polled by the combinator itself, inside its own storage: a select loop
// over such operands allocates nothing and resumes no extra coroutine per iteration. Other
// awaitables are wrapped in a Task frame (core/detail/branch.hpp: make_branch).

#include <array>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "tokio/core/result.hpp"
#include "tokio/core/detail/branch.hpp"
#include "tokio/core/task.hpp"

namespace tokio {

// select's `else` branch (Tokio's `else => ...`): taken when every other branch is disabled
// by its precondition (tokio::when). Its alternative in the result holds a SelectElse.
struct SelectElse {};
inline constexpr SelectElse select_else{};

namespace detail {

// A select branch with a precondition: tokio::when(cond, operand), Tokio's
// `pattern = fut, if cond => ...`. The operand is still evaluated (as in Tokio) but a
// disabled branch is never polled and cannot win.
template <class A>
struct When {
  bool enabled;
  A&& operand;
};

// How select takes each operand: A is the operand's type as passed (an lvalue reference
// for a borrowed operand), D the type itself.
template <class A, class D = std::remove_cvref_t<A>>
struct branch_operand {
  static bool enabled(const D&) noexcept { return true; }
  static auto branch(A&& a) { return make_branch(std::forward<A>(a)); }
};
template <class A, class B>
struct branch_operand<A, When<B>> {
  static bool enabled(const When<B>& w) noexcept { return w.enabled; }
  static auto branch(A&& w) { return make_branch(std::forward<B>(w.operand)); }
};
template <class A>
struct branch_operand<A, SelectElse> {
  static bool enabled(const SelectElse&) noexcept { return false; }
  static Branch<SelectElse> branch(A&&) noexcept {  // never run
    return Branch<SelectElse>(Task<SelectElse>());
  }
};

template <class A>
using operand_t = branch_operand<A>;
template <class A>
using select_branch_t = decltype(operand_t<A>::branch(std::declval<A>()));

template <class A>
using task_value_t = typename decltype(to_task(std::declval<A>()))::value_type;
// What awaiting operand A gives (as join and try_join run it).
template <class A>
using await_value_t = typename branch_t<A>::value_type;

// --- select ------------------------------------------------------------------------------
// Bs: the branches (Branch<T> or LeafBranch<A>, make_branch), each with its value_type.
template <class... Bs>
class TOKIO_MUST_AWAIT Select : public Leaf<Select<Bs...>> {
 public:
  static constexpr const char* kLeafName = "select";  // in task dumps (branches not shown)
  using Output = std::variant<void_to_monostate_t<typename Bs::value_type>...>;
  static constexpr std::size_t N = sizeof...(Bs);
  static constexpr std::size_t kNoElse = N;

  // makers: one InPlace per branch (core/detail/branch.hpp).
  template <class... Ms>
  Select(bool biased, std::array<bool, N> enabled, Ms&&... makers)
      : biased_(biased), enabled_(enabled), branches_(std::forward<Ms>(makers)...) {}
  Select(Select&& o) noexcept
      : Leaf<Select<Bs...>>(o),
        biased_(o.biased_),
        enabled_(o.enabled_),
        branches_(std::move(o.branches_)) {}

  // The first poll asks each leaf that can (LeafBranch::kTries) whether it is ready
  // without registering, and registers those only when no branch was ready: a loop whose
  // channel branch is usually ready never queues its Notified or arms its timer. A branch
  // that cannot be asked is polled as usual in its turn, and so is the last one in the
  // order (when it is reached nothing else was ready, so it would register anyway). Later
  // polls poll every branch.
  bool poll(task::Context& cx) noexcept {
    const std::size_t start = biased_ ? 0 : thread_rand_n(static_cast<uint32_t>(N));
    const std::size_t last = start == 0 ? N - 1 : start - 1;
    const bool first = !polled_;
    polled_ = true;
    bool any = false;
    std::size_t won = first_from<N>(start, [&](auto I) {
      if (!enabled_[I]) return false;
      any = true;
      auto& b = std::get<I>(branches_);
      if constexpr (tries<decltype(b)>) {
        if (first && I != last) return b.try_step();
      }
      return b.step(cx);
    });
    if (won == N && first && N > 1 && (tries<Bs&> || ...)) {
      // Nothing was ready: now register the branches that were only asked.
      won = first_from<N>(start, [&](auto I) {
        auto& b = std::get<I>(branches_);
        if constexpr (tries<decltype(b)>) {
          return I != last && enabled_[I] && b.step(cx);
        } else {
          return false;
        }
      });
    }
    if (won != N) {
      winner_ = won;
      return true;
    }
    if (!any) {
      // Every branch disabled: the else branch wins, or await_resume reports the misuse.
      winner_ = else_index();
      return true;
    }
    return false;
  }

  Output await_resume() {
    if (winner_ == kNoElse) {
      throw std::logic_error(
          "tokio::select: every branch is disabled (tokio::when) and there is no "
          "tokio::select_else branch");
    }
    // The losers are cancelled before the winner's value is handed out.
    cancel_except(winner_, std::make_index_sequence<N>{});
    return with_index<N>(winner_, [&](auto I) -> Output {
      if constexpr (std::is_same_v<typename std::tuple_element_t<decltype(I)::value,
                                                                 std::tuple<Bs...>>::value_type,
                                   SelectElse>) {
        return Output(std::in_place_index<I>, SelectElse{});
      } else {
        return Output(std::in_place_index<I>, take_value(std::get<I>(branches_)));
      }
    });
  }

 private:
  static constexpr std::size_t else_index() noexcept {
    std::size_t i = 0;
    for (bool e : {std::is_same_v<typename Bs::value_type, SelectElse>...}) {
      if (e) return i;
      ++i;
    }
    return kNoElse;
  }
  template <std::size_t... I>
  void cancel_except(std::size_t keep, std::index_sequence<I...>) noexcept {
    ((I != keep ? std::get<I>(branches_).cancel() : void()), ...);
  }

  template <class B>
  static constexpr bool tries = requires {
    requires std::remove_cvref_t<B>::kTries;
  };

  bool biased_;
  bool polled_ = false;
  std::array<bool, N> enabled_;
  std::tuple<Bs...> branches_;
  std::size_t winner_ = 0;
};

// --- join --------------------------------------------------------------------------------
template <class... Bs>
class TOKIO_MUST_AWAIT Join : public Leaf<Join<Bs...>> {
 public:
  static constexpr const char* kLeafName = "join";  // in task dumps (branches not shown)
  using Output = std::tuple<void_to_monostate_t<typename Bs::value_type>...>;
  static constexpr std::size_t N = sizeof...(Bs);

  template <class... Ms>
  explicit Join(Ms&&... makers) : branches_(std::forward<Ms>(makers)...) {}
  Join(Join&& o) noexcept : Leaf<Join<Bs...>>(o), branches_(std::move(o.branches_)) {}

  bool poll(task::Context& cx) noexcept {
    // Rotate the starting branch each poll so no branch is always polled last.
    std::size_t start = next_start_++ % N;
    bool all = true;
    for (std::size_t k = 0; k < N; ++k) {
      std::size_t i = (start + k) % N;
      bool failed = false;
      bool done = with_index<N>(i, [&](auto I) {
        auto& b = std::get<I>(branches_);
        bool d = b.step(cx);
        failed = b.failed();
        return d;
      });
      if (failed) {
        failed_ = i;
        return true;  // an exception ends the join at once, like a panic in join!
      }
      all = all && done;
    }
    return all;
  }

  Output await_resume() {
    if (failed_) {
      discard_except(*failed_, std::make_index_sequence<N>{});
      with_index<N>(*failed_, [&](auto I) { (void)std::get<I>(branches_).take(); });  // rethrows
    }
    return take_all(std::make_index_sequence<N>{});
  }

 private:
  template <std::size_t... I>
  Output take_all(std::index_sequence<I...>) {
    return Output(take_value(std::get<I>(branches_))...);
  }
  // The other operands go in argument order, the finished ones' values with the unfinished
  // ones' frames, before the exception reaches the caller (as join! drops its futures).
  template <std::size_t... I>
  void discard_except(std::size_t keep, std::index_sequence<I...>) noexcept {
    ((I != keep ? std::get<I>(branches_).discard() : void()), ...);
  }

  std::tuple<Bs...> branches_;
  std::size_t next_start_ = 0;
  std::optional<std::size_t> failed_;
};

// --- try_join ----------------------------------------------------------------------------
template <class R>
struct is_result : std::false_type {};
template <class T, class E>
struct is_result<Result<T, E>> : std::true_type {
  using ok_type = T;
  using err_type = E;
};

template <class E, class... Bs>
class TOKIO_MUST_AWAIT TryJoin : public Leaf<TryJoin<E, Bs...>> {
  template <class B>
  using ok_t = typename is_result<typename B::value_type>::ok_type;

 public:
  using Output = Result<std::tuple<void_to_monostate_t<ok_t<Bs>>...>, E>;
  static constexpr std::size_t N = sizeof...(Bs);

  template <class... Ms>
  explicit TryJoin(Ms&&... makers) : branches_(std::forward<Ms>(makers)...) {}
  TryJoin(TryJoin&& o) noexcept : Leaf<TryJoin<E, Bs...>>(o), branches_(std::move(o.branches_)) {}

  bool poll(task::Context& cx) noexcept {
    std::size_t start = next_start_++ % N;
    bool all = true;
    for (std::size_t k = 0; k < N; ++k) {
      std::size_t i = (start + k) % N;
      bool stop = false;
      bool done = with_index<N>(i, [&](auto I) {
        auto& b = std::get<I>(branches_);
        if (b.done()) return true;
        bool d = b.step(cx);
        if (d) {
          if (b.failed()) {
            stop = true;
          } else {
            auto r = b.take();
            if (!r.has_value()) {
              error_.emplace(std::move(r).error());
              stop = true;
            } else {
              store<I>(std::move(r));
            }
          }
        }
        return d;
      });
      if (stop) {
        stopped_ = i;
        return true;
      }
      all = all && done;
    }
    return all;
  }

  Output await_resume() {
    if (stopped_) {
      discard_except(*stopped_, std::make_index_sequence<N>{});
      if (error_) return unexpected(std::move(*error_));
      with_index<N>(*stopped_, [&](auto I) { (void)std::get<I>(branches_).take(); });  // rethrows
    }
    return collect(std::make_index_sequence<N>{});
  }

 private:
  template <std::size_t I, class R>
  void store(R&& r) {
    if constexpr (std::is_void_v<typename is_result<std::remove_cvref_t<R>>::ok_type>) {
      std::get<I>(values_).emplace();
    } else {
      std::get<I>(values_).emplace(std::move(*r));
    }
  }
  template <std::size_t... I>
  Output collect(std::index_sequence<I...>) {
    using Tuple = std::tuple<void_to_monostate_t<ok_t<Bs>>...>;
    return Output(Tuple(std::move(*std::get<I>(values_))...));
  }
  // As Join's: in argument order, a finished operand's Ok value (kept in values_) or an
  // unfinished one's frame, before the error reaches the caller (try_join! drops its
  // tuple of futures and outputs in that order).
  template <std::size_t... I>
  void discard_except(std::size_t keep, std::index_sequence<I...>) noexcept {
    ((I != keep ? (std::get<I>(branches_).cancel(), std::get<I>(values_).reset()) : void()), ...);
  }

  std::tuple<Bs...> branches_;
  std::tuple<std::optional<void_to_monostate_t<ok_t<Bs>>>...> values_;
  std::optional<E> error_;
  std::optional<std::size_t> stopped_;
  std::size_t next_start_ = 0;
};

}  // namespace detail

// Waits for the first operand to finish; the others are destroyed (cancelled) before this
// returns. The result is a std::variant whose index() names the winner (void results are
// std::monostate). Branches are polled in random order each time, like select!.
//
// Operands: a Task or other tokio awaitable (moved in: a losing one is destroyed); an lvalue
// awaitable such as a channel receiver or a tokio::Pinned (borrowed: it survives a loss and
// the next select continues it, Tokio's `&mut fut`); tokio::when(cond, operand) (a branch
// precondition); tokio::select_else (taken when every branch is disabled; without it, that
// case throws std::logic_error, as select! panics).
template <class... A>
auto select(A&&... operands) {
  static_assert(sizeof...(A) >= 1, "select needs at least one operand");
  static_assert((std::is_same_v<std::remove_cvref_t<A>, SelectElse> + ... + 0) <= 1,
                "select takes at most one tokio::select_else");
  std::array<bool, sizeof...(A)> enabled{detail::operand_t<A>::enabled(operands)...};
  return detail::Select<detail::select_branch_t<A>...>(
      false, enabled,
      detail::InPlace{[&] { return detail::operand_t<A>::branch(std::forward<A>(operands)); }}...);
}
// As select, but branches are polled in argument order (select! with `biased;`).
template <class... A>
auto select_biased(A&&... operands) {
  static_assert(sizeof...(A) >= 1, "select_biased needs at least one operand");
  static_assert((std::is_same_v<std::remove_cvref_t<A>, SelectElse> + ... + 0) <= 1,
                "select_biased takes at most one tokio::select_else");
  std::array<bool, sizeof...(A)> enabled{detail::operand_t<A>::enabled(operands)...};
  return detail::Select<detail::select_branch_t<A>...>(
      true, enabled,
      detail::InPlace{[&] { return detail::operand_t<A>::branch(std::forward<A>(operands)); }}...);
}

// A select branch taking part only when `cond` holds (Tokio's `, if cond`).
template <class A>
detail::When<A> when(bool cond, A&& operand) noexcept {
  return detail::When<A>{cond, std::forward<A>(operand)};
}

// Runs every operand to completion concurrently and returns their results as a tuple
// (void results are std::monostate). If one throws, the others are cancelled and the
// exception propagates.
template <class... A>
auto join(A&&... operands) {
  static_assert(sizeof...(A) >= 1, "join needs at least one operand");
  return detail::Join<detail::branch_t<A>...>(
      detail::InPlace{[&] { return detail::make_branch(std::forward<A>(operands)); }}...);
}

// Like join, for operands returning tokio::Result<T, E> with one error type E: the first
// error cancels the rest and is returned; otherwise Result<tuple<T...>, E>.
template <class... A>
auto try_join(A&&... operands) {
  static_assert(sizeof...(A) >= 1, "try_join needs at least one operand");
  static_assert((detail::is_result<detail::await_value_t<A>>::value && ...),
                "try_join operands must return tokio::Result<T, E>");
  using E = typename detail::is_result<
      std::tuple_element_t<0, std::tuple<detail::await_value_t<A>...>>>::err_type;
  static_assert(
      (std::is_same_v<typename detail::is_result<detail::await_value_t<A>>::err_type, E> && ...),
      "try_join operands must share one error type");
  return detail::TryJoin<E, detail::branch_t<A>...>(
      detail::InPlace{[&] { return detail::make_branch(std::forward<A>(operands)); }}...);
}

}  // namespace tokio
