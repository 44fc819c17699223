// layer: test helpers (IPVS tier)
// job: a fresh namespace with an IpvsClient in it, and `ipvsadm` inside it as the oracle.
import type { ExecutionContext } from 'ava';
import { IpvsClient } from '../../src/ipvs/client.js';
import { formatTable } from '../../src/ipvs/format.js';
import { createNetns, type Netns } from './netns.js';

export interface IpvsNs {
  ns: Netns;
  ipvs: IpvsClient;
  /** `ipvsadm ARGS` inside the namespace; its stdout. */
  ipvsadm(...args: string[]): Promise<string>;
}

/** A fresh namespace (IPVS state is per namespace) and a client in it, both gone in teardown. */
export async function ipvsNetns(t: ExecutionContext): Promise<IpvsNs> {
  // A test that hangs fails under its own name before ava's global timeout (which names none).
  t.timeout(90_000);
  const ns = await createNetns(t);
  const ipvs = IpvsClient.open({ netns: ns.name });
  t.teardown(() => ipvs.close());
  return { ns, ipvs, ipvsadm: (...args) => ns.exec(['ipvsadm', ...args]) };
}

/** What `ipvsadm -Ln` prints and what we print from our own dump, each without the final newline. */
export async function bothListings(x: IpvsNs): Promise<{ ipvsadm: string; ours: string }> {
  const [text, info, table] = await Promise.all([x.ipvsadm('-Ln'), x.ipvs.getInfo(), x.ipvs.dumpTable()]);
  return { ipvsadm: text.replace(/\n$/, ''), ours: formatTable(info, table) };
}
