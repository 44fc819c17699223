// layer: native (C++ addon)
// job: count rows per client (or per client and virtual service) and per state in an open-addressing table; pick top-N / over-threshold.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "conn_parse.h"

namespace lvskit {

struct AggregateOptions {
  /** States counted per client; the first ranks clients (top-N, threshold). At most kMaxCountStates. */
  std::vector<std::string> countStates;
  /** Key by (client, protocol, virtual address, virtual port) instead of client alone. */
  bool perService = false;
};

/**
 * Per-key counters: a dense array of keys and counters, and an index of slots into it (open
 * addressing, linear probing, grown at 50 % load). Key bytes: family (1), protocol (1), virtual
 * port (2, host order), client address (16); per service also the virtual address (16).
 * Counters per key: total rows, then one per counted state.
 */
class ConnAggregate {
 public:
  static constexpr size_t kMaxCountStates = 8;
  explicit ConnAggregate(AggregateOptions options);

  /** Count one parsed row; `states` is the table the row's state index refers to. */
  void Add(const ConnRow& row, const StateTable& states);

  size_t KeyBytes() const { return keyBytes_; }
  /** Counters per key: 1 (total) + the number of counted states. */
  size_t CounterCount() const { return counters_; }
  size_t Size() const { return size_; }
  const uint8_t* Key(size_t i) const { return keys_.data() + i * keyBytes_; }
  const uint32_t* Counts(size_t i) const { return counts_.data() + i * counters_; }
  /** Rows per state index (all rows, whatever their key). */
  const std::vector<uint64_t>& RowsByState() const { return rowsByState_; }
  /** Bytes held by the tables (for the memory figure). */
  size_t MemoryBytes() const;

  /**
   * Indexes of the keys to report, ordered by the ranking count (descending), then total
   * (descending), then key bytes: every key when `all`, else the union of those whose ranking
   * count is above `threshold` (when >= 0) and the `limit` highest (when > 0).
   */
  std::vector<uint32_t> Select(bool all, int64_t threshold, size_t limit) const;

 private:
  void Grow();
  size_t Slot(const uint8_t* key, uint64_t hash) const;
  int SlotOfState(size_t stateIndex, const StateTable& states);

  AggregateOptions options_;
  size_t keyBytes_;
  size_t counters_;
  size_t size_ = 0;
  std::vector<uint8_t> keys_;
  std::vector<uint32_t> counts_;
  std::vector<uint32_t> index_;  // slot → key number + 1 (0 = empty)
  size_t mask_ = 0;
  std::vector<int8_t> stateSlot_;  // state index → counter (1-based) or -1; 0 = not yet looked up
  std::vector<uint64_t> rowsByState_;
};

}  // namespace lvskit
