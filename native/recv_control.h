// layer: native (C++ addon)
// job: describe a datagram recvmsg returned (length, MSG_TRUNC, sender, ancillary data) without N-API: the parsing the fuzz harness drives.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace lvskit {

/** What recvmsg told about one datagram; its bytes are already in the caller's chunk. */
struct Received {
  size_t offset = 0;
  size_t length = 0;
  /** MSG_TRUNC: the datagram was longer than the space given. */
  bool truncated = false;
  sockaddr_storage from{};
  socklen_t fromLength = 0;
  /** From IP_PKTINFO / IPV6_PKTINFO or sockaddr_ll; -1 when unknown. */
  int ifindex = -1;
  /** AF_INET or AF_INET6 when `dst` holds the destination address from *_PKTINFO, else 0. */
  int dstFamily = 0;
  unsigned char dst[16] = {};
  /** IP_TTL / IPV6_HOPLIMIT control message; -1 when absent. */
  int ttl = -1;
  /**
   * When the kernel received the datagram (SO_TIMESTAMPNS), on CLOCK_MONOTONIC in nanoseconds; -1
   * when the socket does not ask for timestamps. The kernel stamps CLOCK_REALTIME: converted with
   * both clocks read right after recvmsg, so a wall-clock step cannot move it.
   */
  int64_t receivedMonoNs = -1;
};

/**
 * Fill `out` from what recvmsg returned: `bytes` received, `msg` as it came back (flags, the
 * sender in msg_name / msg_namelen, the control messages). Every control message is read within
 * msg_controllen; one too short for its type is skipped.
 */
void DescribeReceived(const msghdr& msg, size_t bytes, Received* out);

}  // namespace lvskit
