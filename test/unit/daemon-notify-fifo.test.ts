// layer: tests (unit)
// job: keepalived's notify FIFO lines from VRRP events, a sync group's STOP once all members stopped, and the global_defs keywords read and converted.
import test from 'ava';
import { convertNotify } from '../../src/daemon/convert/notify.js';
import { FifoLines } from '../../src/daemon/notify-fifo.js';
import type { VrrpRunnerEvent } from '../../src/vrrp/events.js';
import { errors, parse } from '../helpers/config.js';

const tr = (instance: string, to: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP', priority: number): VrrpRunnerEvent =>
  ({ type: 'transition', instance, from: 'BACKUP', to, reason: 'master-down', priority, atMs: 0 }) as VrrpRunnerEvent;

test('transitions and group transitions become keepalived\'s lines; a group STOP follows its last member\'s', (t) => {
  const f = new FifoLines([{ name: 'G1', members: ['VI_1', 'VI_2'] }]);
  t.deepEqual(f.lines(tr('VI_1', 'MASTER', 100)), ['INSTANCE "VI_1" MASTER 100\n']);
  t.deepEqual(f.lines({ type: 'group-transition', group: 'G1', to: 'MASTER', atMs: 0 }), ['GROUP "G1" MASTER 0\n']);
  t.deepEqual(f.lines({ type: 'vip', instance: 'VI_1', op: 'add', address: '10.0.0.1', prefixLength: 32, dev: 'eth0' }), []);
  t.deepEqual(f.lines(tr('VI_1', 'STOP', 100)), ['INSTANCE "VI_1" STOP 100\n']);
  t.deepEqual(f.lines(tr('VI_2', 'STOP', 90)), ['INSTANCE "VI_2" STOP 90\n', 'GROUP "G1" STOP 0\n']);
  t.deepEqual(f.lines(tr('VI_3', 'STOP', 80)), ['INSTANCE "VI_3" STOP 80\n']);
});

test('notify_fifo, its script and the start/stop scripts are read and converted; a script without its FIFO is an error', (t) => {
  const r = parse(`global_defs {
  notify_fifo_script "/usr/local/bin/reader -v"
  notify_fifo /run/keepalived.fifo
  vrrp_notify_fifo /run/keepalived.fifo
  startup_script "/usr/local/bin/up now"
  startup_script_timeout 3
  shutdown_script /usr/local/bin/down
}
`);
  t.deepEqual(errors(r), []);
  t.deepEqual(convertNotify(r.config).settings, {
    fifos: [{ path: '/run/keepalived.fifo', script: ['/usr/local/bin/reader', '-v'] }],
    startup: { argv: ['/usr/local/bin/up', 'now'], timeoutMs: 3000 },
    shutdown: { argv: ['/usr/local/bin/down'], timeoutMs: 10_000 },
  });
  const bad = parse('global_defs {\n  vrrp_notify_fifo_script /bin/cat\n  startup_script_timeout 0\n}\n');
  t.deepEqual(errors(bad), ['keepalived.conf:3:26: error: `startup_script_timeout` 0 is outside 1..1000']);
  t.deepEqual(convertNotify(bad.config).diagnostics.map((d) => `${d.location.line}:${d.location.column}: ${d.message}`),
    ['2:3: vrrp_notify_fifo_script without vrrp_notify_fifo: there is no FIFO for it to read']);
});
