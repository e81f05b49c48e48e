// Names placed in task frame blocks (task_name.hpp).
#include "tokio/core/detail/task_name.hpp"

#include <cstring>
#include <new>

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

NamingScope::NamingScope(const NamedSpawn& n, std::size_t offer_len) noexcept : own_(n.own_offer) {
  ThreadContext& t = tls;
  pending_ = t.pending_name;
  pending_len_ = t.pending_name_len;
  frame_ = t.named_frame;
  block_ = t.named_block;
  if (!own_) {  // an enclosing spawn's: set aside
    t.pending_name = nullptr;
    t.named_frame = nullptr;
  }
  if (offer_len) offer_pending_name(n.name.data(), offer_len);
}

NamingScope::~NamingScope() {
  ThreadContext& t = tls;
  if (own_) {
    clear_pending_name();
    return;
  }
  t.pending_name = pending_;
  t.pending_name_len = pending_len_;
  t.named_frame = frame_;
  t.named_block = block_;
}

}  // namespace tokio::detail
