// layer: test helpers (IPVS tier)
// job: keepalived's own samples run for real: a namespace with the interfaces they name, a copy with short timers, keepalived 2.2.7 on it, and what either implementation left in the kernel (IPVS table, VIPs, links, VRRP states).
import type { ExecutionContext } from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateVirtualServer } from '../../src/check/validate.js';
import { loadConfig } from '../../src/config/index.js';
import { convertHealthChecks } from '../../src/daemon/convert.js';
import { Cleanup, monoMs, sleep, startProc, type Proc } from '../../src/demo/procs.js';
import { createNetns, run, type Netns } from './netns.js';

/** The interfaces the samples name; each is one end of a veth whose other end is in a sink namespace (nothing answers there). */
export const SAMPLE_INTERFACES = ['eth0', 'eth1', 'eth2', 'eth3'] as const;

/** eth<N>'s own address (a VRRP source address; in no sample's ranges). */
const baseAddress = (n: number): string => `172.30.${n}.1/24`;

/**
 * The timers the copy lowers, so that every checker and instance has decided within seconds (both
 * implementations read the same copy): delay_loop to 2 s at most, connect_timeout and
 * delay_before_retry to 1 s, advert_int to 1 s at most.
 */
export const LOWERED_TIMERS: ReadonlyArray<readonly [keyword: string, atMost: number]> = [
  ['delay_loop', 2], ['connect_timeout', 1], ['delay_before_retry', 1], ['advert_int', 1],
];

/**
 * The sample's text with LOWERED_TIMERS applied and `net_namespace NAME` pointing at `netns` (the
 * conditional sample names `high`/`low`; keepalived would enter them, lvskit runs in `--netns`).
 */
export function sampleCopyText(text: string, netns: string): string {
  let out = text;
  for (const [keyword, atMost] of LOWERED_TIMERS) {
    out = out.replace(new RegExp(`^(\\s*${keyword}\\s+)(\\d+(?:\\.\\d+)?)`, 'gm'), (_m, head: string, value: string) => `${head}${Math.min(Number(value), atMost)}`);
  }
  return out.replace(/^(\s*(?:@\S+\s+)?net_namespace\s+)\S+/gm, `$1${netns}`);
}

/** A fresh namespace holding eth0..eth3 (veths, up, each with its own address), and a temp dir outside /tmp (the guest hides it). */
export interface SampleSite {
  ns: Netns;
  dir: string;
  cleanup: Cleanup;
  /** Writes the sample's copy for this namespace; its path. */
  writeSample(file: string): string;
}

