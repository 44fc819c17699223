// layer: native (C++ addon)
// job: build ErrnoError errors (instances of src/errors.ts's class once registered: errno, code, syscall) and field-naming TypeErrors.
#include "errors.h"

#include "errno_names.h"

namespace lvskit {

namespace {

// The registered class, one per environment (the main thread and each worker load the addon
// apart). Held in the environment's instance data, freed with it.
struct ErrnoErrorClass {
  Napi::FunctionReference ctor;
};

Napi::Function RegisteredClass(Napi::Env env) {
  ErrnoErrorClass* data = env.GetInstanceData<ErrnoErrorClass>();
  if (data == nullptr || data->ctor.IsEmpty()) return Napi::Function();
  return data->ctor.Value();
}

}  // namespace

Napi::Error MakeErrnoError(Napi::Env env, int err, const char* syscall) {
  if (err < 0) err = -err;
  const char* name = ErrnoName(err);
  const std::string code = name != nullptr ? name : "E" + std::to_string(err);
  std::string message = std::string(syscall) + " failed: " + code;
  const std::string description = ErrnoDescription(err);
  if (!description.empty()) message += " (" + description + ")";
  Napi::Function ctor = RegisteredClass(env);
  if (!ctor.IsEmpty()) {
    Napi::Value detail = description.empty() ? env.Undefined() : Napi::String::New(env, description);
    Napi::Object object = ctor.New({Napi::Number::New(env, err), Napi::String::New(env, syscall), detail});
    // The addon's own errno name and text (glibc's), whatever the JS class derives.
    object.Set("code", code);
    object.Set("message", message);
    return Napi::Error(env, object);
  }
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

Napi::Value SetErrnoErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) ThrowTypeError(env, "setErrnoErrorClass: ctor must be a class");
  ErrnoErrorClass* data = env.GetInstanceData<ErrnoErrorClass>();
  if (data == nullptr) {
    data = new ErrnoErrorClass();
    env.SetInstanceData(data);
  }
  data->ctor = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

}  // namespace lvskit
