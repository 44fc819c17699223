// layer: test helpers (kernel and IPVS tiers)
// job: the mixed pair of the VMAC/ipvlan tests: lvskit MASTER over a keepalived BACKUP, each advert's source MAC and address seen by the lab's observer, then lvskit's graceful stop and keepalived's takeover.
import type { ExecutionContext } from 'ava';
import { advertFrom, linkExists, stopped } from './vmac-facts.js';
import type { Netns } from './netns.js';
import type { VrrpLab } from './vrrp-lab.js';
import { keepalivedEntered, type Speaker } from './vrrp-procs.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One side of the pair: its speaker and namespace, the address its adverts leave from and the source MAC they carry. */
export interface PairSide { speaker: Speaker; ns: Netns; src: string; mac: string }

/**
 * With lvskit MASTER and keepalived BACKUP of `vrid` (instance `instance` in keepalived's config):
 * lvskit's adverts come from `lvskit.src` with `lvskit.mac`; keepalived hears them (through its
 * VMAC or ipvlan) and stays BACKUP past its Master_Down_Interval; lvskit stops gracefully,
 * keepalived's adverts then come from `keepalived.src` with `keepalived.mac`, and lvskit's link
 * `link` is gone. `waitMs` scales the waits (the IPVS tier's guest is slower).
 */
export async function handOver(t: ExecutionContext, lab: VrrpLab, o: {
  vrid: number; instance: string; link: string; lvskit: PairSide; keepalived: PairSide; waitMs?: number;
}): Promise<void> {
  const wait = o.waitMs ?? 3000;
  const ours = await lab.waitFor(advertFrom(o.vrid, o.lvskit.src), wait);
  t.is(ours.mac, o.lvskit.mac, 'lvskit\'s adverts: their source MAC');
  await sleep(3500 + wait / 6); // longer than keepalived's Master_Down_Interval
  t.false(o.keepalived.speaker.lines.some(keepalivedEntered(o.instance, 'MASTER')), 'keepalived stays BACKUP while lvskit is MASTER');
  const since = lab.seen.at(-1)?.atMs ?? 0;
  await stopped(o.lvskit.speaker);
  const theirs = await lab.waitFor(advertFrom(o.vrid, o.keepalived.src), 2 * wait, since);
  t.is(theirs.mac, o.keepalived.mac, 'keepalived\'s adverts: their source MAC');
  t.false(await linkExists(o.lvskit.ns, o.link), `lvskit removed ${o.link} at its stop`);
}
