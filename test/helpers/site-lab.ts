// layer: test helpers (site scenario)
// job: the site's namespaces on one bridge (lb1, lb2, rs1..rs3, client, client2, the observer), configured as the operator's notes say, with the real servers' HTTP servers and the autoban firewall.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigFiles } from './site-config.js';
import { BALANCERS, REAL_SERVERS, nodeAddress, siteSpec, type BalancerName, type NodeName, type RealServerName, type SiteSpec } from './site-model.js';
import { SiteObserver } from './site-observer.js';
import { Cleanup, monoMs, sh, startProc, type Proc } from './site-procs.js';

/** The compiled HTTP script of the site (servers, traffic, held connections), shipped with `lvskit demo`. */
export const SITE_HTTP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'demo', 'http.js');

/** Ports every real server listens on from the start (80; 8080 for the service the reload adds). */
export const SERVER_PORTS = [80, 8080];

/** What a driver needs to run a daemon on one balancer. */
export interface LabBalancer {
  name: BalancerName;
  netns: string;
  /** Holds keepalived.conf and services/ (the operator's /etc/keepalived). */
  configDir: string;
  /** For the daemon's pid files, sockets and logs. */
  runDir: string;
}

export interface SiteLabOptions {
  /** Namespace name prefix (default $LVSKIT_NETNS_PREFIX or `lvkt`). */
  prefix?: string;
}

const NODES: readonly NodeName[] = ['lb1', 'lb2', 'rs1', 'rs2', 'rs3', 'client', 'client2'];

/** Modules the lab uses, loaded up front: loading one on demand in the middle of a timed phase costs time (and see guest-init.sh). */
const MODULES = ['bridge', 'veth', 'ip_set', 'ip_set_hash_ip', 'x_tables', 'xt_set', 'ip_tables', 'iptable_filter', 'nf_tables', 'nft_compat'];

export class SiteLab {
  readonly observer: SiteObserver;
  readonly #servers = new Map<RealServerName, Proc>();

  private constructor(
    readonly site: SiteSpec,
    readonly ns: Record<NodeName, string>,
    readonly dir: string,
    readonly cleanup: Cleanup,
    observer: (lab: SiteLab) => SiteObserver,
  ) {
    this.observer = observer(this);
  }