export async function sampleSite(t: ExecutionContext, tag: string): Promise<SampleSite> {
  const ns = await createNetns(t);
  const sink = await createNetns(t);
  // Two `ip -batch` runs rather than one `ip` per step: starting a process is what costs most in user-mode Linux.
  const batch = (commands: string[]): string => commands.join('\n');
  await run(['sh', '-c', `ip -n ${ns.name} -batch - <<'EOF'\n${batch(SAMPLE_INTERFACES.flatMap((dev, n) => [
    `link add ${dev} type veth peer name ${dev} netns ${sink.name}`, `addr add ${baseAddress(n)} dev ${dev}`, `link set ${dev} up`,
  ]))}\nEOF\nip -n ${sink.name} -batch - <<'EOF'\n${batch(SAMPLE_INTERFACES.map((dev) => `link set ${dev} up`))}\nEOF`]);
  const dir = mkdtempSync(path.join('/var/tmp', `lvskit-samples-${tag}-`));
  const cleanup = new Cleanup();
  t.teardown(async () => {
    for (const failure of await cleanup.run()) t.log(failure);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    ns, dir, cleanup,
    writeSample(file) {
      const copy = path.join(dir, 'keepalived.conf');
      mkdirSync(dir, { recursive: true });
      writeFileSync(copy, sampleCopyText(readFileSync(file, 'utf8'), ns.name));
      return copy;
    },
  };
}

/** What an implementation left in the namespace, in a form both compare on. */
export interface SampleState {
  /** `ipvsadm -Ln`: service lines (`TCP 10.0.0.1:80 wrr persistent 900`) each followed by its real servers (`-> ADDR:PORT Masq 1`), counters left out, sorted. */
  ipvs: string[];
  /** `DEV ADDR/LEN [label L]` of every address other than eth<N>'s own and the kernel's fe80:: ones, sorted. */
  vips: string[];
  /** Links other than lo and eth0..eth3 (a VMAC), `NAME KIND`. */
  links: string[];
}

/** `ipvsadm -Ln` without its header and counters; services sorted, real servers sorted under each. */
export function normalIpvs(text: string): string[] {
  const services: Array<{ line: string; rs: string[] }> = [];
  for (const raw of text.split('\n').slice(3)) {
    const cells = raw.trim().split(/\s+/);
    if (cells[0] === '') continue;
    if (cells[0] === '->') services.at(-1)?.rs.push(`-> ${cells.slice(1, 4).join(' ')}`);
    else services.push({ line: cells.join(' '), rs: [] });
  }
  return services.sort((a, b) => a.line.localeCompare(b.line)).flatMap((s) => [s.line, ...s.rs.sort()]);
}

interface AddrJson { ifname: string; link_type?: string; linkinfo?: { info_kind?: string }; addr_info?: Array<{ local: string; prefixlen: number; scope?: string; family?: string; label?: string }> }

/** One process (starting processes is what costs most in user-mode Linux): ipvsadm -Ln, ip -j addr, ip -j -d link. */
export async function observe(ns: Netns): Promise<SampleState> {
  const out = await ns.exec(['sh', '-c', 'ipvsadm -Ln && echo @@ && ip -j addr show && echo @@ && ip -j -d link show']);
  const [table = '', addrs = '[]', links = '[]'] = out.split('@@\n');
  const own = new Set(SAMPLE_INTERFACES.map((dev, n) => `${dev} ${baseAddress(n)}`));
  const vips = (JSON.parse(addrs) as AddrJson[]).flatMap((l) => (l.addr_info ?? []).map((a) => ({ l, a })))
    .filter(({ l, a }) => l.ifname !== 'lo' && !(a.family === 'inet6' && a.local.startsWith('fe80:')))
    .map(({ l, a }) => `${l.ifname} ${a.local}/${a.prefixlen}${a.label !== undefined && a.label !== l.ifname ? ` label ${a.label}` : ''}`).filter((v) => !own.has(v)).sort();
  const known = new Set<string>(['lo', ...SAMPLE_INTERFACES]);
  const extra = (JSON.parse(links) as AddrJson[]).filter((l) => !known.has(l.ifname)).map((l) => `${l.ifname} ${l.linkinfo?.info_kind ?? l.link_type ?? '?'}`).sort();
  return { ipvs: normalIpvs(table), vips, links: extra };
}

/** keepalived 2.2.7 on a sample copy, in the site's namespace, in its own process group, its own pid files. */
export interface KeepalivedRun {
  proc: Proc;
  /** Each instance's last state from keepalived's log ("(VI_1) Entering MASTER STATE"). */
  states(): Record<string, string>;
  /** When (monotonic ms) the last of those lines came; undefined before any. */
  lastTransitionAtMs(): number | undefined;
  /** SIGTERM (keepalived removes its VIPs and services), SIGKILL to the group after 10 s. */
  stop(): Promise<void>;
}

export async function startKeepalivedOnSample(site: SampleSite, conf: string, configId?: string): Promise<KeepalivedRun> {
  const file = (name: string): string => path.join(site.dir, name);
  const proc = startProc(site.cleanup, `keepalived@${site.ns.name}`, ['ip', 'netns', 'exec', site.ns.name, 'keepalived', '-n', '-l', '-D', '--no-syslog',
    '-f', conf, '-p', file('keepalived.pid'), '-r', file('vrrp.pid'), '-c', file('checkers.pid'), ...(configId ? ['-i', configId] : [])], { group: true });
  await Promise.race([
    proc.waitFor((l) => l.text.includes('Startup complete'), 30_000),
    proc.exited.then(() => { throw new Error(`keepalived exited as it started:\n${proc.lines.slice(-15).map((l) => l.text).join('\n')}`); }),
  ]);
  return {
    proc,
    states() {
      const out: Record<string, string> = {};
      for (const l of proc.lines) {
        const m = /\((\S+)\) Entering (\S+) STATE/.exec(l.text);
        if (m) out[m[1]!] = m[2]!;
      }
      return out;
    },
    lastTransitionAtMs() {
      return proc.lines.findLast((l) => /\(\S+\) Entering \S+ STATE/.test(l.text))?.atMs;
    },
    async stop() {
      proc.child.kill('SIGTERM');
      if (!await Promise.race([proc.exited.then(() => true), sleep(10_000).then(() => false)])) {
        proc.kill('SIGKILL');
        await proc.exited;
      }
    },
  };
}

/**
 * The longest any checker of the file (as written) may take to decide DOWN from the start: warmup,
 * then `retry`+1 attempts of at most connect_timeout (misc_timeout) each with delay_before_retry
 * between them, plus a delay_loop; keepalived's defaults where the file gives none.
 */
export function checkersDecideWithinMs(file: string, configId?: string): number {
  const parsed = loadConfig(file, configId !== undefined ? { configId } : {});
  const specs = convertHealthChecks(parsed.config).virtualServers;
  let most = 0;
  for (const vs of specs) {
    for (const rs of validateVirtualServer(vs).realServers) {
      for (const { config: c } of rs.checkers) {
        const attemptMs = 'connectTimeoutMs' in c ? c.connectTimeoutMs : 'timeoutMs' in c ? c.timeoutMs : 5000;
        most = Math.max(most, c.warmupMs + (c.retry + 1) * (attemptMs + c.delayBeforeRetryMs) + c.delayLoopMs);
      }
    }
  }
  return most;
}

/**
 * Polls `observeNow` until it has not changed for `quietMs`, no sooner than `minMs` from now and
 * while `ready` holds; the last state, or an error after `timeoutMs` naming the last two.
 */
export async function settled<T>(observeNow: () => Promise<T>, o: { minMs: number; quietMs: number; timeoutMs: number; everyMs?: number; ready?: () => boolean }): Promise<T> {
  const start = monoMs();
  let last = await observeNow();
  let since = monoMs();
  for (;;) {
    await sleep(o.everyMs ?? 1000);
    const now = await observeNow();
    if (JSON.stringify(now) !== JSON.stringify(last)) {
      last = now;
      since = monoMs();
    }
    const t = monoMs();
    if (t - start >= o.minMs && t - since >= o.quietMs && (o.ready?.() ?? true)) return last;
    if (t - start > o.timeoutMs) throw new Error(`not settled within ${o.timeoutMs} ms; last: ${JSON.stringify(last)}`);
  }
}
