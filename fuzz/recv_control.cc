// layer: fuzz (libFuzzer harness, not part of the addon)
// job: the addon's receive path after recvmsg: the sender address and any run of control messages (cmsg lengths of
//      every size, truncated, misaligned) through DescribeReceived; it must stay inside msg_controllen and msg_name.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <memory>

#include "recv_control.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  // Bytes 0-1: how many bytes are the sender address (at most sizeof(sockaddr_storage)); byte 2: msg_flags bits;
  // byte 3: datagram length. The rest after the address: the control buffer, in memory of exactly its size.
  const size_t nameBytes = data[0] % (sizeof(sockaddr_storage) + 1);
  const int flags = (data[2] & 1) ? MSG_TRUNC : 0;
  const size_t length = data[3];
  data += 4;
  size -= 4;
  const size_t nameTaken = nameBytes < size ? nameBytes : size;
  lvskit::Received out;
  memcpy(&out.from, data, nameTaken);
  data += nameTaken;
  size -= nameTaken;
  // Control messages are aligned to cmsghdr as the kernel writes them; a heap block of exactly `size` bytes is.
  std::unique_ptr<unsigned char[]> control(new unsigned char[size == 0 ? 1 : size]);
  if (size > 0) memcpy(control.get(), data, size);
  msghdr msg{};
  msg.msg_name = &out.from;
  msg.msg_namelen = static_cast<socklen_t>(nameTaken);
  msg.msg_control = size == 0 ? nullptr : control.get();
  msg.msg_controllen = size;
  msg.msg_flags = flags;
  lvskit::DescribeReceived(msg, length, &out);
  if (out.length != length || out.truncated != (flags != 0) || out.fromLength != nameTaken) abort();
  if (out.dstFamily != 0 && out.dstFamily != AF_INET && out.dstFamily != AF_INET6) abort();
  return 0;
}
