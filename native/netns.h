// layer: native (C++ addon)
// job: create a socket, optionally inside another network namespace, without moving the caller.
#pragma once

#include <string>

namespace lvskit {

/** The outcome of OpenSocket: `fd` >= 0, or `err` (positive errno) and the `syscall` that failed. */
struct OpenResult {
  int fd = -1;
  int err = 0;
  const char* syscall = "socket";
};

/**
 * socket(domain, type, protocol). With `netnsPath` the socket is created on a short-lived thread
 * that first joins that namespace (setns CLONE_NEWNET); the calling thread never changes
 * namespace, and the socket stays bound to the namespace it was created in.
 */
OpenResult OpenSocket(int domain, int type, int protocol, const std::string* netnsPath);

}  // namespace lvskit
