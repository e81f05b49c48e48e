#pragma once
// A named task's name (task::Builder::name): a TaskName followed by the text, pointed to by
// the task header's ident word (runtime/detail/task_header.hpp), which then finds the id too.
//
// Where the block lives, cheapest first:
//   - in the task's own frame block, after the coroutine frame: task::Builder puts the name
//     in tls.pending_name while the task's root frame is created (`Builder().name(n)` on a
//     temporary, for `spawn(coro(...))`; and around its spawn of a callable), and the first
//     Task frame allocated on the thread then (frame_alloc_named) reserves room for it and
//     records itself in tls.named_frame. Freed with the frame: no allocation of its own.
//   - otherwise (the name reached some other frame first, a LocalSet or blocking spawn, a
//     kept Builder spawning a ready-made Task) a frame-allocator block of its own, freed
//     when the task is freed.

#include <cstddef>
#include <cstdint>

namespace tokio::detail {

struct TaskName {
  uint64_t id;
  uint64_t len;
  const char* text() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  char* text() noexcept { return reinterpret_cast<char*>(this + 1); }
};

// A Task frame of n bytes (with kTaskPrefix in front, as the promise's operator new gives)
// and tls.pending_name's text after it; takes the pending name and sets tls.named_frame /
// tls.named_block. Out of line: only the first frame after a Builder named a task gets here.
void* frame_alloc_named(std::size_t n);

// Bytes to reserve after a frame for the pending name (0: none pending).
std::size_t pending_name_room() noexcept;
// Writes the pending name at `at` (8-aligned, pending_name_room() bytes) as the name of the
// task whose root frame is `frame`, and takes it (tls.named_frame / named_block).
void take_pending_name(void* at, void* frame) noexcept;
// Ends a naming scope: no name pending, none recorded (task::Builder, spawn_named_on).
void clear_pending_name() noexcept;

// Offers a name to the frame created while it lives (spawn of a callable by task::Builder),
// unless one is pending already; clears what it set when it ends.
class PendingNameScope {
 public:
  PendingNameScope(const char* name, std::size_t len) noexcept {
    if (len != 0) set_ = offer(name, len);
  }
  ~PendingNameScope() {
    if (set_) clear_pending_name();
  }
  PendingNameScope(const PendingNameScope&) = delete;
  PendingNameScope& operator=(const PendingNameScope&) = delete;

 private:
  static bool offer(const char* name, std::size_t len) noexcept;
  bool set_ = false;
};

}  // namespace tokio::detail
