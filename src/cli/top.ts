// layer: cli (composition only)
// job: `lvskit top`: a running daemon's status and events over its control socket every interval, drawn live on a terminal (q or Ctrl-C quits), or printed N frames (text or JSON) and exit.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { controlRequest, defaultControlPath } from '../daemon/control.js';
import type { BalancerStatus } from '../daemon/events.js';
import type { RecentEvent } from '../daemon/recent-events.js';
import { netnsOption, secondsAsMs, wholeNumber } from './options.js';
import { renderTop, topFrame, type TopSample } from './top-view.js';

interface TopOptions { control?: string; netns?: string; interval: number; once?: boolean; count?: number; json?: boolean }

/** How many of the daemon's last events a frame asks for (a terminal shows those that fit). */
const EVENTS_ASKED = 50;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function sample(control: string): Promise<TopSample> {
  const [status, events] = await Promise.all([
    controlRequest(control, { command: 'status' }, 10_000) as Promise<BalancerStatus>,
    controlRequest(control, { command: 'events', last: EVENTS_ASKED }, 10_000) as Promise<RecentEvent[]>,
  ]);
  return { atMs: Date.now(), status, events };
}

/** Not a terminal (or --once, --count, --json): a first sample, then `count` frames each one interval later (so each has rates), printed. */
async function printFrames(control: string, opts: TopOptions): Promise<void> {
  const count = opts.once ? 1 : opts.count ?? 1;
  let prev = await sample(control);
  const startMs = performance.now();
  for (let i = 1; i <= count; i++) {
    await sleep(startMs + i * opts.interval - performance.now());
    const cur = await sample(control);
    const frame = topFrame(cur, prev);
    process.stdout.write(opts.json ? `${JSON.stringify(frame)}\n` : `${i > 1 ? '\n' : ''}${renderTop(frame).join('\n')}\n`);
    prev = cur;
  }
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

/** On a terminal: a frame at once (rates from the second on), redrawn every interval and on resize, until q, Ctrl-C or SIGTERM. */
async function live(control: string, opts: TopOptions): Promise<void> {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => { stop = resolve; });
  const restore = takeTerminal((key) => { if (key === 'q' || key === 'Q' || key === '\x03') stop(); });
  const onSignal = (): void => stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let prev: TopSample | undefined;
  let shown: ReturnType<typeof topFrame> | undefined;
  let problem: string | undefined;
  const draw = (): void => {
    const hint = `every ${opts.interval / 1000}s, q quits`;
    // A terminal that reports no size (0) gets the whole frame.
    const size = { ...(process.stdout.columns > 0 ? { width: process.stdout.columns } : {}), ...(process.stdout.rows > 0 ? { height: process.stdout.rows } : {}) };
    const lines = shown ? renderTop(shown, { ...size, hint, ...(problem ? { problem } : {}) })
      : [`lvskit top: ${problem ?? `waiting for ${control}`}  (${hint})`];
    process.stdout.write(`\x1b[H${lines.join('\x1b[K\n')}\x1b[K\x1b[J`);
  };
  process.stdout.on('resize', draw);
  try {
    const startMs = performance.now();
    for (let i = 0; ; i++) {
      try {
        const cur = await sample(control);
        shown = topFrame(cur, prev);
        prev = cur;
        problem = undefined;
      } catch (error) {
        problem = (error as Error).message; // shown, and tried again at the next refresh
      }
      draw();
      const next = sleep(startMs + (i + 1) * opts.interval - performance.now());
      if (await Promise.race([next.then(() => false), stopped.then(() => true)])) return;
    }
  } finally {
    process.stdout.off('resize', draw);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    restore();
  }
}

export function registerTopCommand(program: Command): void {
  program.command('top')
    .description('a live view of a running `lvskit run`: VRRP states, each service and real server with health, weight, connections and rates (as ipvsadm -Ln --rate, from the kernel\'s counters between refreshes), bans, recent events')
    .option('--control <path>', 'the daemon\'s control socket (default /run/lvskit/lvskit.sock, or lvskit-NETNS.sock with --netns)')
    .addOption(netnsOption())
    .addOption(new Option('--interval <duration>', 'time between refreshes: seconds, or with a unit (500ms, 1s, 2m)').argParser(secondsAsMs).default(1000, '1s'))
    .addOption(new Option('--once', 'print one frame and exit (its rates are over one interval)').conflicts('count'))
    .option('--count <n>', 'print N frames, one interval apart, and exit', positiveCount)
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
