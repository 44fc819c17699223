// layer: native (C++ addon)
// job: raise the calling thread's scheduling priority (nice) for itself alone: what it starts begins at nice 0.
#include "thread_priority.h"

#include <errno.h>
#include <sched.h>
#include <sys/resource.h>

namespace lvskit {

int RaiseThreadPriority(int nice, const char** syscall) {
  sched_param param{};
  param.sched_priority = 0;
  *syscall = "sched_setscheduler";
  // pid 0: the calling thread. Any thread may set SCHED_RESET_ON_FORK on itself.
  if (sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &param) != 0) return errno;
  *syscall = "setpriority";
  if (setpriority(PRIO_PROCESS, 0, nice) != 0) return errno;
  return 0;
}

}  // namespace lvskit
