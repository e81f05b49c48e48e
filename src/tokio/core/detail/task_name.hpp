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
//     The spawn checks that the recorded frame is its task's root before using it; the
//     state never outlives one task poll (TaskPollScope saves and clears it) nor one named
//     spawn (NamingScope).
//   - otherwise (the name reached some other frame first, a LocalSet or blocking spawn, a
//     kept Builder spawning a ready-made Task) a frame-allocator block of its own, freed
//     when the task is freed.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tokio/core/detail/thread_context.hpp"

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
// No name pending, none recorded (task::Builder, NamingScope).
void clear_pending_name() noexcept;
// Offers `len` bytes of `text` to the next Task frame created on this thread (the one
// writer of tls.pending_name besides the frame that takes it; `text` must outlive the
// offer: task::Builder's statement, or NamingScope's spawn).
inline void offer_pending_name(const char* text, std::size_t len) noexcept {
  ThreadContext& t = tls;
  t.pending_name = text;
  t.pending_name_len = len;
}

// A task::Builder's spawn: the name it offers to the frames the spawn creates, and the
// thread's naming state around it.
struct NamedSpawn {
  std::string_view name;
  // The Builder that spawns offered this name itself (Builder::name on a temporary): what
  // is pending or recorded on the thread is this spawn's own, and ends with it.
  bool own_offer = false;
};

// For the span of one named spawn. Offers `offer_len` bytes of the name (0: none; a
// ready-made Task's frame exists already). Whatever the thread had pending that is not this
// spawn's own (an enclosing spawn whose callable is spawning before it creates its own
// coroutine) is set aside and put back at the end; this spawn's own state is cleared at the
// end, so no name stays pending past the statement that spawned (the task may suspend
// right after, and its thread run other tasks).
class NamingScope {
 public:
  NamingScope(const NamedSpawn& n, std::size_t offer_len) noexcept;
  ~NamingScope();
  NamingScope(const NamingScope&) = delete;
  NamingScope& operator=(const NamingScope&) = delete;

 private:
  bool own_;
  const char* pending_;
  std::size_t pending_len_;
  void* frame_;
  void* block_;
};

}  // namespace tokio::detail
