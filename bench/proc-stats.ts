// layer: benchmarks
// job: what a set of processes costs, read from /proc: CPU time, and memory three ways — RSS summed, PSS summed, and resident pages counted once across the set (pagemap).
import fs from 'node:fs';

/** CPU time of a process (all its threads) in user space and in the kernel (system calls, page faults), ms. */
export function cpuSplitMs(pid: number): { user: number; system: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, fields 14 and 15 of stat(5), in USER_HZ ticks (100 per second on Linux).
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

/** utime + stime of the processes, ms. */
export function cpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => { const c = cpuSplitMs(pid); return sum + c.user + c.system; }, 0);
}

/** A `Key:   123 kB` field of a /proc file, in KiB. */
function kb(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

export interface ProcessMemory {
  pid: number;
  name: string;
  /** VmRSS of /proc/PID/status. */
  rssKb: number;
  /** Pss of /proc/PID/smaps_rollup: each page shared by n processes counts 1/n. */
  pssKb: number;
  /** Resident anonymous memory (heaps, stacks, V8's spaces: RssAnon) and file-backed memory (code and data of binaries and libraries: RssFile). */
  anonKb: number;
  fileRssKb: number;
  /** VmHWM: the peak RSS. */
  hwmKb: number;
}

export function processMemory(pid: number): ProcessMemory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    pid, name: /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '?', rssKb: kb(status, 'VmRSS'), pssKb: kb(rollup, 'Pss'),
    anonKb: kb(status, 'RssAnon'), fileRssKb: kb(status, 'RssFile'), hwmKb: kb(status, 'VmHWM'),
  };
}

const PAGE = 4096;
const PRESENT = 1n << 63n;
const PFN_MASK = (1n << 55n) - 1n;

/**
 * The resident pages of `pids` counted once each (a page that two of them share — a forked
 * child's copy-on-write pages, one binary's code — counts once; one shared with a process outside
 * the set counts whole, as RSS counts it), in KiB. Reads /proc/PID/maps and /proc/PID/pagemap
 * (page frame numbers need root); mappings without access (reservations) are skipped.
 */
export function uniqueResidentKb(pids: readonly number[]): number {
  const frames = new Set<bigint>();
  for (const pid of pids) {
    const fd = fs.openSync(`/proc/${pid}/pagemap`, 'r');
    try {
      for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
        const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4})/.exec(line);
        if (!m || m[3]!.startsWith('---') || line.endsWith('[vsyscall]')) continue;
        const [from, to] = [parseInt(m[1]!, 16) / PAGE, parseInt(m[2]!, 16) / PAGE];
        const chunk = 1 << 16; // pages per read
        for (let page = from; page < to; page += chunk) {
          const n = Math.min(chunk, to - page);
          const buf = Buffer.alloc(n * 8);
          const got = fs.readSync(fd, buf, 0, buf.length, page * 8);
          for (let i = 0; i + 8 <= got; i += 8) {
            const entry = buf.readBigUInt64LE(i);
            if (entry & PRESENT) frames.add(entry & PFN_MASK);
          }
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return (frames.size * PAGE) / 1024;
}

export interface SetMemory {
  processes: ProcessMemory[];
  rssKb: number;
  pssKb: number;
  uniqueKb: number;
}

/** The memory of a daemon's processes: each process, and the three sums. */
export function setMemory(pids: readonly number[]): SetMemory {
  const processes = pids.map(processMemory);
  return {
    processes,
    rssKb: processes.reduce((s, p) => s + p.rssKb, 0),
    pssKb: processes.reduce((s, p) => s + p.pssKb, 0),
    uniqueKb: uniqueResidentKb(pids),
  };
}
