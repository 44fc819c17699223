// layer: behaviour (check)
// job: UDP_CHECK and the UDP exchange DNS_CHECK shares: a connected datagram socket, an ICMP error as failure, silence as success unless a reply is required.
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { hexBytes, matchesHexPattern } from './hex.js';
import type { AttemptSignal } from './signal.js';
import { hostPort } from './tcp.js';
import { abortedFailure, type CheckFailure, type CheckResult, type ConnectTarget, type UdpCheckConfig } from './types.js';

/** A socket error of a connected UDP socket (an ICMP error the kernel queued, or a local one) as a failure. */
export function udpErrorFailure(error: unknown, target: ConnectTarget): CheckFailure {
  const e = error as NodeJS.ErrnoException;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const where = `UDP ${hostPort(target.connectIp, target.connectPort)}`;
  const f: CheckFailure = {
    ok: false,
    reason: code === 'ECONNREFUSED' ? 'port-unreachable'
      : code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL' ? 'unreachable' : 'connect-error',
    message: code === 'ECONNREFUSED' ? `${where}: ICMP port unreachable (ECONNREFUSED)` : `${where}: ${code ?? e.message}`,
  };
  if (code !== undefined) f.code = code;
  if (typeof e.errno === 'number') f.errno = Math.abs(e.errno);
  return f;
}

/** What keepalived decides of a reply (check_udp_reply): length within [min, max], then the bytes against require_reply's pattern. */
export function udpReplyFailure(config: UdpCheckConfig, reply: Uint8Array): CheckFailure | undefined {
  const where = `UDP ${hostPort(config.connectIp, config.connectPort)}`;
  if (reply.length < config.minReplyBytes || reply.length > config.maxReplyBytes) {
    return { ok: false, reason: 'reply-mismatch', message: `${where}: reply of ${reply.length} bytes, expected ${config.minReplyBytes}..${config.maxReplyBytes}` };
  }
  if (config.replyHex !== undefined && !matchesHexPattern(reply, config.replyHex)) {
    return { ok: false, reason: 'reply-mismatch', message: `${where}: reply ${Buffer.from(reply.subarray(0, 32)).toString('hex')} does not match ${config.replyHex}` };
  }
  return undefined;
}

/** What an exchange ends with: a datagram, silence until the timeout, or a failure. */
export type UdpOutcome = { kind: 'reply'; data: Buffer } | { kind: 'silence' } | { kind: 'failed'; failure: CheckFailure };

/**
 * Send `payload` to the target from a connected socket and wait up to connect_timeout for a
 * datagram that `accept` takes (others are ignored, as keepalived ignores a DNS answer of another
 * id). An ICMP error the kernel reports on the socket ends it as a failure. Never rejects.
 */
export function udpExchange(target: ConnectTarget, payload: Buffer, signal: AttemptSignal, accept: (data: Buffer) => boolean = () => true): Promise<UdpOutcome> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve({ kind: 'failed', failure: abortedFailure(signal) });
    const socket = dgram.createSocket(target.connectIp.includes(':') ? 'udp6' : 'udp4');
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (outcome: UdpOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      try { socket.close(); } catch { /* closed already */ }
      resolve(outcome);
    };
    const onAbort = (): void => finish(signal.reason === 'deadline' ? { kind: 'silence' } : { kind: 'failed', failure: abortedFailure(signal) });
    socket.on('error', (error) => finish({ kind: 'failed', failure: udpErrorFailure(error, target) }));
    socket.on('message', (data) => { if (accept(data)) finish({ kind: 'reply', data }); });
    signal.addEventListener('abort', onAbort, { once: true });
    // On failure (no route: ENETUNREACH at connect()) node hands the error to this callback.
    const connect = (): void => socket.connect(target.connectPort, target.connectIp, (connectError?: Error) => {
      if (connectError) return finish({ kind: 'failed', failure: udpErrorFailure(connectError, target) });
      if (done) return;
      socket.send(payload, (error) => {
        if (error) finish({ kind: 'failed', failure: udpErrorFailure(error, target) });
        else if (!done) timer = setTimeout(() => finish({ kind: 'silence' }), target.connectTimeoutMs);
      });
    });
    if (target.bindTo !== undefined || target.bindPort !== undefined) {
      socket.bind({ port: target.bindPort ?? 0, ...(target.bindTo !== undefined ? { address: target.bindTo } : {}) }, connect);
    } else connect();
  });
}

/** One UDP_CHECK attempt. Never rejects. */
export async function probeUdp(config: UdpCheckConfig, signal: AttemptSignal): Promise<CheckResult> {
  const payload = config.payloadHex !== undefined ? hexBytes(config.payloadHex) : randomBytes(16);
  const outcome = await udpExchange(config, payload, signal);
  if (outcome.kind === 'failed') return outcome.failure;
  if (outcome.kind === 'silence') {
    if (!config.requireReply) return { ok: true };
    return { ok: false, reason: 'no-reply', message: `UDP ${hostPort(config.connectIp, config.connectPort)}: no reply within ${config.connectTimeoutMs} ms` };
  }
  return (config.requireReply ? udpReplyFailure(config, outcome.data) : undefined) ?? { ok: true };
}
