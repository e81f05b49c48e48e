#pragma once
// task::unconstrained: runs an operand outside the coop budget.

#include <cstdint>
#include <utility>

#include "tokio/core/combinators.hpp"
#include "tokio/core/detail/branch.hpp"
#include "tokio/core/detail/thread_context.hpp"

namespace tokio {

namespace detail {
struct UnconstrainedHooks {
  int32_t before() noexcept {
    int32_t saved = tls.budget;
    tls.budget = -1;
    return saved;
  }
  void after(int32_t saved) noexcept { tls.budget = saved; }
};

}  // namespace detail

namespace task {
// Runs the operand with no coop budget: its resource awaits never force a yield. Use with
// care, it can starve other tasks on the same worker.
template <class A>
auto unconstrained(A&& operand) {
  using T = detail::task_value_t<A>;
  return detail::ScopedBranch<T, detail::UnconstrainedHooks>(
      detail::to_task(std::forward<A>(operand)), detail::UnconstrainedHooks{});
}
}  // namespace task

}  // namespace tokio
