// Names placed in task frame blocks (task_name.hpp).
#include <cstring>
#include <new>

#include "tokio/core/detail/task_name.hpp"
#include "tokio/core/task.hpp"

namespace tokio::detail {

std::size_t pending_name_room() noexcept {
  const ThreadContext& t = tls;
  return t.pending_name ? sizeof(TaskName) + t.pending_name_len : 0;
}

void take_pending_name(void* at, void* frame) noexcept {
  ThreadContext& t = tls;
  std::size_t len = t.pending_name_len;
  auto* name = new (at) TaskName{0, len};
  std::memcpy(name->text(), t.pending_name, len);
  t.pending_name = nullptr;
  t.named_frame = frame;
  t.named_block = name;
}

void* frame_alloc_named(std::size_t n) {
  std::size_t at = kTaskPrefix + ((n + 7) & ~std::size_t{7});
  char* block = static_cast<char*>(frame_alloc(at + pending_name_room()));
  void* frame = block + kTaskPrefix;
  clear_parent_link(frame);
  take_pending_name(block + at, frame);
  return frame;
}

void clear_pending_name() noexcept {
  ThreadContext& t = tls;
  t.pending_name = nullptr;
  t.named_frame = nullptr;
  t.named_block = nullptr;
}

bool PendingNameScope::offer(const char* name, std::size_t len) noexcept {
  ThreadContext& t = tls;
  if (t.pending_name) return false;
  t.pending_name = name;
  t.pending_name_len = len;
  return true;
}

}  // namespace tokio::detail
