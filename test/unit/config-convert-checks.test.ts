// layer: tests (unit)
// job: keepalived.conf → HealthChecks input: the operator's layout, keepalived's per-checker defaults and inheritance, each checker field, SSL files, users, diagnostics; the IPVS start table is what HealthChecks expects.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HealthChecks } from '../../src/check/runner.js';
import { MemorySink } from '../../src/check/sink.js';
import { validateVirtualServer } from '../../src/check/validate.js';
import { convertHealthChecks, convertIpvs, passwdLookup } from '../../src/daemon/convert.js';
import { miscRefusal } from '../../src/daemon/script-security.js';
import { loadConfig } from '../../src/config/index.js';
import { memoryReader } from '../../src/config/reader.js';
import type { ServiceKey } from '../../src/ipvs/model.js';
import { FakeClock, flush } from '../helpers/check-clock.js';
import { fixture, messages, parse } from '../helpers/config.js';

test('the layout: SSL_GET and TCP_CHECK with their own timing, delay_loop from the virtual server, warmup up to delay_loop', (t) => {
  const c = convertHealthChecks(loadConfig(fixture('layout', 'keepalived.conf'), { configId: 'lb1' }).config);
  t.deepEqual(c.diagnostics, []);
  t.deepEqual(c.virtualServers, [
    {
      id: 'TCP 123.30.175.41:443', service: { protocol: 'tcp', address: '123.30.175.41', port: 443 }, port: 443, forward: 'dr', delayLoopMs: 6000,
      realServers: [
        { address: '172.16.16.40', port: 443, weight: 10, forward: 'dr', inhibitOnFailure: true, checkers: [{
          kind: 'SSL_GET', connectTimeoutMs: 3000, retry: 2, delayBeforeRetryMs: 2000, warmupMs: 6000,
          urls: [{ path: '/health', statusCodes: [{ from: 200, to: 200 }] }],
        }] },
        { address: '172.16.16.41', port: 443, weight: 20, forward: 'dr', inhibitOnFailure: true, checkers: [
          { kind: 'TCP_CHECK', connectPort: 443, connectTimeoutMs: 3000, warmupMs: 6000 },
        ] },
      ],
    },
    {
      id: 'TCP 123.30.175.40:80', service: { protocol: 'tcp', address: '123.30.175.40', port: 80 }, port: 80, forward: 'dr', delayLoopMs: 6000,
      realServers: ['172.16.16.37', '172.16.16.38'].map((address) => ({
        address, port: 80, weight: 10, forward: 'dr' as const, inhibitOnFailure: true,
        checkers: [{ kind: 'TCP_CHECK' as const, connectTimeoutMs: 3000, warmupMs: 6000 }],
      })),
    },
  ]);
  const resolved = validateVirtualServer(c.virtualServers[0]!).realServers[1]!.checkers[0]!.config;
  t.like(resolved, { kind: 'TCP_CHECK', connectIp: '172.16.16.41', connectPort: 443, delayLoopMs: 6000, retry: 1, delayBeforeRetryMs: 1000, warmupMs: 6000, connectTimeoutMs: 3000 });
});

test('the operator\'s takataka.vn without checkers: real servers always up, inhibit_on_failure kept', (t) => {
  const c = convertHealthChecks(loadConfig(fixture('seed', 'multi-line', 'keepalived.conf')).config);
  t.deepEqual(c.virtualServers[0]!.realServers.map((rs) => [rs.address, rs.weight, rs.forward, rs.inhibitOnFailure, rs.checkers]), [
    ['172.16.16.37', 10, 'dr', true, undefined], ['172.16.16.38', 10, 'dr', true, undefined], ['172.16.16.39', 10, 'dr', true, undefined],
  ]);
});

