// layer: test helpers (kernel and IPVS tiers)
// job: `lvskit run` as an operator runs it: a keepalived.conf layout in its own directory, the daemon in a namespace, its JSON log lines, its control socket; SIGKILLed in teardown.
import type { ExecutionContext } from 'ava';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { controlRequest } from '../../src/daemon/control.js';
import type { BalancerStatus } from '../../src/daemon/events.js';
import type { Netns } from './netns.js';
import { watch, type Line, type Speaker } from './vrrp-procs.js';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
const execFileAsync = promisify(execFile);

/** A daemon's files: keepalived.conf and what it includes, written under its own directory (not /tmp: the IPVS tier's guest hides it). */
export interface DaemonFiles {
  dir: string;
  conf: string;
  control: string;
  /** (Re)write a file of the layout, relative to the directory. */
  write(name: string, text: string): void;
}

export function daemonFiles(t: ExecutionContext, files: Record<string, string>, base = '/var/tmp'): DaemonFiles {
  const dir = mkdtempSync(path.join(base, 'lvskit-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): void => {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  };
  for (const [name, text] of Object.entries(files)) write(name, text);
  return { dir, conf: path.join(dir, 'keepalived.conf'), control: path.join(dir, 'lvskit.sock'), write };
}

export interface Daemon extends Speaker {
  files: DaemonFiles;
  status(): Promise<BalancerStatus>;
  /** `lvskit <args> --control SOCKET` run as an operator would, with its output and exit code. */
  cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
}

/** A JSON log line of the daemon of `source`/`type` passing `also`. */
export const logged = (source: string, type: string, also: (j: Record<string, unknown>) => boolean = () => true) => (l: Line): boolean =>
  l.json?.source === source && l.json.type === type && also(l.json);

/** `lvskit run -f CONF --netns NS --control SOCK --json [extra]`, SIGKILLed in teardown if still running. */
export function startDaemon(t: ExecutionContext, ns: Netns, files: DaemonFiles, extra: string[] = [], name = `lvskit-run@${ns.name}`): Daemon {
  const child = spawn(process.execPath, [CLI, 'run', '-f', files.conf, '--netns', ns.name, '--control', files.control, '--json', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const speaker = watch(name, child, () => child.pid, logged('daemon', 'started'));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await speaker.exited;
    }
  });
  const cli = async (...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args, '--control', files.control]);
      return { stdout, stderr, code: 0 };
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; code?: number };
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
    }
  };
  return { ...speaker, files, cli, status: async () => await controlRequest(files.control, { command: 'status' }) as BalancerStatus };
}
