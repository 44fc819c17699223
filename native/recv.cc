// layer: native (C++ addon)
// job: receive one datagram with recvmsg into caller-owned memory and describe it (address, cmsgs).
#include "recv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <cstddef>

#include "sockaddr.h"

namespace lvskit {
namespace {

/** Room for IP_PKTINFO + IP_TTL or IPV6_PKTINFO + IPV6_HOPLIMIT, plus slack for others. */
constexpr size_t kControlBytes = 512;

template <typename T>
bool ReadCmsg(const cmsghdr* cmsg, T* out) {
  if (cmsg->cmsg_len < CMSG_LEN(sizeof(T))) return false;
  memcpy(out, CMSG_DATA(cmsg), sizeof(T));
  return true;
}

}  // namespace

int ReceiveOne(int fd, uint8_t* into, size_t capacity, Received* out) {
  alignas(cmsghdr) unsigned char control[kControlBytes];
  iovec iov{into, capacity};
  msghdr msg{};
  msg.msg_name = &out->from;
  msg.msg_namelen = sizeof(out->from);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n < 0) return errno;
  DescribeReceived(msg, static_cast<size_t>(n), out);
  return 0;
}

int TakeQueuedError(int fd) {
  alignas(cmsghdr) unsigned char control[kControlBytes];
  unsigned char head[64];  // The start of the offending datagram; not needed.
  iovec iov{head, sizeof(head)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return 0;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    sock_extended_err error;
    if (ReadCmsg(cmsg, &error) && error.ee_errno != 0) return static_cast<int>(error.ee_errno);
  }
  return EIO;
}

Napi::Object DatagramToJs(Napi::Env env, const Received& received) {
  Napi::Object datagram = Napi::Object::New(env);
  datagram.Set("offset", static_cast<double>(received.offset));
  datagram.Set("length", static_cast<double>(received.length));
  datagram.Set("truncated", received.truncated);
  Napi::Value from = SockAddrToJs(env, received.from, received.fromLength);
  if (!from.IsUndefined()) datagram.Set("from", from);
  if (received.ifindex >= 0) datagram.Set("ifindex", received.ifindex);
  if (received.dstFamily != 0) {
    char text[INET6_ADDRSTRLEN] = "";
    inet_ntop(received.dstFamily, received.dst, text, sizeof(text));
    datagram.Set("dst", text);
  }
  if (received.ttl >= 0) datagram.Set("ttl", received.ttl);
  if (received.receivedMonoNs >= 0) datagram.Set("receivedMonoNs", static_cast<double>(received.receivedMonoNs));
  return datagram;
}

}  // namespace lvskit
