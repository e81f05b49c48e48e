// The process-wide task name registry (task_names.hpp).
#include <mutex>
#include <string>
#include <unordered_map>

#include "tokio/runtime/detail/task_names.hpp"
#include "tokio/runtime/detail/task_state_ops.hpp"

namespace tokio::detail {

namespace runtime_task_names_impl {
struct Registry {
  std::mutex mu;
  std::unordered_map<uint64_t, std::string> names;
};
// Never destroyed: tasks freed during static destruction may still look their name up.
Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}
}  // namespace runtime_task_names_impl

void set_task_name(TaskHeader* t, const char* name, std::size_t len) noexcept {
  auto& r = runtime_task_names_impl::registry();
  try {
    std::lock_guard<std::mutex> g(r.mu);
    r.names[t->id].assign(name, len);
  } catch (...) {
    return;  // out of memory: the task runs unnamed rather than not at all
  }
  t->state.set_named();
}

std::string task_name(const TaskHeader* t) {
  if (!(t->state.load() & TaskState::NAMED)) return {};
  auto& r = runtime_task_names_impl::registry();
  std::lock_guard<std::mutex> g(r.mu);
  auto it = r.names.find(t->id);
  return it == r.names.end() ? std::string() : it->second;
}

std::string task_name_by_id(uint64_t id) {
  auto& r = runtime_task_names_impl::registry();
  std::lock_guard<std::mutex> g(r.mu);
  auto it = r.names.find(id);
  return it == r.names.end() ? std::string() : it->second;
}

void forget_task_name(uint64_t id) noexcept {
  auto& r = runtime_task_names_impl::registry();
  std::lock_guard<std::mutex> g(r.mu);
  r.names.erase(id);
}

}  // namespace tokio::detail
