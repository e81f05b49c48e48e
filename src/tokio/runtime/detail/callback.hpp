#pragma once
// Callback<R(A...)>: a copyable, type-erased callable for the runtime's hooks
// (Builder::on_thread_start, thread_name_fn, on_task_spawn...). std::function would do,
// but <functional> is one of the heaviest headers of C++20 and every user TU would parse it
// for these setters.

#include <new>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"

namespace tokio::detail {

template <class Sig>
class Callback;

template <class R, class... A>
class Callback<R(A...)> {
 public:
  Callback() noexcept = default;
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, Callback> &&
             std::is_invocable_r_v<R, std::decay_t<F>&, A...>)
  Callback(F&& f)  // NOLINT: implicit, like std::function
      : obj_(new std::decay_t<F>(std::forward<F>(f))), ops_(&kOps<std::decay_t<F>>) {}
  Callback(const Callback& o) : obj_(o.obj_ ? o.ops_->clone(o.obj_) : nullptr), ops_(o.ops_) {}
  Callback(Callback&& o) noexcept
      : obj_(detail::exchange(o.obj_, nullptr)), ops_(detail::exchange(o.ops_, nullptr)) {}
  Callback& operator=(Callback o) noexcept {
    detail::swap_values(obj_, o.obj_);
    detail::swap_values(ops_, o.ops_);
    return *this;
  }
  ~Callback() {
    if (obj_) ops_->destroy(obj_);
  }

  explicit operator bool() const noexcept { return obj_ != nullptr; }
  R operator()(A... a) const { return ops_->call(obj_, static_cast<A&&>(a)...); }

 private:
  struct Ops {
    R (*call)(void*, A&&...);
    void* (*clone)(const void*);
    void (*destroy)(void*) noexcept;
  };
  template <class F>
  static constexpr Ops kOps{[](void* p, A&&... a) -> R {
                              return static_cast<R>((*static_cast<F*>(p))(static_cast<A&&>(a)...));
                            },
                            [](const void* p) -> void* { return new F(*static_cast<const F*>(p)); },
                            [](void* p) noexcept { delete static_cast<F*>(p); }};

  void* obj_ = nullptr;
  const Ops* ops_ = nullptr;
};

}  // namespace tokio::detail