  /** Builds the whole lab; everything it made is undone by `cleanup.run()`, also when this throws. */
  static async create(cleanup: Cleanup, options: SiteLabOptions = {}): Promise<SiteLab> {
    const prefix = options.prefix ?? process.env['LVSKIT_NETNS_PREFIX'] ?? 'lvkt';
    const tag = randomBytes(3).toString('hex');
    const byte = (): number => 1 + (randomBytes(1)[0]! % 250);
    const site = siteSpec(`10.${byte()}.${byte()}`);
    for (const m of MODULES) await sh(['modprobe', m]).catch(() => undefined); // built in, or absent: the step that needs it says so
    const ns = Object.fromEntries(['obs', ...NODES].map((n) => [n, `${prefix}-site${tag}-${n}`])) as Record<NodeName, string>;
    // Not under /tmp: inside user-mode Linux that is a tmpfs the host cannot see, and these files are worth reading after a failure.
    const dir = fs.mkdtempSync('/var/tmp/lvskit-site-');
    cleanup.defer(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
    for (const name of Object.values(ns)) {
      await sh(['ip', 'netns', 'add', name]);
      cleanup.defer(`delete netns ${name}`, () => sh(['ip', 'netns', 'del', name]));
      await sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    }
    const ports = await wire(site, ns);
    for (const lb of BALANCERS) fs.mkdirSync(path.join(dir, lb, 'etc', 'services'), { recursive: true });
    for (const lb of BALANCERS) fs.mkdirSync(path.join(dir, lb, 'run'), { recursive: true });
    const balancers = BALANCERS.map((name) => ({ name, netns: ns[name] }));
    const lab = new SiteLab(site, ns, dir, cleanup, () => SiteObserver.start(cleanup, { netns: ns.obs, ports, balancers }, site.vrid));
    await lab.#configure();
    for (const rs of REAL_SERVERS) await lab.startServer(rs);
    return lab;
  }

  balancer(name: BalancerName): LabBalancer {
    return { name, netns: this.ns[name], configDir: path.join(this.dir, name, 'etc'), runDir: path.join(this.dir, name, 'run') };
  }

  exec(node: NodeName, argv: readonly string[]): Promise<string> {
    return sh(['ip', 'netns', 'exec', this.ns[node], ...argv]);
  }

  ip(node: NodeName, ...args: string[]): Promise<string> {
    return sh(['ip', '-n', this.ns[node], ...args]);
  }

  /** Overwrites one configuration file of `lb` (an operator's edit). */
  editConfig(lb: BalancerName, file: string, text: string): void {
    fs.writeFileSync(path.join(this.balancer(lb).configDir, file), text);
  }

  /** Sysctls, the real servers' VIP on lo, the client's second address, the firewall on both balancers. */
  async #configure(): Promise<void> {
    const { site } = this;
    for (const lb of BALANCERS) {
      // rp_filter off (the operator's notes: without it balancing does not work); forwarding on.
      await this.exec(lb, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.conf.eth0.rp_filter=0']);
      // For both daemons alike: a new connection that lands on an IPVS entry still held (FIN_WAIT:
      // a DR balancer sees only the client's side) for a real server whose weight is 0 is scheduled
      // again rather than sent there (ip_vs_core.c, conn_reuse_mode with expire_nodest_conn). Without
      // it a reused client port now and then reaches the dead server in either variant: a kernel
      // effect, not the daemon's, which made the "no request reaches rs2" checks flaky.
      await this.exec(lb, ['sysctl', '-qw', 'net.ipv4.vs.expire_nodest_conn=1']);
      // The autoban firewall: a set whose members' packets are dropped before IPVS sees them.
      await this.exec(lb, ['ipset', 'create', site.autoban.ipset, 'hash:ip', 'timeout', '0']);
      await this.#dropFromSet(lb);
    }
    for (const rs of REAL_SERVERS) {
      // DR: the VIP on lo (/32), never answered for in ARP nor used as an ARP source.
      await this.ip(rs, 'addr', 'add', `${site.vip}/32`, 'dev', 'lo');
      await this.exec(rs, ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2']);
    }
    await this.ip('client', 'addr', 'add', `${site.clients.heavy}/24`, 'dev', 'eth0');
  }

  /**
   * `iptables -I INPUT -m set --match-set SET src -j DROP` (INPUT's filter hook runs before IPVS's).
   * iptables-nft first; user-mode Linux's 6.1 kernel refuses its tables (EOPNOTSUPP), so then the
   * legacy x_tables back end, which has the same match.
   */
  async #dropFromSet(lb: BalancerName): Promise<void> {
    const rule = ['-I', 'INPUT', '-m', 'set', '--match-set', this.site.autoban.ipset, 'src', '-j', 'DROP'];
    try {
      await this.exec(lb, ['iptables', ...rule]);
    } catch (nft) {
      await this.exec(lb, ['iptables-legacy', ...rule]).catch((legacy: unknown) => {
        throw new Error(`no firewall rule: ${String(nft)}; ${String(legacy)}`);
      });
    }
  }

  /** Starts (or restarts) `rs`'s HTTP server on SERVER_PORTS; resolves once it listens. */
  async startServer(rs: RealServerName): Promise<void> {
    const proc = startProc(this.cleanup, `http@${rs}`, ['ip', 'netns', 'exec', this.ns[rs], process.execPath, SITE_HTTP, 'server', rs, SERVER_PORTS.join(',')]);
    this.#servers.set(rs, proc);
    await proc.waitFor((l) => l.text === 'ready', 30_000);
  }

  /** Resolves when `from` (a balancer's address: its health check) next connects to `rs`'s HTTP server. */
  async checkedBy(rs: RealServerName, from: string): Promise<void> {
    const proc = this.#servers.get(rs);
    if (!proc) throw new Error(`${rs}'s HTTP server is not running`);
    await proc.waitFor((l) => l.text.startsWith(`c ${from} `) || l.text.startsWith(`c ::ffff:${from} `), 30_000);
  }

  /**
   * How `rs`'s HTTP server answers new requests from now: `normal`, `never` (accepts and reads,
   * never answers: half-open) or `after MS` (slow); resolves once it has switched.
   */
  async serverAnswers(rs: RealServerName, how: 'normal' | 'never' | `after ${number}`): Promise<void> {
    const proc = this.#servers.get(rs);
    if (!proc) throw new Error(`${rs}'s HTTP server is not running`);
    const since = monoMs();
    proc.write(`answer ${how}\n`);
    await proc.waitFor((l) => l.text === `answer ${how}`, 30_000, since);
  }

  /**
   * SIGKILLs `rs`'s HTTP server (its ports refuse connections from then on); with `afterCheckFrom`,
   * right after that address (a balancer's health check) next connects to it, so that every daemon
   * meets the death at the same point of its check cycle.
   */
  async killServer(rs: RealServerName, afterCheckFrom?: string): Promise<void> {
    const proc = this.#servers.get(rs);
    if (!proc) return;
    if (afterCheckFrom !== undefined) await this.checkedBy(rs, afterCheckFrom);
    proc.kill('SIGKILL');
    await proc.exited;
  }

  /** Takes `lb` off the segment: its eth0 down. */
  async linkDown(lb: BalancerName): Promise<void> {
    await this.ip(lb, 'link', 'set', 'eth0', 'down');
  }

  /**
   * Brings a balancer that lost power back as after a reboot: the kernel state a daemon left
   * (VIP, IPVS table, sync daemons, bans) is gone, then eth0 comes up. The firewall is part of
   * the machine's boot and stays.
   */
  async reboot(lb: BalancerName): Promise<void> {
    await this.ip(lb, 'addr', 'flush', 'dev', 'eth0');
    await this.ip(lb, 'addr', 'add', `${nodeAddress(this.site.net, lb)}/24`, 'dev', 'eth0');
    await this.exec(lb, ['ipvsadm', '-C']);
    for (const state of ['master', 'backup']) await this.exec(lb, ['ipvsadm', '--stop-daemon', state]).catch(() => undefined);
    await this.exec(lb, ['ipset', 'flush', this.site.autoban.ipset]);
    await this.ip(lb, 'link', 'set', 'eth0', 'up');
  }
}

/** Replaces the files of a balancer's config directory with `files` (paths relative to it). */
export function writeConfigDir(configDir: string, files: ConfigFiles): void {
  fs.rmSync(path.join(configDir, 'services'), { recursive: true, force: true });
  fs.mkdirSync(path.join(configDir, 'services'), { recursive: true });
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(configDir, file), text);
}

/** The bridge in `obs` and one veth per node (`eth0` inside, `p-<node>` on the bridge); returns bridge port ifindex → node. */
async function wire(site: SiteSpec, ns: Record<NodeName, string>): Promise<Map<number, NodeName>> {
  await sh(['ip', '-n', ns.obs, 'link', 'add', 'name', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
  await sh(['ip', '-n', ns.obs, 'link', 'set', 'br0', 'up']);
  const ports = new Map<number, NodeName>();
  for (const node of NODES) {
    const port = `p-${node}`;
    await sh(['ip', '-n', ns.obs, 'link', 'add', 'name', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns[node]]);
    await sh(['ip', '-n', ns.obs, 'link', 'set', port, 'master', 'br0', 'up']);
    const [link] = JSON.parse(await sh(['ip', '-j', '-n', ns.obs, 'link', 'show', 'dev', port])) as Array<{ ifindex: number }>;
    ports.set(link!.ifindex, node);
    await sh(['ip', '-n', ns[node], 'addr', 'add', `${nodeAddress(site.net, node as Exclude<NodeName, 'obs'>)}/24`, 'dev', 'eth0']);
    await sh(['ip', '-n', ns[node], 'link', 'set', 'eth0', 'up']);
  }
  return ports;
}
