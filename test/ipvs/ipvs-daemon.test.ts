// layer: tests (IPVS tier)
// job: sync daemons started and stopped through our client, as `ipvsadm -L --daemon` sees them.
import test from 'ava';
import { IpvsError } from '../../src/ipvs/errors.js';
import { formatDaemons } from '../../src/ipvs/format.js';
import { ipvsNetns } from '../helpers/ipvs.js';
import { createNetns, createVethPair } from '../helpers/netns.js';

test('master and backup sync daemons with interface, sync id, max length, group, port and TTL; then stopped', async (t) => {
  const x = await ipvsNetns(t);
  const peer = await createNetns(t);
  await createVethPair(x.ns, peer, { deviceA: 'sync0', addressesA: ['192.168.77.1/24'], addressesB: ['192.168.77.2/24'] });
  await x.ipvs.startDaemon({ state: 'master', interface: 'sync0', syncId: 5, maxLength: 1400, group: '239.1.2.3', port: 8850, ttl: 2 });
  await x.ipvs.startDaemon({ state: 'backup', interface: 'sync0', syncId: 6 });
  const expected = [
    'master sync daemon (mcast=sync0, syncid=5, maxlen=1400, group=239.1.2.3, port=8850, ttl=2)',
    'backup sync daemon (mcast=sync0, syncid=6, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)',
  ].join('\n');
  t.is((await x.ipvsadm('-L', '--daemon')).trim(), expected);
  const daemons = await x.ipvs.listDaemons();
  t.is(formatDaemons(daemons), expected);
  t.deepEqual(daemons[0], { state: 'master', interface: 'sync0', syncId: 5, maxLength: 1400, group: '239.1.2.3', port: 8850, ttl: 2 });
  const again = await t.throwsAsync(x.ipvs.startDaemon({ state: 'master', interface: 'sync0', syncId: 5 }), { instanceOf: IpvsError });
  t.like(again, { code: 'EEXIST', syscall: 'IPVS_CMD_NEW_DAEMON' });
  await x.ipvs.stopDaemon('master');
  t.is((await x.ipvsadm('-L', '--daemon')).trim(), expected.split('\n')[1] ?? '');
  await x.ipvs.stopDaemon('backup');
  t.is((await x.ipvsadm('-L', '--daemon')).trim(), '');
  t.deepEqual(await x.ipvs.listDaemons(), []);
  const none = await t.throwsAsync(x.ipvs.stopDaemon('backup'), { instanceOf: IpvsError });
  t.like(none, { code: 'ESRCH', syscall: 'IPVS_CMD_DEL_DAEMON', hint: 'no sync daemon in this state is running' });
});

test('a backup daemon on an IPv6 group', async (t) => {
  const x = await ipvsNetns(t);
  const peer = await createNetns(t);
  await createVethPair(x.ns, peer, { deviceA: 'sync0', addressesA: ['fd00::1/64'], addressesB: ['fd00::2/64'] });
  await x.ipvs.startDaemon({ state: 'backup', interface: 'sync0', syncId: 7, group: 'ff02::1:3', port: 9000 });
  const [d] = await x.ipvs.listDaemons();
  t.like(d, { state: 'backup', interface: 'sync0', syncId: 7, group: 'ff02::1:3', port: 9000 });
  t.is((await x.ipvsadm('-L', '--daemon')).trim(), formatDaemons(await x.ipvs.listDaemons()));
  await x.ipvs.stopDaemon('backup');
});
