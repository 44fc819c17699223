// layer: daemon (composition; the line format is pure)
// job: keepalived's notify FIFO: `INSTANCE "VI_1" MASTER 100` / `GROUP "G1" BACKUP 0` lines written to notify_fifo and
//      vrrp_notify_fifo (created when missing, opened read-write so a writer never blocks), and each FIFO's reader script.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { runProgram } from '../check/process.js';
import { AttemptAbort } from '../check/signal.js';
import type { HealthCheckEvent } from '../check/events.js';
import { isFwmarkKey, type ServiceKey } from '../ipvs/model.js';
import type { VrrpRunnerEvent } from '../vrrp/events.js';
import type { NotifySettings } from './convert/notify.js';

/** The line keepalived 2.2.7 writes for an instance's new state (its effective priority). */
export function instanceLine(name: string, state: string, priority: number): string {
  return `INSTANCE "${name}" ${state} ${priority}\n`;
}

/** The line keepalived 2.2.7 writes for a sync group's new state (always priority 0). */
export function groupLine(name: string, state: string): string {
  return `GROUP "${name}" ${state} 0\n`;
}

/** A virtual server as keepalived's checker names it: `[10.0.0.1]:tcp:80`, `FWM 7`. */
export function vsName(key: ServiceKey): string {
  return isFwmarkKey(key) ? `FWM ${key.fwmark}` : `[${key.address}]:${key.protocol}:${key.port}`;
}

/** A real server as keepalived's checker names it: `[10.0.1.1]:tcp:80`; `[10.0.1.1]:none:0` in a fwmark service. */
export function rsName(key: ServiceKey, rs: string): string {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(rs);
  const [address, port] = m ? [m[1], m[2]] : [rs, '0'];
  return `[${address}]:${isFwmarkKey(key) ? 'none' : key.protocol}:${port}`;
}

/**
 * Health-check events → keepalived's LVS lines: `RS [10.0.1.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN` when
 * a real server goes UP or DOWN, `VS [10.0.0.1]:tcp:80 UP` when a virtual server's quorum is gained
 * or lost. `service` finds a virtual server's key by its id.
 */
export function lvsLines(e: HealthCheckEvent, service: (vs: string) => ServiceKey | undefined): string[] {
  if (e.type !== 'real-server' && e.type !== 'quorum') return [];
  const key = service(e.vs);
  if (!key) return [];
  if (e.type === 'real-server' && (e.event.type === 'up' || e.event.type === 'down')) {
    return [`RS ${rsName(key, e.rs)} ${vsName(key)} ${e.event.type === 'up' ? 'UP' : 'DOWN'}\n`];
  }
  if (e.type === 'quorum') return [`VS ${vsName(key)} ${e.up ? 'UP' : 'DOWN'}\n`];
  return [];
}

/**
 * VRRP events → FIFO lines. A sync group's STOP (which the runner does not report: its members
 * stop one by one) is written once every member has stopped, as keepalived writes it.
 */
export class FifoLines {
  readonly #groups: Array<{ name: string; members: readonly string[] }>;
  readonly #stopped = new Set<string>();

  constructor(groups: ReadonlyArray<{ name: string; members: readonly string[] }>) {
    this.#groups = groups.map((g) => ({ name: g.name, members: [...g.members] }));
  }

