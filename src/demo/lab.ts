// layer: demo (the site lab)
// job: the operator's site in network namespaces on one bridge — lb1 and lb2 running `lvskit run` on the operator's config layout, rs1..rs3 with the VIP on lo, a client — and the operator's actions on it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../daemon/control.js';
import type { BalancerStatus } from '../daemon/events.js';
import { MAIN_FILE, siteConfigFiles } from './config.js';
import { sh, sleep, startProc, type Cleanup, type Proc } from './procs.js';
import { BALANCERS, REAL_SERVERS, nodeAddress, siteSpec, type BalancerName, type RealServerName, type SiteSpec } from './site.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The compiled site scripts: the real servers' HTTP server and the client's traffic (src/demo/http.ts). */
const HTTP_SCRIPT = path.join(here, 'http.js');
const CLI = path.resolve(here, '..', 'cli', 'main.js');

/** Every namespace and directory of the demo is named with this, so a leftover is easy to find. */
export const DEMO_PREFIX = 'lvskit-demo';

export type DemoNode = 'hub' | BalancerName | RealServerName | 'client';
const NODES: readonly Exclude<DemoNode, 'hub'>[] = ['lb1', 'lb2', 'rs1', 'rs2', 'rs3', 'client'];
/** Loaded up front: one loaded on demand in the middle of a phase costs time. */
const MODULES = ['bridge', 'veth'];
const STARTUP_MS = 90_000;

/** The site lab; everything it makes is undone by its Cleanup (run it in `finally` and on Ctrl-C). */
export class DemoLab {
  readonly #daemons = new Map<BalancerName, Proc>();
  readonly #servers = new Map<RealServerName, Proc>();
  readonly #logs = new Map<BalancerName, string[]>();

  private constructor(readonly site: SiteSpec, readonly ns: Record<DemoNode, string>, readonly dir: string, readonly cleanup: Cleanup) {}

