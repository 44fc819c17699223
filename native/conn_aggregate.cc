// layer: native (C++ addon)
// job: count rows per client (or per client and virtual service) and per state in an open-addressing table; pick top-N / over-threshold.
#include "conn_aggregate.h"

#include <string.h>

#include <algorithm>
#include <utility>

namespace lvskit {
namespace {

constexpr size_t kInitialSlots = 1 << 12;
constexpr size_t kBaseKeyBytes = 20;
constexpr size_t kServiceKeyBytes = 36;

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/** A 64-bit hash of the key (multiply-xorshift over 8-byte words; the key length is a multiple of 4). */
uint64_t HashKey(const uint8_t* key, size_t length) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ length;
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    h ^= Load64(key + i);
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  if (i < length) {
    uint32_t tail;
    memcpy(&tail, key + i, sizeof tail);
    h ^= tail;
    h *= 0xc4ceb9fe1a85ec53ULL;
  }
  h ^= h >> 29;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

ConnAggregate::ConnAggregate(AggregateOptions options)
    : options_(std::move(options)),
      keyBytes_(options_.perService ? kServiceKeyBytes : kBaseKeyBytes),
      counters_(1 + std::min(options_.countStates.size(), kMaxCountStates)),
      index_(kInitialSlots, 0),
      mask_(kInitialSlots - 1) {}

int ConnAggregate::SlotOfState(size_t stateIndex, const StateTable& states) {
  if (stateIndex >= stateSlot_.size()) stateSlot_.resize(stateIndex + 1, 0);
  if (stateSlot_[stateIndex] == 0) {
    const std::string& name = states.Names()[stateIndex];
    int8_t slot = -1;
    for (size_t i = 0; i + 1 < counters_; i++) {
      if (options_.countStates[i] == name) {
        slot = static_cast<int8_t>(i + 1);
        break;
      }
    }
    stateSlot_[stateIndex] = slot;
  }
  return stateSlot_[stateIndex];
}

size_t ConnAggregate::Slot(const uint8_t* key, uint64_t hash) const {
  size_t slot = static_cast<size_t>(hash) & mask_;
  for (;;) {
    const uint32_t entry = index_[slot];
    if (entry == 0 || memcmp(keys_.data() + (entry - 1) * keyBytes_, key, keyBytes_) == 0) return slot;
    slot = (slot + 1) & mask_;
  }
}

void ConnAggregate::Grow() {
  const size_t slots = index_.size() * 2;
  index_.assign(slots, 0);
  mask_ = slots - 1;
  for (size_t i = 0; i < size_; i++) {
    const uint8_t* key = Key(i);
    size_t slot = static_cast<size_t>(HashKey(key, keyBytes_)) & mask_;
    while (index_[slot] != 0) slot = (slot + 1) & mask_;
    index_[slot] = static_cast<uint32_t>(i + 1);
  }
}

void ConnAggregate::Add(const ConnRow& row, const StateTable& states) {
  if (row.state >= rowsByState_.size()) rowsByState_.resize(row.state + 1u, 0);
  rowsByState_[row.state]++;

  uint8_t key[kServiceKeyBytes];
  memset(key, 0, sizeof key);
  key[0] = row.family;
  if (options_.perService) {
    key[1] = row.protocol;
    memcpy(key + 2, &row.virtualPort, 2);
    memcpy(key + 20, row.virtualAddress, 16);
  }
  memcpy(key + 4, row.clientAddress, 16);

  const uint64_t hash = HashKey(key, keyBytes_);
  size_t slot = Slot(key, hash);
  uint32_t entry = index_[slot];
  if (entry == 0) {
    if ((size_ + 1) * 2 > index_.size()) {
      Grow();
      slot = Slot(key, hash);
    }
    keys_.insert(keys_.end(), key, key + keyBytes_);
    counts_.resize(counts_.size() + counters_, 0);
    size_++;
    entry = static_cast<uint32_t>(size_);
    index_[slot] = entry;
  }
  uint32_t* counts = counts_.data() + (entry - 1) * counters_;
  counts[0]++;
  const int stateCounter = SlotOfState(row.state, states);
  if (stateCounter > 0) counts[stateCounter]++;
}

size_t ConnAggregate::MemoryBytes() const {
  return keys_.capacity() + counts_.capacity() * sizeof(uint32_t) + index_.capacity() * sizeof(uint32_t);
}

std::vector<uint32_t> ConnAggregate::Select(bool all, int64_t threshold, size_t limit) const {
  const size_t rank = counters_ > 1 ? 1 : 0;
  auto before = [&](uint32_t a, uint32_t b) {
    const uint32_t* ca = Counts(a);
    const uint32_t* cb = Counts(b);
    if (ca[rank] != cb[rank]) return ca[rank] > cb[rank];
    if (ca[0] != cb[0]) return ca[0] > cb[0];
    return memcmp(Key(a), Key(b), keyBytes_) < 0;
  };
  std::vector<uint32_t> picked;
  if (all) {
    picked.resize(size_);
    for (size_t i = 0; i < size_; i++) picked[i] = static_cast<uint32_t>(i);
    std::sort(picked.begin(), picked.end(), before);
    return picked;
  }
  std::vector<uint32_t> rest;
  for (size_t i = 0; i < size_; i++) {
    if (threshold >= 0 && static_cast<int64_t>(Counts(i)[rank]) > threshold) picked.push_back(static_cast<uint32_t>(i));
    else if (limit > 0) rest.push_back(static_cast<uint32_t>(i));
  }
  // The top `limit` overall: those over the threshold are already in; fill up from the rest.
  if (limit > picked.size() && !rest.empty()) {
    const size_t need = std::min(limit - picked.size(), rest.size());
    std::partial_sort(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(need), rest.end(), before);
    picked.insert(picked.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(need));
  }
  std::sort(picked.begin(), picked.end(), before);
  return picked;
}

}  // namespace lvskit
