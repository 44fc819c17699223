// layer: tests (unit)
// job: the sync daemon's interface watch: which link states are news, the log line each report becomes, and the metrics they feed.
import test from 'ava';
import { EventEmitter } from 'node:events';
import type { BalancerEmitterEvents } from '../../src/daemon/balancer.js';
import { describeEvent } from '../../src/daemon/describe.js';
import type { BalancerStatus } from '../../src/daemon/events.js';
import { BalancerMetrics } from '../../src/daemon/metrics.js';
import { syncInterfaceChange, type SyncInterfaceEvent } from '../../src/daemon/sync-interface.js';
import { sample } from '../helpers/prom-sample.js';

test('the first state seen is reported (initial); afterwards only a change; a missing interface is down; up as another link is recreated', (t) => {
  t.deepEqual(syncInterfaceChange(undefined, { up: true, index: 3 }), { up: true, initial: true, recreated: false });
  t.deepEqual(syncInterfaceChange(undefined, undefined), { up: false, initial: true, recreated: false });
  t.is(syncInterfaceChange({ up: true, index: 3 }, { up: true, index: 3 }), undefined);
  t.is(syncInterfaceChange({ up: false, index: 3 }, { up: false, index: 3 }), undefined);
  t.is(syncInterfaceChange({ up: false, index: 3 }, undefined), undefined);
  t.deepEqual(syncInterfaceChange({ up: true, index: 3 }, { up: false, index: 3 }), { up: false, initial: false, recreated: false });
  t.deepEqual(syncInterfaceChange({ up: true, index: 3 }, undefined), { up: false, initial: false, recreated: false }, 'deleted while up: down');
  t.deepEqual(syncInterfaceChange({ up: false, index: 3 }, { up: true, index: 3 }), { up: true, initial: false, recreated: false }, 'the same link up again');
  t.deepEqual(syncInterfaceChange({ up: false, index: 3 }, { up: true, index: 9 }), { up: true, initial: false, recreated: true }, 'a new link of that name');
  t.deepEqual(syncInterfaceChange({ up: false }, { up: true, index: 9 }), { up: true, initial: false, recreated: false }, 'missing at start, then created: nothing bound to an old one');
});

const report = (e: Partial<SyncInterfaceEvent>): SyncInterfaceEvent => ({ type: 'sync-interface', instance: 'VI_1', interface: 'eth1', up: false, initial: false, ...e });

test('each report is one log line: down a warning naming what is lost, back up with what became of the sync daemon', (t) => {
  const line = (e: Partial<SyncInterfaceEvent>) => describeEvent({ source: 'vrrp', ...report(e) });
  t.deepEqual(line({ up: false }), { level: 'warn', message: 'VI_1: IPVS sync daemon\'s interface eth1 is down: connections are not synced to the peer until it returns' });
  t.deepEqual(line({ up: false, initial: true }), { level: 'warn', message: 'VI_1: IPVS sync daemon\'s interface eth1 is down at start: connections are not synced to the peer until it returns' });
  t.deepEqual(line({ up: true, initial: true }), { level: 'debug', message: 'VI_1: IPVS sync daemon\'s interface eth1 is up' });
  t.deepEqual(line({ up: true, role: 'master', restarted: false }), { level: 'info', message: 'VI_1: IPVS sync daemon\'s interface eth1 is up again: the master sync daemon runs' });
  t.deepEqual(line({ up: true, role: 'backup', restarted: true }), { level: 'info', message: 'VI_1: IPVS sync daemon\'s interface eth1 is up again: the backup sync daemon was started again (the kernel no longer ran it)' });
  t.deepEqual(line({ up: true, role: 'master', restarted: true, recreated: true }),
    { level: 'info', message: 'VI_1: IPVS sync daemon\'s interface eth1 is up again: the master sync daemon was started again (the interface is a new link: the old daemon was bound to the one that is gone)' });
  t.deepEqual(line({ up: true, error: new Error('ENODEV') }), { level: 'error', message: 'VI_1: IPVS sync daemon\'s interface eth1 is up again; starting the sync daemon again failed: ENODEV' });
});

class FakeBalancer extends EventEmitter<BalancerEmitterEvents> {
  status(): Promise<BalancerStatus> {
    return Promise.resolve({ pid: 1, config: 'k.conf', startedAtMs: 0, reloads: 0, reloadFailures: 0, services: [], instances: [] });
  }
}

test('the reports feed lvskit_sync_daemon_interface_up, _down_total (not for the initial state) and lvskit_sync_daemon_restarts_total', async (t) => {
  const b = new FakeBalancer();
  const m = new BalancerMetrics(b, { processMetrics: false });
  const labels = { interface: 'eth1' };
  t.is(sample(await m.metrics(), 'lvskit_sync_daemon_interface_up', labels), undefined, 'absent before the first report');
  b.emit('event', { source: 'vrrp', ...report({ up: true, initial: true }) });
  let text = await m.metrics();
  t.is(sample(text, 'lvskit_sync_daemon_interface_up', labels), 1);
  t.is(sample(text, 'lvskit_sync_daemon_interface_down_total', labels), 0);
  b.emit('event', { source: 'vrrp', ...report({ up: false }) });
  text = await m.metrics();
  t.is(sample(text, 'lvskit_sync_daemon_interface_up', labels), 0);
  t.is(sample(text, 'lvskit_sync_daemon_interface_down_total', labels), 1);
  b.emit('event', { source: 'vrrp', ...report({ up: true, role: 'master', restarted: true }) });
  text = await m.metrics();
  t.is(sample(text, 'lvskit_sync_daemon_interface_up', labels), 1);
  t.is(sample(text, 'lvskit_sync_daemon_interface_down_total', labels), 1);
  t.is(sample(text, 'lvskit_sync_daemon_restarts_total', labels), 1);
});
