// layer: native (C++ addon)
// job: one streaming pass over a connection table (or a byte range of a file in its format): parse, count, tally problems; passes merge.
#pragma once

#include <stdint.h>

#include <atomic>
#include <memory>

#include "conn_aggregate.h"
#include "conn_fixed.h"
#include "conn_parse.h"
#include "conn_problems.h"

namespace lvskit {

/** What a pass (or several merged) found. */
struct PassTotals {
  uint64_t lines = 0;
  uint64_t rows = 0;
  uint64_t headerLines = 0;
  uint64_t ipv6Rows = 0;
  uint64_t mixedFamilyRows = 0;
  uint64_t peRows = 0;
  uint64_t bytesRead = 0;
  uint64_t reads = 0;
  bool truncated = false;
  bool cancelled = false;
  int err = 0;  // errno of a failed read
};

/** Parses lines into rows and counts them; rows wait a few lines between key preparation (prefetch) and counting. */
class ScanPass {
 public:
  explicit ScanPass(const AggregateOptions& options) : aggregate_(options) {}
  /** Read `reader` to its end (or until `cancelled`). */
  void Run(LineReader& reader, const std::atomic<bool>& cancelled);
  /** Add a pass over the bytes that follow this one's: its lines are numbered after ours. */
  void Merge(const ScanPass& later);

  const PassTotals& Totals() const { return totals_; }
  const StateTable& States() const { return states_; }
  const ConnAggregate& Aggregate() const { return aggregate_; }
  const ProblemLog& Problems() const { return problems_; }

 private:
  /** A row of an IPv4 client waiting to be counted. */
  struct IPv4Pending {
    uint64_t hash;
    uint32_t key;
    uint8_t state;
  };
  /** Count a line; false (the pass then cancelled) when `cancelled` is set, which is looked at every 1,024 lines. */
  bool CountLine(const std::atomic<bool>& cancelled);
  void Count(const ConnRow& row, const ConnAggregate::Key& key);
  void CountIPv4(const IPv4Pending& row) {
    totals_.rows++;
    aggregate_.AddIPv4(row.key, row.hash, row.state, states_);
  }
  StateTable states_;
  ConnAggregate aggregate_;
  ProblemLog problems_;
  PassTotals totals_;
};

/**
 * The whole scan of `fd`: one pass, or — for a regular file of at least `parallelBytes` — two
 * passes over its halves (split at a line boundary) on two threads, merged. procfs files are
 * always read in one pass, in order.
 */
std::unique_ptr<ScanPass> ScanDescriptor(int fd, const AggregateOptions& options, size_t chunkBytes, uint64_t parallelBytes,
                                         const std::atomic<bool>& cancelled);

}  // namespace lvskit
