// layer: native (C++ addon)
// job: parse rows of /proc/net/ip_vs_conn in the kernel's exact format without building strings; read a file as lines in large chunks.
//
// The kernel prints each row with (net/netfilter/ipvs/ip_vs_conn.c, ip_vs_conn_seq_show):
//   IPv4: "%-3s %08X %04X %08X %04X %s %04X %-11s %7u%s\n"
//   IPv6: "%-3s %pI6 %04X %pI6 %04X %s %04X %-11s %7u%s\n"
// protocol, client addr/port, virtual addr/port, destination (%08X, or %pI6 when the destination
// family differs), dest port, state, seconds to expiry, then " PEName PEData" when the entry has
// persistence-engine data. %pI6 is the full form: 8 groups of 4 lower-case hex digits.
#include "conn_parse.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>

#include "conn_fixed.h"

namespace lvskit {
namespace {

struct HexTable {
  int8_t value[256];
  constexpr HexTable() : value() {
    for (int i = 0; i < 256; i++) value[i] = -1;
    for (int i = 0; i < 10; i++) value['0' + i] = static_cast<int8_t>(i);
    for (int i = 0; i < 6; i++) {
      value['a' + i] = static_cast<int8_t>(10 + i);
      value['A' + i] = static_cast<int8_t>(10 + i);
    }
  }
};
constexpr HexTable kHex;

inline int HexDigit(char c) { return kHex.value[static_cast<unsigned char>(c)]; }

/** `count` hex digits at p into *out; false on a non-digit. No branch per digit: a bad one turns `bad` negative. */
inline bool ParseHex(const char* p, size_t count, uint32_t* out) {
  uint32_t v = 0;
  int bad = 0;
  for (size_t i = 0; i < count; i++) {
    const int d = HexDigit(p[i]);
    bad |= d;
    v = (v << 4) | static_cast<uint32_t>(d & 0xf);
  }
  *out = v;
  return bad >= 0;
}

/** The next space-separated token of [*p, end): sets [*tok, *tokEnd) and moves *p past it and the spaces after it. */
inline bool NextToken(const char** p, const char* end, const char** tok, const char** tokEnd) {
  const char* q = *p;
  while (q < end && *q == ' ') q++;
  if (q == end) return false;
  *tok = q;
  while (q < end && *q != ' ') q++;
  *tokEnd = q;
  while (q < end && *q == ' ') q++;
  *p = q;
  return true;
}

/** An address token: 8 hex digits (IPv4, host-order print of a network-order value) or %pI6. Returns 4, 6 or 0. */
int ParseAddress(const char* tok, const char* tokEnd, uint8_t out[16]) {
  const size_t length = static_cast<size_t>(tokEnd - tok);
  if (length == 8) {
    uint32_t v;
    if (!ParseHex(tok, 8, &v)) return 0;
    out[0] = static_cast<uint8_t>(v >> 24);
    out[1] = static_cast<uint8_t>(v >> 16);
    out[2] = static_cast<uint8_t>(v >> 8);
    out[3] = static_cast<uint8_t>(v);
    memset(out + 4, 0, 12);  // rows are parsed into one reused ConnRow: no bytes of an earlier IPv6 address may stay
    return 4;
  }
  if (length == 39) {
    for (size_t group = 0; group < 8; group++) {
      const char* g = tok + group * 5;
      uint32_t v;
      if (!ParseHex(g, 4, &v) || (group < 7 && g[4] != ':')) return 0;
      out[group * 2] = static_cast<uint8_t>(v >> 8);
      out[group * 2 + 1] = static_cast<uint8_t>(v);
    }
    return 6;
  }
  return 0;
}

inline bool ParsePort(const char* tok, const char* tokEnd, uint16_t* out) {
  uint32_t v;
  if (tokEnd - tok != 4 || !ParseHex(tok, 4, &v)) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}

inline bool Equals(const char* tok, size_t length, const char* word) {
  return strlen(word) == length && memcmp(tok, word, length) == 0;
}

/** ip_vs_proto_name() reversed: TCP, UDP, SCTP, IP, ICMP, ICMPv6, IP_<n>. */
bool ParseProtocol(const char* tok, const char* tokEnd, uint8_t* out) {
  const size_t length = static_cast<size_t>(tokEnd - tok);
  if (Equals(tok, length, "TCP")) *out = 6;
  else if (Equals(tok, length, "UDP")) *out = 17;
  else if (Equals(tok, length, "SCTP")) *out = 132;
  else if (Equals(tok, length, "IP")) *out = 0;
  else if (Equals(tok, length, "ICMP")) *out = 1;
  else if (Equals(tok, length, "ICMPv6")) *out = 58;
  else if (length > 3 && length <= 6 && memcmp(tok, "IP_", 3) == 0) {
    uint32_t v = 0;
    for (const char* c = tok + 3; c < tokEnd; c++) {
      if (*c < '0' || *c > '9') return false;
      v = v * 10 + static_cast<uint32_t>(*c - '0');
    }
    if (v > 255) return false;
    *out = static_cast<uint8_t>(v);
  } else {
    return false;
  }
  return true;
}

bool ParseSeconds(const char* tok, const char* tokEnd, uint32_t* out) {
  if (tokEnd - tok < 1 || tokEnd - tok > 10) return false;
  uint64_t v = 0;
  for (const char* c = tok; c < tokEnd; c++) {
    if (*c < '0' || *c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(*c - '0');
  }
  if (v > 0xffffffffULL) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

const char* RowProblemName(RowProblem problem) {
  switch (problem) {
    case RowProblem::kNone: return "none";
    case RowProblem::kTruncated: return "truncated";
    case RowProblem::kTooLong: return "too-long";
    case RowProblem::kEmpty: return "empty";
    case RowProblem::kProtocol: return "protocol";
    case RowProblem::kAddress: return "address";
    case RowProblem::kFamilyMismatch: return "family-mismatch";
    case RowProblem::kPort: return "port";
    case RowProblem::kState: return "state";
    case RowProblem::kExpires: return "expires";
    case RowProblem::kCount: break;
  }
  return "unknown";
}

namespace {

/** The state names of ip_vs_proto_tcp.c, _udp.c and _sctp.c that fit the 11-column field. */
constexpr const char* kKernelStateNames[] = {"NONE",     "ESTABLISHED", "SYN_SENT",    "SYN_RECV",    "FIN_WAIT",   "TIME_WAIT", "CLOSE",
                                             "CLOSE_WAIT", "LAST_ACK",  "LISTEN",      "SYNACK",      "ERR!",       "UDP",       "BUG!",
                                             "INIT1",    "INIT",        "COOKIE_SENT", "COOKIE_WAIT", "REJECTED",   "CLOSED"};

/** Byte `i` of `name` as the kernel's "%-11s" prints it. */
constexpr uint8_t PaddedByte(const char* name, size_t i) {
  size_t length = 0;
  while (name[length] != '\0') length++;
  return static_cast<uint8_t>(i < length ? name[i] : ' ');
}

constexpr size_t KernelColumnSlot(const char* name) {
  uint64_t head = 0;
  for (size_t i = 0; i < 8; i++) head |= static_cast<uint64_t>(PaddedByte(name, i)) << (8 * i);
  uint32_t tail = 0;
  for (size_t i = 0; i < 4; i++) tail |= static_cast<uint32_t>(PaddedByte(name, 7 + i)) << (8 * i);
  return StateTable::ColumnSlot(head, tail);
}

constexpr bool KernelStatesHaveOwnSlots() {
  constexpr size_t n = sizeof kKernelStateNames / sizeof kKernelStateNames[0];
  for (size_t i = 0; i < n; i++) {
    for (size_t j = i + 1; j < n; j++) {
      if (KernelColumnSlot(kKernelStateNames[i]) == KernelColumnSlot(kKernelStateNames[j])) return false;
    }
  }
  return true;
}
static_assert(KernelStatesHaveOwnSlots(), "two kernel state names share a StateTable column cache entry: change ColumnSlot");

}  // namespace

int StateTable::Intern(const char* name, size_t length) {
  if (length == 0 || length > kMaxNameLength) return -1;
  if (last_ >= 0) {
    const std::string& hit = names_[static_cast<size_t>(last_)];
    if (hit.size() == length && memcmp(hit.data(), name, length) == 0) return last_;
  }
  for (size_t i = 0; i < names_.size(); i++) {
    if (names_[i].size() == length && memcmp(names_[i].data(), name, length) == 0) {
      last_ = static_cast<int>(i);
      return last_;
    }
  }
  if (names_.size() >= kMaxStates) return -1;
  names_.emplace_back(name, length);
  last_ = static_cast<int>(names_.size() - 1);
  return last_;
}

int StateTable::InternNewColumn11(const char* column, uint64_t head, uint32_t tail) {
  constexpr size_t kWidth = 11;
  size_t length = 0;
  while (length < kWidth && column[length] != ' ') length++;
  for (size_t i = length; i < kWidth; i++) {
    if (column[i] != ' ') return -1;  // "AB CD": not one name padded; the general parser decides
  }
  // A line taken by LineReader::PeekLine has not been searched for a newline: none may hide here.
  if (memchr(column, '\n', length) != nullptr) return -1;
  const int index = Intern(column, length);
  if (index >= 0) columnCache_[ColumnSlot(head, tail)] = Column{head, tail, index};
  return index;
}

bool IsHeaderLine(const char* begin, const char* end) {
  return end - begin >= 11 && memcmp(begin, "Pro FromIP ", 11) == 0;
}

RowProblem ParseConnLine(const char* begin, const char* end, StateTable& states, ConnRow& row, bool tryFixed) {
  FixedIPv4Row fixed;
  if (tryFixed && ParseFixedIPv4(begin, end, states, fixed)) {
    ToConnRow(fixed, row);
    return RowProblem::kNone;
  }
  if (ParseFixedIPv6(begin, end, states, row)) return RowProblem::kNone;
  const char* p = begin;
  const char* tok;
  const char* tokEnd;
  if (begin == end) return RowProblem::kEmpty;
  if (!NextToken(&p, end, &tok, &tokEnd) || !ParseProtocol(tok, tokEnd, &row.protocol)) return RowProblem::kProtocol;
  if (!NextToken(&p, end, &tok, &tokEnd)) return RowProblem::kAddress;
  const int family = ParseAddress(tok, tokEnd, row.clientAddress);
  if (family == 0) return RowProblem::kAddress;
  row.family = static_cast<uint8_t>(family);
  if (!NextToken(&p, end, &tok, &tokEnd) || !ParsePort(tok, tokEnd, &row.clientPort)) return RowProblem::kPort;
  if (!NextToken(&p, end, &tok, &tokEnd)) return RowProblem::kAddress;
  const int virtualFamily = ParseAddress(tok, tokEnd, row.virtualAddress);
  if (virtualFamily == 0) return RowProblem::kAddress;
  if (virtualFamily != family) return RowProblem::kFamilyMismatch;
  if (!NextToken(&p, end, &tok, &tokEnd) || !ParsePort(tok, tokEnd, &row.virtualPort)) return RowProblem::kPort;
  if (!NextToken(&p, end, &tok, &tokEnd)) return RowProblem::kAddress;
  const int destFamily = ParseAddress(tok, tokEnd, row.destAddress);
  if (destFamily == 0) return RowProblem::kAddress;
  row.destFamily = static_cast<uint8_t>(destFamily);
  if (!NextToken(&p, end, &tok, &tokEnd) || !ParsePort(tok, tokEnd, &row.destPort)) return RowProblem::kPort;
  if (!NextToken(&p, end, &tok, &tokEnd)) return RowProblem::kState;
  const int state = states.Intern(tok, static_cast<size_t>(tokEnd - tok));
  if (state < 0) return RowProblem::kState;
  row.state = static_cast<uint8_t>(state);
  if (!NextToken(&p, end, &tok, &tokEnd) || !ParseSeconds(tok, tokEnd, &row.expiresSec)) return RowProblem::kExpires;
  // NextToken skipped the spaces after the seconds: what is left is "PEName PEData".
  row.pe = p < end ? p : nullptr;
  row.peLength = static_cast<size_t>(end - p);
  return RowProblem::kNone;
}

LineReader::LineReader(int fd, size_t chunkBytes, size_t maxLineBytes)
    : fd_(fd), chunk_(chunkBytes), maxLine_(maxLineBytes), buffer_(chunkBytes + maxLineBytes) {}

LineReader::LineReader(int fd, size_t chunkBytes, size_t maxLineBytes, int64_t offset, int64_t end)
    : fd_(fd), offset_(offset), rangeEnd_(end), chunk_(chunkBytes), maxLine_(maxLineBytes), buffer_(chunkBytes + maxLineBytes) {}

void LineReader::Restart(int64_t offset, int64_t end) {
  offset_ = offset;
  rangeEnd_ = end;
  start_ = 0;
  end_ = 0;
  eof_ = false;
  skipping_ = false;
  error_ = 0;
  bytesRead_ = 0;
  reads_ = 0;
}

bool LineReader::Fill() {
  // Keep the unfinished line: move it to the front, then read behind it.
  if (start_ > 0) {
    memmove(buffer_.As<char>(), buffer_.As<char>() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  for (;;) {
    // What is left of a line is at most maxLine_ bytes, so a whole chunk always fits behind it.
    size_t want = std::min(chunk_, chunk_ + maxLine_ - end_);
    if (offset_ >= 0 && rangeEnd_ >= 0) want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(want), std::max<int64_t>(0, rangeEnd_ - offset_)));
    const ssize_t n = offset_ < 0 ? read(fd_, buffer_.As<char>() + end_, want)
                                  : want == 0 ? 0 : pread(fd_, buffer_.As<char>() + end_, want, static_cast<off_t>(offset_));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ = errno;
      return false;
    }
    reads_++;
    if (offset_ >= 0) offset_ += n;
    if (n == 0) eof_ = true;
    end_ += static_cast<size_t>(n);
    bytesRead_ += static_cast<uint64_t>(n);
    return true;
  }
}

LineReader::Status LineReader::Next(const char** begin, const char** end) {
  for (;;) {
    char* data = buffer_.As<char>();
    char* newline = static_cast<char*>(memchr(data + start_, '\n', end_ - start_));
    if (newline != nullptr) {
      const size_t from = start_;
      start_ = static_cast<size_t>(newline - data) + 1;
      if (skipping_) {  // the tail of a line already reported as too long
        skipping_ = false;
        continue;
      }
      *begin = data + from;
      *end = newline;
      return static_cast<size_t>(newline - (data + from)) > maxLine_ ? Status::kTooLong : Status::kLine;
    }
    if (end_ - start_ > maxLine_) {  // no newline within a row's length: report once, skip to the next newline
      const bool report = !skipping_;
      skipping_ = true;
      start_ = end_;
      if (report) return Status::kTooLong;
      continue;
    }
    if (eof_) {
      const bool partial = end_ > start_ && !skipping_;
      *begin = data + start_;
      *end = data + end_;
      start_ = end_;
      skipping_ = false;
      if (partial) return Status::kTruncated;
      return Status::kEnd;
    }
    if (!Fill()) return Status::kError;
  }
}

}  // namespace lvskit
