// layer: native (C++ addon)
// job: convert JS SockAddr objects (src/native/binding.ts) to and from kernel struct sockaddr_*.
#include "sockaddr.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <string.h>

#include <cmath>
#include <string>

#include "errors.h"

namespace lvskit {
namespace {

/** Reads an optional unsigned integer field in [0, max]; `fallback` when absent. */
uint32_t ReadUint(Napi::Env env, Napi::Object object, const std::string& what, const char* key,
                  uint32_t max, uint32_t fallback) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined()) return fallback;
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (!(number >= 0 && number <= max && std::trunc(number) == number)) {
    ThrowTypeError(env, what + "." + key + " must be an integer in 0.." + std::to_string(max));
  }
  return static_cast<uint32_t>(number);
}

/** Reads a required IP address string of `family` into `out` (inet_pton). */
void ReadAddress(Napi::Env env, Napi::Object object, const std::string& what, int family,
                 void* out) {
  Napi::Value value = object.Get("address");
  const char* kind = family == AF_INET ? "an IPv4" : "an IPv6";
  if (!value.IsString()) ThrowTypeError(env, what + ".address must be " + kind + " address string");
  const std::string text = value.As<Napi::String>().Utf8Value();
  if (inet_pton(family, text.c_str(), out) != 1) {
    ThrowTypeError(env, what + ".address is not " + kind + " address: '" + text + "'");
  }
}

void FromInet(Napi::Env env, Napi::Object object, const std::string& what, SockAddr* out) {
  auto* sin = reinterpret_cast<sockaddr_in*>(&out->storage);
  sin->sin_family = AF_INET;
  ReadAddress(env, object, what, AF_INET, &sin->sin_addr);
  sin->sin_port = htons(static_cast<uint16_t>(ReadUint(env, object, what, "port", 0xffff, 0)));
  out->length = sizeof(sockaddr_in);
}

void FromInet6(Napi::Env env, Napi::Object object, const std::string& what, SockAddr* out) {
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out->storage);
  sin6->sin6_family = AF_INET6;
  ReadAddress(env, object, what, AF_INET6, &sin6->sin6_addr);
  sin6->sin6_port = htons(static_cast<uint16_t>(ReadUint(env, object, what, "port", 0xffff, 0)));
  sin6->sin6_scope_id = ReadUint(env, object, what, "scopeId", UINT32_MAX, 0);
  sin6->sin6_flowinfo = htonl(ReadUint(env, object, what, "flowInfo", UINT32_MAX, 0));
  out->length = sizeof(sockaddr_in6);
}

void FromNetlink(Napi::Env env, Napi::Object object, const std::string& what, SockAddr* out) {
  auto* snl = reinterpret_cast<sockaddr_nl*>(&out->storage);
  snl->nl_family = AF_NETLINK;
  snl->nl_pid = ReadUint(env, object, what, "pid", UINT32_MAX, 0);
  snl->nl_groups = ReadUint(env, object, what, "groups", UINT32_MAX, 0);
  out->length = sizeof(sockaddr_nl);
}

void FromPacket(Napi::Env env, Napi::Object object, const std::string& what, SockAddr* out) {
  auto* sll = reinterpret_cast<sockaddr_ll*>(&out->storage);
  sll->sll_family = AF_PACKET;
  if (object.Get("ifindex").IsUndefined()) ThrowTypeError(env, what + ".ifindex is required");
  sll->sll_ifindex = static_cast<int>(ReadUint(env, object, what, "ifindex", INT32_MAX, 0));
  sll->sll_protocol = htons(static_cast<uint16_t>(ReadUint(env, object, what, "protocol", 0xffff, 0)));
  sll->sll_hatype = static_cast<uint16_t>(ReadUint(env, object, what, "hatype", 0xffff, 0));
  sll->sll_pkttype = static_cast<uint8_t>(ReadUint(env, object, what, "pkttype", 0xff, 0));
  Napi::Value addr = object.Get("addr");
  if (!addr.IsUndefined()) {
    if (!addr.IsBuffer()) ThrowTypeError(env, what + ".addr must be a Buffer");
    auto bytes = addr.As<Napi::Buffer<uint8_t>>();
    if (bytes.Length() > sizeof(sll->sll_addr)) {
      ThrowTypeError(env, what + ".addr must be at most 8 bytes");
    }
    memcpy(sll->sll_addr, bytes.Data(), bytes.Length());
    sll->sll_halen = static_cast<uint8_t>(bytes.Length());
  }
  out->length = sizeof(sockaddr_ll);
}

