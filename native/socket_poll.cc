// layer: native (C++ addon)
// job: the Socket's event-loop side: uv_poll, batched zero-copy reads, writability waits, ref/unref.
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <exception>

#include "errors.h"
#include "recv.h"
#include "socket.h"

namespace lvskit {
namespace {

/** Receive chunks are at least this big; each datagram takes only the bytes it used. */
constexpr size_t kChunkBytes = 1 << 20;
constexpr size_t kMaxDatagramBytes = 64u << 20;
constexpr double kMaxPerWakeup = 1 << 20;

/** Datagram offsets stay 8-byte aligned so typed-array views over them are possible. */
size_t Align8(size_t n) { return (n + 7) & ~static_cast<size_t>(7); }

double CountArg(Napi::Env env, Napi::Value value, const char* name, double max) {
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : 0;
  if (!(number >= 1 && number <= max && static_cast<double>(static_cast<uint64_t>(number)) == number)) {
    ThrowTypeError(env, std::string(name) + " must be an integer in 1.." + std::to_string(max));
  }
  return number;
}

Napi::Function FunctionArg(Napi::Env env, Napi::Value value, const char* name) {
  if (!value.IsFunction()) ThrowTypeError(env, std::string(name) + " must be a function");
  return value.As<Napi::Function>();
}

}  // namespace

void Socket::StartReading(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  OpenFd("uv_poll_start");
  Napi::Function onBatch = FunctionArg(env, info[0], "onBatch");
  Napi::Function onError = FunctionArg(env, info[1], "onError");
  const double perWakeup = CountArg(env, info[2], "maxPerWakeup", kMaxPerWakeup);
  const double datagramBytes = CountArg(env, info[3], "maxDatagramBytes", kMaxDatagramBytes);
  onBatch_ = Napi::Persistent(onBatch);
  onError_ = Napi::Persistent(onError);
  maxPerWakeup_ = static_cast<uint32_t>(perWakeup);
  maxDatagramBytes_ = static_cast<size_t>(datagramBytes);
  if (!asyncContext_) asyncContext_ = std::make_shared<Napi::AsyncContext>(env, "lvskit.Socket");
  reading_ = true;
  if (const int rc = UpdatePoll()) {
    reading_ = false;
    ThrowErrno(env, -rc, "uv_poll_start");
  }
}

void Socket::StopReading(const Napi::CallbackInfo&) {
  if (!reading_) return;
  reading_ = false;
  onBatch_.Reset();
  onError_.Reset();
  UpdatePoll();  // Stopping or narrowing a started poll cannot fail.
}

void Socket::AwaitWritable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  OpenFd("uv_poll_start");
  writableWaiters_.push_back(Napi::Persistent(FunctionArg(env, info[0], "onWritable")));
  if (!asyncContext_) asyncContext_ = std::make_shared<Napi::AsyncContext>(env, "lvskit.Socket");
  if (const int rc = UpdatePoll()) {
    writableWaiters_.pop_back();
    ThrowErrno(env, -rc, "uv_poll_start");
  }
}

void Socket::JsRef(const Napi::CallbackInfo&) {
  refed_ = true;
  if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
}

void Socket::JsUnref(const Napi::CallbackInfo&) {
  refed_ = false;
  if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
}

void Socket::Pin() {
  if (!pinned_) Ref();
  pinned_ = true;
}

void Socket::Unpin() {
  if (pinned_) Unref();
  pinned_ = false;
}

int Socket::EnsurePollHandle() {
  if (poll_ != nullptr) return 0;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(Env(), &loop) != napi_ok) return UV_EINVAL;
  auto* handle = new uv_poll_t;
  if (const int rc = uv_poll_init(loop, handle, fd_)) {
    delete handle;
    return rc;
  }
  handle->data = this;
  if (!refed_) uv_unref(reinterpret_cast<uv_handle_t*>(handle));
  poll_ = handle;
  return 0;
}

int Socket::UpdatePoll() {
  if (fd_ < 0) return 0;
  const int wanted = (reading_ ? UV_READABLE : 0) | (writableWaiters_.empty() ? 0 : UV_WRITABLE);
  if (wanted == pollEvents_) return 0;
  if (wanted == 0) {
    uv_poll_stop(poll_);
    pollEvents_ = 0;
    Unpin();
    return 0;
  }
  if (const int rc = EnsurePollHandle()) return rc;
  if (const int rc = uv_poll_start(poll_, wanted, &Socket::OnPoll)) return rc;
  pollEvents_ = wanted;
  Pin();
  return 0;
}

