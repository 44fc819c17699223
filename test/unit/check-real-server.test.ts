// layer: tests (unit tier)
// job: a real server's health from its checkers: all must pass, alpha, events on each change, misc_dynamic weight, and what a reload carries over.
import test from 'ava';
import { applyCheckerUpdate, carriedHealth, effectiveWeight, healthEvents, initialHealth, type RealServerHealth } from '../../src/check/real-server.js';
import type { CheckFailure } from '../../src/check/types.js';

const fail = (message: string): CheckFailure => ({ ok: false, reason: 'status', message });
const up = { up: true, weight: undefined };
const down = { up: false, weight: undefined };

test('no checkers: always UP at the configured weight', (t) => {
  const h = initialHealth(10, []);
  t.true(h.up);
  t.is(effectiveWeight(h), 10);
});

test('without alpha a server starts UP; with alpha it starts DOWN until its first success', (t) => {
  t.true(initialHealth(10, [{ key: 'tcp', alpha: false }]).up);
  const alpha = initialHealth(10, [{ key: 'tcp', alpha: true }]);
  t.false(alpha.up);
  t.deepEqual(alpha.downReason, { checker: 'tcp' });
  const { health, events } = applyCheckerUpdate(alpha, 'tcp', { result: { ok: true }, verdict: up });
  t.true(health.up);
  t.deepEqual(events, [{ type: 'up' }]);
});

test('a shared check that already has a verdict decides the start, whatever alpha says', (t) => {
  t.false(initialHealth(10, [{ key: 'tcp', alpha: false, state: { up: false, retryIt: 0, weight: undefined } }]).up);
  t.true(initialHealth(10, [{ key: 'tcp', alpha: true, state: { up: true, retryIt: 0, weight: undefined } }]).up);
});

test('every checker must pass: one DOWN is DOWN (with its failure as the reason), all UP again is UP', (t) => {
  let h: RealServerHealth = initialHealth(10, [{ key: 'tcp', alpha: false }, { key: 'http', alpha: false }]);
  let r = applyCheckerUpdate(h, 'http', { result: fail('GET /: status 503'), verdict: down });
  h = r.health;
  t.false(h.up);
  t.deepEqual(r.events, [{ type: 'down', checker: 'http', failure: fail('GET /: status 503') }]);
  t.deepEqual(h.downReason, { checker: 'http', failure: fail('GET /: status 503') });
  r = applyCheckerUpdate(h, 'tcp', { result: fail('refused'), verdict: down });
  h = r.health;
  t.deepEqual(r.events, [], 'already DOWN: no second event');
  r = applyCheckerUpdate(h, 'http', { result: { ok: true }, verdict: up });
  h = r.health;
  t.false(h.up, 'tcp still DOWN');
  t.deepEqual(r.events, []);
  r = applyCheckerUpdate(h, 'tcp', { result: { ok: true }, verdict: up });
  t.true(r.health.up);
  t.deepEqual(r.events, [{ type: 'up' }]);
  t.is(r.health.downReason, undefined);
});

test('attempts without a verdict (retries) change no state, only the last result', (t) => {
  const h = initialHealth(10, [{ key: 'tcp', alpha: false }]);
  const r = applyCheckerUpdate(h, 'tcp', { result: fail('refused') });
  t.true(r.health.up);
  t.deepEqual(r.events, []);
  t.deepEqual(r.health.checkers.get('tcp')?.last, fail('refused'));
});

test('misc_dynamic: a weight from the checker replaces the configured one, with an event', (t) => {
  const h = initialHealth(10, [{ key: 'misc', alpha: false }]);
  const r = applyCheckerUpdate(h, 'misc', { result: { ok: true, weight: 3 }, verdict: { up: true, weight: 3 } });
  t.is(effectiveWeight(r.health), 3);
  t.deepEqual(r.events, [{ type: 'weight', weight: 3, previous: 10 }]);
});

test('an update for a checker the server does not have is ignored', (t) => {
  const h = initialHealth(10, [{ key: 'tcp', alpha: false }]);
  t.is(applyCheckerUpdate(h, 'other', { result: { ok: true }, verdict: up }).health, h);
});

