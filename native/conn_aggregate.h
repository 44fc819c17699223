// layer: native (C++ addon)
// job: count rows per client (or per client and virtual service) and per state in open-addressing tables; pick top-N / over-threshold.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include "conn_parse.h"
#include "huge_memory.h"

namespace lvskit {

struct AggregateOptions {
  /** States counted per client; the first ranks clients (top-N, threshold). At most kMaxCountStates. */
  std::vector<std::string> countStates;
  /** Key by (client, protocol, virtual address, virtual port) instead of client alone. */
  bool perService = false;
  /**
   * Keys the tables should hold without growing (a guess, e.g. from a file's size: at least 64
   * slots); 0: not known (a procfs file), 16,384 slots to start with.
   */
  size_t expectedKeys = 0;
};

/**
 * Open addressing with linear probing over records held in the slots themselves — `keyWords`
 * u32 of key, then the counters — so that finding a key and counting costs one cache line,
 * which the caller prefetches a few rows ahead. A slot is empty while its first counter (the
 * row total) is 0. Grown at 2/3 load.
 */
class InlineTable {
 public:
  /** A table that holds `expectedKeys` keys before it grows (at least 64 slots; 16,384 when 0, not known). */
  InlineTable(size_t keyWords, size_t counters, size_t expectedKeys);
  size_t Size() const { return size_; }
  size_t Slots() const { return slots_; }
  size_t KeyWords() const { return keyWords_; }
  /**
   * A 64-bit hash of one u32 whose top bits (which pick the home slot) are well spread: multiply,
   * fold the high half in, multiply again. A multiplication alone (Fibonacci hashing) was not
   * enough: keys of a block of addresses differ in their high bytes (network order), and 100,000
   * such clients fell on 18,000 home slots — 5.3 probes per count, against 1.3 now.
   */
  static uint64_t HashWord(uint32_t key) {
    const uint64_t h = static_cast<uint64_t>(key) * 0x9e3779b97f4a7c15ULL;
    return (h ^ (h >> 32)) * 0x9e3779b97f4a7c15ULL;
  }
  /** A 64-bit hash of `words` u32 (multiply-xorshift over 8-byte pieces, then a final mix). */
  static uint64_t HashWords(const uint32_t* key, size_t words);
  /** The hash of a key: HashWord for one-word keys (the IPv4 table), else HashWords. */
  uint64_t Hash(const uint32_t* key) const { return keyWords_ == 1 ? HashWord(key[0]) : HashWords(key, keyWords_); }
  /** Where the key with this hash starts probing (for a prefetch). */
  const uint32_t* Home(uint64_t hash) const { return data_.As<uint32_t>() + static_cast<size_t>(hash >> shift_) * stride_; }
  /** The counters of `key`, created (all zero) when new; the caller increments the total. */
  uint32_t* Find(const uint32_t* key, uint64_t hash);
  /** Find for a table of one-word keys: a key already there is found inline, a new one by Find. */
  uint32_t* FindWord(uint32_t key, uint64_t hash) {
    uint32_t* data = data_.As<uint32_t>();
    for (size_t slot = static_cast<size_t>(hash >> shift_);; slot = (slot + 1) & (slots_ - 1)) {
      uint32_t* r = data + slot * stride_;
      if (r[1] == 0) return Find(&key, hash);  // an empty slot: the key is new
      if (r[0] == key) return r + 1;
    }
  }
  /** Add every record of `other` (same key words and counters) to ours. */
  void AddTable(const InlineTable& other);
  /** Slot i's record (key words, then counters) or nullptr when empty. */
  const uint32_t* Record(size_t i) const {
    const uint32_t* r = data_.As<uint32_t>() + i * stride_;
    return r[keyWords_] == 0 ? nullptr : r;
  }
  size_t MemoryBytes() const { return data_.Bytes(); }

 private:
  void Grow();
  bool SameKey(const uint32_t* a, const uint32_t* b) const;
  size_t keyWords_;
  size_t counters_;
  size_t stride_;
  size_t slots_;
  int shift_;  // 64 - log2(slots_): the hash's top bits pick the home slot
  size_t size_ = 0;
  HugeMemory data_;  // slots_ * stride_ words
};

/**
 * Per-key counters: total rows, then one per counted state. IPv4 clients (not per service), the
 * bulk of any table, go into a table keyed by the address alone; every other key (IPv6, per
 * service) into one keyed by its bytes. Key bytes as reported: family (1), protocol (1),
 * virtual port (2, host order), client address (16); per service also the virtual address (16).
 */
class ConnAggregate {
 public:
  static constexpr size_t kMaxCountStates = 8;
  static constexpr size_t kMaxKeyWords = 9;
  /** A row's key, computed (and its slot prefetched) ahead of counting. */
  struct Key {
    uint32_t words[kMaxKeyWords];
    uint64_t hash;
    bool general;
  };
  /** A counted key: in the IPv4 or the general table, and its slot. */
  struct Handle {
    uint32_t general;
    uint32_t slot;
  };

