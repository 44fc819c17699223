// layer: tests (unit tier)
// job: a real server's health from its checkers: all must pass, alpha, events on each change, misc_dynamic weight.
import test from 'ava';
import { applyCheckerUpdate, effectiveWeight, initialHealth, type RealServerHealth } from '../../src/check/real-server.js';
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
