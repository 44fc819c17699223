// layer: demo (the site lab, shared with the site test)
// job: what the site lab is built from: a cleanup stack that runs even when a step fails, the monotonic clock every process shares, commands, and child processes whose output lines are timed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** CLOCK_MONOTONIC in ms: the same clock in every process of the machine (the traffic script's times, kernel timestamps). */
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** argv's stdout (no shell); rejects with its stderr in the message. */
export async function sh(argv: readonly string[]): Promise<string> {
  const [command, ...args] = argv;
  if (command === undefined) throw new TypeError('empty command');
  try {
    const { stdout } = await execFileAsync(command, args, { maxBuffer: 64 << 20, encoding: 'utf8' });
    return stdout;
  } catch (error) {
    throw new Error(`${argv.join(' ')} failed: ${((error as { stderr?: string }).stderr ?? String(error)).trim()}`);
  }
}

/**
 * Steps to undo, run last-first by `run()`, each even when an earlier one threw. A test hands
 * `run` to `t.teardown`, a script calls it in `finally`: namespaces and processes go either way.
 */
export class Cleanup {
  readonly #steps: Array<{ what: string; fn: () => unknown }> = [];

  defer(what: string, fn: () => unknown): void {
    this.#steps.push({ what, fn });
  }

  /** Runs every step; resolves with the failures, one line each. */
  async run(): Promise<string[]> {
    const failures: string[] = [];
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step.fn();
      } catch (error) {
        failures.push(`cleanup: ${step.what}: ${String(error)}`);
      }
    }
    return failures;
  }
}

/** A line a process printed, timed on arrival (monotonic ms). */
export interface Line { atMs: number; text: string }

export interface Proc {
  name: string;
  child: ChildProcess;
  lines: Line[];
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  running(): boolean;
  /** The first line from now (or among those seen since `sinceMs`) that passes `accept`. */
  waitFor(accept: (l: Line) => boolean, timeoutMs: number, sinceMs?: number): Promise<Line>;
  write(text: string): void;
  /** Sends `sig` to the process, or to its whole process group when it was started `group`. */
  kill(sig: NodeJS.Signals): void;
}

export interface ProcOptions {
  /** Its own process group (`kill` then reaches every process it forked). */
  group?: boolean;
  /** Called with every line as it arrives. */
  onLine?: (l: Line) => void;
}

/** Starts argv (stdin piped); SIGKILLed (its group too) and awaited by `cleanup` if still running. */
export function startProc(cleanup: Cleanup, name: string, argv: readonly string[], options: ProcOptions = {}): Proc {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: options.group ?? false });
  const lines: Line[] = [];
  const waiters = new Set<{ accept: (l: Line) => boolean; resolve: (l: Line) => void }>();
  const take = (buffer: { rest: string }) => (chunk: string): void => {
    const parts = (buffer.rest + chunk).split('\n');
    buffer.rest = parts.pop() ?? '';
    for (const text of parts) {
      const line = { atMs: monoMs(), text };
      lines.push(line);
      options.onLine?.(line);
      for (const w of waiters) if (w.accept(line)) { waiters.delete(w); w.resolve(line); }
    }
  };
  child.stdout?.setEncoding('utf8').on('data', take({ rest: '' }));
  child.stderr?.setEncoding('utf8').on('data', take({ rest: '' }));
  child.stdin?.on('error', () => undefined); // writes after it exited
  let done = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => { done = true; resolve(); }));
  child.once('error', () => { done = true; });
  const proc: Proc = {
    name, child, lines, exited,
    running: () => !done && child.exitCode === null && child.signalCode === null,
    waitFor(accept, timeoutMs, sinceMs) {
      const earlier = sinceMs === undefined ? undefined : lines.find((l) => l.atMs >= sinceMs && accept(l));
      if (earlier) return Promise.resolve(earlier);
      return new Promise((resolve, reject) => {
        const w = { accept, resolve: (l: Line) => { clearTimeout(timer); resolve(l); } };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${name}: no matching line in ${timeoutMs} ms; last lines:\n${lines.slice(-12).map((l) => l.text).join('\n')}`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    write: (text) => { if (proc.running()) child.stdin?.write(text); },
    kill(sig) {
      if (!proc.running() || child.pid === undefined) return;
      try {
        process.kill(options.group ? -child.pid : child.pid, sig);
      } catch { /* gone */ }
    },
  };
  cleanup.defer(`stop ${name}`, async () => {
    if (!proc.running()) return;
    proc.kill('SIGKILL');
    await Promise.race([exited, sleep(5000)]);
  });
  return proc;
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined; undefined after `timeoutMs`. */
export async function poll<T>(probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T | undefined> {
  const deadline = monoMs() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (monoMs() >= deadline) return undefined;
    await sleep(everyMs);
  }
}
