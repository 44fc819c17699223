// layer: test helpers (IPVS tier)
// job: a master balancer with real traffic: clients → NAT virtual service → real server, a master sync daemon streaming to a backup.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import { sh } from './conns-lab.js';

const traffic = path.resolve('dist/test/helpers/conns-traffic.js');

/**
 * Four namespaces: `client` (10.1.0.10… on c0) → `master` (10.1.0.1 on mc: the VIP, TCP port 80,
 * rr, NAT to 10.2.0.2:80 on mr) → `real` (10.2.0.2 on r0, a server holding connections), and
 * `backup` (10.9.0.2 on bs) joined to the master's sync interface `ms` (10.9.0.1). The master
 * runs a master sync daemon on ms, the backup a backup daemon on bs, both with sync id 3.
 */
export class MasterLab {
  readonly syncId = 3;
  readonly vip = '10.1.0.1';
  readonly #children: ChildProcessWithoutNullStreams[] = [];

  private constructor(readonly client: string, readonly master: string, readonly real: string, readonly backup: string) {}

  static async create(prefix = process.env['LVSKIT_NETNS_PREFIX'] ?? 'lvkt'): Promise<MasterLab> {
    const tag = randomBytes(3).toString('hex');
    const lab = new MasterLab(`${prefix}-cl${tag}`, `${prefix}-ms${tag}`, `${prefix}-rs${tag}`, `${prefix}-bk${tag}`);
    try {
      await lab.#setUp();
    } catch (error) {
      await lab.close();
      throw error;
    }
    return lab;
  }

  exec(netns: string, argv: readonly string[]): Promise<string> {
    return sh(['ip', 'netns', 'exec', netns, ...argv]);
  }

  async #setUp(): Promise<void> {
    for (const ns of [this.client, this.master, this.real, this.backup]) {
      await sh(['ip', 'netns', 'add', ns]);
      await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const link = async (a: string, devA: string, addrA: string, b: string, devB: string, addrB: string): Promise<void> => {
      await sh(['ip', '-n', a, 'link', 'add', 'name', devA, 'type', 'veth', 'peer', 'name', devB, 'netns', b]);
      await sh(['ip', '-n', a, 'addr', 'add', addrA, 'dev', devA]);
      await sh(['ip', '-n', b, 'addr', 'add', addrB, 'dev', devB]);
      await sh(['ip', '-n', a, 'link', 'set', devA, 'up']);
      await sh(['ip', '-n', b, 'link', 'set', devB, 'up']);
    };
    await link(this.master, 'mc', '10.1.0.1/24', this.client, 'c0', '10.1.0.10/24');
    await link(this.master, 'mr', '10.2.0.1/24', this.real, 'r0', '10.2.0.2/24');
    await link(this.master, 'ms', '10.9.0.1/24', this.backup, 'bs', '10.9.0.2/24');
    for (let i = 11; i <= 14; i++) await sh(['ip', '-n', this.client, 'addr', 'add', `10.1.0.${i}/24`, 'dev', 'c0']);
    await sh(['ip', '-n', this.real, 'route', 'add', 'default', 'via', '10.2.0.1']);
    await this.exec(this.master, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await this.exec(this.master, ['ipvsadm', '-A', '-t', `${this.vip}:80`, '-s', 'rr']);
    await this.exec(this.master, ['ipvsadm', '-a', '-t', `${this.vip}:80`, '-r', '10.2.0.2:80', '-m']);
    await this.exec(this.master, ['ipvsadm', '--start-daemon', 'master', '--mcast-interface', 'ms', '--syncid', String(this.syncId)]);
    await this.exec(this.backup, ['ipvsadm', '--start-daemon', 'backup', '--mcast-interface', 'bs', '--syncid', String(this.syncId)]);
    await this.#start(this.real, ['server', '80']);
  }

  /** Start the traffic script in `netns`; resolves once it printed `ready`. */
  async #start(netns: string, args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; lines: AsyncIterator<string> }> {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, traffic, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#children.push(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done || first.value !== 'ready') throw new Error(`traffic ${args[0]} in ${netns} did not start: ${stderr}`);
    return { child, lines };
  }

  /** Open connections to the VIP: count per client address (10.1.0.10…14); each sends a byte and gets an answer. */
  async connect(spec: Record<string, number>): Promise<{ close(address: string, n: number): Promise<void>; stop(): void }> {
    const { child, lines } = await this.#start(this.client, ['clients', this.vip, '80', JSON.stringify(spec)]);
    return {
      close: async (address, n) => {
        child.stdin.write(`close ${address} ${n}\n`);
        await lines.next();
      },
      stop: () => { child.stdin.write('exit\n'); },
    };
  }

  async close(): Promise<void> {
    for (const child of this.#children) child.kill('SIGKILL');
    for (const ns of [this.client, this.master, this.real, this.backup]) await sh(['ip', 'netns', 'del', ns]).catch(() => undefined);
  }
}
