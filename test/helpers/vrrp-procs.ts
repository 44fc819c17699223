// layer: test helpers (kernel tier)
// job: VRRP speakers as child processes that can be SIGKILLed: `lvskit vrrp run` and a real keepalived --vrrp, each with its own files, killed in teardown.
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { VrrpInstanceConfig } from '../../src/vrrp/instance.js';
import type { Netns } from './netns.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

/** A line a speaker printed, with the time it arrived here. */
export interface Line { atMs: number; text: string; json?: Record<string, unknown> }

export interface Speaker {
  name: string;
  child: ChildProcess;
  lines: Line[];
  /**
   * The first line (from now, or already seen when `seen` is true) that passes `accept`. For an
   * lvskit speaker `timeoutMs` counts from its `started` line (node's start-up, slow under a
   * sanitizer or a loaded host, is not what the tests bound), which itself may take STARTUP_MS.
   */
  waitFor(accept: (line: Line) => boolean, timeoutMs: number, seen?: boolean): Promise<Line>;
  /** Send a signal to the process that speaks VRRP (for keepalived: its VRRP child). */
  signal(sig: NodeJS.Signals): void;
  /** Send a signal to the main process (keepalived's parent forwards SIGTERM to its child). */
  kill(sig: NodeJS.Signals): void;
  /** Resolves when the (main) process has exited. */
  exited: Promise<void>;
}

/** How long an lvskit speaker may take to print its `started` line. */
const STARTUP_MS = 30_000;

export function watch(name: string, child: ChildProcess, speakerPid: () => number | undefined, startedLine?: (l: Line) => boolean): Speaker {
  const lines: Line[] = [];
  const waiters = new Set<{ accept: (l: Line) => boolean; resolve: (l: Line) => void }>();
  let started = startedLine === undefined;
  const startedNow = new Set<() => void>();
  if (startedLine) {
    waiters.add({ accept: startedLine, resolve: () => { started = true; for (const f of startedNow) f(); startedNow.clear(); } });
  }
  const take = (chunk: string, buffer: { rest: string }): void => {
    const parts = (buffer.rest + chunk).split('\n');
    buffer.rest = parts.pop() ?? '';
    for (const text of parts) {
      const line: Line = { atMs: performance.now(), text };
      if (text.startsWith('{')) {
        try { line.json = JSON.parse(text) as Record<string, unknown>; } catch { /* not JSON */ }
      }
      lines.push(line);
      for (const w of waiters) if (w.accept(line)) { waiters.delete(w); w.resolve(line); }
    }
  };
  const out = { rest: '' };
  const err = { rest: '' };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => take(d, out));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => take(d, err));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name, child, lines, exited,
    waitFor(accept, timeoutMs, seenToo = false) {
      const already = seenToo ? lines.find(accept) : undefined;
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const arm = (ms: number, what: string): void => {
          clearTimeout(timer);
          timer = setTimeout(() => {
            waiters.delete(w);
            startedNow.delete(onStarted);
            reject(new Error(`${name}: no matching line ${what}; last lines:\n${lines.slice(-15).map((l) => l.text).join('\n')}`));
          }, ms);
        };
        const onStarted = (): void => arm(timeoutMs, `in ${timeoutMs} ms after it started`);
        const w = { accept, resolve: (l: Line) => { clearTimeout(timer); startedNow.delete(onStarted); resolve(l); } };
        waiters.add(w);
        if (started) arm(timeoutMs, `in ${timeoutMs} ms`);
        else {
          startedNow.add(onStarted);
          arm(STARTUP_MS + timeoutMs, `(it did not start in ${STARTUP_MS} ms)`);
        }
      });
    },
    kill(sig) { child.kill(sig); },
    signal(sig) {
      const pid = speakerPid();
      if (pid !== undefined) {
        try { process.kill(pid, sig); } catch { /* already gone */ }
      }
    },
  };
}

/** `lvskit vrrp run -f FILE -n NS --json` with `instances`; SIGKILLed in teardown if still running. */
export function startLvskit(t: ExecutionContext, ns: Netns, instances: VrrpInstanceConfig[], name = `lvskit@${ns.name}`): Speaker {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvskit-vrrp-'));
  const file = path.join(dir, 'vrrp.json');
  writeFileSync(file, JSON.stringify({ instances }));
  const child = spawn(process.execPath, [cli, 'vrrp', 'run', '-f', file, '-n', ns.name, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const speaker = watch(name, child, () => child.pid, (l) => l.json?.type === 'started');
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await speaker.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return speaker;
}

/** A transition line of an lvskit speaker. */
export const transition = (instance: string, to: string) => (l: Line): boolean =>
  l.json?.type === 'transition' && l.json.instance === instance && l.json.to === to;

/**
 * keepalived --vrrp in `ns` with `config` (keepalived.conf text), its own pid files and no fork;
 * logs to the console (stdout lines). SIGTERM then SIGKILL (both processes) in teardown. Its files
 * go in a fresh directory under `base` (the IPVS tier's guest has a /tmp of its own: pass /var/tmp).
 */
export function startKeepalived(t: ExecutionContext, ns: Netns, config: string, name = `keepalived@${ns.name}`, base = os.tmpdir()): Speaker {
  const dir = mkdtempSync(path.join(base, 'lvskit-keepalived-'));
  const conf = path.join(dir, 'keepalived.conf');
  writeFileSync(conf, config);
  const pid = path.join(dir, 'keepalived.pid');
  const vrrpPid = path.join(dir, 'vrrp.pid');
  // --dont-respawn: a SIGKILLed VRRP child stays dead, as a crashed balancer would.
  const child = spawn('ip', ['netns', 'exec', ns.name, 'keepalived', '--vrrp', '--dont-fork', '--dont-respawn', '--log-console', '--log-detail',
    '--no-syslog', '-f', conf, '-p', pid, '-r', vrrpPid, '-i', name], { stdio: ['ignore', 'pipe', 'pipe'] });
  const readPid = (): number | undefined => {
    try { return Number(readFileSync(vrrpPid, 'utf8').trim()) || undefined; } catch { return undefined; }
  };
  const speaker = watch(name, child, readPid);
  t.teardown(async () => {
    const vrrpChild = readPid();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await speaker.exited;
      clearTimeout(timer);
    }
    if (vrrpChild !== undefined) {
      try { process.kill(vrrpChild, 'SIGKILL'); } catch { /* gone with its parent */ }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return speaker;
}

/** keepalived's log line for entering `state` ("(VI_1) Entering MASTER STATE"). */
export const keepalivedEntered = (instance: string, state: 'MASTER' | 'BACKUP' | 'FAULT') => (l: Line): boolean =>
  l.text.includes(`(${instance}) Entering ${state} STATE`);
