// layer: native (C++ addon)
// job: the rows the kernel prints most (TCP/UDP, IPv4 or IPv6) parsed at its fixed column offsets, each hex column as one word.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "conn_parse.h"

namespace lvskit {

/** The common row — TCP or UDP, IPv4 throughout, the kernel's column widths — as printed (addresses host order). */
struct FixedIPv4Row {
  uint32_t client = 0;
  uint32_t virtualAddress = 0;
  uint32_t dest = 0;
  uint32_t expiresSec = 0;
  uint16_t clientPort = 0;
  uint16_t virtualPort = 0;
  uint16_t destPort = 0;
  uint8_t protocol = 0;
  uint8_t state = 0;  // index into the StateTable
  const char* pe = nullptr;  // as ConnRow::pe
  size_t peLength = 0;
};

/** The length of the common row without PE columns and with an expiry of up to 7 digits. */
constexpr size_t kFixedIPv4RowBytes = 65;

/**
 * Parse one line of the common shape at the kernel's fixed offsets. Every byte of a row it takes
 * is checked (none is a newline), so a line from LineReader::PeekLine may be given. False
 * decides nothing: the line may still be a row of another shape (IPv6, SCTP, a longer expiry)
 * or malformed.
 */
bool ParseFixedIPv4(const char* begin, const char* end, StateTable& states, FixedIPv4Row& row);

/**
 * A row of the common shape exactly kFixedIPv4RowBytes long (as LineReader::PeekLine shows it,
 * without PE columns): every byte checked as ParseFixedIPv4 checks it, but only the client and
 * the state kept — all the per-client lane counts. It takes the rows ParseFixedIPv4 takes of that
 * length, with the same client and state; on x86-64 the bytes are classified 16 at a time
 * (SSE2), elsewhere it is ParseFixedIPv4. False decides nothing.
 */
bool ParseLaneIPv4(const char* p, StateTable& states, uint32_t* client, uint8_t* state);

/**
 * A TCP or UDP row with IPv6 client and virtual addresses at the kernel's fixed offsets, the
 * destination IPv6 (%pI6) or IPv4 (%08X), into a ConnRow. False decides nothing (as ParseFixedIPv4).
 */
bool ParseFixedIPv6(const char* begin, const char* end, StateTable& states, ConnRow& row);

/** A fixed-shape IPv4 row as a ConnRow. */
void ToConnRow(const FixedIPv4Row& fixed, ConnRow& row);

}  // namespace lvskit