/** A server with checkers tcp and http, http DOWN (after its retries) with its failure. */
function downOnHttp(): RealServerHealth {
  const h = initialHealth(10, [{ key: 'tcp', alpha: false }, { key: 'http', alpha: false }]);
  return applyCheckerUpdate(h, 'http', { result: fail('GET /: status 503'), verdict: down }).health;
}

test('reload with the same checkers: UP/DOWN, the reason and a dynamic weight carry over; the configured weight is the new one', (t) => {
  const before = downOnHttp();
  const after = carriedHealth(before, 20, [{ key: 'http', alpha: true }, { key: 'tcp', alpha: false }]);
  t.false(after.up, 'not back to the initial UP');
  t.deepEqual(after.downReason, { checker: 'http', failure: fail('GET /: status 503') });
  t.is(after.configuredWeight, 20);
  t.deepEqual(healthEvents(before, after), [{ type: 'weight', weight: 20, previous: 10 }]);
  const dynamic = applyCheckerUpdate(initialHealth(10, [{ key: 'misc', alpha: false }]), 'misc', { result: { ok: true, weight: 3 }, verdict: { up: true, weight: 3 } }).health;
  const kept = carriedHealth(dynamic, 20, [{ key: 'misc', alpha: false, dynamic: true }]);
  t.is(effectiveWeight(kept), 3, 'misc_dynamic still decides');
  t.deepEqual(healthEvents(dynamic, kept), []);
});

test('reload with a checker replaced: the kept one keeps its verdict, the new one starts as add() starts it', (t) => {
  const before = downOnHttp();
  const fresh = carriedHealth(before, 10, [{ key: 'tcp', alpha: false }, { key: 'http2', alpha: false }]);
  t.true(fresh.up, 'the failing checker is gone; its replacement starts UP (no alpha)');
  t.deepEqual(healthEvents(before, fresh), [{ type: 'up' }]);
  t.deepEqual([...fresh.checkers.keys()], ['tcp', 'http2']);
  const alpha = carriedHealth(before, 10, [{ key: 'tcp', alpha: false }, { key: 'http2', alpha: true }]);
  t.deepEqual([alpha.up, alpha.downReason], [false, { checker: 'http2' }], 'alpha: DOWN until its first success');
  const shared = carriedHealth(before, 10, [{ key: 'tcp', alpha: false }, { key: 'http2', alpha: false, state: { up: false, retryIt: 0, weight: undefined } }]);
  t.false(shared.up, 'a shared check already DOWN decides');
  const tcpDown = applyCheckerUpdate(initialHealth(10, [{ key: 'tcp', alpha: false }, { key: 'http', alpha: false }]), 'tcp', { result: fail('refused'), verdict: down }).health;
  t.false(carriedHealth(tcpDown, 10, [{ key: 'tcp', alpha: false }, { key: 'http2', alpha: false }]).up, 'the kept checker is still DOWN');
});

test('reload: a dynamic weight goes with its checker, and a new dynamic checker\'s known weight replaces it', (t) => {
  const dynamic = applyCheckerUpdate(initialHealth(10, [{ key: 'misc', alpha: false }, { key: 'tcp', alpha: false }]), 'misc',
    { result: { ok: true, weight: 3 }, verdict: { up: true, weight: 3 } }).health;
  t.is(effectiveWeight(carriedHealth(dynamic, 10, [{ key: 'tcp', alpha: false }])), 10, 'misc_dynamic removed: the configured weight');
  t.is(effectiveWeight(carriedHealth(dynamic, 10, [{ key: 'misc', alpha: false, dynamic: true }, { key: 'tcp2', alpha: false }])), 3, 'kept');
  const joined = carriedHealth(dynamic, 10, [{ key: 'misc2', alpha: false, dynamic: true, state: { up: true, retryIt: 0, weight: 7 } }, { key: 'tcp', alpha: false }]);
  t.is(effectiveWeight(joined), 7);
});
