// layer: benchmarks
// job: the daemon benchmarks' lab: the operator's shape of configuration at 1,000 × 10, a real-server namespace answering every TCP_CHECK, one balancer namespace per daemon, and keepalived and `lvskit run` started there.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { IpvsClient } from '../src/ipvs/client.js';
import type { ServiceState } from '../src/ipvs/model.js';
import { Cleanup, monoMs, sh, sleep, startProc, type Proc } from '../test/helpers/site-procs.js';
import { repo } from './report.js';
import { benchArgs } from './uml.js';

export const REAL_SERVERS = 10;
export const WEIGHT = 10;
/** `--NAME VALUE` among the benchmark's arguments (the host's, passed into the guest), as a number. */
export function numberOption(name: string, fallback: number): number {
  const args = benchArgs();
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
}

/** Virtual servers: 1,000, or `--services N` (to see how a daemon's costs grow with the table). */
export const SERVICES = numberOption('services', 1000);
/** TCP_CHECK period (`delay_loop`), seconds: the operator's 6, or `--delay-loop S`. */
export const DELAY_LOOP_S = numberOption('delay-loop', 6);
export const CONNECT_TIMEOUT_S = 3;
/** The real server whose weight a reload changes (the middle service, its 6th real server). */
export const EDITED = { service: Math.floor(SERVICES / 2), realServer: 5 };

export type Impl = 'keepalived' | 'lvskit';
export const CLI = path.join(repo, 'dist', 'src', 'cli', 'main.js');

export const serviceAddress = (i: number): string => `10.${10 + (i >> 8)}.${i & 255}.1`;
/** 172.16.0.1 … 172.16.39.16: every real server its own address, all inside the real-server namespace's 172.16.0.0/16 on lo. */
export const realServerAddress = (i: number, j: number): string => {
  const k = i * REAL_SERVERS + j + 1;
  return `172.16.${k >> 8}.${k & 255}`;
};

/**
 * keepalived.conf as the operator writes it, at 1,000 services × 10 real servers: one VRRP
 * instance with its VIP, and each virtual server `lb_algo rr`, `lb_kind DR`, `protocol TCP`,
 * real servers with `weight 10`, `inhibit_on_failure` and a `TCP_CHECK`. `weights` overrides
 * one real server's weight (`service:realServer` → weight). One keyword per line (keepalived 2.2
 * reads only the first keyword of a line).
 */
export function configText(weights: ReadonlyMap<string, number> = new Map(), services = SERVICES): string {
  const parts = [`! lvskit daemon benchmark: ${services} virtual servers × ${REAL_SERVERS} real servers
global_defs {
  router_id bench
}

vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass bench
  }
  virtual_ipaddress {
    192.0.2.100/24 dev eth0 label eth0:1
  }
}
`];
  for (let i = 0; i < services; i++) {
    parts.push(`virtual_server ${serviceAddress(i)} 80 {\n  delay_loop ${DELAY_LOOP_S}\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n`);
    for (let j = 0; j < REAL_SERVERS; j++) {
      parts.push(`  real_server ${realServerAddress(i, j)} 80 {\n    weight ${weights.get(`${i}:${j}`) ?? WEIGHT}\n    inhibit_on_failure\n`
        + `    TCP_CHECK {\n      connect_timeout ${CONNECT_TIMEOUT_S}\n    }\n  }\n`);
    }
    parts.push('}\n');
  }
  return parts.join('');
}

/** The configuration with the edited real server at `weight`. */
export const configWithEditedWeight = (weight: number): string => configText(new Map([[`${EDITED.service}:${EDITED.realServer}`, weight]]));

export interface LabBalancer { impl: Impl; netns: string; dir: string; conf: string }

/**
 * The lab: a real-server namespace holding 172.16.0.0/16 on lo (every real server's address is
 * local there) with one listener on 0.0.0.0:80 that accepts and closes (a TCP_CHECK passes), and a
 * balancer namespace per daemon, each joined to it by a veth and routing 172.16.0.0/16 through it.
 */
export class DaemonLab {
  /** Connections the listener accepted, as it last reported (cumulative). */
  accepted = 0;
  readonly #listener: Proc;

  private constructor(readonly rsNetns: string, readonly balancers: Record<Impl, LabBalancer>, readonly cleanup: Cleanup, listener: Proc) {
    this.#listener = listener;
    listener.child.stdout?.on('data', () => undefined);
    const take = (): void => {
      const last = listener.lines.at(-1)?.text;
      if (last?.startsWith('accepted ')) this.accepted = Number(last.slice('accepted '.length));
    };
    setInterval(take, 200).unref();
  }

