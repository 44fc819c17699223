// layer: behaviour (realserver, the shell)
// job: read what a real server has (links and addresses over rtnetlink, ARP sysctls from /proc/sys) and make a plan's changes, in the calling thread's network namespace.
import type { RtnlClient } from '../rtnl/client.js';
import { readSysctlNumber, writeSysctl } from '../sysctl/sysctl.js';
import { LOOPBACK, sysctlsToRead, trafficInterfaces, type RealServerChange, type RealServerCurrent, type RealServerWanted } from './plan.js';

/** Where the host is read and changed; tests hand in a sysctl directory of their own. */
export interface RealServerHost {
  rtnl: RtnlClient;
  /** Sysctl root (default /proc/sys). */
  sysctlRoot?: string;
}

/** A change that failed, with those made before it (in order). */
export class RealServerApplyError extends Error {
  override name = 'RealServerApplyError';

  constructor(readonly change: RealServerChange, readonly done: readonly RealServerChange[], cause: unknown) {
    super(`${describeTarget(change)}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function describeTarget(c: RealServerChange): string {
  if (c.kind === 'set-sysctl') return `sysctl ${c.name}=${c.to}`;
  return `${c.kind === 'add-address' ? 'add' : 'delete'} ${c.address}/${c.prefixLength} dev ${LOOPBACK}`;
}

/**
 * What the planner needs to know of this host for `wanted`: every link, the addresses with their
 * link's name, and the ARP sysctls of `all` and of the traffic interfaces. Sysctls are read on
 * the calling thread (see src/sysctl): the namespace is the one this thread is in.
 */
export async function readRealServer(host: RealServerHost, wanted: Pick<RealServerWanted, 'interfaces'>): Promise<RealServerCurrent> {
  const links = await host.rtnl.listLinks();
  const names = new Map(links.map((l) => [l.index, l.name]));
  const addresses = (await host.rtnl.listAddresses()).map((a) => ({
    link: names.get(a.ifindex) ?? `#${a.ifindex}`, family: a.family, address: a.address, prefixLength: a.prefixLength,
    ...(a.label !== undefined ? { label: a.label } : {}),
  }));
  const view = links.map((l) => ({ name: l.name, adminUp: l.adminUp }));
  // Named interfaces that do not exist (or lo) are the planner's to refuse; read those that do.
  const interfaces = wanted.interfaces === undefined
    ? trafficInterfaces(view, {})
    : wanted.interfaces.filter((i) => i !== LOOPBACK && view.some((l) => l.name === i));
  const sysctls: Record<string, number | undefined> = {};
  for (const name of sysctlsToRead(interfaces)) sysctls[name] = readSysctlNumber(name, host.sysctlRoot);
  return { links: view, addresses, sysctls };
}

/**
 * Make `changes` in order. A failure throws RealServerApplyError naming the change, with the
 * changes already made; the rest are not attempted.
 */
export async function applyRealServer(host: RealServerHost, changes: readonly RealServerChange[]): Promise<RealServerChange[]> {
  const done: RealServerChange[] = [];
  for (const c of changes) {
    try {
      if (c.kind === 'set-sysctl') writeSysctl(c.name, c.to, host.sysctlRoot);
      else {
        const target = { dev: LOOPBACK, address: c.address, prefixLength: c.prefixLength, ...(c.label !== undefined ? { label: c.label } : {}) };
        if (c.kind === 'add-address') await host.rtnl.addAddress({ ...target, scope: 'global' });
        else await host.rtnl.deleteAddress(target);
      }
    } catch (error) {
      throw new RealServerApplyError(c, done, error);
    }
    done.push(c);
  }
  return done;
}
