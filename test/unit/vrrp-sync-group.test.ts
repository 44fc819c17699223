// layer: tests (unit tier)
// job: vrrp_sync_group rules, and two groups of pure machines on one fake clock moving together (master, backup, fault and recovery).
import test from 'ava';
import { step, createMachine, type Machine, type VrrpEvent, type VrrpStateName } from '../../src/vrrp/state.js';
import { groupFault, groupState, syncReactions } from '../../src/vrrp/sync-group.js';
import { baseConfig } from '../helpers/vrrp-machine.js';

const members = ['VI_1', 'VI_2', 'VI_3'];

test('a member that becomes MASTER pulls every BACKUP member along; FAULT members stay', (t) => {
  const states = new Map<string, VrrpStateName>([['VI_1', 'MASTER'], ['VI_2', 'BACKUP'], ['VI_3', 'FAULT']]);
  t.deepEqual(syncReactions(members, states, { member: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'master-down' }),
    [{ member: 'VI_2', event: { type: 'sync', to: 'MASTER' } }]);
});

test('a MASTER that yields to a higher priority pulls the other MASTERs to BACKUP', (t) => {
  const states = new Map<string, VrrpStateName>([['VI_1', 'BACKUP'], ['VI_2', 'MASTER'], ['VI_3', 'MASTER']]);
  t.deepEqual(syncReactions(members, states, { member: 'VI_1', from: 'MASTER', to: 'BACKUP', reason: 'higher-priority' }), [
    { member: 'VI_2', event: { type: 'sync', to: 'BACKUP' } },
    { member: 'VI_3', event: { type: 'sync', to: 'BACKUP' } },
  ]);
});

test('transitions caused by the group, startup BACKUPs and STOP cause nothing', (t) => {
  const states = new Map<string, VrrpStateName>([['VI_1', 'MASTER'], ['VI_2', 'BACKUP'], ['VI_3', 'MASTER']]);
  t.deepEqual(syncReactions(members, states, { member: 'VI_1', from: 'BACKUP', to: 'MASTER', reason: 'sync-group' }), []);
  t.deepEqual(syncReactions(members, states, { member: 'VI_2', from: 'INIT', to: 'BACKUP', reason: 'startup' }), []);
  t.deepEqual(syncReactions(members, states, { member: 'VI_1', from: 'MASTER', to: 'STOP', reason: 'shutdown' }), []);
});

test('the group is in FAULT while any member is; its state is defined when the members agree', (t) => {
  t.true(groupFault(members, new Map([['VI_2', true]])));
  t.false(groupFault(members, new Map([['VI_2', false]])));
  t.is(groupState(members, new Map([['VI_1', 'MASTER'], ['VI_2', 'MASTER'], ['VI_3', 'MASTER']])), 'MASTER');
  t.is(groupState(members, new Map([['VI_1', 'MASTER'], ['VI_2', 'BACKUP'], ['VI_3', 'MASTER']])), undefined);
});

/** Two instances in a group on one router; every transition is fed through syncReactions, as the runner does. */
class Group {
  now = 0;
  readonly m = new Map<string, Machine>();
  readonly own = new Map<string, boolean>();
  constructor(names: string[], priority: number) {
    for (const name of names) this.m.set(name, createMachine({ ...baseConfig, priority }));
  }
  states(): Map<string, VrrpStateName> { return new Map([...this.m].map(([k, v]) => [k, v.state])); }
  on(name: string, event: VrrpEvent): void {
    const { machine, actions } = step(this.m.get(name)!, event, this.now);
    this.m.set(name, machine);
    for (const a of actions) {
      if (a.type !== 'notify') continue;
      for (const r of syncReactions([...this.m.keys()], this.states(), { member: name, from: a.from, to: a.to, reason: a.reason })) this.on(r.member, r.event);
    }
  }
  track(name: string, fault: boolean): void {
    this.own.set(name, fault);
    const all = groupFault([...this.m.keys()], this.own);
    for (const member of this.m.keys()) this.on(member, { type: 'track', fault: all, weight: 0 });
  }
}

test('a group moves together: one member\'s timer makes both MASTER; one member\'s fault puts both in FAULT until both are well', (t) => {
  const g = new Group(['VI_1', 'VI_2'], 100);
  g.on('VI_1', { type: 'startup' });
  g.on('VI_2', { type: 'startup' });
  g.now = 3609.375;
  g.on('VI_1', { type: 'timer', timer: 'masterDown' });
  t.deepEqual([...g.states().values()], ['MASTER', 'MASTER'], 'VI_2 followed before its own timer');
  g.now = 5000;
  g.on('VI_2', { type: 'advert', src: '10.0.0.99', priority: 200, advertIntervalCs: 100 });
  t.deepEqual([...g.states().values()], ['BACKUP', 'BACKUP'], 'VI_1 yielded with VI_2');
  g.track('VI_2', true);
  t.deepEqual([...g.states().values()], ['FAULT', 'FAULT']);
  g.track('VI_1', true);
  g.track('VI_2', false);
  t.deepEqual([...g.states().values()], ['FAULT', 'FAULT'], 'VI_1 still faulty: the group stays in FAULT');
  g.track('VI_1', false);
  t.deepEqual([...g.states().values()], ['BACKUP', 'BACKUP']);
});
