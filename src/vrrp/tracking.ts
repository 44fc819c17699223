// layer: behaviour (vrrp)
// job: keepalived's track_interface as a pure rule: the links' states → an instance's fault and priority weight.

/** What tracking needs of a link. */
export interface TrackedLinkState {
  name: string;
  /** IFF_UP and IFF_RUNNING (rtnl Link.up). */
  up: boolean;
}

/**
 * For tracked links `track` (weight 0: FAULT when down; > 0: added while up; < 0: added while
 * down) and the links that exist now: the instance's fault and the sum of active weights. A tracked
 * link that does not exist counts as down.
 */
export function trackingStatus(track: ReadonlyArray<{ dev: string; weight: number }>,
  links: Iterable<TrackedLinkState>): { fault: boolean; weight: number; down: string[] } {
  const up = new Map<string, boolean>();
  for (const link of links) up.set(link.name, link.up);
  let fault = false;
  let weight = 0;
  const down: string[] = [];
  for (const t of track) {
    const isUp = up.get(t.dev) ?? false;
    if (!isUp) down.push(t.dev);
    if (t.weight === 0 && !isUp) fault = true;
    else if (t.weight > 0 && isUp) weight += t.weight;
    else if (t.weight < 0 && !isUp) weight += t.weight;
  }
  return { fault, weight, down };
}
