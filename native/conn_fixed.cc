// layer: native (C++ addon)
// job: the rows the kernel prints most (TCP/UDP, IPv4 or IPv6) parsed at its fixed column offsets, each hex column as one word.
//
// Column offsets come from ip_vs_conn_seq_show (net/netfilter/ipvs/ip_vs_conn.c): "%-3s " then
// %08X/%04X (IPv4) or %pI6/%04X (IPv6, 8 groups of 4 lower-case digits) addresses and ports, the
// destination of either family, then "%-11s %7u". A row of any other shape is left to the
// general tokenizer in conn_parse.cc.
#include "conn_fixed.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstddef>

namespace lvskit {
namespace {

constexpr uint64_t kBytes64 = 0x0101010101010101ULL;
constexpr uint32_t kBytes32 = 0x01010101U;

/**
 * A byte mask (0x80 in each byte) of the bytes of `v` that are '0'..'9' or `letterA`..`letterA`+5
 * ('A'..'F' as %X prints, 'a'..'f' as %pI6 does). Each byte is tested as b + (0x80 - lo) reaching
 * 0x80 and b + (0x80 - hi - 1) not; a byte of 0x80 or more may carry into its neighbour, so such
 * bytes are excluded by `~v` and the caller, wanting every byte, sees the whole word refused.
 */
template <typename W>
constexpr W HexBytes(W v, W ones, char letterA) {
  const W high = ones * 0x80;
  const W digit = (v + ones * (0x80 - '0')) & ~(v + ones * (0x80 - '9' - 1));
  const W letter = (v + ones * static_cast<W>(0x80 - letterA)) & ~(v + ones * static_cast<W>(0x80 - letterA - 6));
  return (digit | letter) & ~v & high;
}

/** Each byte of `v` ('0'..'9', 'A'..'F' or 'a'..'f') as its value 0..15 in the same byte. */
template <typename W>
constexpr W NibbleBytes(W v, W ones) {
  return (v & (ones * 0x0f)) + ((v >> 6) & ones) * 9;  // letters have bit 6 set: 'A' & 0xf = 1, + 9 = 10
}

/** Eight hex digits already checked (the first the most significant, in the lowest byte) as one value. Little-endian only. */
__attribute__((always_inline)) inline uint32_t Hex8Value(uint64_t v) {
  uint64_t n = NibbleBytes(v, kBytes64);                 // byte i: digit i
  n = ((n << 4) | (n >> 8)) & 0x00ff00ff00ff00ffULL;   // 16-bit lane j: digits 2j, 2j+1
  n = ((n << 8) | (n >> 16)) & 0x0000ffff0000ffffULL;  // 32-bit lane j: digits 4j..4j+3
  return static_cast<uint32_t>(((n << 16) | (n >> 32)) & 0xffffffffULL);
}

/**
 * Eight upper-case hex digits at p (the first the most significant) as one value, the eight bytes
 * tested and converted as one word. False for anything else (lower case included: the general
 * parser, digit by digit, decides those). Little-endian only.
 */
__attribute__((always_inline)) inline bool ParseHex8(const char* p, uint32_t* out) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  if (HexBytes(v, kBytes64, 'A') != kBytes64 * 0x80) return false;
  *out = Hex8Value(v);
  return true;
}

/** Four hex digits at p with letters from `letterA` ('A' or 'a'), as ParseHex8. */
__attribute__((always_inline)) inline bool ParseHex4(const char* p, uint32_t* out, char letterA = 'A') {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  if (HexBytes(v, kBytes32, letterA) != kBytes32 * 0x80) return false;
  uint32_t n = NibbleBytes(v, kBytes32);
  n = ((n << 4) | (n >> 8)) & 0x00ff00ffU;
  *out = ((n << 8) | (n >> 16)) & 0xffffU;
  return true;
}

/** Store a host-order IPv4 value as 4 network-order bytes, the rest of the 16 zero. */
inline void StoreIPv4(uint32_t v, uint8_t out[16]) {
  out[0] = static_cast<uint8_t>(v >> 24);
  out[1] = static_cast<uint8_t>(v >> 16);
  out[2] = static_cast<uint8_t>(v >> 8);
  out[3] = static_cast<uint8_t>(v);
  memset(out + 4, 0, 12);
}

/** The state, the seconds and the PE columns of a fixed-shape row. */
struct Tail {
  uint8_t state;
  uint32_t expiresSec;
  const char* pe;
  size_t peLength;
};

/**
 * The state and seconds of a fixed-shape row from `stateAt`: "%-11s %7u" — a state of at most
 * 11 characters, padded, then the seconds right-aligned in 7 columns ending at stateAt + 19
 * (more digits, or PE columns, move or follow them). The caller has checked the space before it.
 */
__attribute__((always_inline)) inline bool ParseTail(const char* p, const char* end, size_t stateAt, StateTable& states, Tail& tail) {
  const size_t secondsAt = stateAt + 12;
  const size_t rowEnd = stateAt + 19;
  if (end - p < static_cast<std::ptrdiff_t>(rowEnd)) return false;
  if (p[stateAt] == ' ' || p[secondsAt - 1] != ' ' || p[rowEnd - 1] == ' ' || (end - p > static_cast<std::ptrdiff_t>(rowEnd) && p[rowEnd] != ' ')) {
    return false;
  }
  uint32_t expires = 0;
  size_t i = secondsAt;
  while (p[i] == ' ') i++;  // p[rowEnd - 1] is not a space: this stops
  for (; i < rowEnd; i++) {
    const unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return false;
    expires = expires * 10 + d;
  }
  const int stateIndex = states.InternColumn11(p + stateAt);
  if (stateIndex < 0) return false;
  tail.state = static_cast<uint8_t>(stateIndex);
  tail.expiresSec = expires;
  const char* pe = p + rowEnd;
  while (pe < end && *pe == ' ') pe++;
  tail.pe = pe < end ? pe : nullptr;
  tail.peLength = static_cast<size_t>(end - pe);
  return true;
}

/** The fields a fixed row of either family (FixedIPv4Row or ConnRow) takes from its ports and its tail. */
template <typename Row>
void SetPortsAndTail(Row& row, uint32_t clientPort, uint32_t virtualPort, uint32_t destPort, const Tail& tail) {
  row.state = tail.state;
  row.clientPort = static_cast<uint16_t>(clientPort);
  row.virtualPort = static_cast<uint16_t>(virtualPort);
  row.destPort = static_cast<uint16_t>(destPort);
  row.expiresSec = tail.expiresSec;
  row.pe = tail.pe;
  row.peLength = tail.peLength;
}

/** "TCP" or "UDP" (the kernel pads names to 3 columns; SCTP and the rest take the general parser). */
inline bool ParseTcpUdp(const char* p, uint8_t* protocol) {
  if (p[0] == 'T' && p[1] == 'C' && p[2] == 'P') *protocol = 6;
  else if (p[0] == 'U' && p[1] == 'D' && p[2] == 'P') *protocol = 17;
  else return false;
  return p[3] == ' ';
}

/** The kernel's %pI6 at p: 8 groups of 4 lower-case hex digits joined by ':', as 16 network-order bytes. */
__attribute__((always_inline)) inline bool ParseIPv6Full(const char* p, uint8_t out[16]) {
  bool ok = true;
  for (size_t group = 0; group < 8; group++) {
    uint32_t v = 0;
    ok &= ParseHex4(p + group * 5, &v, 'a') & (group == 7 || p[group * 5 + 4] == ':');
    out[group * 2] = static_cast<uint8_t>(v >> 8);
    out[group * 2 + 1] = static_cast<uint8_t>(v);
  }
  return ok;
}

/** Where the state column of the common IPv4 row starts ("%-3s %08X %04X %08X %04X %08X %04X "). */
constexpr size_t kFixedIPv4StateAt = 46;

#if defined(__SSE2__)
/** Bit i set for each i in [from, to). */
constexpr uint64_t BitRange(int from, int to) { return to <= from ? 0 : (uint64_t{1} << (to - 1)) | BitRange(from, to - 1); }

/** The common row's layout, bit i for byte i: its six %08X/%04X columns and the spaces between columns. */
constexpr uint64_t kLaneHexBytes = BitRange(4, 12) | BitRange(13, 17) | BitRange(18, 26) | BitRange(27, 31) | BitRange(32, 40) | BitRange(41, 45);
constexpr uint64_t kLaneSpaces = uint64_t{1} << 3 | uint64_t{1} << 12 | uint64_t{1} << 17 | uint64_t{1} << 26 | uint64_t{1} << 31 |
                                 uint64_t{1} << 40 | uint64_t{1} << 45 | uint64_t{1} << 57;
constexpr int kLaneSecondsAt = static_cast<int>(kFixedIPv4StateAt) + 12;  // after "%-11s "

/** Bit i of each mask for byte i of p[0..63]: an upper-case hex digit, a space, a decimal digit. */
struct ByteClasses {
  uint64_t hex = 0;
  uint64_t space = 0;
  uint64_t digit = 0;
};

/** The classes of the 64 bytes at p, 16 at a time (SSE2, which every x86-64 has). Bytes of 0x80 and more compare as negative: no class. */
inline ByteClasses Classify64(const char* p) {
  ByteClasses c;
  for (int k = 0; k < 4; k++) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('A' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('F' + 1)));
    const __m128i space = _mm_cmpeq_epi8(v, _mm_set1_epi8(' '));
    const int shift = 16 * k;
    c.hex |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(digit, upper)))) << shift;
    c.space |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(space))) << shift;
    c.digit |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(digit))) << shift;
  }
  return c;
}
#endif

}  // namespace

