// layer: native (C++ addon)
// job: module entry point: exports the Socket class, the kernel constants, the connection scanner, signal sends, enterNetns, raiseThreadPriority, malloc statistics, trim and arena limit (mallocInfo, mallocTrim, mallocArenaMax) and setErrnoErrorClass (NativeBinding).
#include <napi.h>

#include "conn_scan.h"
#include "constants.h"
#include "errors.h"
#include "malloc_stats.h"
#include "netns.h"
#include "signal_send.h"
#include "socket.h"
#include "thread_priority.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Socket", lvskit::Socket::Define(env));
  exports.Set("constants", lvskit::MakeConstants(env));
  exports.Set("scanConnections", Napi::Function::New(env, lvskit::ScanConnections, "scanConnections"));
#ifdef LVSKIT_FAULT_HOOKS
  // A test build (binding.gyp -Dfault_hooks=1): environment variables can inject faults (see conn_pass.cc).
  exports.Set("faultHooks", true);
#else
  exports.Set("faultHooks", false);
#endif
  exports.Set("sanitizerAllocator", lvskit::AllocatorIsAsan());
  exports.Set("ConnReader", lvskit::DefineConnReader(env));
  exports.Set("signalSends", lvskit::MakeSignalSends(env));
  exports.Set("enterNetns", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    if (!info[0].IsString()) lvskit::ThrowTypeError(info.Env(), "netns must be a path string");
    const char* syscall = "setns";
    const int err = lvskit::EnterNetns(info[0].As<Napi::String>().Utf8Value(), &syscall);
    if (err != 0) lvskit::ThrowErrno(info.Env(), err, syscall);
  }, "enterNetns"));
  exports.Set("mallocInfo", Napi::Function::New(env, lvskit::MallocInfo, "mallocInfo"));
  exports.Set("mallocTrim", Napi::Function::New(env, lvskit::MallocTrim, "mallocTrim"));
  exports.Set("mallocArenaMax", Napi::Function::New(env, lvskit::MallocArenaMax, "mallocArenaMax"));
  exports.Set("setErrnoErrorClass", Napi::Function::New(env, lvskit::SetErrnoErrorClass, "setErrnoErrorClass"));
  exports.Set("raiseThreadPriority", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    if (!info[0].IsNumber()) lvskit::ThrowTypeError(info.Env(), "nice must be a number");
    const char* syscall = "setpriority";
    const int err = lvskit::RaiseThreadPriority(info[0].As<Napi::Number>().Int32Value(), &syscall);
    if (err != 0) lvskit::ThrowErrno(info.Env(), err, syscall);
  }, "raiseThreadPriority"));
  return exports;
}

}  // namespace

NODE_API_MODULE(lvskit, Init)