test('keepalived\'s per-checker defaults apply only where no level sets a value: HTTP retries after 3 s, MISC_CHECK retries 0 times', (t) => {
  const r = parse(`virtual_server 10.0.0.1 80 {
  protocol TCP
  delay_loop 10
  real_server 10.0.1.1 80 {
    HTTP_GET {
      url {
        path /
      }
    }
    MISC_CHECK {
      misc_path "/usr/local/bin/check.sh 10.0.1.1"
    }
  }
  real_server 10.0.1.2 80 {
    delay_before_retry 5
    retry 4
    warmup 0
    HTTP_GET {
      url {
        path /
      }
    }
    MISC_CHECK {
      misc_path /bin/true
    }
  }
}
`);
  const [vs] = convertHealthChecks(r.config).virtualServers;
  t.deepEqual(vs!.realServers[0]!.checkers, [
    { kind: 'HTTP_GET', urls: [{ path: '/' }], delayBeforeRetryMs: 3000, warmupMs: 10_000 },
    { kind: 'MISC_CHECK', argv: ['/usr/local/bin/check.sh', '10.0.1.1'], retry: 0, warmupMs: 10_000 },
  ]);
  t.deepEqual(vs!.realServers[1]!.checkers, [
    { kind: 'HTTP_GET', urls: [{ path: '/' }] },
    { kind: 'MISC_CHECK', argv: ['/bin/true'] },
  ]);
  t.like(vs!.realServers[1], { delayBeforeRetryMs: 5000, retry: 4, warmupMs: 0 });
  const resolved = validateVirtualServer(vs!).realServers[1]!.checkers.map((c) => c.config);
  t.like(resolved[0], { delayBeforeRetryMs: 5000, retry: 4, warmupMs: 0, delayLoopMs: 10_000 });
  t.like(resolved[1], { delayBeforeRetryMs: 5000, retry: 4, warmupMs: 0, timeoutMs: 10_000 });
});

