// layer: native (C++ addon)
// job: the Socket ObjectWrap: one non-blocking fd, its syscalls, and a uv_poll that reads in batches.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace lvskit {

/**
 * JS `new Socket({domain, type, protocol, netns?})` (NativeSocket in src/native/binding.ts).
 * Syscall methods are in socket.cc; the event-loop side (uv_poll, batches) in socket_poll.cc.
 * While reading or awaiting writability the JS object is held strongly, so an active socket is
 * never garbage-collected; once idle it may be, and the finalizer closes the fd.
 */
class Socket : public Napi::ObjectWrap<Socket> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Socket(const Napi::CallbackInfo& info);
  ~Socket() override;

 private:
  // socket.cc: synchronous syscalls.
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  void Bind(const Napi::CallbackInfo& info);
  Napi::Value GetSockName(const Napi::CallbackInfo& info);
  void SetSockOpt(const Napi::CallbackInfo& info);
  Napi::Value GetSockOptInt(const Napi::CallbackInfo& info);
  Napi::Value GetSockOpt(const Napi::CallbackInfo& info);
  void AttachFilter(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  /** Arms (buffers, dest) to be sent from an installed signal's handler (signal_send.h); a token or -1. */
  Napi::Value ArmSignalSend(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  /** The open fd, or throws ErrnoError EBADF naming `syscall`. */
  int OpenFd(const char* syscall) const;
  /** Stops the poll (uv_close; freed in the close callback), closes the fd, drops callbacks. */
  void CloseNow(bool finalizing);

  // socket_poll.cc: the event loop side.
  void StartReading(const Napi::CallbackInfo& info);
  void StopReading(const Napi::CallbackInfo& info);
  void AwaitWritable(const Napi::CallbackInfo& info);
  void JsRef(const Napi::CallbackInfo& info);
  void JsUnref(const Napi::CallbackInfo& info);
  static void OnPoll(uv_poll_t* handle, int status, int events);
  /** Makes the poll's events match (reading, waiters); 0 or a negative uv error. */
  int UpdatePoll();
  int EnsurePollHandle();
  void Pin();
  void Unpin();
  /** Reads up to maxPerWakeup_ datagrams into one chunk; true if a receive error was reported. */
  bool ReadBatch();
  /** After POLLERR: empties the error queue (else POLLERR never clears), reporting one entry. */
  void DrainErrorQueue(bool errorReported);
  void NotifyWritable();
  /** A chunk with at least maxDatagramBytes_ free; allocates a new one when needed. */
  void EnsureChunk();
  /** MakeCallback in the socket's async context; a JS exception becomes an uncaught exception. */
  void CallJs(const Napi::FunctionReference& fn, const std::vector<napi_value>& args);

  int fd_ = -1;
  int domain_ = 0;
  int type_ = 0;
  uv_poll_t* poll_ = nullptr;
  int pollEvents_ = 0;
  bool refed_ = true;
  bool pinned_ = false;
  bool reading_ = false;
  uint32_t maxPerWakeup_ = 64;
  size_t maxDatagramBytes_ = 65536;
  Napi::FunctionReference onBatch_;
  Napi::FunctionReference onError_;
  std::vector<Napi::FunctionReference> writableWaiters_;
  std::shared_ptr<Napi::AsyncContext> asyncContext_;
  /** The current receive chunk; datagrams are received straight into its free tail. */
  Napi::Reference<Napi::Buffer<uint8_t>> chunk_;
  uint8_t* chunkData_ = nullptr;
  size_t chunkSize_ = 0;
  size_t chunkUsed_ = 0;
};

}  // namespace lvskit
