// layer: native (C++ addon)
// job: the Socket ObjectWrap's construction, synchronous syscalls (bind, *sockopt, sendmsg) and close.
#include "socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "errors.h"
#include "netns.h"
#include "signal_send.h"
#include "sockaddr.h"

namespace lvskit {
namespace {

/** A required integer that fits a C int; TypeError naming `name` otherwise. */
int IntArg(Napi::Env env, Napi::Value value, const std::string& name) {
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
  if (!(std::trunc(number) == number && number >= std::numeric_limits<int>::min() &&
        number <= std::numeric_limits<int>::max())) {
    ThrowTypeError(env, name + " must be an integer");
  }
  return static_cast<int>(number);
}

Napi::Buffer<uint8_t> BufferArg(Napi::Env env, Napi::Value value, const std::string& name) {
  if (!value.IsBuffer()) ThrowTypeError(env, name + " must be a Buffer");
  return value.As<Napi::Buffer<uint8_t>>();
}

}  // namespace

Napi::Function Socket::Define(Napi::Env env) {
  return DefineClass(
      env, "Socket",
      {
          InstanceAccessor<&Socket::GetFd>("fd"),
          InstanceAccessor<&Socket::GetClosed>("closed"),
          InstanceMethod<&Socket::Bind>("bind"),
          InstanceMethod<&Socket::GetSockName>("getsockname"),
          InstanceMethod<&Socket::SetSockOpt>("setsockopt"),
          InstanceMethod<&Socket::GetSockOptInt>("getsockoptInt"),
          InstanceMethod<&Socket::GetSockOpt>("getsockopt"),
          InstanceMethod<&Socket::AttachFilter>("attachFilter"),
          InstanceMethod<&Socket::Send>("send"),
          InstanceMethod<&Socket::ArmSignalSend>("armSignalSend"),
          InstanceMethod<&Socket::StartReading>("startReading"),
          InstanceMethod<&Socket::StopReading>("stopReading"),
          InstanceMethod<&Socket::AwaitWritable>("awaitWritable"),
          InstanceMethod<&Socket::JsRef>("ref"),
          InstanceMethod<&Socket::JsUnref>("unref"),
          InstanceMethod<&Socket::Close>("close"),
      });
}

Socket::Socket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Socket>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowTypeError(env, "options must be an object");
  Napi::Object options = info[0].As<Napi::Object>();
  const int domain = IntArg(env, options.Get("domain"), "options.domain");
  const int type = IntArg(env, options.Get("type"), "options.type");
  int protocol = IntArg(env, options.Get("protocol"), "options.protocol");
  Napi::Value netns = options.Get("netns");
  std::string netnsPath;
  if (!netns.IsUndefined()) {
    if (!netns.IsString()) ThrowTypeError(env, "options.netns must be a path string");
    netnsPath = netns.As<Napi::String>().Utf8Value();
  }
  // Packet sockets take the ethertype in network order; JS passes host order.
  if (domain == AF_PACKET) protocol = htons(static_cast<uint16_t>(protocol));
  const OpenResult opened = OpenSocket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol,
                                       netns.IsUndefined() ? nullptr : &netnsPath);
  if (opened.fd < 0) ThrowErrno(env, opened.err, opened.syscall);
  fd_ = opened.fd;
  domain_ = domain;
  type_ = type;
}

Socket::~Socket() { CloseNow(true); }

int Socket::OpenFd(const char* syscall) const {
  if (fd_ < 0) ThrowErrno(Env(), EBADF, syscall);
  return fd_;
}

Napi::Value Socket::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}

Napi::Value Socket::GetClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), fd_ < 0);
}

void Socket::Bind(const Napi::CallbackInfo& info) {
  const int fd = OpenFd("bind");
  SockAddr addr = SockAddrFromJs(info.Env(), info[0], "addr");
  if (bind(fd, addr.get(), addr.length) != 0) ThrowErrno(info.Env(), errno, "bind");
}

Napi::Value Socket::GetSockName(const Napi::CallbackInfo& info) {
  const int fd = OpenFd("getsockname");
  SockAddr addr;
  addr.length = sizeof(addr.storage);
  if (getsockname(fd, addr.get(), &addr.length) != 0) ThrowErrno(info.Env(), errno, "getsockname");
  return SockAddrToJs(info.Env(), addr.storage, addr.length);
}

void Socket::SetSockOpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = OpenFd("setsockopt");
  const int level = IntArg(env, info[0], "level");
  const int name = IntArg(env, info[1], "name");
  int rc;
  if (info[2].IsNumber()) {
    const int value = IntArg(env, info[2], "value");
    rc = setsockopt(fd, level, name, &value, sizeof(value));
  } else {
    Napi::Buffer<uint8_t> value = BufferArg(env, info[2], "value (a number or Buffer)");
    rc = setsockopt(fd, level, name, value.Data(), static_cast<socklen_t>(value.Length()));
  }
  if (rc != 0) ThrowErrno(env, errno, "setsockopt");
}