test('every checker field; virtual-server settings; SSL files read through the reader; MISC_CHECK users by name', (t) => {
  const r = parse(`global_defs {
  script_user monitor
}
SSL {
  ca /etc/lvs/ca.pem
  certificate /etc/lvs/client.pem
  key /etc/lvs/client.key
}
virtual_server 10.0.0.1 443 {
  protocol TCP
  lb_kind NAT
  alpha
  omega
  quorum 3
  hysteresis 5
  quorum_up "/usr/local/bin/quorum.sh up"
  quorum_down /usr/local/bin/quorum.sh
  sorry_server 10.0.9.9 8443
  sorry_server_inhibit
  virtualhost www.example.com
  connect_timeout 2
  real_server 10.0.1.1 8443 {
    weight 7
    uthreshold 500
    lthreshold 100
    lb_kind DR
    notify_up "/usr/local/bin/rs.sh up" root
    inhibit_on_failure
    SSL_GET {
      connect_ip 10.0.2.1
      connect_port 9443
      bindto 10.0.0.5
      bind_port 4000
      connect_timeout 1.5
      retry 3
      delay_before_retry 0.5
      warmup 2
      delay_loop 4
      alpha no
      enable_sni
      virtualhost api.example.com
      url {
        path /health
        digest 9b3a0c85a887a256d6939da88aabd8cd
        status_code 200-299 302
        virtualhost ping.example.com
      }
    }
    MISC_CHECK {
      misc_path "/usr/local/bin/check.sh 10.0.1.1"
      misc_timeout 3
      misc_dynamic
    }
  }
}
`);
  const reader = memoryReader({ '/etc/lvs/ca.pem': 'CA PEM', '/etc/lvs/client.pem': 'CERT PEM', '/etc/lvs/client.key': 'KEY PEM' });
  const users = passwdLookup('root:x:0:0::/root:/bin/sh\nmonitor:x:1001:1001::/home/monitor:/bin/sh\n', 'monitor:x:1001:\n');
  const c = convertHealthChecks(r.config, { reader, users });
  // script_user applies to every script; only MISC_CHECK can change user.
  t.deepEqual(messages(c.diagnostics), [
    'keepalived.conf:9:1: warning: TCP 10.0.0.1:443 quorum_up runs as lvskit\'s own user, not as monitor (only MISC_CHECK scripts change user)',
    'keepalived.conf:9:1: warning: TCP 10.0.0.1:443 quorum_down runs as lvskit\'s own user, not as monitor (only MISC_CHECK scripts change user)',
  ]);
  t.deepEqual(c.virtualServers, [{
    id: 'TCP 10.0.0.1:443', service: { protocol: 'tcp', address: '10.0.0.1', port: 443 }, port: 443, forward: 'nat',
    alpha: true, virtualhost: 'www.example.com', connectTimeoutMs: 2000, omega: true,
    quorum: 3, hysteresis: 2, quorumUp: ['/usr/local/bin/quorum.sh', 'up'], quorumDown: ['/usr/local/bin/quorum.sh'],
    sorryServer: { address: '10.0.9.9', port: 8443, weight: 1, forward: 'nat' }, sorryServerInhibit: true,
    realServers: [{
      address: '10.0.1.1', port: 8443, weight: 7, forward: 'dr', upperThreshold: 500, lowerThreshold: 100, inhibitOnFailure: true,
      notifyUp: ['/usr/local/bin/rs.sh', 'up'],
      checkers: [
        {
          kind: 'SSL_GET', connectIp: '10.0.2.1', connectPort: 9443, bindTo: '10.0.0.5', bindPort: 4000, connectTimeoutMs: 1500,
          retry: 3, delayBeforeRetryMs: 500, warmupMs: 2000, delayLoopMs: 4000, alpha: false, enableSni: true, virtualhost: 'api.example.com',
          ca: 'CA PEM', certificate: 'CERT PEM', key: 'KEY PEM',
          urls: [{ path: '/health', digest: '9b3a0c85a887a256d6939da88aabd8cd', statusCodes: [{ from: 200, to: 299 }, { from: 302, to: 302 }], virtualhost: 'ping.example.com' }],
        },
        { kind: 'MISC_CHECK', argv: ['/usr/local/bin/check.sh', '10.0.1.1'], timeoutMs: 3000, dynamic: true, uid: 1001, gid: 1001, retry: 0, warmupMs: 60_000 },
      ],
    }],
  }]);
  const resolved = validateVirtualServer(c.virtualServers[0]!);
  t.deepEqual(resolved.policy, { quorum: 3, hysteresis: 2, sorryServerInhibit: true, sorryServer: { address: '10.0.9.9', port: 8443, weight: 1, forward: 'nat' } });
  t.like(resolved.realServers[0]!.checkers[1], { alpha: true, config: { kind: 'MISC_CHECK', uid: 1001 } });
  t.like(resolved.realServers[0]!.checkers[0], { alpha: false, config: { virtualhost: 'api.example.com', connectTimeoutMs: 1500 } });
});

test('what the checkers cannot do is reported at its place; refusals of src/check come back at the checker', (t) => {
  const r = parse(`SSL {
  key /etc/lvs/missing.key
  password secret
}
virtual_server fwmark 3 {
  real_server 10.0.1.1 {
    TCP_CHECK {
      bind_if eth1
      fwmark 9
    }
    HTTP_GET {
      http_protocol 1.0
      url {
        path /
        regex ^ok$
      }
    }
    SSL_GET {
      connect_port 443
      url {
        path /
      }
    }
    MISC_CHECK {
      misc_path /bin/true
      user nosuchuser
    }
  }
  ha_suspend
}
`);
  const c = convertHealthChecks(r.config, { reader: memoryReader({}) });
  t.deepEqual(messages(c.diagnostics), [
    'keepalived.conf:7:5: error: TCP_CHECK of real_server 10.0.1.1: bind_if eth1 is not supported (lvskit\'s checkers cannot bind to a device); the check would leave by another route',
    'keepalived.conf:7:5: error: TCP_CHECK of real_server 10.0.1.1: fwmark 9 is not supported (lvskit\'s checkers cannot mark their packets); the check would leave by another route',
    'keepalived.conf:13:7: error: HTTP_GET of real_server 10.0.1.1: url regex is not supported by lvskit\'s HTTP checker; a page that keepalived fails would pass',
    'keepalived.conf:11:5: warning: HTTP_GET of real_server 10.0.1.1: http_protocol 1.0: lvskit sends HTTP/1.1 requests with Connection: close',
    'keepalived.conf:1:1: error: SSL: cannot read /etc/lvs/missing.key: /etc/lvs/missing.key does not exist',
    'keepalived.conf:1:1: error: SSL password: lvskit\'s SSL_GET cannot decrypt a key with a password; use an unencrypted key',
    'keepalived.conf:24:5: error: MISC_CHECK of real_server 10.0.1.1: no user nosuchuser to run misc_path as',
    'keepalived.conf:5:1: warning: FWM 3: ha_suspend is not supported; the checkers run whether or not the VIP is present',
    // A firewall-mark service has no port for the TCP_CHECK to default to: src/check refuses it, at the checker.
    'keepalived.conf:7:5: error: FWM 3: real_server 10.0.1.1 0: TCP_CHECK: connect_port: port out of range 1..65535: 0',
  ]);
});