  static async create(cleanup: Cleanup): Promise<DaemonLab> {
    for (const m of ['veth', 'nlmon']) await sh(['modprobe', m]).catch(() => undefined);
    const tag = randomBytes(3).toString('hex');
    const rs = `lvkt-dl${tag}-rs`;
    const dir = fs.mkdtempSync('/var/tmp/lvskit-daemon-bench-'); // not /tmp: the guest's /tmp is its own tmpfs
    cleanup.defer(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
    await addNetns(cleanup, rs);
    await sh(['ip', '-n', rs, 'addr', 'add', '172.16.255.254/16', 'dev', 'lo']);
    await sh(['ip', 'netns', 'exec', rs, 'sysctl', '-qw', 'net.core.somaxconn=4096', 'net.ipv4.tcp_max_syn_backlog=8192', 'net.ipv4.tcp_tw_reuse=1']);
    const balancers = {} as Record<Impl, LabBalancer>;
    for (const [n, impl] of (['keepalived', 'lvskit'] as const).entries()) {
      const netns = `lvkt-dl${tag}-${impl.slice(0, 2)}`;
      await addNetns(cleanup, netns);
      const [side, lb] = [`10.20${n}.0.1`, `10.20${n}.0.2`];
      await sh(['ip', '-n', rs, 'link', 'add', `v-${impl.slice(0, 2)}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
      await sh(['ip', '-n', rs, 'addr', 'add', `${side}/24`, 'dev', `v-${impl.slice(0, 2)}`]);
      await sh(['ip', '-n', rs, 'link', 'set', `v-${impl.slice(0, 2)}`, 'up']);
      await sh(['ip', '-n', netns, 'addr', 'add', `${lb}/24`, 'dev', 'eth0']);
      await sh(['ip', '-n', netns, 'link', 'set', 'eth0', 'up']);
      await sh(['ip', '-n', netns, 'route', 'add', '172.16.0.0/16', 'via', side]);
      // The checks' source ports: 10,000 connections per delay_loop leave as many sockets in TIME_WAIT.
      await sh(['ip', 'netns', 'exec', netns, 'sysctl', '-qw', 'net.ipv4.ip_local_port_range=1024 65000', 'net.ipv4.tcp_tw_reuse=1']);
      const bdir = path.join(dir, impl);
      fs.mkdirSync(bdir);
      balancers[impl] = { impl, netns, dir: bdir, conf: path.join(bdir, 'keepalived.conf') };
    }
    const code = `let n = 0; const s = require('net').createServer({ pauseOnConnect: true }, (c) => { n++; c.on('error', () => {}); c.destroy(); });
s.listen({ port: 80, host: '0.0.0.0', backlog: 4096 }, () => console.log('ready'));
setInterval(() => console.log('accepted ' + n), 1000);`;
    const listener = startProc(cleanup, 'listener@rs', ['ip', 'netns', 'exec', rs, process.execPath, '-e', code]);
    await listener.waitFor((l) => l.text === 'ready', 60_000);
    return new DaemonLab(rs, balancers, cleanup, listener);
  }

  /** The listener's accepted connections per second over `ms` (the checks' rate, all passing). */
  async acceptRate(ms: number): Promise<number> {
    const [a0, t0] = [this.accepted, monoMs()];
    await sleep(ms);
    return ((this.accepted - a0) * 1000) / (monoMs() - t0);
  }

  /** Connections accepted per second between two moments, from the listener's once-a-second counts (the last count before each). */
  acceptRateBetween(fromMs: number, toMs: number): number {
    const countAt = (ms: number): { atMs: number; n: number } | undefined => {
      const line = this.#listener.lines.findLast((l) => l.atMs <= ms && l.text.startsWith('accepted '));
      return line ? { atMs: line.atMs, n: Number(line.text.slice('accepted '.length)) } : undefined;
    };
    const [a, b] = [countAt(fromMs), countAt(toMs)];
    return a && b && b.atMs > a.atMs ? ((b.n - a.n) * 1000) / (b.atMs - a.atMs) : NaN;
  }

  get listenerPid(): number { return this.#listener.child.pid ?? 0; }
}

/** A network namespace with lo up, deleted by `cleanup`. */
export async function addNetns(cleanup: Cleanup, name: string): Promise<void> {
  await sh(['ip', 'netns', 'add', name]);
  cleanup.defer(`delete netns ${name}`, () => sh(['ip', 'netns', 'del', name]));
  await sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

/** A daemon running on a balancer namespace of the lab. */
export interface Daemon {
  impl: Impl;
  proc: Proc;
  /** The process that takes SIGHUP (keepalived's parent; lvskit's only process). */
  mainPid: number;
  /** Every process of the daemon (keepalived: parent, VRRP child, checker child). */
  pids(): number[];
  /** SIGTERM (the daemon removes its services), SIGKILL after a minute; resolves when it has exited. */
  stop(): Promise<void>;
}

/** keepalived's three processes, from its pid files (the children write theirs once started). */
function keepalivedPids(b: LabBalancer, parent: number): number[] {
  const read = (name: string): number | undefined => {
    try { return Number(fs.readFileSync(path.join(b.dir, name), 'utf8').trim()) || undefined; } catch { return undefined; }
  };
  return [parent, read('vrrp.pid'), read('checkers.pid')].filter((p): p is number => p !== undefined);
}

/**
 * Start `impl` on `b.conf` in its namespace: keepalived `-n -l -D --no-syslog` with its own pid
 * files, or `lvskit run --json` with its control socket; resolved when it says it has started.
 */
export interface DaemonVariant {
  /** More arguments of `lvskit run`. */
  extra?: readonly string[];
  /** Options of node itself (`--max-semi-space-size=2`). */
  nodeArgs?: readonly string[];
  /** Environment variables (`MALLOC_ARENA_MAX=2`), through `env`: the daemon keeps the pid `ip netns exec` started. */
  env?: readonly string[];
}

export async function startDaemon(cleanup: Cleanup, b: LabBalancer, variant: DaemonVariant = {}): Promise<Daemon> {
  const argv = b.impl === 'keepalived'
    ? ['keepalived', '-n', '-l', '-D', '--no-syslog', '-f', b.conf, '-p', path.join(b.dir, 'keepalived.pid'),
      '-r', path.join(b.dir, 'vrrp.pid'), '-c', path.join(b.dir, 'checkers.pid')]
    : [...(variant.env?.length ? ['env', ...variant.env] : []), process.execPath, ...(variant.nodeArgs ?? []), CLI, 'run', '-f', b.conf,
      '--control', path.join(b.dir, 'lvskit.sock'), '--json', ...(variant.extra ?? [])];
  const proc = startProc(cleanup, `${b.impl}@${b.netns}`, ['ip', 'netns', 'exec', b.netns, ...argv], { group: true });
  const started = b.impl === 'keepalived'
    ? (l: { text: string }) => l.text.includes('Startup complete')
    : (l: { text: string }) => l.text.includes('"type":"started"');
  await Promise.race([
    proc.waitFor(started, 10 * 60_000),
    proc.exited.then(() => { throw new Error(`${b.impl} exited as it started:\n${proc.lines.slice(-15).map((l) => l.text).join('\n')}`); }),
  ]);
  const mainPid = proc.child.pid!;
  return {
    impl: b.impl, proc, mainPid,
    pids: () => (b.impl === 'keepalived' ? keepalivedPids(b, mainPid) : [mainPid]),
    async stop() {
      if (!proc.running()) return;
      process.kill(mainPid, 'SIGTERM');
      const stopped = await Promise.race([proc.exited.then(() => true), sleep(60_000).then(() => false)]);
      if (!stopped) proc.kill('SIGKILL');
      await proc.exited;
    },
  };
}

/** `address:port` → weight of every real server of the table. */
export function weights(table: readonly ServiceState[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of table) for (const d of s.destinations ?? []) out.set(`${'address' in s ? s.address : s.fwmark}/${d.address}:${d.port}`, d.weight);
  return out;
}

/** The line a daemon logs when a reload is done: lvskit's `reloaded` event, keepalived's `Reload complete`. */
export const reloadedLine = (impl: Impl) => (l: { text: string }): boolean =>
  (impl === 'lvskit' ? l.text.includes('"type":"reloaded"') : l.text.includes('Reload complete'));

/** Whether the table holds every service and real server at the configured weights (the edited one at `edited`). */
export function complete(table: readonly ServiceState[], edited = WEIGHT): boolean {
  const w = weights(table);
  if (table.length !== SERVICES || w.size !== SERVICES * REAL_SERVERS) return false;
  const key = `${serviceAddress(EDITED.service)}/${realServerAddress(EDITED.service, EDITED.realServer)}:80`;
  for (const [k, v] of w) if (v !== (k === key ? edited : WEIGHT)) return false;
  return true;
}

/** The real servers whose weight differs between two dumps (or that are in one only). */
export function changedDestinations(before: readonly ServiceState[], after: readonly ServiceState[]): string[] {
  const [a, b] = [weights(before), weights(after)];
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).map((k) => `${k} ${a.get(k) ?? '-'} → ${b.get(k) ?? '-'}`);
}

/** Waits until the balancer's table is complete, then until it stays so over one more check round; the time it took. */
export async function waitStable(ipvs: IpvsClient, edited = WEIGHT, timeoutMs = 10 * 60_000): Promise<number> {
  const t0 = monoMs();
  for (;;) {
    if (monoMs() - t0 > timeoutMs) throw new Error('the table did not become complete');
    if (complete(await ipvs.dumpTable({ stats: false }), edited)) break;
    await sleep(1000);
  }
  const done = monoMs() - t0;
  await sleep(DELAY_LOOP_S * 1000 + 2000);
  if (!complete(await ipvs.dumpTable({ stats: false }), edited)) throw new Error('the table changed within a check round after it was complete (failing checks?)');
  return done;
}
