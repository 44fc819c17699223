// layer: tests (unit tier)
// job: receive validation per RFC 3768/5798 §7.1 with keepalived's messages, and thousands of random and mutated datagrams: dropped and counted, no crash, no state change.
import test from 'ava';
import { encodeAdvertisement, encodeIpv4Header, encodePassword } from '../../src/vrrp/packet.js';
import {
  checkAdvertisement, DROP_REASONS, emptyDropCounters, parseIpv4Datagram, readDatagram, type ReceivePolicy,
} from '../../src/vrrp/receive.js';
import { ipv4Datagram, keepalivedCapture, vrrpOf } from '../helpers/vrrp-fixtures.js';

const v2Policy: ReceivePolicy = {
  family: 4, version: 2, vrid: 52, advertIntervalCs: 100, authData: encodePassword('secret12'),
  addresses: ['123.30.175.41', '123.30.175.40'], unicast: false,
};

function parsed(name: string) {
  const r = parseIpv4Datagram(ipv4Datagram(name));
  if (!r.ok) throw new Error(r.message);
  return r.datagram;
}

/** keepalived's v2 advert, re-encoded with changes and a correct checksum. */
function v2With(changes: Partial<Parameters<typeof encodeAdvertisement>[0]>, ttl = 255): Buffer {
  const vrrp = encodeAdvertisement({
    version: 2, vrid: 52, priority: 100, advertIntervalCs: 100, authType: 1, authData: encodePassword('secret12'),
    addresses: ['123.30.175.40', '123.30.175.41'], ...changes,
  }, 4);
  return Buffer.concat([encodeIpv4Header({ src: keepalivedCapture.ipv4, dst: '224.0.0.18', payloadBytes: vrrp.length, id: 9, ttl }), vrrp]);
}

function check(policy: ReceivePolicy, data: Buffer) {
  const r = parseIpv4Datagram(data);
  return r.ok ? checkAdvertisement(policy, r.datagram) : r;
}

test('keepalived\'s adverts pass (address order is free), v2 PASS, v3 IPv4, v3 IPv6, unicast', (t) => {
  t.like(checkAdvertisement(v2Policy, parsed('v2PassMulticast')), { ok: true, advert: { priority: 100 } });
  t.like(checkAdvertisement({ family: 4, version: 3, vrid: 53, advertIntervalCs: 100, addresses: ['123.30.175.42'], unicast: false },
    parsed('v3Ipv4Multicast')), { ok: true, advert: { advertIntervalCs: 5 } }, 'v3 learns the interval instead of requiring it');
  const six = vrrpOf('v3Ipv6Multicast');
  const r6 = readDatagram(6, six.vrrp, { src: six.src, dst: six.dst, ttl: 255 });
  t.true(r6.ok);
  if (r6.ok) t.like(checkAdvertisement({ family: 6, version: 3, vrid: 54, advertIntervalCs: 100, addresses: ['fe80::77:100', 'fd00:77::100'], unicast: false }, r6.datagram), { ok: true });
  t.like(checkAdvertisement({ family: 4, version: 3, vrid: 56, advertIntervalCs: 100, addresses: ['123.30.175.44', '123.30.175.45'], unicast: true },
    parsed('v3Ipv4Unicast')), { ok: true });
});

