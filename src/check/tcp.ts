// layer: behaviour (check)
// job: TCP_CHECK: connect (from bindto/bind_port) within connect_timeout; established = success; the socket is closed at once.
import net from 'node:net';
import { errnoCode } from '../errors.js';
import { abortedFailure, type CheckFailure, type CheckResult, type ConnectTarget, type TcpCheckConfig } from './types.js';
import type { AttemptSignal } from './signal.js';

/** A connect error as a failure: refused, unreachable, or another errno. */
export function connectFailure(error: unknown, target: ConnectTarget): CheckFailure {
  const e = error as NodeJS.ErrnoException;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const errno = typeof e.errno === 'number' ? Math.abs(e.errno) : undefined;
  const where = `connect to ${hostPort(target.connectIp, target.connectPort)}`;
  const failure: CheckFailure = {
    ok: false,
    reason: code === 'ECONNREFUSED' ? 'refused'
      : code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL' ? 'unreachable'
        : code === 'ETIMEDOUT' ? 'connect-timeout' : 'connect-error',
    message: `${where}: ${code ?? (errno !== undefined ? errnoCode(errno) : e.message)}`,
  };
  if (errno !== undefined) failure.errno = errno;
  if (code !== undefined) failure.code = code;
  return failure;
}

/** The failure a connect that did not complete within `connectTimeoutMs` reports. */
export function connectTimeoutFailure(target: ConnectTarget): CheckFailure {
  return {
    ok: false, reason: 'connect-timeout',
    message: `connect to ${hostPort(target.connectIp, target.connectPort)}: no answer within ${target.connectTimeoutMs} ms`,
  };
}

/** `host:port`, with IPv6 in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The options of net.connect for a target. */
export function connectOptions(target: ConnectTarget): net.TcpNetConnectOpts {
  const options: net.TcpNetConnectOpts = { host: target.connectIp, port: target.connectPort };
  if (target.bindTo !== undefined) options.localAddress = target.bindTo;
  if (target.bindPort !== undefined) options.localPort = target.bindPort;
  return options;
}

/**
 * One TCP_CHECK attempt. Resolves (never rejects) when the connection is established (success),
 * fails, or `signal` aborts; the socket is destroyed in every case. connect_timeout is the
 * attempt's deadline (the scheduler aborts the signal with `'deadline'`, which is `connect-timeout` here).
 */
export function probeTcp(config: TcpCheckConfig, signal: AttemptSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(abortedFailure(signal, 'connect-timeout'));
    const socket = net.connect(connectOptions(config));
    const finish = (result: CheckResult): void => {
      signal.removeEventListener('abort', onAbort);
      socket.removeListener('connect', onConnect);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish(signal.reason === 'deadline' ? connectTimeoutFailure(config) : abortedFailure(signal));
    const onConnect = (): void => finish({ ok: true });
    socket.once('connect', onConnect);
    // After destroy() no further 'error' can matter; keep one listener so none is ever unhandled.
    socket.on('error', (error) => finish(connectFailure(error, config)));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
