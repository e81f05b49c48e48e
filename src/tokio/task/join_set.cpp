// The shared state of a task::JoinSet.
//
// Each member has an entry whose Wakeable is registered as its task's join waker. When the
// task completes, the entry moves from the idle list to the notified list and the task
// waiting in join_next() (if any) is woken, so join_next is O(1) whatever the set's size.
// Destroying the set aborts every task still in it.
//
// Entry reference count (`refs`): one for membership in the set, one per join-waker clone
// held by the task. The set's count (`refs_`): one for the JoinSet, one per entry. Both are
// freed by whoever drops the last reference, so a task completing after its JoinSet is
// gone is harmless.
#include "tokio/task/join_set.hpp"

#include <atomic>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "tokio/core/detail/spin_lock.hpp"
#include "tokio/runtime/detail/task_header.hpp"

namespace tokio::detail {

struct JoinSetEntry {
  enum class List : uint8_t { None, Idle, Notified };
  Wakeable wakeable;  // offset 0: the task's join waker
  std::atomic<uint32_t> refs{1};
  JoinSetShared* set;
  TaskHeader* task;  // the JoinHandle reference, owned by the entry
  JoinSetEntry* prev = nullptr;
  JoinSetEntry* next = nullptr;
  List list = List::None;
};

class JoinSetShared {
 public:
  JoinSetShared() = default;
  void ref_inc() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void ref_dec() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  void insert(TaskHeader* t);
  JoinSetEntry* pop_notified(Wakeable* waker, JoinSetPoll& st, const void* op);
  void unclaim(const void* op) noexcept;
  std::size_t len() const;
  void abort_all();
  TaskHeader* take_one() noexcept;
  void wake_entry(JoinSetEntry* e) noexcept;

  static void entry_ref_dec(JoinSetEntry* e) noexcept;

 private:
  ~JoinSetShared();
  void push_back(JoinSetEntry*& head, JoinSetEntry*& tail, JoinSetEntry* e) noexcept;
  void unlink(JoinSetEntry*& head, JoinSetEntry*& tail, JoinSetEntry* e) noexcept;