  /** Namespaces, bridge, addresses, sysctls, the real servers' VIP on lo and their HTTP servers; files under a new directory in `parentDir`. */
  static async create(cleanup: Cleanup, parentDir = '/var/tmp'): Promise<DemoLab> {
    const tag = randomBytes(3).toString('hex');
    const byte = (): number => 1 + (randomBytes(1)[0]! % 250);
    // Only the namespaces' own addresses: the segment exists nowhere but on the lab's bridge.
    const site = siteSpec(`10.${byte()}.${byte()}`);
    site.services = site.services.slice(0, 1);
    for (const m of MODULES) await sh(['modprobe', m]).catch(() => undefined); // built in, or the step that needs it says so
    const ns = Object.fromEntries(['hub', ...NODES].map((n) => [n, `${DEMO_PREFIX}-${tag}-${n}`])) as Record<DemoNode, string>;
    // Not under /tmp by default: inside user-mode Linux that is a tmpfs of the guest.
    const dir = fs.mkdtempSync(path.join(parentDir, `${DEMO_PREFIX}-`));
    cleanup.defer(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
    for (const name of Object.values(ns)) {
      await sh(['ip', 'netns', 'add', name]);
      cleanup.defer(`delete netns ${name}`, () => sh(['ip', 'netns', 'del', name]));
      await sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    }
    const lab = new DemoLab(site, ns, dir, cleanup);
    await lab.#wire();
    await lab.#configure();
    for (const rs of REAL_SERVERS) await lab.startServer(rs);
    return lab;
  }

  configDir(lb: BalancerName): string { return path.join(this.dir, lb, 'etc'); }
  controlSocket(lb: BalancerName): string { return path.join(this.dir, lb, 'run', 'lvskit.sock'); }

  exec(node: DemoNode, argv: readonly string[]): Promise<string> {
    return sh(['ip', 'netns', 'exec', this.ns[node], ...argv]);
  }

  ip(node: DemoNode, ...args: string[]): Promise<string> {
    return sh(['ip', '-n', this.ns[node], ...args]);
  }

  /** The bridge in `hub`, one veth per node (eth0 inside), each node's address on the segment. */
  async #wire(): Promise<void> {
    await this.ip('hub', 'link', 'add', 'name', 'br0', 'type', 'bridge');
    await this.ip('hub', 'link', 'set', 'br0', 'up');
    for (const node of NODES) {
      await this.ip('hub', 'link', 'add', 'name', `p-${node}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns[node]);
      await this.ip('hub', 'link', 'set', `p-${node}`, 'master', 'br0', 'up');
      await this.ip(node, 'addr', 'add', `${nodeAddress(this.site.net, node)}/24`, 'dev', 'eth0');
      await this.ip(node, 'link', 'set', 'eth0', 'up');
    }
  }

  /** Balancers: rp_filter off (the operator's notes), forwarding on. Real servers (DR): the VIP on lo, ARP sysctls. */
  async #configure(): Promise<void> {
    for (const lb of BALANCERS) {
      await this.exec(lb, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.conf.eth0.rp_filter=0']);
      // Where IPVS is loaded already: a new connection landing on an entry still held for a real
      // server of weight 0 is scheduled again instead of reaching the dead server (a DR balancer
      // holds closed connections in FIN_WAIT, and a client port is now and then reused).
      await this.exec(lb, ['sh', '-c', 'test ! -e /proc/sys/net/ipv4/vs/expire_nodest_conn || sysctl -qw net.ipv4.vs.expire_nodest_conn=1']);
      fs.mkdirSync(path.join(this.configDir(lb), 'services'), { recursive: true });
      fs.mkdirSync(path.dirname(this.controlSocket(lb)), { recursive: true });
    }
    for (const rs of REAL_SERVERS) {
      await this.ip(rs, 'addr', 'add', `${this.site.vip}/32`, 'dev', 'lo', 'label', 'lo:1');
      await this.exec(rs, ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2']);
    }
  }

  /** Writes `lb`'s keepalived.conf and services/<domain>.conf for `site`, replacing what was there. */
  writeConfig(lb: BalancerName, site: SiteSpec): void {
    const dir = this.configDir(lb);
    fs.rmSync(path.join(dir, 'services'), { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, 'services'), { recursive: true });
    for (const [file, text] of Object.entries(siteConfigFiles(site, lb))) fs.writeFileSync(path.join(dir, file), text);
  }

  /** `lvskit run -f DIR/keepalived.conf --control SOCK --json` in `lb`'s namespace; resolves at its `started` line. */
  async startDaemon(lb: BalancerName): Promise<void> {
    const log = this.#logs.get(lb) ?? [];
    this.#logs.set(lb, log);
    const proc = startProc(this.cleanup, `lvskit@${lb}`, ['ip', 'netns', 'exec', this.ns[lb], process.execPath, CLI, 'run',
      '-f', path.join(this.configDir(lb), MAIN_FILE), '--control', this.controlSocket(lb), '--json'], { group: true, onLine: (l) => log.push(l.text) });
    this.#daemons.set(lb, proc);
    const started = (text: string): boolean => text.startsWith('{') && text.includes('"source":"daemon"') && text.includes('"type":"started"');
    await Promise.race([
      proc.waitFor((l) => started(l.text), STARTUP_MS),
      proc.exited.then(() => { throw new Error(`lvskit run on ${lb} exited as it started:\n${log.slice(-10).join('\n')}`); }),
    ]);
  }

  /** SIGKILLs `lb`'s daemon (a crash: its kernel state stays as it was). */
  async killDaemon(lb: BalancerName): Promise<void> {
    const proc = this.#daemons.get(lb);
    if (!proc?.running()) return;
    proc.kill('SIGKILL');
    await proc.exited;
  }

  daemonRunning(lb: BalancerName): boolean {
    return this.#daemons.get(lb)?.running() ?? false;
  }

  daemonLog(lb: BalancerName): string[] {
    return [...(this.#logs.get(lb) ?? [])];
  }

  /** The master's machine dies: eth0 down (off the segment), then its daemon SIGKILLed. */
  async killMaster(lb: BalancerName): Promise<void> {
    await this.ip(lb, 'link', 'set', 'eth0', 'down');
    await this.killDaemon(lb);
  }

  /** The machine comes back as after a reboot (the VIP it held is gone, eth0 up), and its daemon starts. */
  async bringBack(lb: BalancerName): Promise<void> {
    await this.ip(lb, 'addr', 'flush', 'dev', 'eth0');
    await this.ip(lb, 'addr', 'add', `${nodeAddress(this.site.net, lb)}/24`, 'dev', 'eth0');
    await this.ip(lb, 'link', 'set', 'eth0', 'up');
    await this.startDaemon(lb);
  }

  /** `lb`'s status over its control socket; undefined while its daemon is not answering. */
  async status(lb: BalancerName): Promise<BalancerStatus | undefined> {
    if (!this.daemonRunning(lb)) return undefined;
    try {
      return await controlRequest(this.controlSocket(lb), { command: 'status' }, 3000) as BalancerStatus;
    } catch {
      return undefined;
    }
  }

  /** `lvskit reload` over the control socket; rejects with the daemon's reason when it refused. */
  async reload(lb: BalancerName): Promise<void> {
    await controlRequest(this.controlSocket(lb), { command: 'reload' });
  }

  /** Starts `rs`'s HTTP server on 80 and 8080; resolves once it listens. */
  async startServer(rs: RealServerName): Promise<void> {
    const proc = startProc(this.cleanup, `http@${rs}`, ['ip', 'netns', 'exec', this.ns[rs], process.execPath, HTTP_SCRIPT, 'server', rs, '80,8080']);
    this.#servers.set(rs, proc);
    await proc.waitFor((l) => l.text === 'ready', 30_000);
  }

  /** SIGKILLs `rs`'s HTTP server: its ports refuse connections from then on. */
  async killServer(rs: RealServerName): Promise<void> {
    const proc = this.#servers.get(rs);
    if (!proc?.running()) return;
    proc.kill('SIGKILL');
    await proc.exited;
  }

  /** The client's steady traffic to VIP:80 (a new connection every `intervalMs`), each result passed to `onResult`. */
  async startTraffic(intervalMs: number, timeoutMs: number, onResult: (ok: boolean, what: string, sentMs: number) => void): Promise<Proc> {
    const proc = startProc(this.cleanup, 'traffic@client', ['ip', 'netns', 'exec', this.ns.client, process.execPath, HTTP_SCRIPT, 'traffic',
      this.site.vip, '80', String(intervalMs), String(timeoutMs), '-'], {
      onLine: (l) => {
        const [kind, , sent, , ok, what] = l.text.split(' ');
        if (kind === 'r') onResult(ok === '1', what ?? '', Number(sent));
      },
    });
    await proc.waitFor((l) => l.text === 'ready', 30_000);
    return proc;
  }
}

/** Waits until `probe` holds, polling every 250 ms; false after `timeoutMs`. */
export async function until(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(250);
  }
}
