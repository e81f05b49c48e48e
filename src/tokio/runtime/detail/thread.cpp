#include "tokio/runtime/detail/thread.hpp"

#include <cerrno>
#include <memory>
#include <system_error>

#include "tokio/runtime/detail/sigpipe.hpp"

namespace tokio::detail {

namespace runtime_thread_impl {
struct ThreadStart {
  std::string name;
  std::function<void()> body;
};
void* thread_trampoline(void* arg) {
  block_sigpipe_for_thread();  // a runtime thread's writes to pipes need no mask changes
  std::unique_ptr<runtime_thread_impl::ThreadStart> s(
      static_cast<runtime_thread_impl::ThreadStart*>(arg));
  if (!s->name.empty()) {
    std::string n = s->name.substr(0, 15);  // the kernel keeps 15 bytes
    pthread_setname_np(pthread_self(), n.c_str());
  }
  s->body();
  return nullptr;
}
}  // namespace runtime_thread_impl

pthread_t spawn_native_thread(const std::string& name, std::size_t stack_size,
                              std::function<void()> body) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (stack_size > 0) {
    int rc = pthread_attr_setstacksize(&attr, stack_size);
    if (rc != 0) {
      pthread_attr_destroy(&attr);
      throw std::system_error(
          rc, std::generic_category(),
          "tokio: invalid thread_stack_size (must be at least PTHREAD_STACK_MIN)");
    }
  }
  auto* start = new runtime_thread_impl::ThreadStart{name, std::move(body)};
  pthread_t th;
  int rc = pthread_create(&th, &attr, &runtime_thread_impl::thread_trampoline, start);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    delete start;
    throw std::system_error(rc, std::generic_category(), "tokio: failed to spawn a thread");
  }
  return th;
}

}  // namespace tokio::detail
