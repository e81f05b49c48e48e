// Task names (task_names.hpp): the name block beside a named task, and the lookups reports use.
#include "tokio/runtime/detail/task_names.hpp"

#include <cstring>
#include <new>
#include <string>

#include "tokio/core/detail/frame_alloc.hpp"
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/detail/owned_tasks.hpp"

namespace tokio::detail {

// The name goes in a block of its own (task_name.hpp): no frame block took it.
void set_task_name_slow(TaskHeader* t, const char* name, std::size_t len) noexcept {
  tls.named_frame = nullptr;
  void* mem;
  try {
    mem = frame_alloc(sizeof(TaskName) + len, alignof(TaskName));
  } catch (...) {
    return;  // out of memory: the task runs unnamed rather than not at all
  }
  auto* n = new (mem) TaskName{t->id(), len};
  std::memcpy(n->text(), name, len);
  t->ident = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(n)) | TaskHeader::kOwnNameBlock;
}

void free_task_name(const TaskName* n) noexcept { frame_free(const_cast<TaskName*>(n)); }

std::string task_name(const TaskHeader* t) {
  const TaskName* n = t->name_block();
  return n ? std::string(n->text(), n->len) : std::string();
}

void describe_task(uint64_t ident, uint64_t& id, std::string& name) {
  if (ident & 1) {
    id = ident >> 1;
    name.clear();
    return;
  }
  OwnedTasks::find_named(ident, id, name);
}

std::string exception_what(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
  }
  return "an exception that is not a std::exception";
}

}  // namespace tokio::detail
