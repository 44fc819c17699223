// layer: native (C++ addon)
// job: datagrams armed in advance and sent from a signal handler itself (a MASTER's priority 0 at SIGTERM), before the event loop runs.
//
// Node hears a signal through libuv: its handler writes to a pipe, the event loop wakes, and the
// JS listener runs — measured here, 0.5–1.9 ms from kill() to the first line of JS, then the stop
// path's own cold code. keepalived's priority-0 advert leaves about 0.8 ms after kill(). A slot
// holds a ready datagram; the handler sends every armed slot with one sendmsg each (async-signal
// safe) and then calls the handler it displaced, so the JS listener still runs as before.
#include "signal_send.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/uio.h>

#include <atomic>
#include <cmath>
#include <cstdint>

#include "errors.h"

namespace lvskit {
namespace {

constexpr int kSlots = 32;
/** An IPv6 VRRP advert for 255 addresses is 4,088 bytes; IPv4 ones with a header stay far below. */
constexpr size_t kMaxBytes = 4096;

enum SlotState : int { kFree = 0, kFilling, kArmed, kSending, kSent };

struct Slot {
  std::atomic<int> state{kFree};
  uint32_t generation = 0;  // JS thread only: a token names one arming of the slot, not its later ones
  int fd = -1;
  sockaddr_storage dest{};
  socklen_t destLength = 0;
  size_t length = 0;
  unsigned char bytes[kMaxBytes];
};

static_assert(std::atomic<int>::is_always_lock_free, "slot states must be usable in a signal handler");

Slot slots[kSlots];
struct sigaction displaced[NSIG];

void OnSignal(int signum, siginfo_t* info, void* context) {
  const int savedErrno = errno;
  for (Slot& slot : slots) {
    int armed = kArmed;
    if (!slot.state.compare_exchange_strong(armed, kSending, std::memory_order_acq_rel)) continue;
    iovec iov{slot.bytes, slot.length};
    msghdr msg{};
    msg.msg_name = &slot.dest;
    msg.msg_namelen = slot.destLength;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t sent = sendmsg(slot.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    // Not sent (a full socket buffer): it stays armed, and JS sends it the ordinary way.
    slot.state.store(sent >= 0 ? kSent : kArmed, std::memory_order_release);
  }
  errno = savedErrno;
  const struct sigaction& next = displaced[signum];
  if ((next.sa_flags & SA_SIGINFO) != 0) {
    if (next.sa_sigaction != nullptr) next.sa_sigaction(signum, info, context);
  } else if (next.sa_handler == SIG_DFL) {
    // Nobody listened: the default action (terminate), as if we had never been installed.
    signal(signum, SIG_DFL);
    raise(signum);
  } else if (next.sa_handler != SIG_IGN && next.sa_handler != nullptr) {
    next.sa_handler(signum);
  }
}

/** The slot a token (generation × kSlots + index) names, or nullptr when it has been re-armed since. */
Slot* SlotOfToken(Napi::Env env, const Napi::Value& value) {
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
  if (!(std::trunc(number) == number && number >= 0 && number <= 0xffffffffp0 * kSlots)) ThrowTypeError(env, "token must be a non-negative integer");
  const auto token = static_cast<uint64_t>(number);
  Slot& slot = slots[token % kSlots];
  return slot.generation == token / kSlots ? &slot : nullptr;
}

/** The slot's state; a handler sending on another thread is waited out (one sendmsg). */
int SettledState(Slot& slot) {
  int state = slot.state.load(std::memory_order_acquire);
  while (state == kSending) state = slot.state.load(std::memory_order_acquire);
  return state;
}

/** Frees an armed or sent slot; true if the handler had sent it. */
bool Release(Slot& slot) {
  for (;;) {
    int state = SettledState(slot);
    if (state != kArmed && state != kSent) return false;
    const bool sent = state == kSent;
    if (slot.state.compare_exchange_strong(state, kFree, std::memory_order_acq_rel)) return sent;
  }
}

}  // namespace

double ArmSignalSend(int fd, const void* bytes, size_t length, const sockaddr* dest, socklen_t destLength) {
  if (length > kMaxBytes || destLength > sizeof(sockaddr_storage)) return -1;
  for (int i = 0; i < kSlots; i++) {
    Slot& slot = slots[i];
    int free = kFree;
    if (!slot.state.compare_exchange_strong(free, kFilling, std::memory_order_acq_rel)) continue;
    slot.fd = fd;
    memcpy(slot.bytes, bytes, length);
    slot.length = length;
    memset(&slot.dest, 0, sizeof slot.dest);
    memcpy(&slot.dest, dest, destLength);
    slot.destLength = destLength;
    slot.generation++;
    slot.state.store(kArmed, std::memory_order_release);
    return static_cast<double>(slot.generation) * kSlots + i;
  }
  return -1;
}

void DisarmSignalSendsFor(int fd) {
  for (Slot& slot : slots) {
    if (slot.fd == fd) Release(slot);
  }
}

Napi::Object MakeSignalSends(Napi::Env env) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("install", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const double number = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : NAN;
    if (!(std::trunc(number) == number && number >= 1 && number < NSIG)) ThrowTypeError(info.Env(), "signum must be a signal number");
    const int signum = static_cast<int>(number);
    struct sigaction current{};
    if (sigaction(signum, nullptr, &current) != 0) ThrowErrno(info.Env(), errno, "sigaction");
    if ((current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == OnSignal) return;  // already in front
    // Fill `displaced` before the handler can run; the kernel swaps the actions in one call.
    displaced[signum] = current;
    struct sigaction ours = current;
    ours.sa_sigaction = OnSignal;
    ours.sa_flags = static_cast<int>(static_cast<unsigned>(current.sa_flags | SA_SIGINFO) & ~static_cast<unsigned>(SA_RESETHAND));
    if (sigaction(signum, &ours, nullptr) != 0) ThrowErrno(info.Env(), errno, "sigaction");
  }, "install"));
  object.Set("disarm", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    Slot* slot = SlotOfToken(info.Env(), info[0]);
    return Napi::Boolean::New(info.Env(), slot != nullptr && Release(*slot));
  }, "disarm"));
  object.Set("sent", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    Slot* slot = SlotOfToken(info.Env(), info[0]);
    return Napi::Boolean::New(info.Env(), slot != nullptr && SettledState(*slot) == kSent);
  }, "sent"));
  return object;
}

}  // namespace lvskit