test('each RFC check drops with its reason and keepalived\'s log text', (t) => {
  const cases: Array<[string, Buffer, ReceivePolicy, string, string]> = [
    ['ttl', v2With({}, 64), v2Policy, 'ttl', 'invalid ttl. 64 and expect 255'],
    ['version', v2With({}), { ...v2Policy, version: 3 }, 'version', 'invalid version. 2 and expect 3'],
    ['type', v2With({ type: 2 }), v2Policy, 'type', 'Invalid packet type. 2 and expect 1'],
    ['vrid', v2With({ vrid: 51 }), v2Policy, 'vrid', 'received VRID mismatch. Received 51, Expected 52'],
    ['no auth', v2With({ authType: 0 }), v2Policy, 'auth-type', 'received a 0 auth, expecting 1! (none vs PASS)'],
    ['unknown auth', v2With({ authType: 7 }), v2Policy, 'auth-type', 'Invalid auth type: 7'],
    ['password', v2With({ authData: encodePassword('secret13') }), v2Policy, 'auth', 'received an invalid passwd!'],
    ['interval', v2With({ advertIntervalCs: 300 }), v2Policy, 'interval', 'advertisement interval mismatch mine=1 sec rcved=3 sec'],
    ['count', v2With({ addresses: ['123.30.175.40'] }), v2Policy, 'address-count', 'received an invalid ip number count 1, expected 2!'],
    ['list', v2With({ addresses: ['123.30.175.40', '123.30.175.49'] }), v2Policy, 'address-list',
      'ip address associated with VRID 52 not present in MASTER advert : 123.30.175.41'],
  ];
  for (const [what, data, policy, reason, message] of cases) t.like(check(policy, data), { ok: false, reason, message }, what);
  const corrupt = v2With({});
  corrupt[20 + 2] = corrupt[20 + 2]! ^ 0x01; // priority changed after the checksum was computed
  t.like(check(v2Policy, corrupt), { ok: false, reason: 'checksum', message: 'Invalid VRRPv2 checksum' });
  t.like(check({ ...v2Policy, unicast: true }, v2With({}, 64)), { ok: true }, 'unicast adverts may have crossed routers');
  const v3 = parsed('v3Ipv4Multicast');
  t.like(checkAdvertisement({ family: 4, version: 3, vrid: 53, advertIntervalCs: 5, addresses: ['123.30.175.42'], unicast: false }, { ...v3, dst: '224.0.0.19' }),
    { ok: false, reason: 'checksum', message: 'Invalid VRRPv3 checksum' }, 'v3 covers the destination');
  t.like(readDatagram(6, Buffer.alloc(8), { src: 'fe80::1' }), { ok: false, reason: 'ip-header' });
});

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(original: Buffer, rnd: () => number): Buffer {
  const kind = Math.floor(rnd() * 5);
  let out = Buffer.from(original);
  if (kind === 0) { // flip 1..4 random bits
    for (let i = 1 + Math.floor(rnd() * 4); i > 0; i--) {
      const at = Math.floor(rnd() * out.length);
      out[at] = out[at]! ^ (1 << Math.floor(rnd() * 8));
    }
  } else if (kind === 1) { // truncate
    out = out.subarray(0, Math.floor(rnd() * out.length));
  } else if (kind === 2) { // extend with garbage
    out = Buffer.concat([out, Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)))]);
  } else if (kind === 3) { // overwrite one byte with a random value
    out[Math.floor(rnd() * out.length)] = Math.floor(rnd() * 256);
  } else { // pure noise of random length
    out = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)));
  }
  return out;
}

test('10,000 random and mutated datagrams: all but intact adverts are dropped and counted by reason; no exception', (t) => {
  const rnd = prng(0x5eed);
  const originals = [ipv4Datagram('v2PassMulticast'), ipv4Datagram('v2PassMulticastPriority0'), v2With({ priority: 200 })];
  const counters = emptyDropCounters();
  let accepted = 0;
  for (let i = 0; i < 10_000; i++) {
    const data = mutate(originals[i % originals.length]!, rnd);
    // The runner's path: raw bytes → datagram → checks → (only if ok) an event for the machine.
    const read = readDatagram(4, data, {});
    const r = read.ok ? checkAdvertisement(v2Policy, read.datagram) : read;
    if (r.ok) {
      // Only bytes VRRP does not cover (IP id, TOS, header checksum) can change and still pass.
      accepted++;
      t.true(originals.some((o) => o.subarray(20).equals(data.subarray(20))), `accepted a changed VRRP payload: ${data.toString('hex')}`);
      continue;
    }
    counters[r.reason]++;
    t.true(DROP_REASONS.includes(r.reason));
    t.true(r.message.length > 0);
  }
  const dropped = Object.values(counters).reduce((a, b) => a + b, 0);
  t.is(dropped + accepted, 10_000);
  t.true(dropped > 8_500, `dropped ${dropped}`); // the rest changed IP header bytes VRRP does not check
  for (const reason of ['truncated', 'length', 'ip-header', 'ttl', 'version', 'vrid', 'checksum'] as const) {
    t.true(counters[reason] > 0, `some drops are ${reason}: ${JSON.stringify(counters)}`);
  }
});
