// layer: behaviour (vrrp)
// job: notify scripts as keepalived runs them: explicit argv (never a shell), a timeout, the result as a ScriptEvent.
import { execFile } from 'node:child_process';
import type { ScriptEvent } from './events.js';
import type { NotifyScripts } from './instance.js';
import type { NotifyState } from './state.js';

/** The argv lists to run when `owner` (an instance or a group) enters `state`. */
export function scriptsFor(scripts: NotifyScripts, kind: 'INSTANCE' | 'GROUP', owner: string, state: NotifyState,
  priority: number): string[][] {
  const out: string[][] = [];
  const specific = { MASTER: scripts.master, BACKUP: scripts.backup, FAULT: scripts.fault, STOP: scripts.stop, INIT: undefined }[state];
  if (specific) out.push([...specific]);
  // keepalived's generic `notify`: "$1 = GROUP|INSTANCE, $2 = name, $3 = state, $4 = priority".
  if (scripts.notify) out.push([...scripts.notify, kind, owner, state, String(priority)]);
  return out;
}

/** Run `argv` (argv[0] is the program; no shell), killing it after `timeoutMs`. Never rejects. */
export function runScript(owner: string, argv: string[], timeoutMs: number): Promise<ScriptEvent> {
  return new Promise((resolve) => {
    const [program, ...args] = argv;
    const done = (exitCode: number | null, signal: string | null, timedOut: boolean, error?: Error): void => {
      const event: ScriptEvent = { type: 'script', owner, argv, exitCode, signal, timedOut };
      if (error) event.error = error;
      resolve(event);
    };
    try {
      execFile(program!, args, { timeout: timeoutMs, killSignal: 'SIGKILL', windowsHide: true }, (error) => {
        if (!error) return done(0, null, false);
        const e = error as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: NodeJS.Signals | null };
        if (typeof e.code === 'string') return done(null, null, false, e); // could not start (ENOENT, EACCES)
        const timedOut = e.killed === true && e.signal === 'SIGKILL';
        done(typeof e.code === 'number' ? e.code : null, e.signal ?? null, timedOut);
      });
    } catch (error) {
      done(null, null, false, error as Error);
    }
  });
}