  explicit ConnAggregate(AggregateOptions options);

  /** The row's key; starts loading its slot into the cache. */
  void Prepare(const ConnRow& row, Key& key) const;
  /** Count one row by its prepared key; `states` is the table its state index refers to. */
  void Add(const Key& key, uint8_t state, const StateTable& states);
  /** True when IPv4 rows are keyed by the client alone (not per service): they may take the lane below. */
  bool KeysIPv4ByClient() const { return !options_.perService; }
  /** The IPv4 table's key for a client address as the kernel prints it (host order): its 4 network-order bytes. */
  static uint32_t IPv4Key(uint32_t client) {
    const uint8_t bytes[4] = {static_cast<uint8_t>(client >> 24), static_cast<uint8_t>(client >> 16), static_cast<uint8_t>(client >> 8),
                              static_cast<uint8_t>(client)};
    uint32_t key;
    memcpy(&key, bytes, sizeof key);
    return key;
  }
  /** The lane for IPv4 clients (KeysIPv4ByClient): the key's hash, its slot starting to load into the cache. */
  uint64_t PrepareIPv4(uint32_t key) const {
    const uint64_t hash = InlineTable::HashWord(key);
    __builtin_prefetch(v4_.Home(hash), 1);
    return hash;
  }
  /** Count one row of an IPv4 client by its prepared key, as Add. */
  void AddIPv4(uint32_t key, uint64_t hash, uint8_t state, const StateTable& states) { Count(v4_.FindWord(key, hash), state, states); }
  /** Add another aggregate's counts (same options); its state indexes refer to `theirStates`, ours to `ourStates`. */
  void Merge(const ConnAggregate& other, const StateTable& theirStates, StateTable& ourStates);

  size_t KeyBytes() const { return keyBytes_; }
  /** Counters per key: 1 (total) + the number of counted states. */
  size_t CounterCount() const { return counters_; }
  /** Distinct keys. */
  size_t Size() const { return v4_.Size() + general_.Size(); }
  void KeyOf(Handle h, uint8_t* out) const;
  const uint32_t* CountsOf(Handle h) const;
  /** Rows per state index (all rows, whatever their key). */
  const std::vector<uint64_t>& RowsByState() const { return rowsByState_; }
  /** Bytes held by the tables (for the memory figure). */
  size_t MemoryBytes() const { return v4_.MemoryBytes() + general_.MemoryBytes(); }

  /**
   * The keys to report, ordered by the ranking count (descending), then total (descending),
   * then key bytes: every key when `all`, else the union of those whose ranking count is above
   * `threshold` (when >= 0) and the `limit` highest (when > 0).
   */
  std::vector<Handle> Select(bool all, int64_t threshold, size_t limit) const;

 private:
  /** The counter (1-based) of a state index, or -1 when the state is not counted; looked up once per state. */
  int SlotOfState(size_t stateIndex, const StateTable& states) {
    if (stateIndex < stateSlot_.size() && stateSlot_[stateIndex] != 0) return stateSlot_[stateIndex];
    return LookUpSlotOfState(stateIndex, states);
  }
  int LookUpSlotOfState(size_t stateIndex, const StateTable& states);
  /** Count a row into a key's counters: the total, its state's counter if counted, the rows of its state. */
  void Count(uint32_t* counts, uint8_t state, const StateTable& states) {
    if (state >= rowsByState_.size()) rowsByState_.resize(state + 1u, 0);
    rowsByState_[state]++;
    counts[0]++;
    const int stateCounter = SlotOfState(state, states);
    if (stateCounter > 0) counts[stateCounter]++;
  }

  AggregateOptions options_;
  size_t keyBytes_;
  size_t counters_;
  InlineTable v4_;
  InlineTable general_;
  std::vector<int8_t> stateSlot_;  // state index → counter (1-based) or -1; 0 = not yet looked up
  std::vector<uint64_t> rowsByState_;
};

}  // namespace lvskit