void Socket::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<Socket*>(handle->data);
  if (self == nullptr) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  try {
    if (status < 0) {
      // libuv stops the handle on POLLERR (e.g. a netlink overrun) and reports UV_EBADF. The real
      // error is the socket's sk_err, which the next recvmsg/sendmsg returns, or an error-queue
      // entry (IP_RECVERR), drained below. Both waiters and readers get a turn; the poll restarts.
      self->pollEvents_ = 0;
      events = UV_READABLE | UV_WRITABLE;
    }
    if ((events & UV_WRITABLE) != 0 && !self->writableWaiters_.empty()) self->NotifyWritable();
    bool errorReported = false;
    if ((events & UV_READABLE) != 0 && self->reading_ && self->fd_ >= 0) errorReported = self->ReadBatch();
    if (status < 0 && self->fd_ >= 0) self->DrainErrorQueue(errorReported);
    if (const int rc = self->UpdatePoll()) {
      if (self->reading_ && !self->onError_.IsEmpty()) {
        self->CallJs(self->onError_, {MakeErrnoError(env, -rc, "uv_poll_start").Value()});
      }
    }
  } catch (const Napi::Error& error) {
    napi_fatal_exception(env, error.Value());
  } catch (const std::exception& error) {
    napi_fatal_exception(env, Napi::Error::New(env, error.what()).Value());
  }
}

void Socket::NotifyWritable() {
  std::vector<Napi::FunctionReference> waiters = std::move(writableWaiters_);
  writableWaiters_.clear();
  for (const Napi::FunctionReference& waiter : waiters) CallJs(waiter, {});
}

void Socket::EnsureChunk() {
  if (!chunk_.IsEmpty() && chunkSize_ - chunkUsed_ >= maxDatagramBytes_ &&
      !chunk_.Value().ArrayBuffer().IsDetached()) {
    return;
  }
  const size_t size = std::max(kChunkBytes, maxDatagramBytes_);
  Napi::Buffer<uint8_t> chunk = Napi::Buffer<uint8_t>::New(Env(), size);
  chunk_ = Napi::Persistent(chunk);
  chunkData_ = chunk.Data();
  chunkSize_ = size;
  chunkUsed_ = 0;
}

bool Socket::ReadBatch() {
  Napi::Env env = Env();
  EnsureChunk();
  std::vector<Received> batch;
  int error = 0;
  bool endOfStream = false;
  for (uint32_t i = 0; i < maxPerWakeup_ && chunkSize_ - chunkUsed_ >= maxDatagramBytes_; ++i) {
    Received received;
    const int rc = ReceiveOne(fd_, chunkData_ + chunkUsed_, maxDatagramBytes_, &received);
    if (rc == EAGAIN || rc == EWOULDBLOCK) break;
    if (rc == EINTR) continue;
    if (rc != 0) {
      error = rc;  // Delivered after the datagrams before it, then reading goes on.
      break;
    }
    if (type_ == SOCK_STREAM && received.length == 0) {
      endOfStream = true;  // A stream's zero-length read is EOF: stop instead of spinning.
      break;
    }
    received.offset = chunkUsed_;
    chunkUsed_ = std::min(chunkSize_, chunkUsed_ + Align8(received.length));
    batch.push_back(received);
  }
  Napi::Buffer<uint8_t> chunk = chunk_.Value();
  if (!batch.empty()) {
    Napi::Array datagrams = Napi::Array::New(env, batch.size());
    for (uint32_t i = 0; i < batch.size(); ++i) datagrams.Set(i, DatagramToJs(env, batch[i]));
    CallJs(onBatch_, {chunk, datagrams});
  }
  if (error != 0 && reading_) CallJs(onError_, {MakeErrnoError(env, error, "recvmsg").Value()});
  if (endOfStream && reading_) {
    reading_ = false;
    onBatch_.Reset();
    onError_.Reset();
  }
  return error != 0;
}

void Socket::DrainErrorQueue(bool errorReported) {
  if (domain_ != AF_INET && domain_ != AF_INET6 && domain_ != AF_PACKET) return;
  for (uint32_t i = 0; i < maxPerWakeup_ && fd_ >= 0; ++i) {
    const int error = TakeQueuedError(fd_);
    if (error == 0) return;
    // An ICMP error usually also set sk_err, which recvmsg already reported: report one, not two.
    if (!errorReported && reading_) {
      errorReported = true;
      CallJs(onError_, {MakeErrnoError(Env(), error, "recvmsg").Value()});
    }
  }
}

void Socket::CallJs(const Napi::FunctionReference& fn, const std::vector<napi_value>& args) {
  if (fn.IsEmpty() || !asyncContext_) return;
  Napi::Env env = Env();
  // Held here so close() from inside the callback cannot destroy the context mid-call.
  const std::shared_ptr<Napi::AsyncContext> context = asyncContext_;
  Napi::Object self = Value();
  try {
    fn.MakeCallback(self.IsEmpty() ? env.Global() : self, args, *context);
  } catch (const Napi::Error& error) {
    // The N-API way to surface an exception thrown by JS called from the event loop.
    napi_fatal_exception(env, error.Value());
  }
}

}  // namespace lvskit
