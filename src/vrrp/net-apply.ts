// layer: behaviour (vrrp), the I/O edge of net-plan.ts
// job: carry out add/remove steps for routes, rules and addresses over rtnetlink, one after another, each reported;
//      "already there" on add and "already gone" on remove are success, as keepalived treats them.
import { isErrnoError } from '../errors.js';
import type { RtnlClient } from '../rtnl/client.js';
import type { NetEvent } from './events.js';
import { describeStep, type NetStep } from './net-plan.js';

const BENIGN = {
  add: ['EEXIST'],
  remove: ['ESRCH', 'ENOENT', 'EADDRNOTAVAIL', 'ENODEV'],
} as const;

async function applyOne(rtnl: RtnlClient, step: NetStep): Promise<void> {
  switch (step.kind) {
    case 'route': {
      const { addMode, ...route } = step.item;
      return step.op === 'add' ? rtnl.addRoute(route, addMode ?? 'prepend') : rtnl.deleteRoute(route);
    }
    case 'rule': return step.op === 'add' ? rtnl.addRule(step.item) : rtnl.deleteRule(step.item);
    case 'address': return step.op === 'add' ? rtnl.addAddress(step.item) : rtnl.deleteAddress(step.item);
  }
}

/**
 * Apply `steps` in order; every step is tried (one refusal does not stop the others) and reported
 * as a `net` event (`owner`: the instance, or `static`). A removal of something already gone is
 * not reported. Resolves once all are done; never rejects.
 */
export async function applyNetSteps(rtnl: RtnlClient, steps: readonly NetStep[], owner: string, emit: (e: NetEvent) => void): Promise<void> {
  for (const step of steps) {
    const event: NetEvent = { type: 'net', owner, op: step.op, kind: step.kind, what: describeStep(step) };
    try {
      await applyOne(rtnl, step);
    } catch (error) {
      const code = isErrnoError(error) ? error.code : undefined;
      const benign = (BENIGN[step.op] as readonly string[]).includes(code ?? '');
      if (!benign) {
        emit({ ...event, error: error as Error });
        continue;
      }
      if (step.op === 'remove') continue;
    }
    emit(event);
  }
}
