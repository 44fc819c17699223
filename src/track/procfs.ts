// layer: behaviour (track), shell
// job: what vrrp_track_process reads of /proc: the process ids, and one process's name (comm) and command line; zombies and vanished processes are no one.
import fs from 'node:fs';
import { parseCmdline, parseStat, type ProcessIdentity } from './process-state.js';

/** /proc as the process trackers read it (a fake in tests). */
export interface ProcReader {
  /** The processes (thread group leaders) that exist now. */
  pids(): number[];
  /**
   * One process: its name (from /proc/PID/stat, or `comm` as an event gave it) and, if `argv` is
   * asked, its command line. Undefined when it is gone or a zombie.
   */
  identity(pid: number, argv: boolean, comm?: string): ProcessIdentity | undefined;
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The real /proc of this process's pid namespace. */
export const procfs: ProcReader = {
  pids: () => {
    try {
      return fs.readdirSync('/proc').filter((n) => /^[1-9]\d*$/.test(n)).map(Number);
    } catch {
      return [];
    }
  },
  identity: (pid, argv, comm) => {
    let name = comm;
    if (name === undefined) {
      const stat = read(`/proc/${pid}/stat`);
      const parsed = stat === undefined ? undefined : parseStat(stat);
      if (!parsed || parsed.zombie) return undefined;
      name = parsed.comm;
    }
    if (!argv) return { comm: name };
    const cmdline = read(`/proc/${pid}/cmdline`);
    if (cmdline === undefined) return undefined;
    return { comm: name, argv: parseCmdline(cmdline) };
  },
};
