// layer: native (C++ addon)
// job: build ErrnoError-shaped JS errors (name, errno, code, syscall) and field-naming TypeErrors.
#pragma once

#include <napi.h>

#include <string>

namespace lvskit {

/**
 * An Error named 'ErrnoError' with a positive `errno`, its symbolic `code` (e.g. 'ENOENT') and
 * the `syscall` that failed; message: `setns failed: ENOENT (No such file or directory)`.
 */
Napi::Error MakeErrnoError(Napi::Env env, int err, const char* syscall);

/** Throws MakeErrnoError(...) as a C++ exception; N-API rethrows it into JS. */
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall);

/** Throws a TypeError; the message names the offending field (e.g. `addr.port`). */
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message);

}  // namespace lvskit
