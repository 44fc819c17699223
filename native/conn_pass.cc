// layer: native (C++ addon)
// job: one streaming pass over a connection table (or a byte range of a file in its format): parse, count, tally problems; passes merge.
#include "conn_pass.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

namespace lvskit {
namespace {

constexpr size_t kMaxLineBytes = 4096;
/** The bytes of a typical IPv4 row, to guess a file's rows from its size. */
constexpr int64_t kRowBytesGuess = 66;
/** Rows per client assumed when sizing a table from a file's size: fewer and it grows, more and it is sparse. */
constexpr int64_t kRowsPerKeyGuess = 8;

/** The offset of the first line that starts at or after `at` (just past a newline), or `size`. */
int64_t LineStartAfter(int fd, int64_t at, int64_t size) {
  char buf[4096];
  while (at < size) {
    const ssize_t n = pread(fd, buf, sizeof buf, static_cast<off_t>(at));
    if (n <= 0) return size;
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n') return at + i + 1;
    }
    at += n;
  }
  return size;
}

/**
 * Items that wait N more items between being made (their counters' cache line prefetched then)
 * and being counted, so that line has arrived when it is needed.
 */
template <typename T, size_t N = 8>
class LagRing {
 public:
  /** The slot for a new item; when the ring is full, its oldest item is first passed to `count`. */
  template <typename CountFn>
  T& Slot(const CountFn& count) {
    if (pending_ == N) {
      count(items_[head_]);
      pending_--;
    }
    return items_[head_];
  }
  /** Keep the item just made in Slot(). */
  void Push() {
    head_ = (head_ + 1) % N;
    pending_++;
  }
  /** Pass every item still waiting to `count`, oldest first. */
  template <typename CountFn>
  void Drain(const CountFn& count) {
    for (size_t i = 0; i < pending_; i++) count(items_[(head_ + N - pending_ + i) % N]);
    pending_ = 0;
  }

 private:
  T items_[N];
  size_t head_ = 0;
  size_t pending_ = 0;
};

/** A row of any shape waiting to be counted, with its prepared key. */
struct Parsed {
  ConnRow row;
  ConnAggregate::Key key;
};

}  // namespace

AggregateOptions SizedForFile(const AggregateOptions& options, int64_t bytes) {
  AggregateOptions sized = options;
  sized.expectedKeys = bytes <= 0 ? 0 : static_cast<size_t>(std::max<int64_t>(1, bytes / kRowBytesGuess / kRowsPerKeyGuess));
  return sized;
}

void ScanPass::Count(const ConnRow& row, const ConnAggregate::Key& key) {
  totals_.rows++;
  if (row.family == 6) totals_.ipv6Rows++;
  if (row.destFamily != row.family) totals_.mixedFamilyRows++;
  if (row.peLength > 0) totals_.peRows++;
  aggregate_.Add(key, row.state, states_);
}

bool ScanPass::CountLine(const std::atomic<bool>& cancelled, const LineReader& reader) {
  if ((++totals_.lines & 0x3ff) != 0) return true;
  if (progress_ != nullptr) Report(reader);
  if (cancelled.load(std::memory_order_relaxed)) {
    totals_.cancelled = true;
    return false;
  }
  return true;
}

void ScanPass::Report(const LineReader& reader) {
  const uint64_t now = reader.BytesRead();
  progress_->fetch_add(now - reported_, std::memory_order_relaxed);
  reported_ = now;
}

