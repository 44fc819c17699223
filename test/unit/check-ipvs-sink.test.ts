// layer: tests (unit tier)
// job: the IPVS sink keeps the sink contract over the client's errors (EEXIST on add edits, ENOENT on edit adds, ENOENT on delete is success, others reject); a dump as sink destinations.
import test from 'ava';
import { ErrnoError } from '../../src/errors.js';
import { ipvsSink, sinkDestinations, type IpvsDestinationClient } from '../../src/check/ipvs-sink.js';
import type { SinkDestination } from '../../src/check/sink.js';
import type { DestinationState, ServiceKey } from '../../src/ipvs/model.js';

const service: ServiceKey = { protocol: 'tcp', address: '10.0.0.1', port: 80 };
const dest: SinkDestination = { address: '10.0.0.2', port: 80, weight: 0, forward: 'dr' };

/** A client whose calls fail once each with the given errno (0: succeed), recording the calls. */
function client(fail: { add?: number; edit?: number; del?: number }): { calls: string[]; client: IpvsDestinationClient } {
  const calls: string[] = [];
  const step = (name: 'add' | 'edit' | 'del', cmd: string) => async (): Promise<void> => {
    calls.push(name);
    const errno = fail[name];
    fail[name] = 0;
    if (errno) throw new ErrnoError(errno, cmd, 'TCP 10.0.0.1:80 -> 10.0.0.2:80');
  };
  return { calls, client: { addDestination: step('add', 'IPVS_CMD_NEW_DEST'), editDestination: step('edit', 'IPVS_CMD_SET_DEST'), deleteDestination: step('del', 'IPVS_CMD_DEL_DEST') } };
}

test('add of an existing real server edits it', async (t) => {
  const c = client({ add: 17 });
  await ipvsSink(c.client).addDestination(service, dest);
  t.deepEqual(c.calls, ['add', 'edit']);
});

test('set-weight of a vanished real server adds it back', async (t) => {
  const c = client({ edit: 2 });
  await ipvsSink(c.client).setWeight(service, dest);
  t.deepEqual(c.calls, ['edit', 'add']);
});

test('remove of an absent real server succeeds', async (t) => {
  const c = client({ del: 2 });
  await ipvsSink(c.client).removeDestination(service, dest);
  t.deepEqual(c.calls, ['del']);
});

test('any other refusal rejects with the client’s error (ESRCH: no such service)', async (t) => {
  const c = client({ edit: 3 });
  const error = await t.throwsAsync(async () => ipvsSink(c.client).setWeight(service, dest));
  t.is((error as ErrnoError).code, 'ESRCH');
  t.deepEqual(c.calls, ['edit']);
});

test('a dump\'s real servers as sink destinations: no counters, no zero thresholds, a tunnel only for tun', (t) => {
  const state = (extra: Partial<DestinationState>): DestinationState => ({
    address: '10.0.0.2', port: 80, weight: 10, forward: 'dr', family: 4, upperThreshold: 0, lowerThreshold: 0, activeConns: 3, inactiveConns: 1, persistentConns: 0, ...extra,
  });
  t.deepEqual(sinkDestinations([
    state({}),
    state({ address: '10.0.0.3', forward: 'nat', upperThreshold: 100, lowerThreshold: 50 }),
    state({ address: '10.0.0.4', forward: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'none' } }),
    state({ address: '10.0.0.5', forward: 'local' }),
  ]), [
    { address: '10.0.0.2', port: 80, weight: 10, forward: 'dr' },
    { address: '10.0.0.3', port: 80, weight: 10, forward: 'nat', upperThreshold: 100, lowerThreshold: 50 },
    { address: '10.0.0.4', port: 80, weight: 10, forward: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'none' } },
    { address: '10.0.0.5', port: 80, weight: 10, forward: 'dr' },
  ]);
});
