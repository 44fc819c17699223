// layer: tests (unit)
// job: the autoban's pure policy: threshold edges, whitelist, the cap on new bans per minute, dry run, expiry, once-only notices.
import test from 'ava';
import { RangeList, evaluate, initialState, parseRange, policyConfig, withRestoredBans, type AutobanState, type Observation } from '../../src/autoban/index.js';

const T0 = Date.UTC(2026, 0, 1);
const obs = (address: string, count: number): Observation => ({ address, count });

test('threshold: a client at the threshold is not banned, one above it is', (t) => {
  const config = policyConfig({ threshold: 100 });
  const d = evaluate(config, initialState(), [obs('198.18.0.1', 100), obs('198.18.0.2', 101), obs('198.18.0.3', 0)], T0);
  t.deepEqual(d.actions, [{ kind: 'ban', address: '198.18.0.2', timeoutSec: 0, count: 101 }]);
  t.deepEqual(d.events, [{ type: 'ban', address: '198.18.0.2', count: 101, untilMs: undefined, dryRun: false }]);
  t.deepEqual([...d.state.bans.keys()], ['198.18.0.2']);
});

test('defaults: threshold 100, no ban end, 60 bans a minute, not a dry run', (t) => {
  t.deepEqual(policyConfig(), { threshold: 100, whitelist: [], banTimeoutSec: 0, maxBansPerMinute: 60, dryRun: false });
  t.throws(() => policyConfig({ threshold: -1 }), { instanceOf: RangeError });
  t.throws(() => policyConfig({ banTimeoutSec: 2_147_484 }), { instanceOf: RangeError });
  t.throws(() => policyConfig({ maxBansPerMinute: 0 }), { instanceOf: RangeError });
});

test('a banned client is not banned again while the ban lasts; after it ends it can be', (t) => {
  const config = policyConfig({ threshold: 10, banTimeoutSec: 60 });
  let d = evaluate(config, initialState(), [obs('198.18.0.1', 50)], T0);
  t.is(d.actions[0]?.timeoutSec, 60);
  t.like(d.events[0], { type: 'ban', untilMs: T0 + 60_000 });
  d = evaluate(config, d.state, [obs('198.18.0.1', 50)], T0 + 59_999);
  t.deepEqual([d.actions, d.events], [[], []]);
  d = evaluate(config, d.state, [obs('198.18.0.1', 50)], T0 + 60_000);
  t.deepEqual(d.events.map((e) => e.type), ['expired', 'ban']);
  t.is(d.actions.length, 1);
});