bool ParseFixedIPv4(const char* begin, const char* end, StateTable& states, FixedIPv4Row& row) {
  if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) return false;
  if (end - begin < static_cast<std::ptrdiff_t>(kFixedIPv4StateAt)) return false;
  const char* p = begin;
  if (p[12] != ' ' || p[17] != ' ' || p[26] != ' ' || p[31] != ' ' || p[40] != ' ' || p[45] != ' ' || !ParseTcpUdp(p, &row.protocol)) {
    return false;
  }
  uint32_t cport = 0, vport = 0, dport = 0;
  const bool hexOk = ParseHex8(p + 4, &row.client) & ParseHex4(p + 13, &cport) & ParseHex8(p + 18, &row.virtualAddress) &
                     ParseHex4(p + 27, &vport) & ParseHex8(p + 32, &row.dest) & ParseHex4(p + 41, &dport);
  Tail tail;
  if (!hexOk || !ParseTail(p, end, kFixedIPv4StateAt, states, tail)) return false;
  SetPortsAndTail(row, cport, vport, dport, tail);
  return true;
}

bool ParseLaneIPv4(const char* p, StateTable& states, uint32_t* client, uint8_t* state) {
#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // The checks of ParseFixedIPv4 and ParseTail for a row of exactly this length, as bit masks.
  uint32_t protocol;
  memcpy(&protocol, p, sizeof protocol);
  if (protocol != 0x20504354U && protocol != 0x20504455U) return false;  // "TCP ", "UDP "
  const ByteClasses c = Classify64(p);
  if ((c.hex & kLaneHexBytes) != kLaneHexBytes || (c.space & kLaneSpaces) != kLaneSpaces) return false;
  // The seconds, bytes 58..64: spaces, then digits, the last byte a digit.
  const uint64_t spaces = c.space >> kLaneSecondsAt;
  const uint64_t digits = c.digit >> kLaneSecondsAt;
  if ((spaces | digits) != 0x3f || (spaces & (spaces + 1)) != 0 || static_cast<unsigned char>(p[64] - '0') > 9) return false;
  const int stateIndex = states.InternColumn11(p + kFixedIPv4StateAt);  // -1 also for a column that starts with a space
  if (stateIndex < 0) return false;
  uint64_t v;
  memcpy(&v, p + 4, sizeof v);
  *client = Hex8Value(v);
  *state = static_cast<uint8_t>(stateIndex);
  return true;
#else
  FixedIPv4Row row;
  if (!ParseFixedIPv4(p, p + kFixedIPv4RowBytes, states, row) || row.peLength != 0) return false;
  *client = row.client;
  *state = row.state;
  return true;
#endif
}

