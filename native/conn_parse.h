// layer: native (C++ addon)
// job: parse rows of /proc/net/ip_vs_conn in the kernel's exact format without building strings; read a file as lines in large chunks.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include <string>
#include <vector>

#include "huge_memory.h"

namespace lvskit {

/** One row of /proc/net/ip_vs_conn (ip_vs_conn_seq_show). Addresses in network order; IPv4 in the first 4 bytes. */
struct ConnRow {
  uint8_t protocol = 0;  // IPPROTO_* number from the name (TCP, UDP, SCTP, IP, ICMP, ICMPv6, IP_n)
  uint8_t family = 0;    // 4 or 6: client and virtual address (cp->af)
  uint8_t destFamily = 0;  // 4 or 6: destination address (cp->daf)
  uint8_t state = 0;     // index into the StateTable
  uint16_t clientPort = 0;
  uint16_t virtualPort = 0;
  uint16_t destPort = 0;
  uint32_t expiresSec = 0;
  uint8_t clientAddress[16] = {};
  uint8_t virtualAddress[16] = {};
  uint8_t destAddress[16] = {};
  /** The optional `PEName PEData` columns (name, a space, data): a view into the line; length 0 when absent. */
  const char* pe = nullptr;
  size_t peLength = 0;
};

/** Why a line is not a row. */
enum class RowProblem : uint8_t {
  kNone = 0,
  kTruncated,      // the file ended in the middle of the line
  kTooLong,        // longer than any row the kernel prints
  kEmpty,
  kProtocol,       // unknown protocol name
  kAddress,        // not 8 hex digits (IPv4) or the full 39-character IPv6 form
  kFamilyMismatch, // client and virtual address of different families
  kPort,           // not 4 hex digits
  kState,          // missing, too long, or too many distinct state names
  kExpires,        // not a decimal number of seconds that fits 32 bits
  kCount,
};

/** The name JS sees for a RowProblem. */
const char* RowProblemName(RowProblem problem);

/** State names interned to small indexes (the kernel prints a few dozen at most). */
class StateTable {
 public:
  static constexpr size_t kMaxStates = 250;
  static constexpr size_t kMaxNameLength = 31;
  /** The index of `name`, interning it; -1 when the table is full or the name too long. */
  int Intern(const char* name, size_t length);
  /**
   * The index of the state in the kernel's "%-11s" column at `column` (11 readable bytes): the
   * name, at most 11 characters without spaces (nor a newline), padded with spaces. A column
   * seen before is found by its 11 bytes in a small direct-mapped cache (one compare, no search
   * among the states: that search, its branch mispredicted row after row, was a tenth of a scan);
   * -1 for anything else (a space inside, a full table), which leaves the line to the general parser.
   */
  int InternColumn11(const char* column) {
    uint64_t head;
    uint32_t tail;
    memcpy(&head, column, sizeof head);
    memcpy(&tail, column + 7, sizeof tail);  // bytes 7..10
    const Column& c = columnCache_[ColumnSlot(head, tail)];
    if (c.head == head && c.tail == tail) return c.index;  // an unused entry (all zero bytes) holds -1
    return InternNewColumn11(column, head, tail);
  }
  const std::vector<std::string>& Names() const { return names_; }

  static constexpr int kColumnCacheBits = 6;
  /**
   * The cache entry of a column (its bytes 0..7 and 7..10). Every TCP, UDP and SCTP state name
   * the kernel prints in 11 columns has an entry of its own (a static_assert in conn_parse.cc);
   * two columns sharing one only cost a slower lookup.
   */
  static constexpr size_t ColumnSlot(uint64_t head, uint32_t tail) {
    return static_cast<size_t>(((head ^ (static_cast<uint64_t>(tail) << 29)) * 0xff51afd7ed558ccdULL) >> (64 - kColumnCacheBits));
  }

 private:
  struct Column {
    uint64_t head = 0;
    uint32_t tail = 0;
    int index = -1;
  };
  int InternNewColumn11(const char* column, uint64_t head, uint32_t tail);
  std::vector<std::string> names_;
  Column columnCache_[size_t{1} << kColumnCacheBits];  // "%-11s" columns seen, for InternColumn11
  int last_ = -1;  // rows come in runs of one state: check the last hit first
};

/**
 * Parse one line (without its newline). Returns kNone and fills `row`, or the problem.
 * `tryFixed` false: the caller has already found the line not of the fixed shape.
 */
RowProblem ParseConnLine(const char* begin, const char* end, StateTable& states, ConnRow& row, bool tryFixed = true);

/** True for the header line ("Pro FromIP ..."). */
bool IsHeaderLine(const char* begin, const char* end);

/**
 * Reads a file descriptor in large chunks and hands out whole lines. Lines longer than
 * `maxLineBytes` are reported once as too long and skipped to their newline. A last line
 * without a newline is reported as truncated. Not thread-safe; owns nothing but its buffer.
 */
class LineReader {
 public:
  LineReader(int fd, size_t chunkBytes, size_t maxLineBytes);
  /**
   * Lines of the byte range [offset, end) of a regular file, read with pread (several readers
   * may share the descriptor); `end` < 0 reads to the end of the file, however long it grows.
   */
  LineReader(int fd, size_t chunkBytes, size_t maxLineBytes, int64_t offset, int64_t end);
  /** Read the byte range [offset, end) next (as the constructor above), keeping the buffer; the counters start again. */
  void Restart(int64_t offset, int64_t end);
  enum class Status { kLine, kTooLong, kTruncated, kEnd, kError };
  /** The next line in [*begin, *end) (valid until the next call), or the end/an error (errno in Error()). */
  Status Next(const char** begin, const char** end);
  /**
   * The next `length` bytes, when they are buffered and followed by a newline: a line of that
   * length, unless a newline hides inside it — no search for one was made, so the caller must
   * check every byte before taking it with Skip(length + 1). nullptr otherwise (use Next).
   */
  const char* PeekLine(size_t length) const {
    if (skipping_ || end_ - start_ <= length) return nullptr;
    const char* at = buffer_.As<char>() + start_;
    return at[length] == '\n' ? at : nullptr;
  }
  /** Consume `bytes` of what PeekLine showed. */
  void Skip(size_t bytes) { start_ += bytes; }
  int Error() const { return error_; }
  uint64_t BytesRead() const { return bytesRead_; }
  uint64_t Reads() const { return reads_; }

 private:
  bool Fill();
  int fd_;
  int64_t offset_ = -1;  // next pread position; -1: plain read()
  int64_t rangeEnd_ = -1;
  size_t chunk_;
  size_t maxLine_;
  HugeMemory buffer_;  // chunk_ + maxLine_ bytes used
  size_t start_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last byte read
  bool eof_ = false;
  bool skipping_ = false;
  int error_ = 0;
  uint64_t bytesRead_ = 0;
  uint64_t reads_ = 0;
};

}  // namespace lvskit
