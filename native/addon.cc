// layer: native (C++ addon)
// job: module entry point: exports the Socket class, the kernel constants, the connection scanner and signal sends (NativeBinding).
#include <napi.h>

#include "conn_scan.h"
#include "constants.h"
#include "signal_send.h"
#include "socket.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Socket", lvskit::Socket::Define(env));
  exports.Set("constants", lvskit::MakeConstants(env));
  exports.Set("scanConnections", Napi::Function::New(env, lvskit::ScanConnections, "scanConnections"));
  exports.Set("ConnReader", lvskit::DefineConnReader(env));
  exports.Set("signalSends", lvskit::MakeSignalSends(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(lvskit, Init)
