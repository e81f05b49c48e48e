#pragma once
// stream::StreamMap<K, S>: many streams of one type merged into one, each under a key
// (tokio-stream's StreamMap).
//
//   tokio::stream::StreamMap<std::string, BroadcastStream<Msg>> subs;
//   subs.insert("news", BroadcastStream(tx.subscribe()));
//   auto [key, msg] = *co_await subs.next();      // std::pair<K, T>
//   subs.remove("news");                          // gives the stream back
//
// next() yields (key, item) from whichever stream is ready. Each poll starts at a random
// entry, so a busy stream cannot starve the others. A stream that ends is removed from the
// map (its key with it). next() yields std::nullopt when the map is empty: in a select
// loop, guard it with is_empty() or keep a stream that never ends in the map.
//
// Streams sit in their own heap nodes, so inserting and removing never moves the others
// (an in-flight next() of a stream survives). insert() of an existing key replaces the
// stream and returns the old one; remove() returns the stream (with any wait it had in
// progress cancelled). Keys are compared with ==; lookups are linear, as in tokio-stream
// (a StreamMap holds tens of streams, not millions). next() is cancel-safe when every
// stream's next() is.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "tokio/core/detail/thread_context.hpp"
#include "tokio/stream/detail/upstream.hpp"
#include "tokio/stream/detail/next_claim.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::stream {

template <class K, Stream S>
class StreamMap : public PollStream<StreamMap<K, S>, std::pair<K, item_t<S>>>,
                  public tokio::detail::NextClaim<StreamMap<K, S>> {
  struct Entry {
    template <class U>
    Entry(K k, U&& s) : key(std::move(k)), in(std::forward<U>(s)) {}
    K key;
    tokio::detail::Upstream<S> in;
  };

 public:
  using Item = std::pair<K, item_t<S>>;

  StreamMap() = default;
  static StreamMap new_() { return StreamMap(); }  // Rust's StreamMap::new()
  static StreamMap with_capacity(std::size_t n) {
    StreamMap m;
    m.entries_.reserve(n);
    return m;
  }
  // Not while another task waits in next(): that aborts (detail::NextClaim).
  StreamMap(StreamMap&&) noexcept = default;
  StreamMap& operator=(StreamMap&&) noexcept = default;

  // Adds `s` under `k`; returns the stream that had that key, if any. The old entry is
  // removed as remove() does (the last entry takes its place) and the new one goes last,
  // as tokio-stream's: keys() and iter() then list the same order.
  std::optional<S> insert(K k, S s) {
    std::optional<S> old = remove(k);
    entries_.push_back(std::make_unique<Entry>(std::move(k), std::move(s)));
    return old;
  }
  // Removes the stream under `k` and returns it (nullopt when there is none).
  template <class Q>
  std::optional<S> remove(const Q& k) {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i]->key == k) {
        std::optional<S> s(std::move(entries_[i]->in).take());
        swap_remove(i);
        return s;
      }
    }
    return std::nullopt;
  }
  template <class Q>
  bool contains_key(const Q& k) const {
    for (const auto& e : entries_) {
      if (e->key == k) return true;
    }
    return false;
  }
  // The stream under `k`, or null.
  template <class Q>
  S* get(const Q& k) {
    for (auto& e : entries_) {
      if (e->key == k) return &e->in.get();
    }
    return nullptr;
  }
  std::size_t len() const noexcept { return entries_.size(); }
  bool is_empty() const noexcept { return entries_.empty(); }
  void clear() noexcept { entries_.clear(); }
  // The keys, in the map's (arbitrary) order.
  std::vector<K> keys() const {
    std::vector<K> ks;
    ks.reserve(entries_.size());
    for (const auto& e : entries_) ks.push_back(e->key);
    return ks;
  }

  // (key, stream) pairs, in the map's order: `for (auto& [k, s] : map.iter())`. Valid until
  // the map changes.
  std::vector<std::pair<const K&, S&>> iter() {
    std::vector<std::pair<const K&, S&>> v;
    v.reserve(entries_.size());
    for (auto& e : entries_) v.emplace_back(e->key, e->in.get());
    return v;
  }
  // Rust's iter_mut(): the same pairs (the streams are mutable through iter() already).
  std::vector<std::pair<const K&, S&>> iter_mut() { return iter(); }
  // The streams, in the map's order: `for (S& s : map.values_mut())`. Valid until the map
  // changes.
  std::vector<std::reference_wrapper<S>> values_mut() {
    std::vector<std::reference_wrapper<S>> v;
    v.reserve(entries_.size());
    for (auto& e : entries_) v.emplace_back(e->in.get());
    return v;
  }
  std::vector<std::reference_wrapper<const S>> values() const {
    std::vector<std::reference_wrapper<const S>> v;
    v.reserve(entries_.size());
    for (const auto& e : entries_) v.emplace_back(e->in.get());
    return v;
  }

  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<Item>& out) {
    std::size_t n = entries_.size();
    if (n == 0) return true;
    std::size_t idx = tokio::detail::thread_rand_n(static_cast<uint32_t>(n));
    const std::size_t start = idx;
    // Visits every entry once, starting at `start`; an ended entry is swap-removed and the
    // one moved into its place is visited in turn (or skipped when it was already seen).
    for (std::size_t visits = n; visits > 0; --visits) {
      Entry& e = *entries_[idx];
      std::optional<item_t<S>> v;
      if (e.in.poll(cx, v)) {
        if (v) {
          out.emplace(e.key, std::move(*v));
          return true;
        }
        swap_remove(idx);
        if (entries_.empty()) return true;
        if (idx == entries_.size()) {
          idx = 0;
        } else if (idx < start && start <= entries_.size()) {
          idx = (idx + 1) % entries_.size();
        }
      } else {
        // The rest would refuse too; the wake is arranged (coop_budget_spent).
        if (tokio::detail::coop_budget_spent(cx)) return false;
        idx = (idx + 1) % entries_.size();
      }
    }
    return entries_.empty();
  }

  // One next() at a time: each stream in the map keeps one waker, so a second task's next()
  // would take them over and the first task would wait for ever; it throws
  // std::logic_error instead (detail::NextClaim).
  static constexpr const char* kTypeName = "stream::StreamMap";

 private:
  void swap_remove(std::size_t i) {
    if (i + 1 != entries_.size()) std::swap(entries_[i], entries_.back());
    entries_.pop_back();
  }

  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace tokio::stream
