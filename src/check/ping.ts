// layer: behaviour (check)
// job: PING_CHECK: one ICMP / ICMPv6 echo over a raw socket of the addon; the echo reply carrying our identifier, sequence and token within connect_timeout is success.
import { randomBytes, randomInt } from 'node:crypto';
import { openSocket, type Socket } from '../native/socket.js';
import { runAttempt } from './attempt.js';
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
  const noReply = (): CheckFailure => ({ ok: false, reason: 'no-reply', message: `${where}: no echo reply within ${config.connectTimeoutMs} ms` });
  return runAttempt<CheckResult>(signal, {
    aborted: () => (signal.reason === 'deadline' ? noReply() : abortedFailure(signal)),
    alreadyAborted: () => abortedFailure(signal),
  }, (attempt) => {
    let socket: Socket;
    try {
      socket = openSocket({ family: v6 ? 'inet6' : 'inet', type: 'raw', protocol: v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, maxDatagramBytes: 2048 });
    } catch (error) {
      return attempt.finish(socketFailure(error, where));
    }
    try {
      if (config.bindTo !== undefined) socket.bind({ family: v6 ? 'inet6' : 'inet', address: config.bindTo });
    } catch (error) {
      socket.close();
      return attempt.finish(socketFailure(error, where));
    }
    const identifier = randomInt(0, 0x10000);
    const sequence = randomInt(0, 0x10000);
    const token = randomBytes(16);
    let sentAt = 0;
    socket.on('message', (data) => {
      const echo = decodeEcho(v6, data);
      if (!echo || echo.type !== (v6 ? ICMPV6.echoReply : ICMP.echoReply)) return;
      if (echo.identifier !== identifier || echo.sequence !== sequence || !echo.payload.equals(token)) return;
      attempt.finish({ ok: true, rttMs: performance.now() - sentAt });
    });
    socket.on('error', (error) => attempt.finish(socketFailure(error, where)));
    socket.resume();
    sentAt = performance.now();
    socket.send(encodeEchoRequest(v6, identifier, sequence, token), { family: v6 ? 'inet6' : 'inet', address: config.connectIp }).then(
      () => attempt.arm(config.connectTimeoutMs, noReply),
      (error: unknown) => attempt.finish(socketFailure(error, where)),
    );
    return () => socket.close();
  });
}
