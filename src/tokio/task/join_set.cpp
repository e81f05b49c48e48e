#include <mutex>

#include "tokio/task/join_set.hpp"

namespace tokio::detail {

namespace {
JoinSetEntry* entry_of(Wakeable* w) noexcept { return reinterpret_cast<JoinSetEntry*>(w); }
void entry_clone(Wakeable* w) noexcept { entry_of(w)->refs.fetch_add(1, std::memory_order_relaxed); }
void entry_drop(Wakeable* w) noexcept { JoinSetShared::entry_ref_dec(entry_of(w)); }
}  // namespace

void join_set_entry_wake_by_ref(Wakeable* w) noexcept {
  JoinSetEntry* e = entry_of(w);
  JoinSetShared* s = e->set;
  Wakeable* waiter = nullptr;
  {
    std::lock_guard<SpinLock> g(s->lock_);
    if (e->list == JoinSetEntry::List::Idle) {
      s->unlink(s->idle_head_, s->idle_tail_, e);
      s->push_back(s->notified_head_, s->notified_tail_, e);
      e->list = JoinSetEntry::List::Notified;
      waiter = std::exchange(s->waiter_, nullptr);
    }
  }
  if (waiter) waiter->vtable->wake(waiter);
}

namespace {
void entry_wake(Wakeable* w) noexcept {
  join_set_entry_wake_by_ref(w);
  entry_drop(w);
}
const WakeableVTable kEntryVTable{&entry_wake, &join_set_entry_wake_by_ref, &entry_clone,
                                  &entry_drop};
}  // namespace

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
  e->wakeable.vtable = &kEntryVTable;
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
  if (task_join_poll_waker(t, &e->wakeable)) join_set_entry_wake_by_ref(&e->wakeable);
}

JoinSetEntry* JoinSetShared::pop_notified(Wakeable* waker) {
  Wakeable* old = nullptr;
  JoinSetEntry* e = nullptr;
  {
    std::lock_guard<SpinLock> g(lock_);
    e = notified_head_;
    if (e) {
      unlink(notified_head_, notified_tail_, e);
      e->list = JoinSetEntry::List::None;
      --len_;
    }
    if (!e && waker && waiter_ != waker) {
      old = waiter_;
      waker->vtable->clone(waker);
      waiter_ = waker;
    }
  }
  if (old) old->vtable->drop(old);
  return e;
}

void JoinSetShared::finish_entry(JoinSetEntry* e) noexcept { entry_ref_dec(e); }

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

std::vector<TaskHeader*> JoinSetShared::take_all() {
  std::vector<JoinSetEntry*> entries;
  {
    std::lock_guard<SpinLock> g(lock_);
    for (JoinSetEntry** head : {&idle_head_, &notified_head_}) {
      for (JoinSetEntry* e = *head; e; e = e->next) {
        e->list = JoinSetEntry::List::None;
        entries.push_back(e);
      }
    }
    idle_head_ = idle_tail_ = notified_head_ = notified_tail_ = nullptr;
    len_ = 0;
  }
  std::vector<TaskHeader*> tasks;
  tasks.reserve(entries.size());
  for (JoinSetEntry* e : entries) {
    tasks.push_back(e->task);
    entry_ref_dec(e);
  }
  return tasks;
}

}  // namespace tokio::detail
