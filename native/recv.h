// layer: native (C++ addon)
// job: receive one datagram with recvmsg into caller-owned memory and describe it (address, cmsgs).
#pragma once

#include <napi.h>
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
 * recvmsg(MSG_DONTWAIT) of one datagram into `into` (at most `capacity` bytes).
 * Returns 0 and fills `out` (offset left 0), or a positive errno (EAGAIN when the queue is empty).
 */
int ReceiveOne(int fd, uint8_t* into, size_t capacity, Received* out);

/**
 * Takes one entry off the socket's error queue (recvmsg MSG_ERRQUEUE; filled when IP_RECVERR or
 * the like is on). Returns its sock_extended_err.ee_errno (EIO if it carries none), or 0 when the
 * queue is empty. Only for AF_INET, AF_INET6 and AF_PACKET: netlink would hand over a real message.
 */
int TakeQueuedError(int fd);

/** The JS NativeDatagram for `received` (see src/native/binding.ts). */
Napi::Object DatagramToJs(Napi::Env env, const Received& received);

}  // namespace lvskit
