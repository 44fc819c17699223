// layer: tests (unit)
// job: keepalived's check_security rule, the one copy both enable_script_security (configuration) and the vrrp_script trackers use:
//      each part of a path and of its real path owned by root and writable only by root, sticky directories excepted; the fault named.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { livePathFs, setIdRoot, statPath, unsafePathPart } from '../../src/path-security.js';
import { dir, fakePathFs, file, link } from '../helpers/fake-path-fs.js';

const base = { '/etc': dir(), '/etc/keepalived': dir(), '/tmp': dir(0o1777) };
const on = (extra: Parameters<typeof fakePathFs>[0]) => fakePathFs({ ...base, ...extra });

test('owned by root and writable only by root (or a root group) along the whole path; a sticky directory may be world-writable', (t) => {
  t.is(unsafePathPart('/etc/keepalived/up.sh', on({ '/etc/keepalived/up.sh': file() })), undefined);
  t.is(unsafePathPart('/etc/keepalived/up.sh', on({ '/etc/keepalived/up.sh': file(0o775, 0, 0) })), undefined, 'group root may write');
  t.is(unsafePathPart('/etc/keepalived/up.sh', on({ '/etc/keepalived/up.sh': file(0o757) })), '/etc/keepalived/up.sh (uid 0, gid 0, mode 0757) is writable by others');
  t.is(unsafePathPart('/etc/keepalived/up.sh', on({ '/etc/keepalived/up.sh': file(0o775, 0, 50) })), '/etc/keepalived/up.sh (uid 0, gid 50, mode 0775) is writable by group 50');
  t.is(unsafePathPart('/etc/keepalived/up.sh', on({ '/etc/keepalived/up.sh': file(0o755, 1000) })), '/etc/keepalived/up.sh (uid 1000, gid 0, mode 0755) is not owned by root');
  t.is(unsafePathPart('/etc/keepalived/up.sh', on({ '/etc/keepalived': dir(0o777), '/etc/keepalived/up.sh': file() })), '/etc/keepalived (uid 0, gid 0, mode 0777) is writable by others');
  t.is(unsafePathPart('/home/u/x.sh', on({ '/home': dir(), '/home/u': dir(0o775, 1000, 1000), '/home/u/x.sh': file() })), '/home/u (uid 1000, gid 1000, mode 0775) is not owned by root');
  t.is(unsafePathPart('/', fakePathFs({ '/': dir(0o777) })), '/ (uid 0, gid 0, mode 0777) is writable by others', '/ itself is checked');
  t.is(unsafePathPart('/tmp/up.sh', on({ '/tmp/up.sh': file() })), undefined, '/tmp is sticky');
  t.is(unsafePathPart('/tmp/up.sh', on({ '/tmp': dir(0o1777, 1000), '/tmp/up.sh': file() })), '/tmp (uid 1000, gid 0, mode 1777) is not owned by root', 'sticky, but not root\'s');
  t.is(unsafePathPart('/tmp/up.sh', on({ '/tmp/up.sh': file(0o1777) })), '/tmp/up.sh (uid 0, gid 0, mode 1777) is writable by others', 'a sticky file is still a file');
  t.is(unsafePathPart('/etc/keepalived/gone.sh', on({})), undefined, 'a missing path is not this rule\'s to report');
});

test('symbolic links: the link must be root\'s (its mode means nothing), and its real path is checked as well', (t) => {
  const tree = { '/srv': dir(0o777), '/srv/up.sh': file(), '/opt': dir(), '/opt/up.sh': file() };
  t.is(unsafePathPart('/etc/keepalived/up.sh', on({ ...tree, '/etc/keepalived/up.sh': link('/opt/up.sh') })), undefined, 'a root link to a safe file');
  t.is(unsafePathPart('/etc/keepalived/up.sh', on({ ...tree, '/etc/keepalived/up.sh': link('/srv/up.sh') })), '/srv (uid 0, gid 0, mode 0777) is writable by others', 'the target\'s directory');
  t.is(unsafePathPart('/etc/keepalived/up.sh', on({ ...tree, '/etc/keepalived/up.sh': link('/opt/up.sh', 1000) })), '/etc/keepalived/up.sh (uid 1000, gid 0, mode 0777) is not owned by root');
  t.is(unsafePathPart('/etc/kl/up.sh', on({ ...tree, '/etc/kl': link('/srv') })), '/srv (uid 0, gid 0, mode 0777) is writable by others', 'a linked directory on the way');
  t.is(unsafePathPart('/etc/keepalived/up.sh', on({ '/etc/keepalived/up.sh': link('/nowhere') })), undefined, 'a dangling link: missing');
  t.deepEqual(statPath('/etc/keepalived/up.sh', on({ ...tree, '/etc/keepalived/up.sh': link('/opt/up.sh') })), file(), 'statPath follows links');
  t.is(statPath('/etc/keepalived/up.sh', on({ '/etc/keepalived/up.sh': link('/nowhere') })), undefined);
});

test('set-id root programs run with root\'s rights', (t) => {
  t.true(setIdRoot(file(0o4755)));
  t.true(setIdRoot(file(0o2755)));
  t.false(setIdRoot(file(0o4755, 1000)), 'set-uid to another user');
  t.false(setIdRoot(file(0o4644)), 'set-uid but not executable by its owner');
  t.false(setIdRoot(dir(0o2755)), 'a set-gid directory is no program');
  t.false(setIdRoot(undefined));
});

test('the live file system: a world-writable directory and a link into it, in a temporary directory (as root)', (t) => {
  if (process.getuid?.() !== 0) {
    t.log('skipped: needs root (the rule wants files owned by root); CI runs the unit tier as root');
    return t.pass();
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lvskit-pathsec-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const safe = path.join(root, 'safe');
  const open = path.join(root, 'open');
  fs.mkdirSync(safe, { mode: 0o755 });
  fs.mkdirSync(open);
  fs.chmodSync(open, 0o777);
  fs.writeFileSync(path.join(open, 'x.sh'), '', { mode: 0o755 });
  fs.symlinkSync(path.join(open, 'x.sh'), path.join(safe, 'x.sh'));
  fs.writeFileSync(path.join(safe, 'y.sh'), '', { mode: 0o755 });
  t.is(unsafePathPart(root), undefined, `the temporary directory's own path (${root}) is root's`);
  t.is(unsafePathPart(path.join(safe, 'y.sh'), livePathFs), undefined);
  t.is(unsafePathPart(path.join(safe, 'x.sh')), `${fs.realpathSync(open)} (uid 0, gid 0, mode 0777) is writable by others`, 'found through the link');
  t.is(livePathFs.lstat(path.join(safe, 'x.sh'))?.type, 'symlink');
  t.is(livePathFs.lstat(path.join(safe, 'nothing', 'deeper')), undefined);
});