Napi::Value InetToJs(Napi::Env env, const sockaddr_storage& storage) {
  const auto& sin = reinterpret_cast<const sockaddr_in&>(storage);
  char text[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &sin.sin_addr, text, sizeof(text));
  Napi::Object object = Napi::Object::New(env);
  object.Set("family", "inet");
  object.Set("address", text);
  object.Set("port", ntohs(sin.sin_port));
  return object;
}

Napi::Value Inet6ToJs(Napi::Env env, const sockaddr_storage& storage) {
  const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(storage);
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof(text));
  Napi::Object object = Napi::Object::New(env);
  object.Set("family", "inet6");
  object.Set("address", text);
  object.Set("port", ntohs(sin6.sin6_port));
  object.Set("scopeId", sin6.sin6_scope_id);
  object.Set("flowInfo", ntohl(sin6.sin6_flowinfo));
  return object;
}

Napi::Value NetlinkToJs(Napi::Env env, const sockaddr_storage& storage) {
  const auto& snl = reinterpret_cast<const sockaddr_nl&>(storage);
  Napi::Object object = Napi::Object::New(env);
  object.Set("family", "netlink");
  object.Set("pid", snl.nl_pid);
  object.Set("groups", snl.nl_groups);
  return object;
}

Napi::Value PacketToJs(Napi::Env env, const sockaddr_storage& storage) {
  const auto& sll = reinterpret_cast<const sockaddr_ll&>(storage);
  const size_t halen = sll.sll_halen < sizeof(sll.sll_addr) ? sll.sll_halen : sizeof(sll.sll_addr);
  Napi::Object object = Napi::Object::New(env);
  object.Set("family", "packet");
  object.Set("ifindex", sll.sll_ifindex);
  object.Set("protocol", ntohs(sll.sll_protocol));
  object.Set("hatype", sll.sll_hatype);
  object.Set("pkttype", sll.sll_pkttype);
  object.Set("addr", Napi::Buffer<uint8_t>::Copy(env, sll.sll_addr, halen));
  return object;
}

}  // namespace

SockAddr SockAddrFromJs(Napi::Env env, Napi::Value value, const char* what) {
  const std::string name = what;
  if (!value.IsObject()) ThrowTypeError(env, name + " must be a SockAddr object");
  Napi::Object object = value.As<Napi::Object>();
  Napi::Value familyValue = object.Get("family");
  const std::string family =
      familyValue.IsString() ? familyValue.As<Napi::String>().Utf8Value() : std::string();
  SockAddr out;
  if (family == "inet") {
    FromInet(env, object, name, &out);
  } else if (family == "inet6") {
    FromInet6(env, object, name, &out);
  } else if (family == "netlink") {
    FromNetlink(env, object, name, &out);
  } else if (family == "packet") {
    FromPacket(env, object, name, &out);
  } else {
    ThrowTypeError(env, name + ".family must be 'inet', 'inet6', 'netlink' or 'packet'");
  }
  return out;
}

Napi::Value SockAddrToJs(Napi::Env env, const sockaddr_storage& storage, socklen_t length) {
  const size_t size = length;
  switch (storage.ss_family) {
    case AF_INET:
      return size >= sizeof(sockaddr_in) ? InetToJs(env, storage) : env.Undefined();
    case AF_INET6:
      return size >= sizeof(sockaddr_in6) ? Inet6ToJs(env, storage) : env.Undefined();
    case AF_NETLINK:
      return size >= sizeof(sockaddr_nl) ? NetlinkToJs(env, storage) : env.Undefined();
    case AF_PACKET:
      // The kernel may report fewer than 8 address bytes (sockaddr_ll's tail is sll_addr).
      return size >= offsetof(sockaddr_ll, sll_addr) ? PacketToJs(env, storage) : env.Undefined();
    default:
      return env.Undefined();
  }
}

}  // namespace lvskit
