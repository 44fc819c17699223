// layer: benchmarks
// job: a process's resident memory by kind, from /proc/PID/smaps: files, malloc's main heap ([heap], brk) and its thread arenas, thread stacks, and the rest of the anonymous memory (V8's spaces, malloc's mmap'd blocks).
import fs from 'node:fs';

/** Resident KiB by kind; `rss` is their sum, `anon` everything not backed by a file. */
export interface SmapsKinds {
  rss: number;
  anon: number;
  file: number;
  /** glibc's main arena ([heap]: brk). */
  brk: number;
  /** glibc's thread arenas: 64 MiB reservations aligned to 64 MiB (HEAP_MAX_SIZE), rw-p then ---p. */
  arenas: number;
  /** Thread stacks: [stack], and anonymous rw-p right after a 4 KiB ---p guard. */
  stacks: number;
  /** Other anonymous memory: V8's pages (256 KiB each, code range, large objects) and malloc blocks mmap'd above its threshold. */
  v8: number;
  /** Of `v8`: mappings V8 marked executable or that lie in its code range (r-x / rwx). */
  code: number;
}

interface Mapping { start: bigint; end: bigint; perms: string; name: string; rssKb: number }

function mappings(pid: number): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: BigInt(`0x${head[1]}`), end: BigInt(`0x${head[2]}`), perms: head[3]!, name: head[4]!, rssKb: 0 };
      out.push(cur);
    } else if (cur && line.startsWith('Rss:')) {
      cur.rssKb = Number(/(\d+)/.exec(line)![1]);
    }
  }
  return out;
}

const ARENA = 64n << 20n;

export function smapsByKind(pid: number): SmapsKinds {
  const k: SmapsKinds = { rss: 0, anon: 0, file: 0, brk: 0, arenas: 0, stacks: 0, v8: 0, code: 0 };
  const maps = mappings(pid);
  let arenaEnd = 0n;
  maps.forEach((m, i) => {
    k.rss += m.rssKb;
    if (m.name.startsWith('/') || m.name.startsWith('[v')) { k.file += m.rssKb; return; }
    k.anon += m.rssKb;
    if (m.name === '[heap]') { k.brk += m.rssKb; return; }
    if (m.name === '[stack]') { k.stacks += m.rssKb; return; }
    if (m.start % ARENA === 0n && m.perms === 'rw-p') {
      const next = maps[i + 1];
      const total = next && next.start === m.end && next.perms === '---p' ? next.end - m.start : m.end - m.start;
      if (total === ARENA) arenaEnd = m.start + ARENA;
    }
    if (m.start < arenaEnd) { k.arenas += m.rssKb; return; }
    const prev = maps[i - 1];
    if (m.perms === 'rw-p' && prev && prev.end === m.start && prev.perms === '---p' && prev.end - prev.start === 4096n) { k.stacks += m.rssKb; return; }
    k.v8 += m.rssKb;
    if (m.perms.includes('x')) k.code += m.rssKb;
  });
  return k;
}
