// layer: tests (unit)
// job: sysctl names as files (sysctl(8)'s `/` for a dot in an interface name), reads and writes against a directory of files, errors naming the sysctl.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { confSysctl, readSysctl, readSysctlNumber, sysctlPath, SysctlError, writeSysctl } from '../../src/sysctl/sysctl.js';

test('names: levels by dots, a dotted interface name with /', (t) => {
  t.is(sysctlPath('net.ipv4.conf.all.rp_filter'), '/proc/sys/net/ipv4/conf/all/rp_filter');
  t.is(confSysctl('eth0.100', 'rp_filter'), 'net.ipv4.conf.eth0/100.rp_filter');
  t.is(sysctlPath(confSysctl('eth0.100', 'rp_filter'), '/x'), '/x/net/ipv4/conf/eth0.100/rp_filter');
  t.is(confSysctl('all', 'forwarding', 6), 'net.ipv6.conf.all.forwarding');
  t.throws(() => sysctlPath('net..ipv4'), { instanceOf: TypeError });
  t.throws(() => sysctlPath('net.ipv4.conf.../rp_filter'), { instanceOf: TypeError });
});

test('read and write: values trimmed, a missing sysctl reads undefined and is never created by a write', (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'lvskit-sysctl-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'net/ipv4/conf/eth1'), { recursive: true });
  writeFileSync(path.join(root, 'net/ipv4/conf/eth1/rp_filter'), '1\n');
  t.is(readSysctl('net.ipv4.conf.eth1.rp_filter', root), '1');
  t.is(readSysctlNumber('net.ipv4.conf.eth1.rp_filter', root), 1);
  t.is(readSysctlNumber('net.ipv4.conf.eth9.rp_filter', root), undefined);
  writeSysctl('net.ipv4.conf.eth1.rp_filter', 0, root);
  t.is(readFileSync(path.join(root, 'net/ipv4/conf/eth1/rp_filter'), 'utf8'), '0\n');
  const e = t.throws(() => writeSysctl('net.ipv4.conf.eth9.rp_filter', 0, root), { instanceOf: SysctlError });
  t.like(e, { code: 'ENOENT', syscall: 'open', sysctl: 'net.ipv4.conf.eth9.rp_filter' });
  t.regex(e!.message, /^open failed: ENOENT \(net\.ipv4\.conf\.eth9\.rp_filter: .*eth9\/rp_filter\)$/);
  writeFileSync(path.join(root, 'net/ipv4/conf/eth1/rp_filter'), 'x\n');
  t.throws(() => readSysctlNumber('net.ipv4.conf.eth1.rp_filter', root), { instanceOf: TypeError, message: /not an integer/ });
});
