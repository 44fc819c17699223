// layer: daemon (composition)
// job: the note a restart-stop leaves for the next start: which instances were MASTER and when it stopped (CLOCK_MONOTONIC, this boot), so the next start resumes them as MASTER.
import fs from 'node:fs';
import { writeFileAtomicSync } from '../safe-file.js';
import type { VrrpInstanceConfig } from '../vrrp/instance.js';

/** A MASTER at the moment of a restart-stop. */
export interface RestartMaster {
  name: string;
  vrid: number;
  interface: string;
  /** Its Master_Down_Interval as a backup sees it, at most (3 × advert interval + 1 s of skew). */
  windowMs: number;
}

export interface RestartNote {
  /** /proc/sys/kernel/random/boot_id: a note from another boot is worthless. */
  bootId: string;
  /** CLOCK_MONOTONIC when the stop was done, in ms (system-wide, unlike performance.now()). */
  stoppedAtMs: number;
  masters: RestartMaster[];
}

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** CLOCK_MONOTONIC in ms (process.hrtime reads it: shared by every process of this boot). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

/** Write the note (mode 0600, replaced atomically, never through a symlink). */
export function writeRestartNote(file: string, masters: RestartMaster[]): void {
  const note: RestartNote = { bootId: bootId(), stoppedAtMs: monotonicMs(), masters };
  writeFileAtomicSync(file, `${JSON.stringify(note)}\n`, 0o600);
}

/**
 * Read and remove the note. The instances to resume as MASTER: those it names that are still
 * configured with the same VRID and interface, when the note is from this boot and the stop was
 * within their window. Anything else (no note, old, unreadable) resumes nothing.
 */
export function takeRestartNote(file: string, instances: readonly VrrpInstanceConfig[], nowMs = monotonicMs()): string[] {
  let note: RestartNote;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return []; // none, or a symlink (never followed, never removed)
  }
  try {
    fs.unlinkSync(file);
    note = JSON.parse(fs.readFileSync(fd, 'utf8')) as RestartNote;
  } catch {
    return [];
  } finally {
    fs.closeSync(fd);
  }
  if (note.bootId !== bootId() || !Array.isArray(note.masters)) return [];
  const since = nowMs - note.stoppedAtMs;
  return note.masters.filter((m) => since >= 0 && since < m.windowMs
    && instances.some((i) => i.name === m.name && i.vrid === m.vrid && i.interface === m.interface)).map((m) => m.name);
}

/** The window of an instance: 3 advert intervals and a second of skew at most. */
export function resumeWindowMs(advertIntervalMs: number): number {
  return 3 * advertIntervalMs + 1000;
}
