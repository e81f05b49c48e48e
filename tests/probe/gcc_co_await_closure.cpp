// Compiler probe (make check): does this compiler destroy an aggregate temporary (here a
// lambda's closure) with a non-trivially destructible member twice when it appears inside a
// co_await expression? g++ 12.2 does (one copy is never constructed, two are destroyed);
// clang 14 and 19 do not. tokio.hpp offers f(callable, args...) forms so no such temporary
// needs to sit inside a co_await; README, "Compilers".
#include <coroutine>
#include <cstdio>
#include <exception>
#include <utility>

static int constructed = 0, destroyed = 0;
struct Counted {
  Counted() { ++constructed; }
  Counted(const Counted&) { ++constructed; }
  Counted(Counted&&) noexcept { ++constructed; }
  ~Counted() { ++destroyed; }
};

struct Task {
  struct promise_type {
    Task get_return_object() {
      return Task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  std::coroutine_handle<promise_type> h;
  ~Task() {
    if (h) h.destroy();
  }
};

struct Ready {
  int v;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  int await_resume() const noexcept { return v; }
};

template <class F>
Ready run(F&& f) {
  return Ready{f()};
}

Task body() {
  // A capturing lambda with a non-trivially destructible capture, as a temporary inside
  // the co_await expression.
  int r = co_await run([c = Counted()] {
    (void)c;
    return 1;
  });
  (void)r;
}

int main() {
  { Task t = body(); }
  bool affected = destroyed != constructed;
  std::printf("%s: %d constructed, %d destroyed\n",
              affected ? "AFFECTED (closure destroyed twice)" : "not affected", constructed,
              destroyed);
  return 0;
}