  std::atomic<std::size_t> refs_{1};
  mutable SpinLock lock_;
  JoinSetEntry* idle_head_ = nullptr;
  JoinSetEntry* idle_tail_ = nullptr;
  JoinSetEntry* notified_head_ = nullptr;
  JoinSetEntry* notified_tail_ = nullptr;
  std::size_t len_ = 0;
  Wakeable* waiter_ = nullptr;  // cloned waker of the task in join_next
  // The pending join_next / shutdown that registered waiter_, or null: a second one from
  // another task (a JoinSet shared by two tasks) is refused, as it would replace the
  // first's waker and that one would never wake (Rust's &mut self).
  const void* joiner_ = nullptr;
};

namespace task_join_set_impl {
JoinSetEntry* entry_of(Wakeable* w) noexcept { return reinterpret_cast<JoinSetEntry*>(w); }
void entry_clone(Wakeable* w) noexcept {
  entry_of(w)->refs.fetch_add(1, std::memory_order_relaxed);
}
void entry_drop(Wakeable* w) noexcept { JoinSetShared::entry_ref_dec(entry_of(w)); }
void entry_wake_by_ref(Wakeable* w) noexcept {
  JoinSetEntry* e = entry_of(w);
  e->set->wake_entry(e);
}
void entry_wake(Wakeable* w) noexcept {
  entry_wake_by_ref(w);
  entry_drop(w);
}
const WakeableVTable kEntryVTable{&entry_wake, &entry_wake_by_ref, &entry_clone, &entry_drop};
}  // namespace task_join_set_impl

void JoinSetShared::wake_entry(JoinSetEntry* e) noexcept {
  Wakeable* waiter = nullptr;
  {
    std::lock_guard<SpinLock> g(lock_);
    if (e->list == JoinSetEntry::List::Idle) {
      unlink(idle_head_, idle_tail_, e);
      push_back(notified_head_, notified_tail_, e);
      e->list = JoinSetEntry::List::Notified;
      waiter = std::exchange(waiter_, nullptr);
    }
  }
  if (waiter) waiter->vtable->wake(waiter);
}

void JoinSetShared::entry_ref_dec(JoinSetEntry* e) noexcept {
  if (e->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    JoinSetShared* s = e->set;
    delete e;
    s->ref_dec();
  }
}

JoinSetShared::~JoinSetShared() {
  if (waiter_) waiter_->vtable->drop(waiter_);
}

void JoinSetShared::push_back(JoinSetEntry*& head, JoinSetEntry*& tail, JoinSetEntry* e) noexcept {
  e->next = nullptr;
  e->prev = tail;
  if (tail) tail->next = e;
  else head = e;
  tail = e;
}

void JoinSetShared::unlink(JoinSetEntry*& head, JoinSetEntry*& tail, JoinSetEntry* e) noexcept {
  if (e->prev) e->prev->next = e->next;
  else head = e->next;
  if (e->next) e->next->prev = e->prev;
  else tail = e->prev;
  e->prev = e->next = nullptr;
}

void JoinSetShared::insert(TaskHeader* t) {
  auto* e = new JoinSetEntry();
  e->wakeable.vtable = &task_join_set_impl::kEntryVTable;
  e->set = this;
  e->task = t;
  ref_inc();  // the entry's reference on the set
  {
    std::lock_guard<SpinLock> g(lock_);
    push_back(idle_head_, idle_tail_, e);
    e->list = JoinSetEntry::List::Idle;
    ++len_;
  }
  // Register the entry as the task's join waker; a task that already finished goes
  // straight to the notified list.
  if (task_join_poll_waker(t, &e->wakeable)) wake_entry(e);
}

JoinSetEntry* JoinSetShared::pop_notified(Wakeable* waker, JoinSetPoll& st, const void* op) {
  Wakeable* old = nullptr;
  JoinSetEntry* e = nullptr;
  {
    std::lock_guard<SpinLock> g(lock_);
    if (joiner_ != nullptr && joiner_ != op) {
      st = JoinSetPoll::Busy;
      return nullptr;
    }
    // Done (empty, or a member popped): the claim, if `op` held it, ends. Pending keeps
    // it, and a poll with a waker takes it; a try (no waker) leaves it as it was.
    if (len_ == 0) {
      joiner_ = nullptr;
      st = JoinSetPoll::Empty;
      return nullptr;
    }
    e = notified_head_;
    if (e) {
      joiner_ = nullptr;
      unlink(notified_head_, notified_tail_, e);
      e->list = JoinSetEntry::List::None;
      --len_;
      st = JoinSetPoll::Entry;
    } else {
      st = JoinSetPoll::Pending;
      if (waker) {
        joiner_ = op;
        if (waiter_ != waker) {
          old = waiter_;
          waker->vtable->clone(waker);
          waiter_ = waker;
        }
      }
    }
  }
  if (old) old->vtable->drop(old);
  return e;
}

void JoinSetShared::unclaim(const void* op) noexcept {
  std::lock_guard<SpinLock> g(lock_);
  if (joiner_ == op) joiner_ = nullptr;
}

std::size_t JoinSetShared::len() const {
  std::lock_guard<SpinLock> g(lock_);
  return len_;
}

void JoinSetShared::abort_all() {
  std::vector<TaskHeader*> tasks;
  {
    std::lock_guard<SpinLock> g(lock_);
    for (JoinSetEntry* e = idle_head_; e; e = e->next) {
      task_ref_inc(e->task);
      tasks.push_back(e->task);
    }
  }
  for (TaskHeader* t : tasks) {
    task_abort(t);
    task_drop_ref(t);
  }
}

TaskHeader* JoinSetShared::take_one() noexcept {
  JoinSetEntry* e;
  {
    std::lock_guard<SpinLock> g(lock_);
    JoinSetEntry*& head = idle_head_ ? idle_head_ : notified_head_;
    e = head;
    if (!e) return nullptr;
    if (e->list == JoinSetEntry::List::Idle) unlink(idle_head_, idle_tail_, e);
    else unlink(notified_head_, notified_tail_, e);
    e->list = JoinSetEntry::List::None;
    --len_;
  }
  TaskHeader* t = e->task;
  entry_ref_dec(e);
  return t;
}

// --- the functions task/join_set.hpp declares --------------------------------------------
JoinSetShared* join_set_create() { return new JoinSetShared(); }
void join_set_release(JoinSetShared* s) noexcept { s->ref_dec(); }
void join_set_insert(JoinSetShared* s, TaskHeader* t) { s->insert(t); }
JoinSetEntry* join_set_pop_notified(JoinSetShared* s, Wakeable* waker, JoinSetPoll& st,
                                    const void* op) {
  return s->pop_notified(waker, st, op);
}
void join_set_unclaim(JoinSetShared* s, const void* op) noexcept { s->unclaim(op); }

TaskHeader* join_set_entry_task(const JoinSetEntry* e) noexcept { return e->task; }
void join_set_finish_entry(JoinSetEntry* e) noexcept { JoinSetShared::entry_ref_dec(e); }
std::size_t join_set_len(const JoinSetShared* s) { return s->len(); }
void join_set_abort_all(JoinSetShared* s) { s->abort_all(); }
TaskHeader* join_set_take_one(JoinSetShared* s) noexcept { return s->take_one(); }

}  // namespace tokio::detail
