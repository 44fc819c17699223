// layer: native (C++ addon)
// job: create a socket, optionally inside another network namespace, without moving the caller.
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <system_error>
#include <thread>

namespace lvskit {
namespace {

OpenResult PlainSocket(int domain, int type, int protocol) {
  OpenResult result;
  result.fd = socket(domain, type, protocol);
  if (result.fd < 0) result.err = errno;
  return result;
}

/** Runs on its own thread: join the namespace, then create the socket there. */
OpenResult SocketInNamespace(int nsFd, int domain, int type, int protocol) {
  if (setns(nsFd, CLONE_NEWNET) != 0) {
    OpenResult failed;
    failed.err = errno;
    failed.syscall = "setns";
    return failed;
  }
  return PlainSocket(domain, type, protocol);
}

}  // namespace

OpenResult OpenSocket(int domain, int type, int protocol, const std::string* netnsPath) {
  if (netnsPath == nullptr) return PlainSocket(domain, type, protocol);
  OpenResult result;
  const int nsFd = open(netnsPath->c_str(), O_RDONLY | O_CLOEXEC);
  if (nsFd < 0) {
    result.err = errno;
    result.syscall = "open";
    return result;
  }
  try {
    std::thread worker([&] { result = SocketInNamespace(nsFd, domain, type, protocol); });
    worker.join();
  } catch (const std::system_error& error) {
    result.fd = -1;
    result.err = error.code().value();
    result.syscall = "pthread_create";
  }
  close(nsFd);
  return result;
}

}  // namespace lvskit
