// layer: fuzz (libFuzzer harness, not part of the addon)
// job: a whole connection-table file through one scanner pass (LineReader in small chunks, parse, aggregate, tally),
//      per client and per service, then the top-N selection: no crash, no leak, counts that add up.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>

#include "conn_pass.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "conn_pass: %s\n", what);
    abort();
  }
}

int fd = -1;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // First byte: chunk size (small chunks split lines across reads) and the aggregation key.
  const size_t chunk = 16 + (data[0] & 0x7f) * 8;
  const bool perService = (data[0] & 0x80) != 0;
  data++;
  size--;
  if (fd < 0) fd = memfd_create("conn_pass", 0);
  Check(fd >= 0, "memfd_create");
  Check(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == static_cast<ssize_t>(size), "writing the file");
  Check(lseek(fd, 0, SEEK_SET) == 0, "lseek");
  lvskit::AggregateOptions options;
  options.countStates = {"ESTABLISHED", "SYN_RECV"};
  options.perService = perService;
  // Tables sized from the file as the addon sizes them (small here: they grow as keys arrive),
  // and a read buffer of the chunk's size: both from the heap, where AddressSanitizer guards them.
  lvskit::ScanPass pass(lvskit::SizedForFile(options, static_cast<int64_t>(size)));
  lvskit::LineReader reader(fd, chunk, 4096);
  std::atomic<bool> cancelled{false};
  pass.Run(reader, cancelled);
  const lvskit::PassTotals t = pass.Totals();  // a copy: TakeTally below starts the totals again
  Check(t.err == 0, "read error");
  Check(t.rows + t.headerLines + pass.Problems().Total() <= t.lines, "rows, headers and problems exceed the lines");
  Check(t.bytesRead == size, "bytes read");
  uint64_t byState = 0;
  for (uint64_t n : pass.Aggregate().RowsByState()) byState += n;
  Check(byState == t.rows, "rows by state do not add up to the rows");
  const auto top = pass.Aggregate().Select(false, 1, 10);
  Check(top.size() <= 10, "top-N longer than asked");
  const auto all = pass.Aggregate().Select(true, 0, 0);
  Check(all.size() == pass.Aggregate().Size(), "selecting all does not give every key");
  const uint64_t problems = pass.Problems().Total();
  const lvskit::PassTally tally = pass.TakeTally();
  Check(tally.totals.lines == t.lines && tally.problems.Total() == problems, "the tally handed over differs");
  Check(pass.Totals().lines == 0 && pass.Problems().Total() == 0, "the pass kept its tally");
  return 0;
}
