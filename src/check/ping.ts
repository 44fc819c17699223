// layer: behaviour (check)
// job: PING_CHECK: one ICMP / ICMPv6 echo over a raw socket of the addon; the echo reply carrying our identifier, sequence and token within connect_timeout is success.
import { randomBytes, randomInt } from 'node:crypto';
import { openSocket, type Socket } from '../native/socket.js';
import { decodeEcho, encodeEchoRequest, ICMP, ICMPV6, IPPROTO_ICMP, IPPROTO_ICMPV6 } from './icmp.js';
import type { AttemptSignal } from './signal.js';
import { abortedFailure, type CheckFailure, type CheckResult, type PingCheckConfig } from './types.js';

function socketFailure(error: unknown, where: string): CheckFailure {
  const e = error as NodeJS.ErrnoException;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const f: CheckFailure = {
    ok: false,
    reason: code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL' ? 'unreachable' : 'socket-error',
    message: `${where}: ${code ?? e.message}${code === 'EPERM' || code === 'EACCES' ? ' (raw ICMP sockets need CAP_NET_RAW)' : ''}`,
  };
  if (code !== undefined) f.code = code;
  if (typeof e.errno === 'number') f.errno = Math.abs(e.errno);
  return f;
}

/**
 * One PING_CHECK attempt. A raw socket per attempt (every raw ICMP socket sees every echo reply,
 * so the reply is matched on identifier, sequence and a random token in the payload). Never rejects.
 */
export function probePing(config: PingCheckConfig, signal: AttemptSignal): Promise<CheckResult> {
  const v6 = config.connectIp.includes(':');
  const where = `ping ${config.connectIp}`;
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(abortedFailure(signal));
    let socket: Socket | undefined;
    try {
      socket = openSocket({ family: v6 ? 'inet6' : 'inet', type: 'raw', protocol: v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, maxDatagramBytes: 2048 });
      if (config.bindTo !== undefined) socket.bind({ family: v6 ? 'inet6' : 'inet', address: config.bindTo });
    } catch (error) {
      socket?.close(); // a bind that failed leaves an open socket
      return resolve(socketFailure(error, where));
    }
    const open = socket;
    const identifier = randomInt(0, 0x10000);
    const sequence = randomInt(0, 0x10000);
    const token = randomBytes(16);
    let timer: NodeJS.Timeout | undefined;
    let sentAt = 0;
    let done = false;
    const finish = (result: CheckResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      open.close();
      resolve(result);
    };
    const noReply = (): CheckFailure => ({ ok: false, reason: 'no-reply', message: `${where}: no echo reply within ${config.connectTimeoutMs} ms` });
    const onAbort = (): void => finish(signal.reason === 'deadline' ? noReply() : abortedFailure(signal));
    open.on('message', (data) => {
      const echo = decodeEcho(v6, data);
      if (!echo || echo.type !== (v6 ? ICMPV6.echoReply : ICMP.echoReply)) return;
      if (echo.identifier !== identifier || echo.sequence !== sequence || !echo.payload.equals(token)) return;
      finish({ ok: true, rttMs: performance.now() - sentAt });
    });
    open.on('error', (error) => finish(socketFailure(error, where)));
    signal.addEventListener('abort', onAbort, { once: true });
    open.resume();
    sentAt = performance.now();
    open.send(encodeEchoRequest(v6, identifier, sequence, token), { family: v6 ? 'inet6' : 'inet', address: config.connectIp }).then(
      () => { if (!done) timer = setTimeout(() => finish(noReply()), config.connectTimeoutMs); },
      (error: unknown) => finish(socketFailure(error, where)),
    );
  });
}
