// layer: native (C++ addon)
// job: describe a datagram recvmsg returned (length, MSG_TRUNC, sender, ancillary data) without N-API: the parsing the fuzz harness drives.
#include "recv_control.h"

#include <netinet/in.h>
#include <netpacket/packet.h>
#include <string.h>
#include <time.h>

#include <cstddef>

namespace lvskit {
namespace {

/**
 * The payload of `cmsg` as a T, when it holds one: cmsg_len must cover it, and so must the control
 * buffer, which ends at `end` (CMSG_NXTHDR checks the next header's start, never this one's length).
 */
template <typename T>
bool ReadCmsg(const cmsghdr* cmsg, const unsigned char* end, T* out) {
  if (cmsg->cmsg_len < CMSG_LEN(sizeof(T))) return false;
  const unsigned char* data = CMSG_DATA(cmsg);
  if (data > end || static_cast<size_t>(end - data) < sizeof(T)) return false;
  memcpy(out, data, sizeof(T));
  return true;
}

void ReadIpCmsg(const cmsghdr* cmsg, const unsigned char* end, Received* out) {
  if (cmsg->cmsg_type == IP_PKTINFO) {
    in_pktinfo info;
    if (!ReadCmsg(cmsg, end, &info)) return;
    out->ifindex = info.ipi_ifindex;
    out->dstFamily = AF_INET;
    memcpy(out->dst, &info.ipi_addr, sizeof(info.ipi_addr));
  } else if (cmsg->cmsg_type == IP_TTL) {
    int ttl;
    if (ReadCmsg(cmsg, end, &ttl)) out->ttl = ttl;
  }
}

void ReadIpv6Cmsg(const cmsghdr* cmsg, const unsigned char* end, Received* out) {
  if (cmsg->cmsg_type == IPV6_PKTINFO) {
    in6_pktinfo info;
    if (!ReadCmsg(cmsg, end, &info)) return;
    out->ifindex = static_cast<int>(info.ipi6_ifindex);
    out->dstFamily = AF_INET6;
    memcpy(out->dst, &info.ipi6_addr, sizeof(info.ipi6_addr));
  } else if (cmsg->cmsg_type == IPV6_HOPLIMIT) {
    int hops;
    if (ReadCmsg(cmsg, end, &hops)) out->ttl = hops;
  }
}

/** `t` in nanoseconds; false when that does not fit 64 bits (a stamp no kernel writes, but the bytes say it). */
bool Nanoseconds(const timespec& t, int64_t* ns) {
  int64_t whole;
  return !__builtin_mul_overflow(static_cast<int64_t>(t.tv_sec), int64_t{1000000000}, &whole) &&
         !__builtin_add_overflow(whole, static_cast<int64_t>(t.tv_nsec), ns);
}

/** SCM_TIMESTAMPNS (CLOCK_REALTIME) as CLOCK_MONOTONIC: now on the monotonic clock, less how long ago it was. */
void ReadTimestamp(const cmsghdr* cmsg, const unsigned char* end, Received* out) {
  timespec stamp;
  if (!ReadCmsg(cmsg, end, &stamp)) return;
  timespec real;
  timespec mono;
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  int64_t stampNs;
  int64_t realNs;
  int64_t monoNs;
  int64_t ago;
  if (!Nanoseconds(stamp, &stampNs) || !Nanoseconds(real, &realNs) || !Nanoseconds(mono, &monoNs)) return;
  if (__builtin_sub_overflow(realNs, stampNs, &ago)) return;
  if (ago < 0) ago = 0;  // the wall clock stepped back since: the datagram is at most as old as now
  if (ago > monoNs) ago = monoNs;  // older than the boot: no monotonic time to give but the boot itself
  out->receivedMonoNs = monoNs - ago;
}

void ReadControl(const msghdr& msg, Received* out) {
  msghdr* m = const_cast<msghdr*>(&msg);  // CMSG_NXTHDR takes a non-const msghdr; nothing is written
  const unsigned char* end = static_cast<const unsigned char*>(msg.msg_control) + msg.msg_controllen;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(m); cmsg != nullptr; cmsg = CMSG_NXTHDR(m, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_TIMESTAMPNS) {
      ReadTimestamp(cmsg, end, out);
    } else if (cmsg->cmsg_level == SOL_IP) {
      ReadIpCmsg(cmsg, end, out);
    } else if (cmsg->cmsg_level == SOL_IPV6) {
      ReadIpv6Cmsg(cmsg, end, out);
    }
  }
}

}  // namespace

void DescribeReceived(const msghdr& msg, size_t bytes, Received* out) {
  out->length = bytes;
  out->truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  out->fromLength = msg.msg_namelen;
  ReadControl(msg, out);
  const size_t ifindexEnd = offsetof(sockaddr_ll, sll_ifindex) + sizeof(int);
  if (out->from.ss_family == AF_PACKET && out->fromLength >= ifindexEnd) {
    out->ifindex = reinterpret_cast<const sockaddr_ll&>(out->from).sll_ifindex;
  }
}

}  // namespace lvskit
