// layer: test helpers (kernel tier)
// job: "lvskit vs keepalived with a tracker": `lvskit run` at priority 150 with a tracker of weight -60 over a keepalived 2.2.7 at 110 whose own script adds 20 (130); lvskit holds MASTER, the tracker's failure hands the VIP to keepalived, its recovery takes it back.
import type { ExecutionContext } from 'ava';
import { daemonFiles, logged, startDaemon, type Daemon, type DaemonFiles } from './daemon-procs.js';
import { addressesOn, createVrrpLab, type Balancer, type Seen, type VrrpLab } from './vrrp-lab.js';
import { keepalivedEntered, startKeepalived, type Speaker } from './vrrp-procs.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An advert of `vrid` from `src` carrying `priority`. */
export const advert = (vrid: number, src: string, priority: number) => (x: Seen): boolean =>
  x.kind === 'vrrp' && x.vrid === vrid && x.src === src && x.priority === priority;

export interface TrackPair {
  lab: VrrpLab;
  lb1: Balancer;
  lb2: Balancer;
  vrid: number;
  vip: string;
  files: DaemonFiles;
  lvskit: Daemon;
  keepalived: Speaker;
  /** The tracker failed (after `sinceMs`): lvskit advertises 90, keepalived (130) takes over and holds the VIP, lvskit is BACKUP for a higher priority. */
  handedOver(t: ExecutionContext, sinceMs: number): Promise<void>;
  /** The tracker recovered (after `sinceMs`): lvskit preempts at 150, keepalived is BACKUP again; every advert carried 150 or 90 (lvskit) or 130 (keepalived). */
  takenBack(t: ExecutionContext, sinceMs: number): Promise<void>;
}

const instance = (vrid: number, priority: number, vip: string, track: string, tracker: string): string => `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid}
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${vip}/32 dev eth0 label eth0:1
  }
  ${track} {
    ${tracker}
  }
}
`;

/**
 * Two balancers: lvskit (`lvskit run`) with `define(dir)` (the tracker's definition, `dir` the
 * daemon's directory) and `VI_1` at 150 tracking it (`track { name }`) on lb1; once it is MASTER and advertising 150, keepalived on lb2 at 110 + 20
 * (its `chk_true` script). Resolves once keepalived has stayed BACKUP past its Master_Down_Interval.
 */
export async function trackPair(t: ExecutionContext, o: { vrid: number; track: 'track_script' | 'track_process'; name: string; define: (dir: string) => string }): Promise<TrackPair> {
  const lab = await createVrrpLab(t, 2);
  const [lb1, lb2] = lab.balancers as [Balancer, Balancer];
  const vip = `${lab.net4}.100`;
  const files = daemonFiles(t, {});
  files.write('keepalived.conf', `${o.define(files.dir)}${instance(o.vrid, 150, vip, o.track, o.name)}`);
  const lvskit = startDaemon(t, lb1.ns, files);
  await lvskit.waitFor(logged('vrrp', 'transition', (j) => j.to === 'MASTER'), 10_000);
  await lab.waitFor(advert(o.vrid, lb1.ipv4, 150), 3000);
  const keepalived = startKeepalived(t, lb2.ns, `global_defs {
  router_id lvskit-track
  enable_script_security
  script_user root
}
vrrp_script chk_true {
  script /bin/true
  interval 1
  weight 20
}
${instance(o.vrid, 110, vip, 'track_script', 'chk_true')}`);
  await keepalived.waitFor(keepalivedEntered('VI_1', 'BACKUP'), 6000, true);
  await sleep(4500); // past keepalived's Master_Down_Interval: lvskit's 150 holds it back
  t.false(keepalived.lines.some(keepalivedEntered('VI_1', 'MASTER')), 'keepalived (130) stays BACKUP under lvskit\'s 150');
  return {
    lab, lb1, lb2, vrid: o.vrid, vip, files, lvskit, keepalived,
    async handedOver(tt, sinceMs) {
      await lab.waitFor(advert(o.vrid, lb1.ipv4, 90), 5000, sinceMs);
      await keepalived.waitFor(keepalivedEntered('VI_1', 'MASTER'), 6000, true);
      await lab.waitFor(advert(o.vrid, lb2.ipv4, 130), 3000, sinceMs);
      await lvskit.waitFor(logged('vrrp', 'transition', (j) => j.to === 'BACKUP' && j.reason === 'higher-priority'), 3000, true);
      await sleep(300);
      tt.true((await addressesOn(lb2.ns)).includes(vip), 'keepalived holds the VIP');
      tt.false((await addressesOn(lb1.ns)).includes(vip), 'lvskit released it');
    },
    async takenBack(tt, sinceMs) {
      await lvskit.waitFor((l) => logged('vrrp', 'transition', (j) => j.to === 'MASTER')(l) && l.atMs > sinceMs, 6000, true);
      await lab.waitFor(advert(o.vrid, lb1.ipv4, 150), 3000, sinceMs);
      await keepalived.waitFor((l) => keepalivedEntered('VI_1', 'BACKUP')(l) && l.atMs > sinceMs, 3000, true);
      // Every advert either sent carried its side's effective priority: 150 or 90 from lvskit, 130 from keepalived.
      const priorities = new Set(lab.adverts(o.vrid).map((x) => `${x.src === lb1.ipv4 ? 'lvskit' : 'keepalived'} ${x.priority}`));
      tt.deepEqual([...priorities].sort(), ['keepalived 130', 'lvskit 150', 'lvskit 90']);
    },
  };
}
