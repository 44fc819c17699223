// layer: native (C++ addon)
// job: convert JS SockAddr objects (src/native/binding.ts) to and from kernel struct sockaddr_*.
#pragma once

#include <napi.h>
#include <sys/socket.h>

namespace lvskit {

/** A kernel socket address and its length, ready for bind()/sendmsg(). */
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;

  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

/**
 * Reads a JS SockAddr ({family: 'inet'|'inet6'|'netlink'|'packet', ...}). Throws a TypeError that
 * names the bad field as `<what>.<field>`. Packet `protocol` is host order here, network order out.
 */
SockAddr SockAddrFromJs(Napi::Env env, Napi::Value value, const char* what);

/** Converts a kernel address to a JS SockAddr; undefined for families lvskit does not use. */
Napi::Value SockAddrToJs(Napi::Env env, const sockaddr_storage& storage, socklen_t length);

}  // namespace lvskit
