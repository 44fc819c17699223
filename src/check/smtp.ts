// layer: behaviour (check)
// job: SMTP_CHECK: connect, read the greeting (220), HELO helo_name (250), QUIT (any reply); each read bounded by connect_timeout.
import net from 'node:net';
import { decodeSmtpReply, describeSmtpReply, SmtpReplyError, type SmtpReply } from './smtp-reply.js';
import type { AttemptSignal } from './signal.js';
import { connectFailure, connectOptions, connectTimeoutFailure, hostPort } from './tcp.js';
import { abortedFailure, type CheckFailure, type CheckResult, type SmtpCheckConfig } from './types.js';

/** Steps of the dialogue, for messages. */
type Step = 'greeting' | 'HELO' | 'QUIT';

/** How long an SMTP attempt may run: the connect and three replies, each within connect_timeout. */
export function smtpAttemptTimeoutMs(config: SmtpCheckConfig): number {
  return 4 * config.connectTimeoutMs;
}

/** What keepalived expects at each step (smtp_engine_thread): 220 to the greeting, 250 to HELO, anything to QUIT. */
export function smtpStepResult(step: Step, reply: SmtpReply, where: string): CheckFailure | undefined {
  const expected = step === 'greeting' ? 220 : step === 'HELO' ? 250 : undefined;
  if (expected === undefined || reply.code === expected) return undefined;
  return { ok: false, reason: 'smtp-reply', message: `${where}: ${step} answered ${describeSmtpReply(reply)}, expected ${expected}`, replyCode: reply.code };
}

/** One SMTP_CHECK attempt. Never rejects; the socket is destroyed in every case. */
export function probeSmtp(config: SmtpCheckConfig, signal: AttemptSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(abortedFailure(signal, 'connect-timeout'));
    const where = `SMTP ${hostPort(config.connectIp, config.connectPort)}`;
    const socket = net.connect(connectOptions(config));
    let connected = false;
    let step: Step = 'greeting';
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (result: CheckResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('data');
      socket.destroy();
      resolve(result);
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(connected
        ? { ok: false, reason: 'response-timeout', message: `${where}: no ${step} reply within ${config.connectTimeoutMs} ms` }
        : connectTimeoutFailure(config)), config.connectTimeoutMs);
    };
    const onAbort = (): void => finish(signal.reason === 'deadline' ? { ok: false, reason: 'deadline', message: `${where}: ran past the attempt deadline at the ${step} step` } : abortedFailure(signal));
    const onReply = (reply: SmtpReply): void => {
      const failure = smtpStepResult(step, reply, where);
      if (failure) return finish(failure);
      if (step === 'QUIT') return finish({ ok: true });
      step = step === 'greeting' ? 'HELO' : 'QUIT';
      socket.write(step === 'HELO' ? `HELO ${config.heloName}\r\n` : 'QUIT\r\n');
      arm();
    };
    socket.setEncoding('latin1');
    socket.once('connect', () => { connected = true; arm(); });
    socket.on('data', (chunk: string) => {
      text += chunk;
      try {
        for (let d = decodeSmtpReply(text); d; d = decodeSmtpReply(text)) {
          text = text.slice(d.used);
          onReply(d.reply);
          if (socket.destroyed) return;
        }
      } catch (error) {
        if (!(error instanceof SmtpReplyError)) throw error;
        finish({ ok: false, reason: 'protocol-error', message: `${where}: ${step} reply: ${error.message}` });
      }
    });
    socket.on('end', () => finish({ ok: false, reason: 'closed', message: `${where}: closed by the server before the ${step} reply` }));
    socket.on('error', (error) => finish(connected
      ? { ...connectFailure(error, config), reason: 'closed', message: `${where}: ${(error as NodeJS.ErrnoException).code ?? error.message} before the ${step} reply` }
      : connectFailure(error, config)));
    signal.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}
