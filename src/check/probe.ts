// layer: behaviour (check)
// job: from a resolved checker to its probe and attempt bound; one attempt on its own (for tools and tests).
import { probeDns } from './dns.js';
import { fileProbe } from './file.js';
import { probeHttp } from './http.js';
import { probeMisc } from './misc.js';
import { probePing } from './ping.js';
import { probeSmtp, smtpAttemptTimeoutMs } from './smtp.js';
import type { ScheduledCheck } from './scheduler.js';
import { probeTcp } from './tcp.js';
import { probeUdp } from './udp.js';
import type { CheckConfig, CheckResult, Probe } from './types.js';

/** MISC_CHECK kills its own process group at misc_timeout; the scheduler's deadline is a backstop this much later. */
const MISC_BACKSTOP_MS = 500;
/** FILE_CHECK reads at most 127 bytes of a local file; a read slower than this fails with `deadline`. */
const FILE_READ_MS = 5000;
/** UDP, DNS and PING end their own wait at connect_timeout (silence is an answer); the deadline is a backstop this much later. */
const DATAGRAM_BACKSTOP_MS = 500;

/** The attempt itself, for the checker's kind. */
export function probeFor(config: CheckConfig): Probe {
  switch (config.kind) {
    case 'TCP_CHECK': return (signal) => probeTcp(config, signal);
    case 'HTTP_GET':
    case 'SSL_GET': return (signal) => probeHttp(config, signal);
    case 'MISC_CHECK': return (signal) => probeMisc(config, signal);
    case 'SMTP_CHECK': return (signal) => probeSmtp(config, signal);
    case 'UDP_CHECK': return (signal) => probeUdp(config, signal);
    case 'DNS_CHECK': return (signal) => probeDns(config, signal);
    case 'PING_CHECK': return (signal) => probePing(config, signal);
    case 'FILE_CHECK': return fileProbe(config);
  }
}

/** How long one attempt may run: connect_timeout (TCP), attemptTimeoutMs (HTTP), misc_timeout (MISC), 4 × connect_timeout (SMTP), connect_timeout and a backstop (UDP, DNS, PING). */
export function attemptTimeoutMs(config: CheckConfig): number {
  switch (config.kind) {
    case 'TCP_CHECK': return config.connectTimeoutMs;
    case 'HTTP_GET':
    case 'SSL_GET': return config.attemptTimeoutMs;
    case 'MISC_CHECK': return config.timeoutMs + MISC_BACKSTOP_MS;
    case 'SMTP_CHECK': return smtpAttemptTimeoutMs(config);
    case 'UDP_CHECK':
    case 'DNS_CHECK':
    case 'PING_CHECK': return config.connectTimeoutMs + DATAGRAM_BACKSTOP_MS;
    case 'FILE_CHECK': return FILE_READ_MS;
  }
}

/** What the scheduler needs to run `config`. */
export function scheduledCheck(config: CheckConfig, probe: Probe = probeFor(config)): ScheduledCheck {
  const { delayLoopMs, retry, delayBeforeRetryMs, warmupMs } = config;
  return { timing: { delayLoopMs, retry, delayBeforeRetryMs, warmupMs }, attemptTimeoutMs: attemptTimeoutMs(config), probe };
}

/** One attempt of `config` now, bounded by its attempt timeout (or `signal`). Never rejects. */
export async function checkOnce(config: CheckConfig, signal?: AbortSignal): Promise<CheckResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort('deadline'), attemptTimeoutMs(config));
  const forward = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  try {
    return await probeFor(config)(controller.signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  }
}
