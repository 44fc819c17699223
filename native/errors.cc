// layer: native (C++ addon)
// job: build ErrnoError-shaped JS errors (name, errno, code, syscall) and field-naming TypeErrors.
#include "errors.h"

#include "errno_names.h"

namespace lvskit {

Napi::Error MakeErrnoError(Napi::Env env, int err, const char* syscall) {
  if (err < 0) err = -err;
  const char* name = ErrnoName(err);
  const std::string code = name != nullptr ? name : "E" + std::to_string(err);
  std::string message = std::string(syscall) + " failed: " + code;
  const std::string description = ErrnoDescription(err);
  if (!description.empty()) message += " (" + description + ")";
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object object = error.Value();
  object.Set("name", "ErrnoError");
  object.Set("errno", err);
  object.Set("code", code);
  object.Set("syscall", syscall);
  return error;
}

void ThrowErrno(Napi::Env env, int err, const char* syscall) {
  throw MakeErrnoError(env, err, syscall);
}

void ThrowTypeError(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

}  // namespace lvskit
