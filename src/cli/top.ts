// layer: cli (composition only)
// job: `lvskit top`: a running daemon's status and events over its control socket every interval, drawn live on a terminal (q or Ctrl-C quits), or printed N frames (text or JSON) and exit.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { controlRequest, defaultControlPath } from '../daemon/control.js';
import type { BalancerStatus } from '../daemon/events.js';
import type { RecentEvent } from '../daemon/recent-events.js';
import { netnsOption, secondsAsMs, wholeNumber } from './options.js';
import { KERNEL_COUNTER_PERIOD_MS, rateBase, renderTop, topFrame, type TopFrame, type TopSample } from './top-view.js';

interface TopOptions { control?: string; netns?: string; interval: number; once?: boolean; count?: number; json?: boolean }

/** How many of the daemon's last events a frame asks for (a terminal shows those that fit). */
const EVENTS_ASKED = 50;

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done);
  });
}

async function sample(control: string): Promise<TopSample> {
  const [status, events] = await Promise.all([
    controlRequest(control, { command: 'status' }, 10_000) as Promise<BalancerStatus>,
    controlRequest(control, { command: 'events', last: EVENTS_ASKED }, 10_000) as Promise<RecentEvent[]>,
  ]);
  return { atMs: Date.now(), status, events };
}

/** Readings kept for rates: enough to span a few of the kernel's counter periods, or a few intervals. */
function keepFor(intervalMs: number): number {
  return Math.max(4 * KERNEL_COUNTER_PERIOD_MS, 4 * intervalMs);
}

/** What to do with each reading: `frame` gets it with the earlier one to take rates from; `failed` a reading that failed (absent: it ends the loop). Either returns whether to go on. */
interface Reader {
  frame(cur: TopSample, base: TopSample | undefined): boolean;
  failed?(error: Error): boolean;
}

/** A reading every `intervalMs` (on a fixed schedule), until the reader says stop or `signal` aborts. */
async function readEvery(control: string, intervalMs: number, reader: Reader, signal?: AbortSignal): Promise<void> {
  const history: TopSample[] = [];
  const startMs = performance.now();
  for (let i = 0; !signal?.aborted; i++) {
    let cur: TopSample;
    try {
      cur = await sample(control);
    } catch (error) {
      if (!reader.failed || !reader.failed(error as Error)) throw error;
      await sleep(startMs + (i + 1) * intervalMs - performance.now(), signal);
      continue;
    }
    if (signal?.aborted || !reader.frame(cur, rateBase(history, cur))) return;
    history.push(cur);
    while (history.length > 1 && cur.atMs - history[0]!.atMs > keepFor(intervalMs)) history.shift();
    await sleep(startMs + (i + 1) * intervalMs - performance.now(), signal);
  }
}

/**
 * Not a terminal (or --once, --count, --json): a reading every interval; from the first one that
 * has rates (2 s of counters: KERNEL_COUNTER_PERIOD_MS), `count` frames printed, then exit. A
 * reading that fails is the command's error.
 */
async function printFrames(control: string, opts: TopOptions): Promise<void> {
  let left = opts.once ? 1 : opts.count ?? 1;
  let printed = 0;
  await readEvery(control, opts.interval, {
    frame(cur, base) {
      if (!base) return true;
      const frame = topFrame(cur, base);
      process.stdout.write(opts.json ? `${JSON.stringify(frame)}\n` : `${printed > 0 ? '\n' : ''}${renderTop(frame).join('\n')}\n`);
      printed++;
      return --left > 0;
    },
  });
}

/** The terminal's alternate screen, cursor hidden, keys read one by one; everything put back by the function returned (idempotent). */
function takeTerminal(onKey: (key: string) => void): () => void {
  const out = process.stdout;
  const input = process.stdin;
  out.write('\x1b[?1049h\x1b[?25l');
  const raw = input.isTTY === true;
  if (raw) {
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', onKey);
    input.resume();
  }
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    if (raw) {
      input.off('data', onKey);
      input.setRawMode(false);
      input.pause();
    }
    out.write('\x1b[?25h\x1b[?1049l');
  };
  process.once('exit', restore);
  return restore;
}

/**
 * On a terminal: a frame at once (rates once 2 s of counters are there), redrawn every interval
 * and on resize, until q, Ctrl-C or SIGTERM. A reading that fails leaves the last frame with
 * `not updated: …`, and the next refresh tries again.
 */
async function live(control: string, opts: TopOptions): Promise<void> {
  const quit = new AbortController();
  const stop = (): void => quit.abort();
  const restore = takeTerminal((key) => { if (key === 'q' || key === 'Q' || key === '\x03') stop(); });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let shown: TopFrame | undefined;
  let problem: string | undefined;
  const hint = `every ${opts.interval / 1000}s, q quits`;
  const draw = (): void => {
    // A terminal that reports no size (0) gets the whole frame.
    const size = { ...(process.stdout.columns > 0 ? { width: process.stdout.columns } : {}), ...(process.stdout.rows > 0 ? { height: process.stdout.rows } : {}) };
    const lines = shown ? renderTop(shown, { ...size, hint, ...(problem ? { problem } : {}) })
      : [`lvskit top: ${problem ?? `waiting for ${control}`}  (${hint})`];
    process.stdout.write(`\x1b[H${lines.join('\x1b[K\n')}\x1b[K\x1b[J`);
  };
  process.stdout.on('resize', draw);
  try {
    await readEvery(control, opts.interval, {
      frame(cur, base) { shown = topFrame(cur, base); problem = undefined; draw(); return true; },
      failed(error) { problem = error.message; draw(); return true; },
    }, quit.signal);
  } finally {
    process.stdout.off('resize', draw);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    restore();
  }
}

export function registerTopCommand(program: Command): void {
  program.command('top')
    .description('a live view of a running `lvskit run`: VRRP states, each service and real server with health, weight, connections and rates (as ipvsadm -Ln --rate, from the kernel\'s counters between refreshes), bans, recent events')
    .option('--control <path>', 'the daemon\'s control socket (default /run/lvskit/lvskit.sock, or lvskit-NETNS.sock with --netns)')
    .addOption(netnsOption())
    .addOption(new Option('--interval <duration>', 'time between refreshes: seconds, or with a unit (500ms, 1s, 2m)').argParser(secondsAsMs).default(1000, '1s'))
    .addOption(new Option('--once', 'print one frame and exit (once 2 s of the kernel\'s counters give rates)').conflicts('count'))
    .option('--count <n>', 'print N frames, one interval apart (the first once 2 s of counters give rates), and exit', positiveCount)
    .option('--json', 'print each frame as one JSON object per line (counters and rates as numbers) and exit after --count frames')
    .action((opts: TopOptions) => {
      const control = opts.control ?? defaultControlPath(opts.netns);
      const interactive = process.stdout.isTTY === true && !opts.once && opts.count === undefined && !opts.json;
      return interactive ? live(control, opts) : printFrames(control, opts);
    });
}

function positiveCount(text: string): number {
  const n = wholeNumber(text);
  if (n < 1) throw new InvalidArgumentError('not a positive whole number');
  return n;
}
