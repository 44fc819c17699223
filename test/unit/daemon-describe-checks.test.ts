// layer: tests (unit)
// job: a real server's DOWN line names its checker by kind and gives the failure's own sentence (not the checker's settings as JSON).
import test from 'ava';
import { describeEvent } from '../../src/daemon/describe.js';

test('a DOWN line: the checker\'s kind and the failure, the settings left to the JSON fields', (t) => {
  const checker = 'HTTP_GET {"attemptTimeoutMs":2000,"connectIp":"10.0.1.2","connectPort":80,"kind":"HTTP_GET","urls":[{"path":"/"}]}';
  const line = describeEvent({
    source: 'checks', type: 'real-server', vs: 'TCP 10.0.0.1:80', rs: '10.0.1.2:80',
    event: { type: 'down', checker, failure: { ok: false, reason: 'response-timeout', message: 'GET / from 10.0.1.2:80: no data for 1000 ms' } },
  });
  t.deepEqual(line, { level: 'warn', message: 'TCP 10.0.0.1:80: real server 10.0.1.2:80 DOWN (HTTP_GET: GET / from 10.0.1.2:80: no data for 1000 ms)' });
  const bare = describeEvent({ source: 'checks', type: 'real-server', vs: 'TCP 10.0.0.1:80', rs: '10.0.1.2:80', event: { type: 'down', checker: 'TCP_CHECK {}' } });
  t.is(bare.message, 'TCP 10.0.0.1:80: real server 10.0.1.2:80 DOWN (TCP_CHECK)');
});
