// layer: fuzz (libFuzzer harness, not part of the addon)
// job: a whole connection-table file through one scanner pass (LineReader in small chunks, parse, aggregate, tally),
//      per client and per service, then the top-N selection: no crash, no leak, counts that add up.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <vector>

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
  const lvskit::ConnAggregate& aggregate = pass.Aggregate();
  const auto all = aggregate.Select(true, 0, 0);
  Check(all.size() == aggregate.Size(), "selecting all does not give every key");
  // A selection is the head of the whole ranking: the 10 highest, and with a threshold also every key over it
  // (the union: those over the threshold rank above every other).
  const auto isHead = [&all](const std::vector<lvskit::ConnAggregate::Handle>& picked) {
    for (size_t i = 0; i < picked.size(); i++) {
      if (picked[i].general != all[i].general || picked[i].slot != all[i].slot) return false;
    }
    return true;
  };
  size_t overOne = 0;
  for (const auto handle : all) overOne += aggregate.CountsOf(handle)[1] > 1 ? 1 : 0;  // counter 1: ESTABLISHED, the ranking one
  const auto top = aggregate.Select(false, -1, 10);
  Check(top.size() == std::min<size_t>(10, all.size()) && isHead(top), "top-10 is not the head of the ranking");
  const auto topOrOver = aggregate.Select(false, 1, 10);
  Check(topOrOver.size() == std::max(overOne, std::min<size_t>(10, all.size())) && isHead(topOrOver),
        "top-10 with threshold 1 is not the keys over 1 and the 10 highest, at the head of the ranking");
  const uint64_t problems = pass.Problems().Total();
  const lvskit::PassTally tally = pass.TakeTally();
  Check(tally.totals.lines == t.lines && tally.problems.Total() == problems, "the tally handed over differs");
  Check(pass.Totals().lines == 0 && pass.Problems().Total() == 0, "the pass kept its tally");
  return 0;
}
