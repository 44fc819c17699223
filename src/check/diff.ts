// layer: behaviour (check)
// job: what a reload changes in a virtual server, as a pure diff of two resolved ones: real servers kept, added, removed; in each kept one, checkers kept, started, stopped.
import { sameDestination } from '../ipvs/plan.js';
import { canonicalJson, checkKey } from './share.js';
import type { ResolvedRealServer, ResolvedVirtualServer } from './spec.js';

/** A real server in both the running and the new virtual server (same `address:port`). */
export interface KeptRealServer {
  /** `address:port`. */
  id: string;
  /** Anything of it differs once resolved: destination, inhibit_on_failure, checkers (alpha included), notify scripts. */
  changed: boolean;
  /** The destination as the kernel holds it differs: weight, forwarding method, thresholds, tunnel. */
  destinationChanged: boolean;
  /** Check keys (share.ts `checkKey`) in both: the probe and its verdict carry over. */
  keptCheckers: string[];
  /** Check keys only in the new one: started afresh (or joined, when another virtual server runs the same check). */
  startedCheckers: string[];
  /** Check keys only in the running one: left (stopped when no other virtual server runs them). */
  stoppedCheckers: string[];
}

/** The difference between a running virtual server and its new settings. */
export interface VirtualServerDiff {
  /** Equal once resolved (the order of the real servers aside): a replace changes nothing at all. */
  unchanged: boolean;
  /** The caller's service identity differs (a replace refuses this: it keeps the service). */
  serviceChanged: boolean;
  /** quorum, hysteresis, sorry_server or sorry_server_inhibit differ. */
  policyChanged: boolean;
  /** omega, quorum_up or quorum_down differ. */
  settingsChanged: boolean;
  /** Ids (`address:port`) of real servers only in the new one, in its order. */
  added: string[];
  /** Ids of real servers only in the running one, in its order. */
  removed: string[];
  /** Every real server in both, in the new one's order. */
  kept: KeptRealServer[];
  /** Check keys over all real servers: kept (in kept real servers), started (new keys, added real servers'), stopped (old keys, removed real servers'). */
  checkers: { kept: number; started: number; stopped: number };
}

/** The virtual server with its real servers keyed by id, so their order does not matter. */
function comparable<S>(vs: ResolvedVirtualServer<S>): string {
  return canonicalJson({ ...vs, realServers: Object.fromEntries(vs.realServers.map((rs) => [rs.id, rs])) });
}

function keptRealServer(before: ResolvedRealServer, after: ResolvedRealServer): KeptRealServer {
  const was = new Set(before.checkers.map((c) => checkKey(c.config)));
  const now = new Set(after.checkers.map((c) => checkKey(c.config)));
  return {
    id: after.id,
    changed: canonicalJson(before) !== canonicalJson(after),
    destinationChanged: !sameDestination(before.destination, after.destination),
    keptCheckers: [...now].filter((k) => was.has(k)),
    startedCheckers: [...now].filter((k) => !was.has(k)),
    stoppedCheckers: [...was].filter((k) => !now.has(k)),
  };
}

/**
 * Compare a running virtual server with new settings for it (both validated). Real servers are
 * matched by `address:port`; checkers by their shared-check key, so a checker whose kind, target,
 * parameters and timing are unchanged is kept whatever else changed (`alpha` is not part of the
 * key: it only says how a checker starts).
 */
export function diffVirtualServers<S>(running: ResolvedVirtualServer<S>, next: ResolvedVirtualServer<S>): VirtualServerDiff {
  const before = new Map(running.realServers.map((rs) => [rs.id, rs]));
  const after = new Set(next.realServers.map((rs) => rs.id));
  const settings = (vs: ResolvedVirtualServer<S>): string => canonicalJson({ omega: vs.omega, quorumUp: vs.quorumUp, quorumDown: vs.quorumDown });
  const keys = (rs: ResolvedRealServer): number => new Set(rs.checkers.map((c) => checkKey(c.config))).size;
  const kept = next.realServers.filter((rs) => before.has(rs.id)).map((rs) => keptRealServer(before.get(rs.id)!, rs));
  const added = next.realServers.filter((rs) => !before.has(rs.id));
  const removed = running.realServers.filter((rs) => !after.has(rs.id));
  const sum = (list: number[]): number => list.reduce((a, b) => a + b, 0);
  return {
    unchanged: comparable(running) === comparable(next),
    serviceChanged: canonicalJson(running.service) !== canonicalJson(next.service),
    policyChanged: canonicalJson(running.policy) !== canonicalJson(next.policy),
    settingsChanged: settings(running) !== settings(next),
    added: added.map((rs) => rs.id),
    removed: removed.map((rs) => rs.id),
    kept,
    checkers: {
      kept: sum(kept.map((k) => k.keptCheckers.length)),
      started: sum(kept.map((k) => k.startedCheckers.length)) + sum(added.map(keys)),
      stopped: sum(kept.map((k) => k.stoppedCheckers.length)) + sum(removed.map(keys)),
    },
  };
}
