// layer: native (C++ addon)
// job: receive one datagram with recvmsg into caller-owned memory and describe it (address, cmsgs).
#pragma once

#include <napi.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "recv_control.h"

namespace lvskit {

/**
 * recvmsg(MSG_DONTWAIT) of one datagram into `into` (at most `capacity` bytes).
 * Returns 0 and fills `out` (offset left 0), or a positive errno (EAGAIN when the queue is empty).
 */
int ReceiveOne(int fd, uint8_t* into, size_t capacity, Received* out);

/**
 * Takes one entry off the socket's error queue (recvmsg MSG_ERRQUEUE; filled when IP_RECVERR or
 * the like is on). Returns its sock_extended_err.ee_errno (EIO if it carries none), or 0 when the
 * queue is empty. Only for AF_INET, AF_INET6 and AF_PACKET: netlink would hand over a real message.
 */
int TakeQueuedError(int fd);

/** The JS NativeDatagram for `received` (see src/native/binding.ts). */
Napi::Object DatagramToJs(Napi::Env env, const Received& received);

}  // namespace lvskit
