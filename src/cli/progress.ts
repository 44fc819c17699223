// layer: cli (composition only)
// job: a progress bar on stderr for long bulk work (cli-progress), only when a person is watching: stdout and stderr are terminals and the output is not JSON.
import { createRequire } from 'node:module';
import type { SingleBar } from 'cli-progress';

export interface Progress {
  /** Work done so far (of `total`; with no total, a running count). */
  update(done: number): void;
  /** Clear the bar: what the command prints next starts on a clean line. */
  stop(): void;
}

export interface ProgressOptions {
  /** The amount of work; 0 or undefined when it is not known beforehand (a count is shown instead). */
  total?: number;
  /** What is counted: `entries`, `operations`, `MiB`. */
  unit: string;
  /** The caller's own conditions (e.g. enough work to be worth a bar; not --json). */
  enabled?: boolean;
  /** Streams to check (tests hand in others); default the process's. */
  stdout?: { isTTY?: boolean };
  stderr?: NodeJS.WriteStream;
}

/** Whether a bar would be shown: wanted, and both output streams are terminals. */
export function wantsProgress(options: Pick<ProgressOptions, 'enabled' | 'stdout' | 'stderr'>): boolean {
  return options.enabled !== false && (options.stdout ?? process.stdout).isTTY === true && (options.stderr ?? process.stderr).isTTY === true;
}

/** A progress bar, or undefined when none should be shown (not a terminal, JSON output, or not enabled). */
export function progressBar(options: ProgressOptions): Progress | undefined {
  if (!wantsProgress(options)) return undefined;
  // Loaded only when a bar is shown: the common case (a pipe, a script) never pays for it.
  const { SingleBar: Bar, Presets } = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const known = (options.total ?? 0) > 0;
  const bar: SingleBar = new Bar({
    stream: options.stderr ?? process.stderr, clearOnComplete: true, hideCursor: true, fps: 10,
    format: known ? `{bar} {percentage}% {value}/{total} ${options.unit} {duration}s` : `{value} ${options.unit} {duration}s`,
  }, Presets.shades_classic);
  bar.start(known ? options.total as number : 0, 0);
  return {
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}
