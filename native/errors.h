// layer: native (C++ addon)
// job: build ErrnoError errors (instances of src/errors.ts's class once registered: errno, code, syscall) and field-naming TypeErrors.
#pragma once

#include <napi.h>

#include <string>

namespace lvskit {

/**
 * An error with a positive `errno`, its symbolic `code` (e.g. 'ENOENT') and the `syscall` that
 * failed; message: `setns failed: ENOENT (No such file or directory)`. Constructed through the
 * class registered by SetErrnoErrorClass (src/errors.ts's ErrnoError, so `instanceof` holds);
 * before one is registered, a plain Error named 'ErrnoError' with the same fields.
 */
Napi::Error MakeErrnoError(Napi::Env env, int err, const char* syscall);

/** Throws MakeErrnoError(...) as a C++ exception; N-API rethrows it into JS. */
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall);

/** Throws a TypeError; the message names the offending field (e.g. `addr.port`). */
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message);

/**
 * JS `setErrnoErrorClass(ctor)`: the class MakeErrnoError constructs through as
 * `new ctor(errno, syscall, description)`, kept per environment (each worker thread loads the
 * addon and registers its own).
 */
Napi::Value SetErrnoErrorClass(const Napi::CallbackInfo& info);

}  // namespace lvskit