/**
 * A TCP or UDP row with IPv6 client and virtual addresses at the kernel's fixed offsets, the
 * destination IPv6 (%pI6) or IPv4 (%08X), into a ConnRow. False decides nothing (see ParseFixedIPv4).
 */
bool ParseFixedIPv6(const char* begin, const char* end, StateTable& states, ConnRow& row) {
  // "%-3s %pI6 %04X %pI6 %04X ": the destination starts at column 94.
  constexpr size_t kDestAt = 94;
  if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) return false;
  if (end - begin < static_cast<std::ptrdiff_t>(kDestAt + 8 + 1 + 4 + 1)) return false;
  const char* p = begin;
  if (p[43] != ' ' || p[48] != ' ' || p[88] != ' ' || p[93] != ' ' || !ParseTcpUdp(p, &row.protocol)) return false;
  size_t destEnd;
  bool ok = true;
  if (p[kDestAt + 8] == ' ') {  // %08X
    uint32_t dest = 0;
    ok &= ParseHex8(p + kDestAt, &dest);
    StoreIPv4(dest, row.destAddress);
    row.destFamily = 4;
    destEnd = kDestAt + 8;
  } else {
    if (end - begin < static_cast<std::ptrdiff_t>(kDestAt + 39 + 1 + 4 + 1) || p[kDestAt + 39] != ' ') return false;
    ok &= ParseIPv6Full(p + kDestAt, row.destAddress);
    row.destFamily = 6;
    destEnd = kDestAt + 39;
  }
  if (p[destEnd + 5] != ' ') return false;
  uint32_t cport = 0, vport = 0, dport = 0;
  ok &= ParseIPv6Full(p + 4, row.clientAddress) & ParseHex4(p + 44, &cport) & ParseIPv6Full(p + 49, row.virtualAddress) &
        ParseHex4(p + 89, &vport) & ParseHex4(p + destEnd + 1, &dport);
  Tail tail;
  if (!ok || !ParseTail(p, end, destEnd + 6, states, tail)) return false;
  row.family = 6;
  SetPortsAndTail(row, cport, vport, dport, tail);
  return true;
}

void ToConnRow(const FixedIPv4Row& fixed, ConnRow& row) {
  row.protocol = fixed.protocol;
  row.family = 4;
  row.destFamily = 4;
  row.state = fixed.state;
  row.clientPort = fixed.clientPort;
  row.virtualPort = fixed.virtualPort;
  row.destPort = fixed.destPort;
  row.expiresSec = fixed.expiresSec;
  StoreIPv4(fixed.client, row.clientAddress);
  StoreIPv4(fixed.virtualAddress, row.virtualAddress);
  StoreIPv4(fixed.dest, row.destAddress);
  row.pe = fixed.pe;
  row.peLength = fixed.peLength;
}

}  // namespace lvskit
