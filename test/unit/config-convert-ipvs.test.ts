// layer: tests (unit)
// job: keepalived.conf → the desired IPVS table for plan(): the operator's services, each field, group expansion, the start-up pool (alpha, inhibit_on_failure, quorum, sorry server), daemons, timeouts, diagnostics.
import test from 'ava';
import { convertIpvs, ipvsPlanOptions } from '../../src/daemon/convert.js';
import { loadConfig } from '../../src/config/index.js';
import { isValidated, type Destination, type VirtualService } from '../../src/ipvs/index.js';
import { plan } from '../../src/ipvs/plan.js';
import { fixture, messages, parse } from '../helpers/config.js';

const dr = (address: string, weight: number, port = 80): Destination => ({ address, port, forward: 'dr', weight, upperThreshold: 0, lowerThreshold: 0 });

for (const form of ['one-line', 'multi-line']) {
  test(`the operator's ${form} takataka.vn: TCP 123.30.175.40:80, rr, three DR real servers at weight 10`, (t) => {
    const c = convertIpvs(loadConfig(fixture('seed', form, 'keepalived.conf')).config);
    t.deepEqual([...c.services], [{
      protocol: 'tcp', address: '123.30.175.40', port: 80, scheduler: 'rr',
      destinations: [dr('172.16.16.37', 10), dr('172.16.16.38', 10), dr('172.16.16.39', 10)],
    }]);
    t.true(isValidated(c.services), 'plan() takes it without checking it again');
    t.deepEqual(c.diagnostics, []);
    t.like(c, { flush: false, daemons: [], syncDaemon: { interface: 'eth0', instance: 'VI_2', syncId: 52 } });
  });
}

test('the layout (keepalived.conf + services/*.conf): both sites, persistence, and a plan of 2 services + 4 real servers', (t) => {
  const c = convertIpvs(loadConfig(fixture('layout', 'keepalived.conf'), { configId: 'lb1' }).config);
  t.deepEqual([...c.services], [
    { protocol: 'tcp', address: '123.30.175.41', port: 443, scheduler: 'wrr', persistence: { timeoutSec: 50, prefixLength: 32 },
      destinations: [dr('172.16.16.40', 10, 443), dr('172.16.16.41', 20, 443)] },
    { protocol: 'tcp', address: '123.30.175.40', port: 80, scheduler: 'rr', destinations: [dr('172.16.16.37', 10), dr('172.16.16.38', 10)] },
  ]);
  const ops = plan([], c.services, ipvsPlanOptions(c));
  t.deepEqual(ops.map((o) => o.kind), ['add-service', 'add-destination', 'add-destination', 'add-service', 'add-destination', 'add-destination']);
});

test('defaults as keepalived: UDP without protocol, wlc, NAT, weight 1, port of the service; a service without port is persistent 360 s', (t) => {
  const r = parse('virtual_server 10.0.0.1 53 {\n  real_server 10.0.1.1 {\n  }\n}\nvirtual_server 10.0.0.2 {\n  protocol TCP\n  real_server 10.0.1.2 {\n  }\n}\n');
  const c = convertIpvs(r.config);
  t.deepEqual([...c.services], [
    { protocol: 'udp', address: '10.0.0.1', port: 53, scheduler: 'wlc',
      destinations: [{ address: '10.0.1.1', port: 53, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0 }] },
    { protocol: 'tcp', address: '10.0.0.2', port: 0, scheduler: 'wlc', persistence: { timeoutSec: 360, prefixLength: 32 },
      destinations: [{ address: '10.0.1.2', port: 0, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0 }] },
  ]);
});

test('each service field: fwmark (IPv6 from its real servers), flags, ops, persistence granularity and engine, thresholds, TUN, timeouts, flush', (t) => {
  const r = parse(`global_defs {
  lvs_timeouts tcp 7200 udp 300
  lvs_flush
  lvs_sync_daemon eth1 id 7
}
virtual_server fwmark 5 {
  lvs_sched sh
  sh-port
  flag-2
  flag-1
  lvs_method TUN type gue port 6080 nocsum
  persistence_timeout
  persistence_granularity 64
  real_server 2001:db8::1 80 {
    weight 3
    uthreshold 100
    lthreshold 10
  }
}
virtual_server 10.0.0.1 5060 {
  protocol UDP
  ops
  lvs_sched rr
  persistence_timeout 30
  persistence_granularity 255.255.255.0
  persistence_engine sip
  real_server 10.0.1.1 5060 {
    lvs_method DR
  }
}
`);
  const c = convertIpvs(r.config);
  t.deepEqual(c.diagnostics, []);
  t.deepEqual([...c.services], [
    { fwmark: 5, family: 6, scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port'], persistence: { timeoutSec: 360, prefixLength: 64 },
      destinations: [{ address: '2001:db8::1', port: 80, forward: 'tun', weight: 3, upperThreshold: 100, lowerThreshold: 10,
        tunnel: { type: 'gue', port: 6080, checksum: 'none' } }] },
    { protocol: 'udp', address: '10.0.0.1', port: 5060, scheduler: 'rr', onePacket: true,
      persistence: { timeoutSec: 30, prefixLength: 24, engine: 'sip' }, destinations: [dr('10.0.1.1', 1, 5060)] },
  ]);
  t.deepEqual(c.timeouts, { tcpSec: 7200, udpSec: 300 });
  t.true(c.flush);
  t.deepEqual(ipvsPlanOptions(c), {});
  t.deepEqual(c.daemons, [{ state: 'master', interface: 'eth1', syncId: 7 }, { state: 'backup', interface: 'eth1', syncId: 7 }]);
  // Without lvs_flush, services lvskit does not declare are left alone.
  const foreign: VirtualService = { protocol: 'tcp', address: '192.0.2.9', port: 80, scheduler: 'rr', destinations: [] };
  const notFlushed = convertIpvs(parse('virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.1.1 80 {\n  }\n}\n').config);
  t.false(plan([foreign], notFlushed.services, ipvsPlanOptions(notFlushed)).some((o) => o.kind === 'delete-service'));
  t.true(plan([foreign], c.services, ipvsPlanOptions(c)).some((o) => o.kind === 'delete-service'));
});