  lines(e: VrrpRunnerEvent): string[] {
    if (e.type === 'group-transition') return e.to === 'INIT' ? [] : [groupLine(e.group, e.to)];
    if (e.type !== 'transition') return [];
    const out = [instanceLine(e.instance, e.to, e.priority)];
    if (e.to === 'STOP') this.#stopped.add(e.instance);
    else this.#stopped.delete(e.instance);
    if (e.to === 'STOP') {
      for (const g of this.#groups) {
        if (g.members.includes(e.instance) && g.members.every((m) => this.#stopped.has(m))) out.push(groupLine(g.name, 'STOP'));
      }
    }
    return out;
  }
}

/** One open FIFO and its reader script. */
interface OpenFifo {
  path: string;
  carries: ReadonlyArray<'vrrp' | 'lvs'>;
  fd: number;
  created: boolean;
  script?: { abort: AttemptAbort; done: Promise<unknown> };
}

/** The daemon's notify FIFOs. Write errors (a full FIFO nobody reads: EAGAIN) drop the line and are reported once per FIFO. */
export class NotifyFifos {
  readonly #lines: FifoLines;
  readonly #fifos: OpenFifo[] = [];
  readonly #reported = new Set<string>();

  private constructor(groups: ReadonlyArray<{ name: string; members: readonly string[] }>, private readonly onError: (message: string, error: Error) => void) {
    this.#lines = new FifoLines(groups);
  }

  /** Create (mode 0600, as keepalived) and open each FIFO, then start its script with the FIFO's path as last argument. */
  static open(settings: NotifySettings, groups: ReadonlyArray<{ name: string; members: readonly string[] }>, onError: (message: string, error: Error) => void): NotifyFifos {
    const n = new NotifyFifos(groups, onError);
    try {
      for (const f of settings.fifos) {
        let created = false;
        const st = fs.statSync(f.path, { throwIfNoEntry: false });
        if (!st) {
          execFileSync('mkfifo', ['-m', '600', f.path], { stdio: 'ignore' });
          created = true;
        } else if (!st.isFIFO()) {
          throw Object.assign(new Error(`notify_fifo ${f.path}: exists and is not a FIFO`), { code: 'EEXIST', path: f.path });
        }
        const fd = fs.openSync(f.path, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
        const open: OpenFifo = { path: f.path, carries: f.carries, fd, created };
        n.#fifos.push(open);
        if (f.script) {
          const abort = new AttemptAbort();
          const done = runProgram({ argv: [...f.script, f.path], timeoutMs: 2 ** 31 - 1, maxOutputBytes: 4096, signal: abort }).then((o) => {
            if (o.error && !abort.aborted) onError(`notify_fifo_script ${f.script!.join(' ')}: ${o.error.message}`, o.error);
          });
          open.script = { abort, done };
        }
      }
    } catch (error) {
      void n.close();
      throw error;
    }
    return n;
  }

  /** Write the lines of a VRRP event to the FIFOs that carry VRRP lines. */
  write(e: VrrpRunnerEvent): void {
    this.#put('vrrp', this.#lines.lines(e));
  }

  /** Write the lines of a health-check event to the FIFOs that carry LVS lines. */
  writeChecks(e: HealthCheckEvent, service: (vs: string) => ServiceKey | undefined): void {
    this.#put('lvs', lvsLines(e, service));
  }

  /** keepalived's checker starts with every virtual server UP. */
  writeStart(services: readonly ServiceKey[]): void {
    this.#put('lvs', services.map((k) => `VS ${vsName(k)} UP\n`));
  }

  #put(kind: 'vrrp' | 'lvs', lines: string[]): void {
    if (lines.length === 0) return;
    const text = lines.join('');
    for (const f of this.#fifos) {
      if (!f.carries.includes(kind)) continue;
      try {
        fs.writeSync(f.fd, text);
      } catch (error) {
        if (this.#reported.has(f.path)) continue;
        this.#reported.add(f.path);
        this.onError(`notify_fifo ${f.path}: a line was dropped (${(error as Error).message}); nobody reads the FIFO`, error as Error);
      }
    }
  }

  /** Stop the scripts, close the FIFOs, and remove those lvskit created. */
  async close(): Promise<void> {
    for (const f of this.#fifos.splice(0)) {
      if (f.script) {
        f.script.abort.abort('stop');
        await f.script.done;
      }
      fs.closeSync(f.fd);
      if (f.created) fs.rmSync(f.path, { force: true });
    }
  }
}

/** startup_script / shutdown_script: run to completion or killed at the timeout. */
export async function runStartStopScript(script: { argv: string[]; timeoutMs: number }): Promise<{ exitCode: number | null; signal: string | null; timedOut: boolean; error?: Error }> {
  const o = await runProgram({ argv: script.argv, timeoutMs: script.timeoutMs, maxOutputBytes: 4096 });
  return { exitCode: o.exitCode, signal: o.signal, timedOut: o.timedOut, ...(o.error ? { error: o.error } : {}) };
}