Napi::Value Socket::GetSockOptInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = OpenFd("getsockopt");
  const int level = IntArg(env, info[0], "level");
  const int name = IntArg(env, info[1], "name");
  int value = 0;
  socklen_t length = sizeof(value);
  if (getsockopt(fd, level, name, &value, &length) != 0) ThrowErrno(env, errno, "getsockopt");
  return Napi::Number::New(env, value);
}

Napi::Value Socket::GetSockOpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = OpenFd("getsockopt");
  const int level = IntArg(env, info[0], "level");
  const int name = IntArg(env, info[1], "name");
  const int capacity = IntArg(env, info[2], "length");
  if (capacity < 0 || capacity > (1 << 20)) ThrowTypeError(env, "length must be in 0..1048576");
  std::vector<uint8_t> value(static_cast<size_t>(capacity) + 1);
  auto length = static_cast<socklen_t>(capacity);
  if (getsockopt(fd, level, name, value.data(), &length) != 0) ThrowErrno(env, errno, "getsockopt");
  const size_t got = std::min<size_t>(length, static_cast<size_t>(capacity));
  return Napi::Buffer<uint8_t>::Copy(env, value.data(), got);
}

void Socket::AttachFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = OpenFd("setsockopt");
  Napi::Buffer<uint8_t> program = BufferArg(env, info[0], "program");
  const size_t count = program.Length() / sizeof(sock_filter);
  if (count == 0 || count > BPF_MAXINSNS || program.Length() % sizeof(sock_filter) != 0) {
    ThrowTypeError(env, "program must hold 1..4096 struct sock_filter (8 bytes each)");
  }
  // Copied so the kernel sees properly aligned instructions whatever the Buffer's offset.
  std::vector<sock_filter> filter(count);
  memcpy(filter.data(), program.Data(), program.Length());
  sock_fprog fprog{static_cast<unsigned short>(count), filter.data()};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) != 0) {
    ThrowErrno(env, errno, "setsockopt");
  }
}

Napi::Value Socket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = OpenFd("sendmsg");
  if (!info[0].IsArray()) ThrowTypeError(env, "buffers must be an array of Buffers");
  Napi::Array buffers = info[0].As<Napi::Array>();
  std::vector<iovec> iov(buffers.Length());
  for (uint32_t i = 0; i < buffers.Length(); ++i) {
    Napi::Buffer<uint8_t> buffer = BufferArg(env, buffers.Get(i), "buffers[" + std::to_string(i) + "]");
    iov[i] = iovec{buffer.Data(), buffer.Length()};
  }
  msghdr msg{};
  SockAddr dest;
  if (!info[1].IsUndefined() && !info[1].IsNull()) {
    dest = SockAddrFromJs(env, info[1], "dest");
    msg.msg_name = dest.get();
    msg.msg_namelen = dest.length;
  }
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  const ssize_t sent = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    ThrowErrno(env, errno, "sendmsg");
  }
  return Napi::Number::New(env, static_cast<double>(sent));
}

Napi::Value Socket::ArmSignalSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = OpenFd("armSignalSend");
  if (!info[0].IsArray()) ThrowTypeError(env, "buffers must be an array of Buffers");
  Napi::Array buffers = info[0].As<Napi::Array>();
  std::string bytes;
  for (uint32_t i = 0; i < buffers.Length(); ++i) {
    Napi::Buffer<uint8_t> buffer = BufferArg(env, buffers.Get(i), "buffers[" + std::to_string(i) + "]");
    bytes.append(reinterpret_cast<const char*>(buffer.Data()), buffer.Length());
  }
  SockAddr dest = SockAddrFromJs(env, info[1], "dest");
  return Napi::Number::New(env, lvskit::ArmSignalSend(fd, bytes.data(), bytes.size(), dest.get(), dest.length));
}

void Socket::Close(const Napi::CallbackInfo&) { CloseNow(false); }

void Socket::CloseNow(bool finalizing) {
  if (poll_ != nullptr) {
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    poll_ = nullptr;
  }
  pollEvents_ = 0;
  if (fd_ >= 0) {
    DisarmSignalSendsFor(fd_);
    close(fd_);
    fd_ = -1;
  }
  reading_ = false;
  onBatch_.Reset();
  onError_.Reset();
  writableWaiters_.clear();
  asyncContext_.reset();
  chunk_.Reset();
  chunkData_ = nullptr;
  chunkSize_ = chunkUsed_ = 0;
  if (!finalizing) Unpin();
}

}  // namespace lvskit