void ScanPass::Run(LineReader& reader, const std::atomic<bool>& cancelled) {
  reported_ = 0;  // the reader counts its bytes from 0 again for each piece
  // Rows of the common IPv4 shape without PE columns, when clients are keyed alone, wait in a ring
  // of their own that holds only the key, its hash and the state; every other row waits as a
  // ConnRow. Counting is commutative, so the two rings need not keep the file's order.
  LagRing<IPv4Pending> lane;
  LagRing<Parsed> ring;
  const auto countIPv4 = [this](const IPv4Pending& pending) { CountIPv4(pending); };
  const auto countRow = [this](const Parsed& parsed) { Count(parsed.row, parsed.key); };
  const bool ipv4Lane = aggregate_.KeysIPv4ByClient();
  const auto laneAdd = [&](uint32_t client, uint8_t state) {
    IPv4Pending& next = lane.Slot(countIPv4);
    next.key = ConnAggregate::IPv4Key(client);
    next.hash = aggregate_.PrepareIPv4(next.key);
    next.state = state;
    lane.Push();
  };
  FixedIPv4Row fixed;
  for (;;) {
    // The common row, taken where its newline should be without searching for it (the parser
    // checks all of its bytes); anything else is split at its newline and parsed below.
    const char* row = ipv4Lane ? reader.PeekLine(kFixedIPv4RowBytes) : nullptr;
    uint32_t client;
    uint8_t state;
    if (row != nullptr && ParseLaneIPv4(row, states_, &client, &state)) {
      reader.Skip(kFixedIPv4RowBytes + 1);
      if (!CountLine(cancelled, reader)) break;
      laneAdd(client, state);
      continue;
    }
    const char* begin;
    const char* end;
    const LineReader::Status status = reader.Next(&begin, &end);
    if (status == LineReader::Status::kEnd) break;
    if (status == LineReader::Status::kError) {
      totals_.err = reader.Error();
      break;
    }
    if (!CountLine(cancelled, reader)) break;
    const uint64_t line = totals_.lines;
    if (status == LineReader::Status::kTooLong) {
      problems_.Add(RowProblem::kTooLong, line, begin, begin);
      continue;
    }
    if (status == LineReader::Status::kTruncated) {
      problems_.Add(RowProblem::kTruncated, line, begin, end);
      totals_.truncated = true;
      continue;
    }
    const bool isFixed = ipv4Lane && ParseFixedIPv4(begin, end, states_, fixed);
    if (isFixed && fixed.peLength == 0) {
      laneAdd(fixed.client, fixed.state);
      continue;
    }
    // A fixed row with PE columns is parsed again into a ConnRow (rare); a line known not to be of
    // the fixed shape goes straight to the general parser.
    Parsed& next = ring.Slot(countRow);
    const RowProblem problem = ParseConnLine(begin, end, states_, next.row, isFixed || !ipv4Lane);
    if (problem == RowProblem::kNone) {
      aggregate_.Prepare(next.row, next.key);
      ring.Push();
    } else if (IsHeaderLine(begin, end)) {
      totals_.headerLines++;
    } else {
      problems_.Add(problem, line, begin, end);
    }
  }
  ring.Drain(countRow);
  lane.Drain(countIPv4);
  totals_.bytesRead += reader.BytesRead();
  totals_.reads += reader.Reads();
  if (progress_ != nullptr) Report(reader);
}

void PassTally::Append(const PassTally& later) {
  problems.Append(later.problems, totals.lines);
  const PassTotals& t = later.totals;
  totals.lines += t.lines;
  totals.rows += t.rows;
  totals.headerLines += t.headerLines;
  totals.ipv6Rows += t.ipv6Rows;
  totals.mixedFamilyRows += t.mixedFamilyRows;
  totals.peRows += t.peRows;
  totals.bytesRead += t.bytesRead;
  totals.reads += t.reads;
  totals.truncated = totals.truncated || t.truncated;
  totals.cancelled = totals.cancelled || t.cancelled;
  if (totals.err == 0) totals.err = t.err;
}

PassTally ScanPass::TakeTally() {
  PassTally tally{totals_, std::move(problems_)};
  totals_ = PassTotals{};
  problems_ = ProblemLog{};
  return tally;
}

void ScanPass::SetTally(PassTally tally) {
  totals_ = tally.totals;
  problems_ = std::move(tally.problems);
}

void ScanPass::MergeCounts(const ScanPass& other) { aggregate_.Merge(other.aggregate_, other.states_, states_); }

