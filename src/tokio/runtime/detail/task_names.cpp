// The process-wide task name registry (task_names.hpp).
#include <mutex>
#include <string>
#include <unordered_map>

#include "tokio/runtime/detail/task_names.hpp"
#include "tokio/runtime/detail/task_state_ops.hpp"

namespace tokio::detail {

namespace runtime_task_names_impl {
// Sharded by task id, so named spawns on different workers rarely meet on one lock.
constexpr std::size_t kShards = 64;
struct Shard {
  std::mutex mu;
  std::unordered_map<uint64_t, std::string> names;
};
// Never destroyed: tasks freed during static destruction may still look their name up.
Shard& shard(uint64_t id) {
  static Shard* shards = new Shard[kShards];
  return shards[id % kShards];
}
std::string find(uint64_t id) {
  Shard& s = shard(id);
  std::lock_guard<std::mutex> g(s.mu);
  auto it = s.names.find(id);
  return it == s.names.end() ? std::string() : it->second;
}
}  // namespace runtime_task_names_impl

void set_task_name(TaskHeader* t, const char* name, std::size_t len) noexcept {
  auto& s = runtime_task_names_impl::shard(t->id);
  try {
    std::lock_guard<std::mutex> g(s.mu);
    s.names[t->id].assign(name, len);
  } catch (...) {
    return;  // out of memory: the task runs unnamed rather than not at all
  }
  t->state.set_named();
}

std::string task_name(const TaskHeader* t) {
  if (!(t->state.load() & TaskState::NAMED)) return {};
  return runtime_task_names_impl::find(t->id);
}

std::string task_name_by_id(uint64_t id) { return runtime_task_names_impl::find(id); }

std::string exception_what(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
  }
  return "an exception that is not a std::exception";
}

void forget_task_name(uint64_t id) noexcept {
  auto& s = runtime_task_names_impl::shard(id);
  std::lock_guard<std::mutex> g(s.mu);
  s.names.erase(id);
}

}  // namespace tokio::detail
