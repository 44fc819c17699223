// layer: native (C++ addon)
// job: one streaming pass over a connection table (or a byte range of a file in its format): parse, count, tally problems; passes merge.
#include "conn_pass.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>
#include <thread>

namespace lvskit {
namespace {

constexpr size_t kMaxLineBytes = 4096;

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

}  // namespace

void ScanPass::Count(const ConnRow& row, const ConnAggregate::Key& key) {
  totals_.rows++;
  if (row.family == 6) totals_.ipv6Rows++;
  if (row.destFamily != row.family) totals_.mixedFamilyRows++;
  if (row.peLength > 0) totals_.peRows++;
  aggregate_.Add(key, row.state, states_);
}

void ScanPass::Run(LineReader& reader, const std::atomic<bool>& cancelled) {
  // A ring of parsed rows: each waits kLag lines between Prepare (which prefetches its counters)
  // and Count, so the cache line has arrived when it is needed. The oldest is at head - pending.
  constexpr size_t kLag = 8;
  ConnRow ring[kLag];
  ConnAggregate::Key keys[kLag];
  size_t head = 0;
  size_t pending = 0;
  for (;;) {
    const char* begin;
    const char* end;
    const LineReader::Status status = reader.Next(&begin, &end);
    if (status == LineReader::Status::kEnd) break;
    if (status == LineReader::Status::kError) {
      totals_.err = reader.Error();
      break;
    }
    const uint64_t line = ++totals_.lines;
    if ((line & 0x3ff) == 0 && cancelled.load(std::memory_order_relaxed)) {
      totals_.cancelled = true;
      break;
    }
    if (status == LineReader::Status::kTooLong) {
      problems_.Add(RowProblem::kTooLong, line, begin, begin);
      continue;
    }
    if (status == LineReader::Status::kTruncated) {
      problems_.Add(RowProblem::kTruncated, line, begin, end);
      totals_.truncated = true;
      continue;
    }
    if (pending == kLag) {
      Count(ring[head], keys[head]);
      pending--;
    }
    const RowProblem problem = ParseConnLine(begin, end, states_, ring[head]);
    if (problem == RowProblem::kNone) {
      aggregate_.Prepare(ring[head], keys[head]);
      head = (head + 1) % kLag;
      pending++;
    } else if (IsHeaderLine(begin, end)) {
      totals_.headerLines++;
    } else {
      problems_.Add(problem, line, begin, end);
    }
  }
  for (size_t i = 0; i < pending; i++) {
    const size_t at = (head + kLag - pending + i) % kLag;
    Count(ring[at], keys[at]);
  }
  totals_.bytesRead = reader.BytesRead();
  totals_.reads = reader.Reads();
}

void ScanPass::Merge(const ScanPass& later) {
  problems_.Append(later.problems_, totals_.lines);
  aggregate_.Merge(later.aggregate_, later.states_, states_);
  const PassTotals& t = later.totals_;
  totals_.lines += t.lines;
  totals_.rows += t.rows;
  totals_.headerLines += t.headerLines;
  totals_.ipv6Rows += t.ipv6Rows;
  totals_.mixedFamilyRows += t.mixedFamilyRows;
  totals_.peRows += t.peRows;
  totals_.bytesRead += t.bytesRead;
  totals_.reads += t.reads;
  totals_.truncated = t.truncated;  // only the last part can end inside a row
  totals_.cancelled = totals_.cancelled || t.cancelled;
  if (totals_.err == 0) totals_.err = t.err;
}

std::unique_ptr<ScanPass> ScanDescriptor(int fd, const AggregateOptions& options, size_t chunkBytes, uint64_t parallelBytes,
                                         const std::atomic<bool>& cancelled) {
  auto first = std::make_unique<ScanPass>(options);
  struct stat st{};
  const bool split = parallelBytes > 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) >= parallelBytes;
  if (!split) {
    LineReader reader(fd, chunkBytes, kMaxLineBytes);
    first->Run(reader, cancelled);
    return first;
  }
  const int64_t size = static_cast<int64_t>(st.st_size);
  const int64_t middle = LineStartAfter(fd, size / 2, size);
  ScanPass second(options);
  LineReader head(fd, chunkBytes, kMaxLineBytes, 0, middle);
  LineReader tail(fd, chunkBytes, kMaxLineBytes, middle, -1);  // to the end, however long the file grows
  std::thread helper;
  try {
    helper = std::thread([&] { second.Run(tail, cancelled); });
  } catch (const std::system_error&) {
    // No thread to be had: the second half is read here, after the first.
  }
  first->Run(head, cancelled);
  if (helper.joinable()) helper.join();
  else second.Run(tail, cancelled);
  first->Merge(second);
  return first;
}

}  // namespace lvskit
