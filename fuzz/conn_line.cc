// layer: fuzz (libFuzzer harness, not part of the addon)
// job: one line of /proc/net/ip_vs_conn through every parser of the scanner: the general parser with and without the
//      fixed-offset shortcut, the fixed IPv4/IPv6 parsers and the 16-byte lane; parsers that take a line must agree.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <memory>

#include "conn_fixed.h"
#include "conn_parse.h"

using lvskit::ConnRow;
using lvskit::FixedIPv4Row;
using lvskit::RowProblem;
using lvskit::StateTable;

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "conn_line: %s\n", what);
    abort();
  }
}

bool SameRow(const ConnRow& a, const ConnRow& b) {
  return a.protocol == b.protocol && a.family == b.family && a.destFamily == b.destFamily && a.clientPort == b.clientPort &&
         a.virtualPort == b.virtualPort && a.destPort == b.destPort && a.expiresSec == b.expiresSec &&
         memcmp(a.clientAddress, b.clientAddress, 16) == 0 && memcmp(a.virtualAddress, b.virtualAddress, 16) == 0 &&
         memcmp(a.destAddress, b.destAddress, 16) == 0 && a.peLength == b.peLength;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The line in memory of exactly its own size, so that AddressSanitizer sees any read past its end.
  std::unique_ptr<char[]> line(new char[size == 0 ? 1 : size]);
  if (size > 0) memcpy(line.get(), data, size);
  const char* begin = line.get();
  const char* end = begin + size;
  StateTable states;
  lvskit::IsHeaderLine(begin, end);
  ConnRow general;
  const RowProblem problem = lvskit::ParseConnLine(begin, end, states, general, false);
  Check(problem < RowProblem::kCount, "problem out of range");
  ConnRow shortcut;
  const RowProblem again = lvskit::ParseConnLine(begin, end, states, shortcut, true);
  Check(again == problem, "the fixed-offset shortcut changes the verdict");
  if (problem == RowProblem::kNone) {
    Check(SameRow(general, shortcut), "the fixed-offset shortcut changes the row");
    Check(general.family == 4 || general.family == 6, "family");
    Check(general.destFamily == 4 || general.destFamily == 6, "destination family");
    Check(general.state < states.Names().size(), "state index");
    Check(general.peLength == 0 || (general.pe >= begin && general.pe + general.peLength <= end), "PE columns outside the line");
  }
  FixedIPv4Row fixed;
  if (lvskit::ParseFixedIPv4(begin, end, states, fixed)) {
    Check(problem == RowProblem::kNone, "the fixed IPv4 parser takes a line the general parser refuses");
    ConnRow converted;
    lvskit::ToConnRow(fixed, converted);
    Check(SameRow(converted, general), "the fixed IPv4 parser reads another row");
  }
  ConnRow v6;
  if (lvskit::ParseFixedIPv6(begin, end, states, v6)) {
    Check(problem == RowProblem::kNone, "the fixed IPv6 parser takes a line the general parser refuses");
    Check(SameRow(v6, general), "the fixed IPv6 parser reads another row");
  }
  if (size == lvskit::kFixedIPv4RowBytes) {
    // The lane reads kFixedIPv4RowBytes bytes and needs the newline after them (as LineReader::PeekLine shows it).
    std::unique_ptr<char[]> withNewline(new char[size + 1]);
    memcpy(withNewline.get(), data, size);
    withNewline[size] = '\n';
    uint32_t client;
    uint8_t state;
    if (lvskit::ParseLaneIPv4(withNewline.get(), states, &client, &state)) {
      Check(problem == RowProblem::kNone && general.family == 4, "the lane takes a line the general parser refuses");
      FixedIPv4Row f;
      Check(lvskit::ParseFixedIPv4(begin, end, states, f), "the lane takes a line the fixed IPv4 parser refuses");
      Check(client == f.client && state == f.state && state == general.state, "the lane reads another client or state");
    }
  }
  return 0;
}
