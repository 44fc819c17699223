// layer: tests (unit)
// job: RecentEvents: a balancer's events as log lines, oldest first, debug ones left out, at most the limit, the newest N on request.
import test from 'ava';
import { EventEmitter } from 'node:events';
import type { BalancerEvent } from '../../src/daemon/events.js';
import { RecentEvents } from '../../src/daemon/recent-events.js';

test('kept as log lines, oldest first, debug left out, bounded; list(n) gives the newest n', (t) => {
  const source = new EventEmitter<{ event: [BalancerEvent] }>();
  let now = 1000;
  const recent = new RecentEvents(source, 3, () => now);
  const transition = (to: 'MASTER' | 'BACKUP'): BalancerEvent => ({ source: 'vrrp', type: 'transition', instance: 'VI_1', from: 'INIT', to, reason: 'startup', priority: 100, atMs: 0 } as BalancerEvent);
  source.emit('event', transition('BACKUP'));
  now = 2000;
  source.emit('event', { source: 'autoban', type: 'round', from: 'procfs', atMs: 0, reportedAtMs: 0, complete: true, banned: [], durationMs: 1, observations: 0 } as unknown as BalancerEvent);
  t.deepEqual(recent.list(), [{ atMs: 1000, level: 'info', source: 'vrrp', type: 'transition', message: 'VI_1: INIT → BACKUP (startup, priority 100)' }]);
  for (let i = 0; i < 3; i++) { now = 3000 + i; source.emit('event', transition('MASTER')); }
  t.deepEqual(recent.list().map((e) => e.atMs), [3000, 3001, 3002], 'the oldest went');
  t.deepEqual(recent.list(1).map((e) => e.atMs), [3002]);
  t.deepEqual(recent.list(0), []);
});
