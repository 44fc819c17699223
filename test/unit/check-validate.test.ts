// layer: tests (unit tier)
// job: invalid checker and virtual-server settings are rejected with the field named; defaults and inheritance resolve as keepalived's.
import test from 'ava';
import type { VirtualServerSpec } from '../../src/check/spec.js';
import type { CheckSpec } from '../../src/check/types.js';
import { CheckConfigError, validateCheck, validateVirtualServer } from '../../src/check/validate.js';

const vs = (extra: Partial<VirtualServerSpec<string>> = {}, rs: object = {}): VirtualServerSpec<string> => ({
  id: 'web', service: 'TCP 10.0.0.1:80', port: 80, delayLoopMs: 6000,
  realServers: [{ address: '172.16.16.37', weight: 10, inhibitOnFailure: true, checkers: [{ kind: 'TCP_CHECK' }], ...rs }],
  ...extra,
});

function rejects(t: import('ava').ExecutionContext, f: () => unknown, field: string, message?: RegExp): void {
  const error = t.throws(f, { instanceOf: CheckConfigError });
  t.is(error?.field, field);
  if (message) t.regex(error?.message ?? '', message);
}

test('timeouts ≤ 0 are rejected with the field named', (t) => {
  rejects(t, () => validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.2', connectPort: 80, connectTimeoutMs: 0 }), 'check.connectTimeoutMs', /> 0/);
  rejects(t, () => validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.2', connectPort: 80, connectTimeoutMs: -5 }), 'check.connectTimeoutMs');
  rejects(t, () => validateCheck({ kind: 'MISC_CHECK', argv: ['/bin/true'], timeoutMs: 0 }), 'check.timeoutMs');
  rejects(t, () => validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.2', connectPort: 80, delayLoopMs: Number.NaN }), 'check.delayLoopMs');
  rejects(t, () => validateVirtualServer(vs({}, { checkers: [{ kind: 'HTTP_GET', urls: [{}], attemptTimeoutMs: 0 }] })), 'virtualServer.realServers[0].checkers[0].attemptTimeoutMs');
  rejects(t, () => validateVirtualServer(vs({ delayLoopMs: 0 })), 'virtualServer.realServers[0].checkers[0].delayLoopMs');
});

test('ports out of range are rejected with the field named', (t) => {
  rejects(t, () => validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.2', connectPort: 65536 }), 'check.connectPort', /out of range/);
  rejects(t, () => validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.2', connectPort: 0 }), 'check.connectPort');
  rejects(t, () => validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.2', connectPort: 80, bindPort: 70000 }), 'check.bindPort');
  rejects(t, () => validateVirtualServer(vs({}, { port: 99999 })), 'virtualServer.realServers[0].port');
  rejects(t, () => validateVirtualServer(vs({ port: 0 })), 'virtualServer.realServers[0].checkers[0].connectPort');
});

test('an unknown checker keyword is rejected, naming the kinds lvskit runs', (t) => {
  rejects(t, () => validateCheck({ kind: 'BFD_CHECK' } as unknown as CheckSpec), 'check.kind', /unknown checker `BFD_CHECK` \(lvskit runs TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, SMTP_CHECK, UDP_CHECK, DNS_CHECK, PING_CHECK, FILE_CHECK\)/);
  rejects(t, () => validateCheck({ kind: 'FILE_CHECK' } as unknown as CheckSpec), 'check.path', /the tracked file's path/);
  rejects(t, () => validateVirtualServer(vs({}, { checkers: [{ kind: 'BFD_CHECK' }] })), 'virtualServer.realServers[0].checkers[0].kind');
});

test('an unknown setting is rejected (a typo must not silently fall back to a default)', (t) => {
  rejects(t, () => validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.2', connectPort: 80, conectTimeoutMs: 3 } as CheckSpec), 'check.conectTimeoutMs', /unknown setting/);
  rejects(t, () => validateVirtualServer(vs({ delay_loop: 6 } as object)), 'virtualServer.delay_loop');
  rejects(t, () => validateVirtualServer(vs({}, { wieght: 3 })), 'virtualServer.realServers[0].wieght');
  rejects(t, () => validateCheck({ kind: 'HTTP_GET', connectIp: '10.0.0.2', connectPort: 80, urls: [{ path: '/', status: 200 } as object] }), 'check.urls[0].status');
});

test('addresses, digests, status codes, argv and weights are checked', (t) => {
  rejects(t, () => validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.256', connectPort: 80 }), 'check.connectIp');
  rejects(t, () => validateCheck({ kind: 'TCP_CHECK', connectIp: '10.0.0.1', connectPort: 80, bindTo: 'eth0' }), 'check.bindTo');
  rejects(t, () => validateCheck({ kind: 'TCP_CHECK', connectPort: 80 }), 'check.connectIp', /no real server address/);
  rejects(t, () => validateCheck({ kind: 'HTTP_GET', connectIp: '10.0.0.2', connectPort: 80, urls: [{ digest: 'abc' }] }), 'check.urls[0].digest');
  rejects(t, () => validateCheck({ kind: 'HTTP_GET', connectIp: '10.0.0.2', connectPort: 80, urls: [] }), 'check.urls');
  rejects(t, () => validateCheck({ kind: 'HTTP_GET', connectIp: '10.0.0.2', connectPort: 80, urls: [{ statusCodes: [{ from: 200, to: 99 }] }] }), 'check.urls[0].statusCodes[0].to');
  rejects(t, () => validateCheck({ kind: 'HTTP_GET', connectIp: '10.0.0.2', connectPort: 80, urls: [{ path: 'health' }] }), 'check.urls[0].path');
  rejects(t, () => validateCheck({ kind: 'MISC_CHECK', argv: [] }), 'check.argv', /no shell/);
  rejects(t, () => validateCheck({ kind: 'MISC_CHECK', argv: 'check.sh --fast' as unknown as string[] }), 'check.argv');
  rejects(t, () => validateVirtualServer(vs({}, { weight: -1 })), 'virtualServer.realServers[0].weight');
  rejects(t, () => validateVirtualServer(vs({ quorum: 0 })), 'virtualServer.quorum');
  rejects(t, () => validateVirtualServer(vs({ forward: 'masq' as never })), 'virtualServer.realServers[0].forward');
});

test('duplicate real servers and a sorry server that is a real server are refused', (t) => {
  const two = vs({}, { address: '2001:db8::7' });
  two.realServers.push({ ...two.realServers[0]!, address: '2001:DB8:0:0::7' });
  rejects(t, () => validateVirtualServer(two), 'virtualServer.realServers[1]', /\[2001:db8::7\]:80 is already realServers\[0\]/);
  rejects(t, () => validateVirtualServer(vs({ sorryServer: { address: '172.16.16.37' } })), 'virtualServer.sorryServer');
});

test('defaults: keepalived’s (connect_timeout 5 s, retry 1, delay_before_retry 1 s, status 200-299, weight 1, NAT)', (t) => {
  const r = validateVirtualServer({ id: 'x', service: 's', port: 80, realServers: [{ address: '10.0.0.2', checkers: [{ kind: 'HTTP_GET', urls: [{}] }] }] });
  const rs = r.realServers[0]!;
  t.deepEqual(rs.destination, { address: '10.0.0.2', port: 80, weight: 1, forward: 'nat' });
  t.false(rs.inhibitOnFailure);
  t.deepEqual(rs.checkers[0]!.config, {
    kind: 'HTTP_GET', delayLoopMs: 60_000, retry: 1, delayBeforeRetryMs: 1000, warmupMs: 0, connectIp: '10.0.0.2', connectPort: 80,
    connectTimeoutMs: 5000, urls: [{ path: '/', statusCodes: [{ from: 200, to: 299 }] }], maxBodyBytes: 1 << 20, attemptTimeoutMs: 60_000,
  });
  t.deepEqual(r.policy, { quorum: 1, hysteresis: 0, sorryServerInhibit: false });
  t.false(r.omega);
});

test('inheritance: checker over real server over virtual server (timing, alpha, inhibit, virtualhost, forwarding)', (t) => {
  const r = validateVirtualServer(vs({ alpha: true, retry: 3, virtualhost: 'vs.example', forward: 'dr', connectTimeoutMs: 2000 }, {
    delayLoopMs: 3000, inhibitOnFailure: undefined, checkers: [{ kind: 'HTTP_GET', urls: [{ path: '/h', digest: 'D41D8CD98F00B204E9800998ECF8427E' }], retry: 0 }],
  }));
  const rs = r.realServers[0]!;
  const c = rs.checkers[0]!;
  t.true(c.alpha);
  t.is(rs.destination.forward, 'dr');
  t.like(c.config, { delayLoopMs: 3000, retry: 0, connectTimeoutMs: 2000, virtualhost: 'vs.example', connectIp: '172.16.16.37', connectPort: 80 });
  t.is(c.config.kind === 'HTTP_GET' ? c.config.urls[0]!.digest : '', 'd41d8cd98f00b204e9800998ecf8427e', 'digest kept lowercase');
  t.is(rs.id, '172.16.16.37:80');
});

test('IPv6 real servers get canonical addresses and bracketed ids', (t) => {
  const r = validateVirtualServer(vs({}, { address: '2001:DB8:0:0::10', checkers: [] }));
  t.is(r.realServers[0]!.id, '[2001:db8::10]:80');
  t.is(r.realServers[0]!.destination.address, '2001:db8::10');
});
