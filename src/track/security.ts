// layer: behaviour (track)
// job: whether a vrrp_script can run, by keepalived's rules (lib/notify.c check_script_secure): found, executable, and under enable_script_security
//      not writable by anyone but root (the rule itself: src/path-security.ts, shared with the configuration's check).
import path from 'node:path';
import { livePathFs, setIdRoot, statPath, unsafePathPart, type PathFacts, type PathFs } from '../path-security.js';

export { unsafePathPart };

/** Why a script is not run; undefined when it may run. */
export interface ScriptRefusal {
  reason: 'not-found' | 'not-executable' | 'insecure' | 'needs-shell';
  message: string;
}

/** A `</path` script: keepalived hands it to /bin/sh -c (it tests that a file opens); lvskit runs no shell. */
export const SHELL_REFUSAL = 'a script starting with `</` is run by keepalived through /bin/sh -c; lvskit runs scripts without a shell (use a program, e.g. `nc -z 127.0.0.1 80` or `test -r FILE`)';

/** What the check reads of the file system (the live one, or a fake in tests): the shared rule's interface. */
export type SecurityFs = PathFs;

/** A program name without a slash, found on PATH as execvp would (first executable match). */
function searchPath(name: string, fsys: SecurityFs): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      const st = statPath(candidate, fsys);
      if (st?.type === 'file' && (st.mode & 0o111) !== 0) return candidate;
    } catch { /* not readable: as execvp, the next one */ }
  }
  return undefined;
}

/** May `uid`:`gid` execute a file with these stats (root: any x bit). */
function executableBy(st: PathFacts, uid: number, gid: number): boolean {
  if (uid === 0) return (st.mode & 0o111) !== 0;
  if (st.uid === uid) return (st.mode & 0o100) !== 0;
  if (st.gid === gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/**
 * Whether `argv[0]` may be run as uid:gid (default root): it exists (on PATH for a bare name),
 * is executable, and, with `security` (enable_script_security) when it runs as root, neither the
 * file nor a directory above it (its link and its real path) is writable by a non-root user.
 */
export function scriptRefusal(argv0: string, options: { security: boolean; uid?: number; gid?: number }, fsys: SecurityFs = livePathFs): ScriptRefusal | undefined {
  const uid = options.uid ?? 0;
  const gid = options.gid ?? 0;
  if (/^<\s*\//.test(argv0)) return { reason: 'needs-shell', message: SHELL_REFUSAL };
  const file = argv0.includes('/') ? path.resolve(argv0) : searchPath(argv0, fsys);
  if (file === undefined) return { reason: 'not-found', message: `${argv0} is not found on PATH` };
  let st: PathFacts | undefined;
  try {
    st = fsys.lstat(fsys.realpath(file));
  } catch (error) {
    return { reason: 'not-found', message: `${argv0} cannot be accessed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  if (st === undefined) return { reason: 'not-found', message: `${argv0} cannot be accessed (ENOENT)` };
  if (st.type !== 'file' || !executableBy(st, uid, gid)) {
    return { reason: 'not-executable', message: `${argv0} is not executable for uid:gid ${uid}:${gid} (mode ${(st.mode & 0o7777).toString(8)})` };
  }
  // keepalived checks the path only when the script runs with root's rights (as root, or set-uid/gid root).
  const asRoot = uid === 0 || gid === 0 || setIdRoot(st);
  if (!options.security || !asRoot) return undefined;
  try {
    const unsafe = unsafePathPart(file, fsys);
    if (unsafe) return { reason: 'insecure', message: `${argv0} could be changed by a non-root user (${unsafe}); enable_script_security disables it` };
  } catch (error) {
    return { reason: 'not-found', message: `${argv0} cannot be checked (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  return undefined;
}
