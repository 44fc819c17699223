// layer: tests (unit)
// job: keepalived's notify FIFO lines from VRRP events, a sync group's STOP once all members stopped, and the global_defs keywords read and converted.
import test from 'ava';
import { convertNotify } from '../../src/daemon/convert/notify.js';
import type { HealthCheckEvent } from '../../src/check/events.js';
import { FifoLines, lvsLines } from '../../src/daemon/notify-fifo.js';
import type { ServiceKey } from '../../src/ipvs/model.js';
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
    fifos: [{ path: '/run/keepalived.fifo', carries: ['vrrp', 'lvs'], script: ['/usr/local/bin/reader', '-v'] }],
    startup: { argv: ['/usr/local/bin/up', 'now'], timeoutMs: 3000 },
    shutdown: { argv: ['/usr/local/bin/down'], timeoutMs: 10_000 },
  });
  const bad = parse('global_defs {\n  vrrp_notify_fifo_script /bin/cat\n  startup_script_timeout 0\n}\n');
  t.deepEqual(errors(bad), ['keepalived.conf:3:26: error: `startup_script_timeout` 0 is outside 1..1000']);
  t.deepEqual(convertNotify(bad.config).diagnostics.map((d) => `${d.location.line}:${d.location.column}: ${d.message}`),
    ['2:3: vrrp_notify_fifo_script without vrrp_notify_fifo: there is no FIFO for it to read']);
});

test('checker lines as keepalived 2.2.7 wrote them (captured in user-mode Linux): address, IPv6 and fwmark services', (t) => {
  const keys = new Map<string, ServiceKey>([
    ['TCP 10.9.9.9:80', { protocol: 'tcp', address: '10.9.9.9', port: 80 }],
    ['FWM 7', { fwmark: 7 }],
    ['TCP [2001:db8::1]:443', { protocol: 'tcp', address: '2001:db8::1', port: 443 }],
  ]);
  const lookup = (vs: string) => keys.get(vs);
  const rs = (vs: string, id: string, type: 'up' | 'down') => lvsLines({ type: 'real-server', vs, rs: id, event: { type } } as HealthCheckEvent, lookup);
  const quorum = (vs: string, up: boolean) => lvsLines({ type: 'quorum', vs, up, weight: 1, threshold: 1 }, lookup);
  t.deepEqual(rs('TCP 10.9.9.9:80', '127.0.0.1:8081', 'down'), ['RS [127.0.0.1]:tcp:8081 [10.9.9.9]:tcp:80 DOWN\n']);
  t.deepEqual(rs('FWM 7', '127.0.0.1:0', 'down'), ['RS [127.0.0.1]:none:0 FWM 7 DOWN\n']);
  t.deepEqual(quorum('FWM 7', false), ['VS FWM 7 DOWN\n']);
  t.deepEqual(rs('TCP [2001:db8::1]:443', '[::1]:8080', 'up'), ['RS [::1]:tcp:8080 [2001:db8::1]:tcp:443 UP\n']);
  t.deepEqual(quorum('TCP [2001:db8::1]:443', true), ['VS [2001:db8::1]:tcp:443 UP\n']);
  t.deepEqual(rs('TCP 10.9.9.9:80', '127.0.0.1:8081', 'weight' as 'up').length, 0, 'a weight change writes nothing');
  t.deepEqual(quorum('UDP 10.0.0.1:53', true), [], 'an unknown service writes nothing');
});
