// layer: native (C++ addon)
// job: open a socket or a file, optionally inside another network namespace, without moving the caller; or move the caller.
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <system_error>
#include <thread>

namespace lvskit {

OpenResult OpenIn(const std::string* netnsPath, const std::function<OpenResult()>& open) {
  if (netnsPath == nullptr) return open();
  OpenResult result;
  const int nsFd = ::open(netnsPath->c_str(), O_RDONLY | O_CLOEXEC);
  if (nsFd < 0) {
    result.err = errno;
    result.syscall = "open";
    return result;
  }
  try {
    std::thread worker([&] {
      if (setns(nsFd, CLONE_NEWNET) != 0) {
        result.err = errno;
        result.syscall = "setns";
        return;
      }
      result = open();
    });
    worker.join();
  } catch (const std::system_error& error) {
    result.fd = -1;
    result.err = error.code().value();
    result.syscall = "pthread_create";
  }
  close(nsFd);
  return result;
}

OpenResult OpenSocket(int domain, int type, int protocol, const std::string* netnsPath) {
  return OpenIn(netnsPath, [=] {
    OpenResult result;
    result.fd = socket(domain, type, protocol);
    if (result.fd < 0) result.err = errno;
    return result;
  });
}

OpenResult OpenFile(const std::string& path, const std::string* netnsPath) {
  return OpenIn(netnsPath, [&] {
    OpenResult result;
    result.syscall = "open";
    result.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (result.fd < 0) result.err = errno;
    return result;
  });
}

int EnterNetns(const std::string& netnsPath, const char** syscall) {
  *syscall = "open";
  const int nsFd = ::open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsFd < 0) return errno;
  *syscall = "setns";
  const int err = setns(nsFd, CLONE_NEWNET) == 0 ? 0 : errno;
  close(nsFd);
  return err;
}

}  // namespace lvskit