test('virtual_server_group: addresses, ranges (short and full), prefixes, IPv6 ranges and fwmarks, one service each', (t) => {
  const r = parse(`virtual_server_group G {
  10.0.0.1 80
  10.0.0.10-12 80
  10.0.0.254-10.0.1.1 8080
  10.0.2.8/30 443
  2001:db8::a-c 80
  fwmark 7
}
virtual_server group G {
  protocol TCP
  lb_kind DR
  real_server 10.0.9.1 {
    weight 5
  }
}
`);
  const c = convertIpvs(r.config);
  t.deepEqual(c.services.map((s) => ('fwmark' in s ? `FWM ${s.fwmark}/${s.family}` : `${s.address}:${s.port}`)), [
    '10.0.0.1:80', '10.0.0.10:80', '10.0.0.11:80', '10.0.0.12:80', '10.0.0.254:8080', '10.0.0.255:8080', '10.0.1.0:8080', '10.0.1.1:8080',
    '10.0.2.8:443', '10.0.2.9:443', '10.0.2.10:443', '10.0.2.11:443', '2001:db8::a:80', '2001:db8::b:80', '2001:db8::c:80', 'FWM 7/4',
  ]);
  // Real servers follow each entry's port; IPv6 entries of an IPv4 real server are refused by IPVS (not TUN), at the real server
  // (so the table stays as converted, not validated).
  t.deepEqual(c.services[4]!.destinations, [{ address: '10.0.9.1', port: 8080, forward: 'dr', weight: 5 }]);
  t.false(isValidated(c.services));
  t.deepEqual(messages(c.diagnostics), [
    'keepalived.conf:12:3: error: TCP [2001:db8::a]:80: real_server 10.0.9.1 80: IPv4 real server in an IPv6 service needs forward "tun" (the kernel forwards mixed families only by tunnel)',
  ]);
});

test('the start-up pool follows src/check: alpha starts a server DOWN (out, or weight 0 with inhibit_on_failure); lost quorum brings in the sorry server', (t) => {
  const r = parse(`virtual_server 10.0.0.1 80 {
  protocol TCP
  alpha
  quorum 25
  sorry_server 10.0.5.5 8080
  sorry_server_lvs_method DR
  real_server 10.0.1.1 80 {
    weight 20
    alpha off
    TCP_CHECK {
    }
  }
  real_server 10.0.1.2 80 {
    weight 10
    inhibit_on_failure
    TCP_CHECK {
    }
  }
  real_server 10.0.1.3 80 {
    weight 10
    TCP_CHECK {
    }
  }
}
virtual_server 10.0.0.2 80 {
  protocol TCP
  sorry_server 10.0.5.5 80
  sorry_server_inhibit
  real_server 10.0.1.4 80 {
    weight 2
    TCP_CHECK {
      alpha
    }
  }
  real_server 10.0.1.5 80 {
    weight 2
    TCP_CHECK {
    }
  }
}
`);
  const c = convertIpvs(r.config);
  const nat = (address: string, weight: number, port = 80): Destination => ({ ...dr(address, weight, port), forward: 'nat' });
  // Only 10.0.1.1 (weight 20) is up: below quorum 25, so the sorry server serves and 10.0.1.1 leaves; 10.0.1.2 stays at 0.
  t.deepEqual(c.services[0]!.destinations, [nat('10.0.1.2', 0), dr('10.0.5.5', 1, 8080)]);
  // Quorum 1 is met by 10.0.1.5; the alpha server is out; the idle sorry server is kept at weight 0.
  t.deepEqual(c.services[1]!.destinations, [nat('10.0.1.5', 2), nat('10.0.5.5', 0)]);
});

test('what IPVS cannot take is reported at its place: a persistence granularity of the wrong family, a duplicate service, a refused value', (t) => {
  const r = parse(`virtual_server_group G {
  10.0.0.1 80
}
virtual_server 2001:db8::1 80 {
  protocol TCP
  persistence_timeout 60
  persistence_granularity 255.255.255.0
  real_server 2001:db8::2 80 {
  }
}
virtual_server 10.0.0.1 80 {
  protocol TCP
  real_server 10.0.1.1 80 {
  }
}
virtual_server group G {
  protocol TCP
  real_server 10.0.1.2 80 {
  }
}
virtual_server 10.0.0.3 80 {
  protocol TCP
  persistence_timeout 9999999
  real_server 10.0.1.3 80 {
  }
}
`);
  const c = convertIpvs(r.config);
  t.deepEqual(messages(c.diagnostics), [
    'keepalived.conf:2:3: error: virtual_server group G: IPVS service TCP 10.0.0.1:80 is already declared\nkeepalived.conf:11:1: note: virtual_server 10.0.0.1:80 declares it',
    'keepalived.conf:4:1: error: TCP [2001:db8::1]:80: persistence_granularity 255.255.255.0 is an IPv4 netmask; an IPv6 service takes a prefix length',
    'keepalived.conf:21:1: error: TCP 10.0.0.3:80: persistence_timeout: must be an integer in 1…2678400, got 9999999',
  ]);
  t.false(c.ok);
  t.is(c.services.length, 3);
});
