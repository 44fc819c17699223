// layer: native (C++ addon)
// job: datagrams armed in advance and sent from a signal handler itself (a MASTER's priority 0 at SIGTERM), before the event loop runs.
#pragma once

#include <napi.h>
#include <sys/socket.h>

#include <cstddef>

namespace lvskit {

/**
 * Arms a copy of `length` bytes to go to `dest` on `fd` when an installed signal arrives. Returns
 * a token for this arming (slot and generation), or -1 when every slot is taken or the datagram
 * is too long (the caller then sends it the ordinary way). Called on the JS thread.
 */
double ArmSignalSend(int fd, const void* bytes, size_t length, const sockaddr* dest, socklen_t destLength);

/** Every slot armed on `fd` disarmed (before the fd is closed: a handler must never write to a reused fd). */
void DisarmSignalSendsFor(int fd);

/**
 * The binding's `signalSends` object: `install(signum)` puts the handler in front of the one
 * already there (libuv's, which still runs after it), `disarm(token)` frees the slot (unless it
 * was re-armed since) and tells whether the handler sent it, `sent(token)` tells without freeing.
 */
Napi::Object MakeSignalSends(Napi::Env env);

}  // namespace lvskit
