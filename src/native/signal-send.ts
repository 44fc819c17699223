// layer: native boundary
// job: datagrams armed in advance and sent by a signal's handler itself (native/signal_send.cc), before the event loop hears of the signal.
import os from 'node:os';
import { binding, type SockAddr } from './binding.js';
import type { Socket } from './socket.js';

/**
 * Send every armed datagram from `signal`'s handler, then run the handler that was there (node's,
 * which delivers the signal to JS listeners as before). Call it after `process.on(signal, ...)`:
 * node installs its handler with the first listener, and would displace this one. Process-wide.
 */
export function sendOnSignal(signal: NodeJS.Signals): void {
  binding().signalSends.install(os.constants.signals[signal]);
}

/**
 * One datagram waiting in a slot for a signal (at most 32 in a process). `disarm()` before the
 * moment passes; closing the socket disarms it too.
 */
export class SignalSend {
  readonly #token: number;
  #armed = true;

  private constructor(token: number) { this.#token = token; }

  /** Arm `data` for `dest` on `socket`; undefined when every slot is taken or the datagram is over 4 KiB. */
  static arm(socket: Socket, data: readonly Buffer[], dest: SockAddr): SignalSend | undefined {
    const token = socket.armSignalSend(data, dest);
    return token < 0 ? undefined : new SignalSend(token);
  }

  /** Whether a signal's handler has sent it. */
  get sent(): boolean { return this.#armed && binding().signalSends.sent(this.#token); }

  /** Free the slot; true if the handler had sent the datagram first. */
  disarm(): boolean {
    if (!this.#armed) return false;
    this.#armed = false;
    return binding().signalSends.disarm(this.#token);
  }
}
