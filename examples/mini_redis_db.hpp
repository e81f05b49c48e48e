#pragma once
// mini_redis's keyspace: the sharded map of keys with their deadlines, the task that
// removes expired keys, and the pub/sub channels with each subscriber's Inbox (see the
// comment at the top of mini_redis.cpp for how pub/sub bounds a slow subscriber).
#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tokio.hpp"

using tokio::Task;
using tokio::time::Instant;
namespace codec = tokio::codec;
namespace mpsc = tokio::sync::mpsc;

// --- the database ------------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

// An integer as redis-server reads one (string2ll): "0", or an optional '-' and digits not
// starting with 0; no '+', no spaces; within int64.
std::optional<int64_t> parse_int(std::string_view s) {
  const std::size_t digits = !s.empty() && s[0] == '-' ? 1 : 0;
  if (s.size() == digits || (s[digits] == '0' && s.size() > 1)) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Milliseconds on the monotonic clock (Instant's): the time line of deadlines.
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             Instant::now().into_std().time_since_epoch())
      .count();
}

// The deadline `amount` seconds (or milliseconds) from now; nullopt when redis-server 7
// refuses the time as invalid: its milliseconds overflow int64, or do when added to the
// Unix time in milliseconds (redis keeps deadlines as Unix times).
std::optional<int64_t> deadline_ms(int64_t amount, bool seconds) {
  int64_t ms = amount, unix_deadline = 0, deadline = 0;
  if (seconds && __builtin_mul_overflow(amount, int64_t{1000}, &ms)) return std::nullopt;
  const int64_t unix_now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  if (__builtin_add_overflow(ms, unix_now, &unix_deadline)) return std::nullopt;
  if (__builtin_add_overflow(ms, now_ms(), &deadline)) return std::nullopt;
  return deadline;
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// A subscriber's output limits (see the top of the file).
constexpr std::size_t kPubsubHardLimit = 32 << 20;
constexpr std::size_t kPubsubSoftLimit = 8 << 20;
constexpr std::chrono::seconds kPubsubSoftTime{60};

// A subscribed connection's inbox (see the top of the file). PUBLISH adds to `bytes` what
// it queues (the message's RESP size), the connection's task takes it off as it moves the
// messages into its write buffer; both relaxed: it is a count for the limit, ordering
// nothing (the messages travel through the channel).
struct Inbox {
  struct Message {
    codec::Bytes channel;
    codec::Bytes payload;
    bool wake_only = false;  // no message: wakes the task to see over_limit
  };
  explicit Inbox(mpsc::UnboundedSender<Message> t) : tx(std::move(t)) {}
  // What a queued message counts for: its bytes and its RESP framing.
  static std::size_t size_of(std::size_t channel, std::size_t payload) {
    return channel + payload + 48;
  }
  mpsc::UnboundedSender<Message> tx;
  std::atomic<std::size_t> bytes{0};
  // Set by a PUBLISH that found the inbox past the hard limit (it queued a wake_only
  // message to wake the task, which then ends the connection).
  std::atomic<bool> over_limit{false};
};

class Db {
 public:
  struct Entry {
    codec::Bytes value;
    std::optional<int64_t> expires;  // a deadline_ms
  };
  static bool due(const Entry& e, int64_t now) { return e.expires && *e.expires <= now; }

  std::optional<codec::Bytes> get(std::string_view key) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end() || due(it->second, now_ms())) return std::nullopt;
    return it->second.value;
  }

  void set(std::string_view key, codec::Bytes value, std::optional<int64_t> expires) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) it = s.map.emplace(std::string(key), Entry{}).first;
    if (it->second.expires) forget_expiry(*it->second.expires, key);
    it->second.value = std::move(value);
    it->second.expires = expires;
    if (expires) schedule(*expires, key);
  }

  bool del(std::string_view key) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) return false;
    bool live = !due(it->second, now_ms());
    if (it->second.expires) forget_expiry(*it->second.expires, key);
    s.map.erase(it);
    return live;
  }

  // INCR: the new value, or nullopt with `error` set (not an integer, or at INT64_MAX).
  std::optional<int64_t> incr(std::string_view key, std::string_view& error) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    int64_t v = 0;
    if (it != s.map.end() && !due(it->second, now_ms())) {
      auto cur = parse_int(it->second.value.as_string_view());
      if (!cur) {
        error = "ERR value is not an integer or out of range";
        return std::nullopt;
      }
      if (*cur == INT64_MAX) {
        error = "ERR increment or decrement would overflow";
        return std::nullopt;
      }
      v = *cur;
    } else if (it != s.map.end()) {
      if (it->second.expires) forget_expiry(*it->second.expires, key);
      it->second.expires.reset();
    }
    if (it == s.map.end()) it = s.map.emplace(std::string(key), Entry{}).first;
    ++v;
    it->second.value = codec::Bytes(std::to_string(v));  // keeps its time to live, as Redis does
    return v;
  }

  // EXPIRE's options (redis 7): set only when the key has no deadline (NX), has one (XX),
  // or the new one is later (GT) or earlier (LT) than it; no deadline counts as infinite.
  struct ExpireIf {
    bool nx = false, xx = false, gt = false, lt = false;
  };
  // EXPIRE: false when there is no such key or the option's condition does not hold. A
  // deadline already past deletes it.
  bool expire(std::string_view key, int64_t when, ExpireIf cond) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    const int64_t now = now_ms();
    if (it == s.map.end() || due(it->second, now)) return false;
    const std::optional<int64_t> old = it->second.expires;
    if ((cond.nx && old) || (cond.xx && !old) || (cond.gt && !(old && when > *old)) ||
        (cond.lt && old && when >= *old)) {
      return false;
    }
    if (old) forget_expiry(*old, key);
    if (when <= now) {
      s.map.erase(it);
      return true;
    }
    it->second.expires = when;
    schedule(when, key);
    return true;
  }

  // Keys held (those whose time is up count until the purge task removes them).
  int64_t size() {
    int64_t n = 0;
    for (auto& s : shards_) {
      std::lock_guard<std::mutex> g(s.mu);
      n += static_cast<int64_t>(s.map.size());
    }
    return n;
  }

  // TTL in milliseconds: -2 no key, -1 no expiry.
  int64_t ttl_ms(std::string_view key) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) return -2;
    if (!it->second.expires) return -1;
    int64_t left = *it->second.expires - now_ms();
    return left <= 0 ? -2 : left;
  }

  // The purge task: removes keys whose time is up, sleeping until the next deadline (or
  // until an earlier one is scheduled; a day at most, as deadlines may lie centuries ahead).
  static Task<> purge_task(std::shared_ptr<Db> db) {
    for (;;) {
      std::optional<int64_t> next;
      std::vector<std::pair<int64_t, std::string>> due;
      {
        std::lock_guard<std::mutex> g(db->exp_mu_);
        const int64_t now = now_ms();
        while (!db->exps_.empty() && db->exps_.begin()->first <= now) {
          due.emplace_back(db->exps_.begin()->first, std::move(db->exps_.begin()->second));
          db->exps_.erase(db->exps_.begin());
        }
        if (!db->exps_.empty()) next = db->exps_.begin()->first;
      }
      for (auto& [when, key] : due) {
        Shard& s = db->shard(key);
        std::lock_guard<std::mutex> g(s.mu);
        auto it = s.map.find(key);
        if (it != s.map.end() && it->second.expires == when) s.map.erase(it);
      }
      if (next) {
        const int64_t wait = std::clamp<int64_t>(*next - now_ms(), 0, 24 * 3600 * 1000);
        auto nap = tokio::time::sleep(std::chrono::milliseconds(wait));
        (void)co_await tokio::select(nap, db->wake_.notified());
      } else {
        co_await db->wake_.notified();
      }
    }
  }

  // SUBSCRIBE: `inbox` gets the messages of the channel `name` (made by its first
  // subscriber).
  void subscribe(std::string_view name, const std::shared_ptr<Inbox>& inbox) {
    std::lock_guard<std::mutex> g(ps_mu_);
    auto it = channels_.find(name);
    if (it == channels_.end()) it = channels_.emplace(std::string(name), Subscribers()).first;
    it->second.insert(inbox);
  }
  // UNSUBSCRIBE (or the end of the connection): the channel goes with its last subscriber.
  // Once this returns no PUBLISH queues for `inbox` on `name` any more.
  void unsubscribe(std::string_view name, const std::shared_ptr<Inbox>& inbox) {
    std::lock_guard<std::mutex> g(ps_mu_);
    auto it = channels_.find(name);
    if (it == channels_.end()) return;
    it->second.erase(inbox);
    if (it->second.empty()) channels_.erase(it);
  }
  // PUBLISH: how many subscribers it was queued for. One past its output limit is not
  // counted; its connection ends.
  int64_t publish(std::string_view name, const codec::Bytes& msg) {
    std::lock_guard<std::mutex> g(ps_mu_);
    auto it = channels_.find(name);
    if (it == channels_.end()) return 0;
    const codec::Bytes channel(name);  // shared by every subscriber's copy (no copy of bytes)
    const std::size_t size = Inbox::size_of(name.size(), msg.len());
    int64_t n = 0;
    for (const auto& inbox : it->second) {
      if (inbox->bytes.load(std::memory_order_relaxed) + size > kPubsubHardLimit) {
        if (!inbox->over_limit.exchange(true, std::memory_order_relaxed)) {
          (void)inbox->tx.send(Inbox::Message{{}, {}, true});
        }
        continue;
      }
      inbox->bytes.fetch_add(size, std::memory_order_relaxed);
      if (inbox->tx.send(Inbox::Message{channel, msg, false})) ++n;
    }
    return n;
  }

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> map;
  };
  // The shard: FNV-1a of the key's last 16 bytes (cheap; the map hashes the whole key).
  Shard& shard(std::string_view key) {
    uint32_t h = 2166136261u;
    for (std::size_t i = key.size() > 16 ? key.size() - 16 : 0; i < key.size(); ++i) {
      h = (h ^ static_cast<unsigned char>(key[i])) * 16777619u;
    }
    return shards_[h % shards_.size()];
  }

  // (Called with the key's shard locked: shard lock, then exp_mu_, never the reverse.)
  void schedule(int64_t when, std::string_view key) {
    bool earliest;
    {
      std::lock_guard<std::mutex> g(exp_mu_);
      earliest = exps_.empty() || when < exps_.begin()->first;
      exps_.emplace(when, std::string(key));
    }
    if (earliest) wake_.notify_one();
  }
  void forget_expiry(int64_t when, std::string_view key) {
    std::lock_guard<std::mutex> g(exp_mu_);
    auto [lo, hi] = exps_.equal_range(when);
    for (auto it = lo; it != hi; ++it) {
      if (it->second == key) {
        exps_.erase(it);
        return;
      }
    }
  }

  std::array<Shard, 32> shards_;
  std::mutex exp_mu_;
  std::multimap<int64_t, std::string> exps_;
  tokio::sync::Notify wake_;
  std::mutex ps_mu_;
  using Subscribers = std::unordered_set<std::shared_ptr<Inbox>>;
  std::unordered_map<std::string, Subscribers, StringHash, std::equal_to<>> channels_;
};
