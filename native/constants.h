// layer: native (C++ addon)
// job: the kernel constants later layers need, read from the C headers under their kernel names.
#pragma once

#include <napi.h>

namespace lvskit {

/** A frozen object {AF_INET: 2, SOL_NETLINK: 270, ...} built from the system headers. */
Napi::Object MakeConstants(Napi::Env env);

}  // namespace lvskit
