// layer: test helpers (IPVS tier, benchmarks)
// job: the real-table tool: a backup sync daemon in its own namespace, a sender beside it, and fillConnectionTable() sending it sync messages.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { encodeSyncMessages } from '../../src/conns/sync-codec.js';
import type { SyncConn } from '../../src/conns/sync-message.js';
import { openSocket, type Socket } from '../../src/native/socket.js';

const execFileAsync = promisify(execFile);
const MiB = 1024 * 1024;

/** argv's stdout; rejects with its stderr. */
export async function sh(argv: readonly string[], options: { input?: string } = {}): Promise<string> {
  const [command, ...args] = argv;
  if (command === undefined) throw new TypeError('empty command');
  try {
    const { stdout } = await execFileAsync(command, args, { maxBuffer: 512 * MiB, encoding: 'utf8' });
    return stdout;
  } catch (error) {
    throw new Error(`${argv.join(' ')} failed: ${((error as { stderr?: string }).stderr ?? String(error)).trim()}`);
  }
}

export interface LabOptions {
  /** Name prefix (default $LVSKIT_NETNS_PREFIX or `lvkt`). */
  prefix?: string;
  syncId?: number;
  /** Start `ipvsadm --start-daemon backup` in the backup namespace (default true). */
  backupDaemon?: boolean;
  /** net.ipv4.vs.sync_sock_size for the backup daemon's socket (default 8 MiB), so a fast fill is not dropped. */
  syncSockBytes?: number;
}

/**
 * Two namespaces joined by a veth pair: `backup` (device `vb`, 10.9.0.2/24, fd09::2/64) runs the
 * backup sync daemon; `sender` (device `vs`, 10.9.0.1/24, fd09::1/64) sends sync datagrams to it
 * from a native UDP socket, as a master would.
 */
export class SyncLab {
  readonly backupDevice = 'vb';
  readonly senderDevice = 'vs';
  readonly senderAddress = '10.9.0.1';
  readonly backupAddress = '10.9.0.2';
  #socket: Socket | undefined;
  #sentDatagrams = 0;

  private constructor(readonly backup: string, readonly sender: string, readonly syncId: number) {}

  static async create(options: LabOptions = {}): Promise<SyncLab> {
    const prefix = options.prefix ?? process.env['LVSKIT_NETNS_PREFIX'] ?? 'lvkt';
    const tag = randomBytes(3).toString('hex');
    const lab = new SyncLab(`${prefix}-bk${tag}`, `${prefix}-sd${tag}`, options.syncId ?? 0);
    await sh(['ip', 'netns', 'add', lab.backup]);
    await sh(['ip', 'netns', 'add', lab.sender]).catch(async (error: unknown) => {
      await sh(['ip', 'netns', 'del', lab.backup]);
      throw error;
    });
    try {
      await lab.#setUp(options);
    } catch (error) {
      await lab.close();
      throw error;
    }
    return lab;
  }

  /** Path of a namespace's nsfs file. */
  static path(name: string): string { return `/var/run/netns/${name}`; }

  /** Runs argv inside a namespace of the lab. */
  exec(netns: string, argv: readonly string[]): Promise<string> {
    return sh(['ip', 'netns', 'exec', netns, ...argv]);
  }

  async #setUp(options: LabOptions): Promise<void> {
    await sh(['ip', '-n', this.backup, 'link', 'add', 'name', this.backupDevice, 'type', 'veth', 'peer', 'name', this.senderDevice, 'netns', this.sender]);
    for (const [ns, dev, v4, v6] of [[this.backup, this.backupDevice, '10.9.0.2/24', 'fd09::2/64'], [this.sender, this.senderDevice, '10.9.0.1/24', 'fd09::1/64']] as const) {
      await sh(['ip', '-n', ns, 'addr', 'add', v4, 'dev', dev]);
      await sh(['ip', '-n', ns, 'addr', 'add', v6, 'dev', dev, 'nodad']);
      await sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
      await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // The daemon's receive buffer is clamped to net.core.rmem_max (of the initial namespace).
    const sockBytes = options.syncSockBytes ?? 8 * MiB;
    const rmemMax = Number((await sh(['sysctl', '-n', 'net.core.rmem_max'])).trim());
    if (rmemMax < sockBytes) await sh(['sysctl', '-qw', `net.core.rmem_max=${sockBytes}`]);
    await this.exec(this.backup, ['sysctl', '-qw', `net.ipv4.vs.sync_sock_size=${sockBytes}`]);
    if (options.backupDaemon !== false) await this.startDaemon('backup', this.backup, this.backupDevice);
  }

