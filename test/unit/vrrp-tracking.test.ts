// layer: tests (unit tier)
// job: track_interface arithmetic (fault, weights, missing links) and which notify scripts run with which arguments.
import test from 'ava';
import { scriptsFor } from '../../src/vrrp/notify.js';
import { trackingStatus } from '../../src/vrrp/tracking.js';

const links = (up: Record<string, boolean>) => Object.entries(up).map(([name, isUp]) => ({ name, up: isUp }));

test('an unweighted tracked link down is a fault; weighted links move the priority instead', (t) => {
  const track = [{ dev: 'eth0', weight: 0 }, { dev: 'eth1', weight: -30 }, { dev: 'eth2', weight: 20 }];
  t.deepEqual(trackingStatus(track, links({ eth0: true, eth1: true, eth2: true })), { fault: false, weight: 20, down: [] });
  t.deepEqual(trackingStatus(track, links({ eth0: true, eth1: false, eth2: true })), { fault: false, weight: -10, down: ['eth1'] });
  t.deepEqual(trackingStatus(track, links({ eth0: true, eth1: false, eth2: false })), { fault: false, weight: -30, down: ['eth1', 'eth2'] });
  t.deepEqual(trackingStatus(track, links({ eth0: false, eth1: true, eth2: true })), { fault: true, weight: 20, down: ['eth0'] });
  t.deepEqual(trackingStatus(track, links({ eth1: true, eth2: true })), { fault: true, weight: 20, down: ['eth0'] }, 'a missing link is down');
});

test('notify scripts: the state\'s own script as given, then the generic one with INSTANCE|GROUP name state priority', (t) => {
  const scripts = { master: ['/bin/m', 'x'], backup: ['/bin/b'], notify: ['/bin/n', '--flag'] };
  t.deepEqual(scriptsFor(scripts, 'INSTANCE', 'VI_1', 'MASTER', 150), [['/bin/m', 'x'], ['/bin/n', '--flag', 'INSTANCE', 'VI_1', 'MASTER', '150']]);
  t.deepEqual(scriptsFor(scripts, 'GROUP', 'G', 'FAULT', 0), [['/bin/n', '--flag', 'GROUP', 'G', 'FAULT', '0']]);
  t.deepEqual(scriptsFor({ stop: ['/bin/s'] }, 'INSTANCE', 'VI_1', 'STOP', 100), [['/bin/s']]);
  t.deepEqual(scriptsFor({}, 'INSTANCE', 'VI_1', 'BACKUP', 100), []);
});
