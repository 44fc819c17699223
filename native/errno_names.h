// layer: native (C++ addon)
// job: the symbolic name of an errno value (ENOENT) on any glibc: strerrorname_np where glibc has it (2.32+), else our table.
#pragma once

#include <string>

namespace lvskit {

/** `ENOENT` for 2; nullptr when unknown. glibc ≥ 2.32: strerrorname_np; older or other libcs: ErrnoNameFromTable. */
const char* ErrnoName(int err);

/** The table used where strerrorname_np is missing (compiled everywhere, so the two can be compared). */
const char* ErrnoNameFromTable(int err);

/** `No such file or directory` for 2 (strerrordesc_np, else strerror_r). */
std::string ErrnoDescription(int err);

}  // namespace lvskit
