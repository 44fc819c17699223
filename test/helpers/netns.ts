// layer: test helpers (kernel tier)
// job: fresh, uniquely named network namespaces and veth pairs for one test, removed in teardown even on failure.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';

const execFileAsync = promisify(execFile);

/** Runs argv (no shell) and returns its stdout; rejects with stderr in the message on failure. */
export async function run(argv: readonly string[]): Promise<string> {
  const [command, ...args] = argv;
  if (command === undefined) throw new TypeError('empty command');
  try {
    const { stdout } = await execFileAsync(command, args);
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${argv.join(' ')} failed: ${stderr.trim() || String(error)}`);
  }
}

/** Why the kernel tier cannot run here, or undefined when it can (root with `ip netns`). */
export function kernelTierUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'kernel tests need root (network namespaces, raw and packet sockets)';
  return undefined;
}

export interface Netns {
  /** `<prefix>-<random>`; the prefix is $LVSKIT_NETNS_PREFIX (set per run by test/run-tiers.mjs) or `lvkt`. */
  name: string;
  /** `/var/run/netns/<name>`. */
  path: string;
  /** Runs argv inside the namespace (`ip netns exec`). */
  exec(argv: readonly string[]): Promise<string>;
  /** Runs `ip -n <name> ...args`. */
  ip(...args: string[]): Promise<string>;
  /** The interface index of `device` inside the namespace. */
  ifindex(device: string): Promise<number>;
  /** The MAC address of `device` inside the namespace, as 6 bytes. */
  mac(device: string): Promise<Buffer>;
}

interface LinkJson { ifindex: number; address?: string }

async function linkInfo(name: string, device: string): Promise<LinkJson> {
  const links = JSON.parse(await run(['ip', '-j', '-n', name, 'link', 'show', 'dev', device])) as LinkJson[];
  const link = links[0];
  if (!link) throw new Error(`no link ${device} in netns ${name}`);
  return link;
}

/**
 * Creates a fresh namespace with `lo` up; `ip netns del` runs in teardown even when the test fails.
 * Teardowns run last-registered-first, so sockets registered after this close before it goes.
 */
export async function createNetns(t: ExecutionContext, prefix = process.env.LVSKIT_NETNS_PREFIX ?? 'lvkt'): Promise<Netns> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await run(['ip', 'netns', 'add', name]);
  t.teardown(async () => {
    await run(['ip', 'netns', 'del', name]).catch((error: unknown) => t.log(`cleanup: ${String(error)}`));
  });
  const netns: Netns = {
    name,
    path: `/var/run/netns/${name}`,
    exec: (argv) => run(['ip', 'netns', 'exec', name, ...argv]),
    ip: (...args) => run(['ip', '-n', name, ...args]),
    ifindex: async (device) => (await linkInfo(name, device)).ifindex,
    mac: async (device) => Buffer.from((await linkInfo(name, device)).address?.split(':').map((h) => parseInt(h, 16)) ?? []),
  };
  await netns.ip('link', 'set', 'lo', 'up');
  return netns;
}

export interface VethEnd {
  netns: Netns;
  device: string;
  ifindex: number;
  mac: Buffer;
}

export interface VethOptions {
  /** Device names (default `veth0` on both sides; each lives in its own namespace). */
  deviceA?: string;
  deviceB?: string;
  /** Addresses with prefix, e.g. `10.1.0.1/24`, `fd00::1/64` (IPv6 ones get `nodad`). */
  addressesA?: string[];
  addressesB?: string[];
}

/** A veth pair with one end in `a` and the other in `b`, both up; it vanishes with the namespaces. */
export async function createVethPair(a: Netns, b: Netns, options: VethOptions = {}): Promise<{ a: VethEnd; b: VethEnd }> {
  const deviceA = options.deviceA ?? 'veth0';
  const deviceB = options.deviceB ?? 'veth0';
  await a.ip('link', 'add', 'name', deviceA, 'type', 'veth', 'peer', 'name', deviceB, 'netns', b.name);
  const setUp = async (netns: Netns, device: string, addresses: string[]): Promise<VethEnd> => {
    for (const address of addresses) {
      await netns.ip('addr', 'add', address, 'dev', device, ...(address.includes(':') ? ['nodad'] : []));
    }
    await netns.ip('link', 'set', device, 'up');
    return { netns, device, ifindex: await netns.ifindex(device), mac: await netns.mac(device) };
  };
  return {
    a: await setUp(a, deviceA, options.addressesA ?? []),
    b: await setUp(b, deviceB, options.addressesB ?? []),
  };
}