test('whitelist: IPv4 and IPv6 networks are never banned, and reported once while they stay over', (t) => {
  const config = policyConfig({ threshold: 10, whitelist: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'] });
  let d = evaluate(config, initialState(), [obs('10.1.2.3', 500), obs('2001:db8:1::1', 500), obs('192.0.2.7', 99), obs('192.0.2.8', 99), obs('2001:db9::1', 99)], T0);
  t.deepEqual(d.actions.map((a) => a.address), ['192.0.2.8', '2001:db9::1']);
  t.deepEqual(d.events.filter((e) => e.type === 'whitelisted').map((e) => [e.address, e.type === 'whitelisted' ? e.range : '']),
    [['10.1.2.3', '10.0.0.0/8'], ['2001:db8:1::1', '2001:db8::/32'], ['192.0.2.7', '192.0.2.7']]);
  d = evaluate(config, d.state, [obs('10.1.2.3', 600)], T0 + 1000);
  t.deepEqual(d.events, [], 'still over: not reported again');
  d = evaluate(config, d.state, [], T0 + 2000);
  d = evaluate(config, d.state, [obs('10.1.2.3', 600)], T0 + 3000);
  t.deepEqual(d.events.map((e) => e.type), ['whitelisted'], 'fell back, came back: reported again');
});

test('cap: at most N new bans in any 60 s, highest counts first; the rest wait and are banned when the window frees', (t) => {
  const config = policyConfig({ threshold: 10, maxBansPerMinute: 2 });
  const seen = [obs('198.18.0.1', 20), obs('198.18.0.2', 40), obs('198.18.0.3', 30), obs('198.18.0.4', 50)];
  let d = evaluate(config, initialState(), seen, T0);
  t.deepEqual(d.actions.map((a) => a.address), ['198.18.0.4', '198.18.0.2']);
  t.deepEqual(d.events.filter((e) => e.type === 'rate-limited').map((e) => e.address), ['198.18.0.3', '198.18.0.1']);
  d = evaluate(config, d.state, seen, T0 + 30_000);
  t.deepEqual([d.actions, d.events], [[], []], 'window still full; no repeated notices');
  d = evaluate(config, d.state, seen, T0 + 60_001);
  t.deepEqual(d.actions.map((a) => a.address), ['198.18.0.3', '198.18.0.1']);
});

test('dry run: decisions and events as usual, no actions; the would-be ban is remembered so it is not reported every round', (t) => {
  const config = policyConfig({ threshold: 10, dryRun: true, banTimeoutSec: 60 });
  let d = evaluate(config, initialState(), [obs('198.18.0.1', 11)], T0);
  t.deepEqual(d.actions, []);
  t.deepEqual(d.events, [{ type: 'ban', address: '198.18.0.1', count: 11, untilMs: T0 + 60_000, dryRun: true }]);
  d = evaluate(config, d.state, [obs('198.18.0.1', 11)], T0 + 1000);
  t.deepEqual(d.events, []);
  d = evaluate(config, d.state, [], T0 + 60_000);
  t.deepEqual(d.events, [{ type: 'expired', address: '198.18.0.1', dryRun: true }]);
});

test('per-service observations of one client become one ban, counted by its highest', (t) => {
  const d = evaluate(policyConfig({ threshold: 10 }), initialState(), [obs('198.18.0.1', 5), obs('198.18.0.1', 12), obs('198.18.0.1', 11)], T0);
  t.deepEqual(d.actions, [{ kind: 'ban', address: '198.18.0.1', timeoutSec: 0, count: 12 }]);
});

test('a partial round (one crossing) does not forget the clients noted by full rounds', (t) => {
  const config = policyConfig({ threshold: 1, whitelist: ['192.0.2.0/24'] });
  let d = evaluate(config, initialState(), [obs('192.0.2.1', 5)], T0);
  d = evaluate(config, d.state, [obs('198.18.0.1', 2)], T0 + 1, { complete: false });
  t.deepEqual(d.events.map((e) => e.type), ['ban']);
  t.true(d.state.noted.has('192.0.2.1'));
});

test('restored bans: expired ones are left out', (t) => {
  const state: AutobanState = withRestoredBans(initialState(), [
    { address: '198.18.0.1', count: 0, sinceMs: 0, untilMs: T0 + 1, dryRun: false },
    { address: '198.18.0.2', count: 0, sinceMs: 0, untilMs: T0, dryRun: false },
    { address: '198.18.0.3', count: 0, sinceMs: 0, untilMs: undefined, dryRun: false },
  ], T0);
  t.deepEqual([...state.bans.keys()], ['198.18.0.1', '198.18.0.3']);
});

test('ranges: prefix edges, host bits, families', (t) => {
  const list = new RangeList(['10.255.255.255/9', '::/0', '0.0.0.0/32']);
  t.is(list.match('10.128.0.1')?.text, '10.255.255.255/9');
  t.is(list.match('10.127.255.255'), undefined);
  t.is(list.match('2001:db8::1')?.text, '::/0');
  t.is(list.match('0.0.0.0')?.text, '0.0.0.0/32');
  t.is(new RangeList(['192.0.2.128/25']).match('192.0.2.127'), undefined);
  t.is(new RangeList(['192.0.2.128/25']).match('192.0.2.128')?.prefixLength, 25);
  t.throws(() => parseRange('10.0.0.0/33'), { instanceOf: TypeError });
  t.throws(() => parseRange('example.com'), { instanceOf: TypeError });
  t.throws(() => parseRange('fe80::1%eth0'), { instanceOf: TypeError });
});
