// layer: behaviour (track)
// job: whether a vrrp_script can run, by keepalived's rules (lib/notify.c check_script_secure): found, executable, and under enable_script_security not writable by anyone but root.
import fs from 'node:fs';
import path from 'node:path';

/** Why a script is not run; undefined when it may run. */
export interface ScriptRefusal {
  reason: 'not-found' | 'not-executable' | 'insecure' | 'needs-shell';
  message: string;
}

/** A `</path` script: keepalived hands it to /bin/sh -c (it tests that a file opens); lvskit runs no shell. */
export const SHELL_REFUSAL = 'a script starting with `</` is run by keepalived through /bin/sh -c; lvskit runs scripts without a shell (use a program, e.g. `nc -z 127.0.0.1 80` or `test -r FILE`)';

/** What the check reads of the file system (fs's own, or a fake in tests). */
export interface SecurityFs {
  lstat(p: string): fs.Stats;
  stat(p: string): fs.Stats;
  realpath(p: string): string;
}

const realFs: SecurityFs = { lstat: (p) => fs.lstatSync(p), stat: (p) => fs.statSync(p), realpath: (p) => fs.realpathSync(p) };

/** A program name without a slash, found on PATH as execvp would (first executable match). */
function searchPath(name: string, fsys: SecurityFs): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      const st = fsys.stat(candidate);
      if (st.isFile() && (st.mode & 0o111) !== 0) return candidate;
    } catch { /* not there */ }
  }
  return undefined;
}

/** May `uid`:`gid` execute a file with these stats (root: any x bit). */
function executableBy(st: fs.Stats, uid: number, gid: number): boolean {
  if (uid === 0) return (st.mode & 0o111) !== 0;
  if (st.uid === uid) return (st.mode & 0o100) !== 0;
  if (st.gid === gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/**
 * keepalived's check_security: `file` and every directory above it, up to `/`, owned by root and not
 * writable by a non-root group or by others (a directory with the sticky bit, such as /tmp, may be
 * world-writable). Returns the first part that fails.
 */
export function unsafePathPart(file: string, fsys: SecurityFs = realFs): string | undefined {
  const parts: string[] = [];
  for (let p = file; ; p = path.dirname(p)) {
    parts.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of parts) {
    const st = fsys.lstat(p);
    const checked = (st.isDirectory() && (st.mode & 0o1000) === 0) || st.isFile();
    if (st.uid !== 0) return `${p} is owned by uid ${st.uid}`;
    if (checked && st.gid !== 0 && (st.mode & 0o020) !== 0) return `${p} is writable by group ${st.gid}`;
    if (checked && (st.mode & 0o002) !== 0) return `${p} is writable by everyone`;
  }
  return undefined;
}

/**
 * Whether `argv[0]` may be run as uid:gid (default root): it exists (on PATH for a bare name),
 * is executable, and, with `security` (enable_script_security) when it runs as root, neither the
 * file nor a directory above it (its link and its real path) is writable by a non-root user.
 */
export function scriptRefusal(argv0: string, options: { security: boolean; uid?: number; gid?: number }, fsys: SecurityFs = realFs): ScriptRefusal | undefined {
  const uid = options.uid ?? 0;
  const gid = options.gid ?? 0;
  if (/^<\s*\//.test(argv0)) return { reason: 'needs-shell', message: SHELL_REFUSAL };
  const file = argv0.includes('/') ? path.resolve(argv0) : searchPath(argv0, fsys);
  if (file === undefined) return { reason: 'not-found', message: `${argv0} is not found on PATH` };
  let real: string;
  let st: fs.Stats;
  try {
    real = fsys.realpath(file);
    st = fsys.stat(real);
  } catch (error) {
    return { reason: 'not-found', message: `${argv0} cannot be accessed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  if (!st.isFile() || !executableBy(st, uid, gid)) {
    return { reason: 'not-executable', message: `${argv0} is not executable for uid:gid ${uid}:${gid} (mode ${(st.mode & 0o7777).toString(8)})` };
  }
  // keepalived checks the path only when the script runs with root's rights (as root, or set-uid/gid root).
  const asRoot = uid === 0 || gid === 0 || (st.uid === 0 && (st.mode & 0o4100) === 0o4100) || (st.gid === 0 && (st.mode & 0o2010) === 0o2010);
  if (!options.security || !asRoot) return undefined;
  try {
    const unsafe = unsafePathPart(file, fsys) ?? (real !== file ? unsafePathPart(real, fsys) : undefined);
    if (unsafe) return { reason: 'insecure', message: `${argv0} could be changed by a non-root user (${unsafe}); enable_script_security disables it` };
  } catch (error) {
    return { reason: 'not-found', message: `${argv0} cannot be checked (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  return undefined;
}