  /** `ipvsadm --start-daemon STATE --mcast-interface DEV --syncid ID` in `netns`. */
  async startDaemon(state: 'master' | 'backup', netns: string, device: string, syncId = this.syncId): Promise<void> {
    await this.exec(netns, ['ipvsadm', '--start-daemon', state, '--mcast-interface', device, '--syncid', String(syncId)]);
  }

  /** Datagrams to the sync group as a master sends them (from the sender namespace, TTL 1), in order. */
  async send(datagrams: readonly Buffer[], options: { group?: string; port?: number } = {}): Promise<void> {
    const socket = await this.#sender();
    const dest = { family: 'inet' as const, address: options.group ?? '224.0.0.81', port: options.port ?? 8848 };
    // Bursts of 256 with a yield between them: the backup thread keeps up without growing its queue unboundedly.
    for (let i = 0; i < datagrams.length; i += 256) {
      await Promise.all(datagrams.slice(i, i + 256).map((d) => socket.send(d, dest)));
      this.#sentDatagrams += Math.min(256, datagrams.length - i);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async #sender(): Promise<Socket> {
    if (!this.#socket) {
      const socket = openSocket({ family: 'inet', type: 'dgram', protocol: 17, netns: this.sender });
      socket.bind({ family: 'inet', address: this.senderAddress, port: 0 });
      socket.setMulticastInterfaceIPv4(Number((await this.exec(this.sender, ['cat', `/sys/class/net/${this.senderDevice}/ifindex`])).trim()) || 0);
      socket.setMulticastTtl(1);
      socket.setSendBuffer(8 * MiB, true);
      this.#socket = socket;
    }
    return this.#socket;
  }

  /** UDP counters of the backup namespace (/proc/net/snmp). */
  async udpCounters(): Promise<{ inDatagrams: number; rcvbufErrors: number; inErrors: number }> {
    const lines = (await this.exec(this.backup, ['cat', '/proc/net/snmp'])).split('\n').filter((l) => l.startsWith('Udp:'));
    const names = (lines[0] ?? '').split(/\s+/);
    const values = (lines[1] ?? '').split(/\s+/).map(Number);
    const get = (n: string): number => values[names.indexOf(n)] ?? 0;
    return { inDatagrams: get('InDatagrams'), rcvbufErrors: get('RcvbufErrors'), inErrors: get('InErrors') };
  }

  /** Wait until every UDP socket on the sync port in the backup namespace has an empty receive queue. */
  async drained(port = 8848, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    for (;;) {
      const rows = (await this.exec(this.backup, ['cat', '/proc/net/udp'])).split('\n').slice(1).map((l) => l.trim().split(/\s+/))
        .filter((f) => (f[1] ?? '').endsWith(`:${hexPort}`));
      if (rows.every((f) => (f[4] ?? '0:0').split(':')[1] === '00000000')) return;
      if (Date.now() > deadline) throw new Error(`sync socket queue not drained after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    this.#socket?.close();
    for (const ns of [this.sender, this.backup]) await sh(['ip', 'netns', 'del', ns]).catch(() => undefined);
  }
}

export interface FillResult {
  datagrams: number;
  /** Datagrams the backup namespace received (InDatagrams delta), and lost to a full buffer. */
  received: number;
  rcvbufErrors: number;
  ms: number;
}

/**
 * Fill the backup namespace's real IPVS connection table: encode `conns` as v1 sync messages
 * (sync id of the lab), send them, wait until the daemon has read them all. Resends once when
 * the kernel dropped datagrams (a resent entry only refreshes it).
 */
export async function fillConnectionTable(lab: SyncLab, conns: readonly SyncConn[], options: { maxBytes?: number } = {}): Promise<FillResult> {
  const started = Date.now();
  const datagrams = encodeSyncMessages(conns, { syncId: lab.syncId, maxBytes: options.maxBytes ?? 1472 });
  const before = await lab.udpCounters();
  await lab.send(datagrams);
  await lab.drained();
  let after = await lab.udpCounters();
  if (after.rcvbufErrors > before.rcvbufErrors) {
    await lab.send(datagrams);
    await lab.drained();
    after = await lab.udpCounters();
  }
  return { datagrams: datagrams.length, received: after.inDatagrams - before.inDatagrams, rcvbufErrors: after.rcvbufErrors - before.rcvbufErrors, ms: Date.now() - started };
}
