// layer: behaviour (vrrp)
// job: keepalived's vrrp_sync_group as pure rules: which members follow a member's transition, the group's fault, the group's state.
import type { NotifyState, TransitionReason, VrrpEvent, VrrpStateName } from './state.js';

/** A member's transition, as the machine notified it. */
export interface MemberTransition {
  member: string;
  from: VrrpStateName;
  to: NotifyState;
  reason: TransitionReason;
}

/**
 * What the other members of `members` must do after `t` (keepalived vrrp_sync.c): one became MASTER
 * → every BACKUP member becomes MASTER; one left MASTER for BACKUP → every MASTER member becomes
 * BACKUP. Transitions that were themselves caused by the group cause nothing (no echo). FAULT is
 * not here: it spreads through `groupFault`, so recovery waits for every member.
 */
export function syncReactions(members: readonly string[], states: ReadonlyMap<string, VrrpStateName>,
  t: MemberTransition): Array<{ member: string; event: VrrpEvent }> {
  if (t.reason === 'sync-group') return [];
  let follow: { from: VrrpStateName; to: 'MASTER' | 'BACKUP' } | undefined;
  if (t.to === 'MASTER') follow = { from: 'BACKUP', to: 'MASTER' };
  else if (t.to === 'BACKUP' && t.from === 'MASTER') follow = { from: 'MASTER', to: 'BACKUP' };
  if (!follow) return [];
  const out: Array<{ member: string; event: VrrpEvent }> = [];
  for (const member of members) {
    if (member !== t.member && states.get(member) === follow.from) out.push({ member, event: { type: 'sync', to: follow.to } });
  }
  return out;
}

/** The group is in FAULT while any member's own tracking says so; every member then carries it. */
export function groupFault(members: readonly string[], ownFault: ReadonlyMap<string, boolean>): boolean {
  return members.some((m) => ownFault.get(m) === true);
}

/** The group's state when every member agrees, undefined while they differ (a transition is under way). */
export function groupState(members: readonly string[], states: ReadonlyMap<string, VrrpStateName>): VrrpStateName | undefined {
  const first = states.get(members[0] ?? '');
  return first !== undefined && members.every((m) => states.get(m) === first) ? first : undefined;
}
