// layer: native (C++ addon)
// job: open a socket or a file, optionally inside another network namespace, without moving the caller; or move the caller.
#pragma once

#include <functional>
#include <string>

namespace lvskit {

/** The outcome of an open: `fd` >= 0, or `err` (positive errno) and the `syscall` that failed. */
struct OpenResult {
  int fd = -1;
  int err = 0;
  const char* syscall = "socket";
};

/**
 * `open()` here, or with `netnsPath` on a short-lived thread that first joins that namespace
 * (setns CLONE_NEWNET): the calling thread never changes namespace, and what is opened stays
 * bound to the namespace it was opened in.
 */
OpenResult OpenIn(const std::string* netnsPath, const std::function<OpenResult()>& open);

/** socket(domain, type, protocol), in `netnsPath` when given (see OpenIn). */
OpenResult OpenSocket(int domain, int type, int protocol, const std::string* netnsPath);

/**
 * open(path, O_RDONLY|O_CLOEXEC), in `netnsPath` when given (see OpenIn), so that
 * `/proc/thread-self/net/...` names that namespace's files; the descriptor keeps reading them.
 */
OpenResult OpenFile(const std::string& path, const std::string* netnsPath);

/**
 * Move the calling thread into the network namespace at `netnsPath` (setns CLONE_NEWNET): every
 * socket it opens afterwards, and every thread it creates, is in that namespace. For a process
 * that runs wholly inside one (the daemon's --netns), called before it opens anything. Returns 0,
 * or a positive errno with `*syscall` naming what failed.
 */
int EnterNetns(const std::string& netnsPath, const char** syscall);

}  // namespace lvskit
