// layer: behaviour (check)
// job: run a program as MISC_CHECK and the quorum scripts need: explicit argv (no shell), its own process group killed on timeout, bounded output, nothing left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import type { AttemptSignal } from './signal.js';

/** How a MISC_CHECK program is run: argv, timeout, user and group, environment. */
export interface ProgramOptions {
  /** Program and arguments; argv[0] is run directly (PATH is searched), never through a shell. */
  argv: readonly string[];
  /** The whole process group is killed with SIGKILL after this. */
  timeoutMs: number;
  uid?: number;
  gid?: number;
  env?: Record<string, string>;
  /** Output bytes (stdout and stderr together) kept; the rest is read and dropped. */
  maxOutputBytes: number;
  signal?: AttemptSignal;
}

/** How a program ended. */
export interface ProgramOutcome {
  /** Exit status, or null when killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** Set when it could not be started (ENOENT, EACCES, ...). */
  error?: NodeJS.ErrnoException;
  /** The first maxOutputBytes of its output, as text. */
  output: string;
  /** Every output byte it wrote, kept or not. */
  outputBytes: number;
}

/** Kill the process group `pid` leads; quiet when it is already gone. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Run a program in a new session (so its pid is its process group id). On timeout or abort the
 * group gets SIGKILL. When the program exits, anything it left running in its group is killed
 * too and the pipes are closed, so a background child holding stdout cannot keep the check open.
 * Node reaps the program itself; nothing is left as a zombie. Never rejects.
 */
export function runProgram(options: ProgramOptions): Promise<ProgramOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    const outcome: ProgramOutcome = { exitCode: null, signal: null, timedOut: false, aborted: false, output: '', outputBytes: 0 };
    let child: ChildProcess;
    const [program, ...args] = options.argv;
    const finish = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      killGroup(child?.pid);
      child?.stdout?.destroy();
      child?.stderr?.destroy();
      outcome.output = Buffer.concat(chunks).toString('utf8');
      resolve(outcome);
    };
    const onAbort = (): void => {
      outcome.aborted = true;
      killGroup(child?.pid);
    };
    const timer = setTimeout(() => {
      outcome.timedOut = true;
      killGroup(child?.pid);
    }, options.timeoutMs);
    try {
      child = spawn(program ?? '', args, {
        detached: true, shell: false, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true,
        ...(options.uid !== undefined ? { uid: options.uid } : {}),
        ...(options.gid !== undefined ? { gid: options.gid } : {}),
        ...(options.env !== undefined ? { env: options.env } : {}),
      });
    } catch (error) {
      outcome.error = error as NodeJS.ErrnoException;
      clearTimeout(timer);
      return resolve(outcome);
    }
    const collect = (chunk: Buffer): void => {
      outcome.outputBytes += chunk.length;
      if (kept >= options.maxOutputBytes) return;
      const part = chunk.subarray(0, options.maxOutputBytes - kept);
      chunks.push(part);
      kept += part.length;
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', (error: NodeJS.ErrnoException) => {
      // 'error' without 'exit': it never started.
      if (child.pid === undefined) {
        outcome.error = error;
        finish();
      }
    });
    child.once('exit', (code, signal) => {
      outcome.exitCode = code;
      outcome.signal = signal;
      finish();
    });
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
