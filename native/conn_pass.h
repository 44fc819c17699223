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

/** What a pass found in the lines it read, apart from its counts: totals and malformed lines. */
struct PassTally {
  PassTotals totals;
  ProblemLog problems;
  /** Add the tally of the lines that follow these: their line numbers continue ours. */
  void Append(const PassTally& later);
};

/** Parses lines into rows and counts them; rows wait a few lines between key preparation (prefetch) and counting. */
class ScanPass {
 public:
  explicit ScanPass(const AggregateOptions& options) : aggregate_(options) {}
  /** Read `reader` to its end (or until `cancelled`); its lines, rows and bytes add to the totals. */
  void Run(LineReader& reader, const std::atomic<bool>& cancelled);
  /**
   * The totals and malformed lines of the runs so far, handed over: the next run numbers its
   * lines from 1 again, its rows counted on into the same aggregate.
   */
  PassTally TakeTally();
  /** Set the totals and malformed lines reported (a whole file's, from the tallies of its pieces). */
  void SetTally(PassTally tally);
  /** Add another pass's counts to ours (its state indexes translated by name). */
  void MergeCounts(const ScanPass& other);
  /** Add the bytes read to `*bytes` as the pass goes (every 1,024 lines), for a progress display; nullptr: none. */
  void ReportBytesTo(std::atomic<uint64_t>* bytes) { progress_ = bytes; }

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
  bool CountLine(const std::atomic<bool>& cancelled, const LineReader& reader);
  /** Add the bytes `reader` read since the last report to `progress_`. */
  void Report(const LineReader& reader);
  void Count(const ConnRow& row, const ConnAggregate::Key& key);
  void CountIPv4(const IPv4Pending& row) {
    totals_.rows++;
    aggregate_.AddIPv4(row.key, row.hash, row.state, states_);
  }
  StateTable states_;
  ConnAggregate aggregate_;
  ProblemLog problems_;
  PassTotals totals_;
  std::atomic<uint64_t>* progress_ = nullptr;
  uint64_t reported_ = 0;
};

/**
 * `options` with the keys a pass over a regular file of `bytes` may meet guessed from its size (a
 * small file, a small table); 0 bytes (a procfs file, or empty): not known.
 */
AggregateOptions SizedForFile(const AggregateOptions& options, int64_t bytes);

/**
 * The whole scan of `fd`: one pass, or — for a regular file of at least `parallelBytes` — two
 * passes on two threads, each taking the next piece of the file (about 2 MiB, starting at a
 * line) until none is left, merged. procfs files are always read in one pass, in order.
 */
std::unique_ptr<ScanPass> ScanDescriptor(int fd, const AggregateOptions& options, size_t chunkBytes, uint64_t parallelBytes,
                                         const std::atomic<bool>& cancelled, std::atomic<uint64_t>* progress = nullptr);

}  // namespace lvskit
