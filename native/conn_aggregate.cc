// layer: native (C++ addon)
// job: count rows per client (or per client and virtual service) and per state in open-addressing tables; pick top-N / over-threshold.
#include "conn_aggregate.h"

#include <string.h>

#include <algorithm>
#include <utility>

namespace lvskit {
namespace {

/** Slots of a table whose keys are not known in advance (a pass over /proc): a busy balancer's clients soon fill them. */
constexpr int kUnknownSlotsLog2 = 14;
/** The fewest slots of a table sized from a guess (a regular file's size): a small file gets a small table. */
constexpr int kMinSlotsLog2 = 6;
/**
 * A guess of more keys than this many bytes of slots hold is not believed: the table starts at
 * this size and grows from there if it must (a scan on two threads has two tables).
 */
constexpr size_t kMaxInitialBytes = 16 << 20;

/** log2 of the slots (of `strideWords` u32 each) that hold `expectedKeys` at most 2/3 full; 0 keys: not known. */
int InitialSlotsLog2(size_t expectedKeys, size_t strideWords) {
  if (expectedKeys == 0) return kUnknownSlotsLog2;
  int log2 = kMinSlotsLog2;
  while ((size_t{2} << log2) * strideWords * sizeof(uint32_t) <= kMaxInitialBytes && (size_t{1} << log2) * 2 < expectedKeys * 3) log2++;
  return log2;
}
/**
 * The keys guessed for the IPv6 clients when clients are keyed alone: a quarter of the guess (the
 * 1,000,000-row table of bench/conns-scan.ts has 28 % of them; its table then does not grow), so
 * a small file's tables are both small. Not known (0) stays not known.
 */
size_t IPv6Keys(size_t expectedKeys) { return expectedKeys == 0 ? 0 : std::max<size_t>(1, expectedKeys / 4); }
/** Per service every key goes to the general table: the IPv4 table is never used and gets the fewest slots. */
constexpr size_t kUnusedTableKeys = 1;
constexpr size_t kBaseKeyBytes = 20;
constexpr size_t kServiceKeyBytes = 36;

}  // namespace

// ---- InlineTable --------------------------------------------------------------------------------

uint64_t InlineTable::HashWords(const uint32_t* key, size_t words) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ words;
  size_t i = 0;
  for (; i + 2 <= words; i += 2) {
    h ^= static_cast<uint64_t>(key[i]) | (static_cast<uint64_t>(key[i + 1]) << 32);
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  if (i < words) {
    h ^= key[i];
    h *= 0xc4ceb9fe1a85ec53ULL;
  }
  h ^= h >> 29;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

InlineTable::InlineTable(size_t keyWords, size_t counters, size_t expectedKeys)
    : keyWords_(keyWords),
      counters_(counters),
      stride_(keyWords + counters),
      slots_(size_t{1} << InitialSlotsLog2(expectedKeys, stride_)),
      shift_(64 - InitialSlotsLog2(expectedKeys, stride_)),
      data_(slots_ * stride_ * sizeof(uint32_t)) {}

bool InlineTable::SameKey(const uint32_t* a, const uint32_t* b) const {
  if (keyWords_ == 1) return a[0] == b[0];
  uint32_t diff = 0;
  for (size_t i = 0; i < keyWords_; i++) diff |= a[i] ^ b[i];
  return diff == 0;
}

uint32_t* InlineTable::Find(const uint32_t* key, uint64_t hash) {
  size_t slot = static_cast<size_t>(hash >> shift_);
  for (;;) {
    uint32_t* r = data_.As<uint32_t>() + slot * stride_;
    if (r[keyWords_] == 0) {
      if ((size_ + 1) * 3 > slots_ * 2) {
        Grow();
        return Find(key, hash);
      }
      memcpy(r, key, keyWords_ * sizeof(uint32_t));
      size_++;
      return r + keyWords_;
    }
    if (SameKey(r, key)) return r + keyWords_;
    slot = (slot + 1) & (slots_ - 1);
  }
}

void InlineTable::AddTable(const InlineTable& other) {
  // In blocks: hash a block's records and start loading their slots, then add them.
  constexpr size_t kBlock = 32;
  const uint32_t* records[kBlock];
  uint64_t hashes[kBlock];
  for (size_t i = 0; i < other.slots_;) {
    size_t n = 0;
    for (; i < other.slots_ && n < kBlock; i++) {
      const uint32_t* r = other.Record(i);
      if (r == nullptr) continue;
      records[n] = r;
      hashes[n] = Hash(r);
      __builtin_prefetch(Home(hashes[n]), 1);
      n++;
    }
    for (size_t k = 0; k < n; k++) {
      uint32_t* mine = Find(records[k], hashes[k]);
      for (size_t c = 0; c < counters_; c++) mine[c] += records[k][keyWords_ + c];
    }
  }
}

void InlineTable::Grow() {
  HugeMemory old = std::move(data_);
  const size_t oldSlots = slots_;
  data_ = HugeMemory(oldSlots * 2 * stride_ * sizeof(uint32_t));
  slots_ *= 2;
  shift_ -= 1;
  uint32_t* data = data_.As<uint32_t>();
  for (size_t i = 0; i < oldSlots; i++) {
    const uint32_t* r = old.As<uint32_t>() + i * stride_;
    if (r[keyWords_] == 0) continue;
    size_t slot = static_cast<size_t>(Hash(r) >> shift_);
    while (data[slot * stride_ + keyWords_] != 0) slot = (slot + 1) & (slots_ - 1);
    memcpy(data + slot * stride_, r, stride_ * sizeof(uint32_t));
  }
}

// ---- ConnAggregate ------------------------------------------------------------------------------

ConnAggregate::ConnAggregate(AggregateOptions options)
    : options_(std::move(options)),
      keyBytes_(options_.perService ? kServiceKeyBytes : kBaseKeyBytes),
      counters_(1 + std::min(options_.countStates.size(), kMaxCountStates)),
      v4_(1, counters_, options_.perService ? kUnusedTableKeys : options_.expectedKeys),
      general_(keyBytes_ / 4, counters_, options_.perService ? options_.expectedKeys : IPv6Keys(options_.expectedKeys)) {}

int ConnAggregate::LookUpSlotOfState(size_t stateIndex, const StateTable& states) {
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

void ConnAggregate::Prepare(const ConnRow& row, Key& key) const {
  if (row.family == 4 && !options_.perService) {
    key.general = false;
    memcpy(&key.words[0], row.clientAddress, 4);
    key.hash = PrepareIPv4(key.words[0]);
    return;
  }
  uint8_t bytes[kServiceKeyBytes] = {};
  bytes[0] = row.family;
  if (options_.perService) {
    bytes[1] = row.protocol;
    memcpy(bytes + 2, &row.virtualPort, 2);
    memcpy(bytes + 20, row.virtualAddress, 16);
  }
  memcpy(bytes + 4, row.clientAddress, 16);
  key.general = true;
  memcpy(key.words, bytes, keyBytes_);
  key.hash = general_.Hash(key.words);
  __builtin_prefetch(general_.Home(key.hash), 1);
}

void ConnAggregate::Add(const Key& key, uint8_t state, const StateTable& states) {
  Count(key.general ? general_.Find(key.words, key.hash) : v4_.Find(key.words, key.hash), state, states);
}

void ConnAggregate::Merge(const ConnAggregate& other, const StateTable& theirStates, StateTable& ourStates) {
  for (size_t i = 0; i < other.rowsByState_.size(); i++) {
    if (other.rowsByState_[i] == 0) continue;
    const std::string& name = theirStates.Names()[i];
    const int ours = ourStates.Intern(name.data(), name.size());
    if (ours < 0) continue;  // our table is full: those rows stay counted per key, not per state
    if (static_cast<size_t>(ours) >= rowsByState_.size()) rowsByState_.resize(static_cast<size_t>(ours) + 1, 0);
    rowsByState_[static_cast<size_t>(ours)] += other.rowsByState_[i];
  }
  v4_.AddTable(other.v4_);
  general_.AddTable(other.general_);
}

void ConnAggregate::KeyOf(Handle h, uint8_t* out) const {
  if (h.general) {
    memcpy(out, general_.Record(h.slot), keyBytes_);
    return;
  }
  memset(out, 0, keyBytes_);
  out[0] = 4;
  memcpy(out + 4, v4_.Record(h.slot), 4);
}

const uint32_t* ConnAggregate::CountsOf(Handle h) const {
  const InlineTable& table = h.general ? general_ : v4_;
  return table.Record(h.slot) + table.KeyWords();
}

std::vector<ConnAggregate::Handle> ConnAggregate::Select(bool all, int64_t threshold, size_t limit) const {
  const size_t rank = counters_ > 1 ? 1 : 0;
  auto before = [&](Handle a, Handle b) {
    const uint32_t* ca = CountsOf(a);
    const uint32_t* cb = CountsOf(b);
    if (ca[rank] != cb[rank]) return ca[rank] > cb[rank];
    if (ca[0] != cb[0]) return ca[0] > cb[0];
    uint8_t ka[kServiceKeyBytes];
    uint8_t kb[kServiceKeyBytes];
    KeyOf(a, ka);
    KeyOf(b, kb);
    return memcmp(ka, kb, keyBytes_) < 0;
  };
  std::vector<Handle> picked;
  std::vector<Handle> rest;
  for (uint32_t general = 0; general < 2; general++) {
    const InlineTable& table = general ? general_ : v4_;
    for (size_t i = 0; i < table.Slots(); i++) {
      const uint32_t* r = table.Record(i);
      if (r == nullptr) continue;
      const Handle h{general, static_cast<uint32_t>(i)};
      if (all || (threshold >= 0 && static_cast<int64_t>(r[table.KeyWords() + rank]) > threshold)) picked.push_back(h);
      else if (limit > 0) rest.push_back(h);
    }
  }
  // The top `limit` overall: those over the threshold rank above every other; fill up from the rest.
  if (limit > picked.size() && !rest.empty()) {
    const size_t need = std::min(limit - picked.size(), rest.size());
    std::partial_sort(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(need), rest.end(), before);
    picked.insert(picked.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(need));
  }
  std::sort(picked.begin(), picked.end(), before);
  return picked;
}

}  // namespace lvskit