test('HealthChecks started from the conversion finds the IPVS start table already right: no sink operation', async (t) => {
  const r = parse(`virtual_server 10.0.0.1 80 {
  protocol TCP
  quorum 15
  sorry_server 10.0.9.9 80
  real_server 10.0.1.1 80 {
    weight 10
    TCP_CHECK {
      alpha
    }
  }
  real_server 10.0.1.2 80 {
    weight 10
    inhibit_on_failure
    TCP_CHECK {
    }
  }
}
`);
  const ipvs = convertIpvs(r.config);
  const checks = convertHealthChecks(r.config);
  const sink = new MemorySink<ServiceKey>();
  const hc = new HealthChecks<ServiceKey>({ sink, clock: new FakeClock(), random: () => 0, probeFor: () => () => new Promise(() => undefined) });
  t.teardown(() => hc.stop());
  for (const [i, spec] of checks.virtualServers.entries()) await hc.add(spec, { present: [...(ipvs.services[i]!.destinations ?? [])] });
  await flush();
  t.deepEqual(sink.log, []);
  // 10.0.1.2 alone (weight 10) misses quorum 15: the sorry server serves, the inhibited server waits at 0.
  t.deepEqual(ipvs.services[0]!.destinations?.map((d) => [d.address, d.weight]), [['10.0.1.2', 0], ['10.0.9.9', 1]]);
});

test('a MISC_CHECK whose program is missing or not executable is disabled with a warning (keepalived: "since not found/accessible"); its real server keeps its state', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-misc-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const plain = path.join(dir, 'check.sh');
  fs.writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
  const r = parse(`virtual_server 10.0.0.1 80 {
  real_server 10.0.1.1 80 {
    MISC_CHECK {
      misc_path "/nonexistent/lvskit-check.sh arg1"
    }
  }
  real_server 10.0.1.2 80 {
    MISC_CHECK {
      misc_path ${plain}
    }
  }
  real_server 10.0.1.3 80 {
    MISC_CHECK {
      misc_path /bin/true
    }
  }
}
`);
  const c = convertHealthChecks(r.config, { miscRefusal });
  t.deepEqual(messages(c.diagnostics), [
    'keepalived.conf:3:5: warning: MISC_CHECK of real_server 10.0.1.1 disabled: /nonexistent/lvskit-check.sh cannot be accessed (ENOENT); the real server keeps its state as if it had no such checker (keepalived disables it "since not found/accessible")',
    `keepalived.conf:8:5: warning: MISC_CHECK of real_server 10.0.1.2 disabled: ${plain} is not executable for uid:gid 0:0 (mode 644); the real server keeps its state as if it had no such checker (keepalived disables it "since not found/accessible")`,
  ]);
  t.deepEqual(c.virtualServers[0]!.realServers.map((rs) => rs.checkers?.map((k) => k.kind) ?? []), [[], [], ['MISC_CHECK']]);
  // Without the lookup (a conversion that does not look at the host), every MISC_CHECK is kept.
  t.deepEqual(convertHealthChecks(r.config).virtualServers[0]!.realServers.map((rs) => rs.checkers?.length), [1, 1, 1]);
});
