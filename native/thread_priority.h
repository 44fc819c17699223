// layer: native (C++ addon)
// job: raise the calling thread's scheduling priority (nice) for itself alone: what it starts begins at nice 0.
#pragma once

namespace lvskit {

/**
 * Give the calling thread (not the process) nice value `nice` (-20..19), and SCHED_RESET_ON_FORK so
 * that threads and processes it starts afterwards (a notify script) begin at nice 0 again, not at
 * its priority (sched(7)). Linux keeps nice per thread: setpriority(PRIO_PROCESS, 0) names the
 * calling thread. Returns 0, or a positive errno with `*syscall` naming what failed (EACCES:
 * lowering nice needs CAP_SYS_NICE or RLIMIT_NICE).
 */
int RaiseThreadPriority(int nice, const char** syscall);

}  // namespace lvskit