namespace {

/** Bytes per piece of a file read by two threads: small enough that neither waits long for the other at the end. */
constexpr int64_t kPieceBytes = 2 << 20;

/**
 * Test builds only (binding.gyp `-Dfault_hooks=1`, which the sanitizer pass of CI uses): with
 * LVSKIT_FAULT_SCAN_HELPER_ALLOC=1 in the environment, the scanner's helper thread fails its first
 * allocation, as it would when memory runs out. Compiled out of every other build.
 */
void MaybeFailHelperForTest() {
#ifdef LVSKIT_FAULT_HOOKS
  const char* fail = getenv("LVSKIT_FAULT_SCAN_HELPER_ALLOC");
  if (fail != nullptr && strcmp(fail, "1") == 0) throw std::bad_alloc();
#endif
}

/** Where each piece of a file of `size` bytes starts (each at a line), then -1: the last piece runs to the end. */
std::vector<int64_t> PieceStarts(int fd, int64_t size) {
  const int64_t pieces = std::max<int64_t>(2, (size + kPieceBytes - 1) / kPieceBytes);
  std::vector<int64_t> starts{0};
  for (int64_t i = 1; i < pieces; i++) starts.push_back(std::max(starts.back(), LineStartAfter(fd, size * i / pieces, size)));
  starts.push_back(-1);
  return starts;
}

}  // namespace

std::unique_ptr<ScanPass> ScanDescriptor(int fd, const AggregateOptions& options, size_t chunkBytes, uint64_t parallelBytes,
                                         const std::atomic<bool>& cancelled, std::atomic<uint64_t>* progress) {
  struct stat st{};
  // procfs files have no size: their tables start small and grow.
  const int64_t size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? static_cast<int64_t>(st.st_size) : 0;
  const bool split = parallelBytes > 0 && size > 0 && static_cast<uint64_t>(size) >= parallelBytes;
  if (!split) {
    auto only = std::make_unique<ScanPass>(SizedForFile(options, size));
    only->ReportBytesTo(progress);
    LineReader reader(fd, chunkBytes, kMaxLineBytes);
    only->Run(reader, cancelled);
    return only;
  }
  // Two threads take pieces in turn rather than a half each: a thread on a busier (or slower)
  // CPU then reads less instead of keeping the other waiting. Each meets most clients, so each
  // table is sized for the whole file.
  const std::vector<int64_t> starts = PieceStarts(fd, size);
  std::vector<PassTally> tallies(starts.size() - 1);
  std::atomic<size_t> next{0};
  auto first = std::make_unique<ScanPass>(SizedForFile(options, size));
  ScanPass second(SizedForFile(options, size));
  first->ReportBytesTo(progress);
  second.ReportBytesTo(progress);
  const auto work = [&](ScanPass& pass) {
    LineReader reader(fd, chunkBytes, kMaxLineBytes, 0, 0);
    for (size_t i = next++; i < tallies.size(); i = next++) {
      reader.Restart(starts[i], starts[i + 1]);
      pass.Run(reader, cancelled);
      tallies[i] = pass.TakeTally();
      if (tallies[i].totals.cancelled || tallies[i].totals.err != 0) break;
    }
  };
  // An exception must not leave a thread: on the helper it would end the process (std::terminate),
  // and on this one it would unwind past a joinable std::thread (std::terminate again). Each side
  // catches its own, takes no further piece, and the scan fails with the first one after the join.
  std::exception_ptr helperFailure;
  std::exception_ptr ownFailure;
  std::thread helper;
  try {
    helper = std::thread([&] {
      try {
        MaybeFailHelperForTest();
        work(second);
      } catch (...) {
        helperFailure = std::current_exception();
        next = tallies.size();  // this thread takes no further piece either
      }
    });
  } catch (const std::system_error&) {
    // No thread to be had: this one takes every piece.
  }
  try {
    work(*first);
  } catch (...) {
    ownFailure = std::current_exception();
    next = tallies.size();
  }
  if (helper.joinable()) helper.join();
  if (ownFailure) std::rethrow_exception(ownFailure);
  if (helperFailure) std::rethrow_exception(helperFailure);
  first->MergeCounts(second);
  PassTally whole;
  for (const PassTally& tally : tallies) whole.Append(tally);
  first->SetTally(std::move(whole));
  return first;
}

}  // namespace lvskit
