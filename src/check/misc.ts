// layer: behaviour (check)
// job: MISC_CHECK: run the script (explicit argv, own process group, misc_timeout), exit 0 = success, misc_dynamic exit 2..255 = success with weight code − 2.
import { runProgram, type ProgramOutcome } from './process.js';
import { abortedFailure, type CheckFailure, type CheckResult, type MiscCheckConfig } from './types.js';
import type { AttemptSignal } from './signal.js';

/** The result keepalived gives an exit status (check_misc.c `misc_check_child_thread`). */
export function miscExitResult(exitCode: number, dynamic: boolean): CheckResult | undefined {
  if (exitCode === 0) return { ok: true };
  if (dynamic && exitCode >= 2 && exitCode <= 255) return { ok: true, weight: exitCode - 2 };
  return undefined;
}

function outcomeResult(config: MiscCheckConfig, outcome: ProgramOutcome, signal: AttemptSignal): CheckResult {
  const program = config.argv[0] ?? '';
  const base = (reason: CheckFailure['reason'], message: string): CheckFailure => {
    const f: CheckFailure = { ok: false, reason, message: `${program}: ${message}` };
    if (outcome.output !== '') f.output = outcome.output;
    return f;
  };
  if (outcome.error) {
    const f = base('spawn-error', `cannot run: ${outcome.error.code ?? outcome.error.message}`);
    if (outcome.error.code !== undefined) f.code = outcome.error.code;
    if (typeof outcome.error.errno === 'number') f.errno = Math.abs(outcome.error.errno);
    return f;
  }
  if (outcome.timedOut) return base('misc-timeout', `still running after ${config.timeoutMs} ms; process group killed`);
  if (outcome.aborted) {
    const f = abortedFailure(signal);
    return signal.reason === 'deadline' ? base('misc-timeout', 'ran past the attempt deadline; process group killed') : f;
  }
  if (outcome.exitCode !== null) {
    const ok = miscExitResult(outcome.exitCode, config.dynamic);
    if (ok) return ok;
    const f = base('exit-code', `exited with ${outcome.exitCode}`);
    f.exitCode = outcome.exitCode;
    return f;
  }
  const f = base('signal', `killed by ${outcome.signal ?? 'a signal'}`);
  if (outcome.signal) f.signal = outcome.signal;
  return f;
}

/** One MISC_CHECK attempt. Never rejects. */
export async function probeMisc(config: MiscCheckConfig, signal: AttemptSignal): Promise<CheckResult> {
  const outcome = await runProgram({
    argv: config.argv,
    timeoutMs: config.timeoutMs,
    maxOutputBytes: config.maxOutputBytes,
    signal,
    ...(config.uid !== undefined ? { uid: config.uid } : {}),
    ...(config.gid !== undefined ? { gid: config.gid } : {}),
    ...(config.env !== undefined ? { env: config.env } : {}),
  });
  return outcomeResult(config, outcome, signal);
}
