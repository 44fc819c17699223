// layer: daemon (pure core, one stat-reading shell)
// job: enable_script_security as keepalived applies it: a script run as root, or a configuration file, that anyone but root could change is refused, at its config line.
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic, SourceLocation } from '../config/diagnostics.js';
import type { KeepalivedConfig, ScriptCommand } from '../config/model.js';
import { fileLocation, scriptUser } from './convert/common.js';

/** What the rule needs of a path (stat(2), symbolic links followed as exec() and open() would). */
export interface PathFacts {
  uid: number;
  gid: number;
  /** st_mode's permission bits, sticky and set-id bits included. */
  mode: number;
  isFile: boolean;
}

export type StatPath = (p: string) => PathFacts | undefined;

/** The live file system. */
export const liveStat: StatPath = (p) => {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  return st ? { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, isFile: st.isFile() } : undefined;
};

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/**
 * Why someone other than root could change `file`: keepalived's rule (check_script_secure), applied
 * to `/`, each directory on the way and the file itself — owned by a user other than root, or
 * writable by a group other than root or by others (a directory with the sticky bit, like /tmp,
 * is allowed those). Undefined when only root can; a missing path is not this rule's to report.
 */
export function whyInsecure(file: string, stat: StatPath): string | undefined {
  const parts = path.resolve(file).split('/').filter((p) => p !== '');
  for (let i = 0; i <= parts.length; i++) {
    const at = `/${parts.slice(0, i).join('/')}`;
    const st = stat(at);
    if (!st) return undefined;
    if (st.uid !== 0) return `${at} belongs to uid ${st.uid}`;
    const stickyDir = !st.isFile && (st.mode & 0o1000) !== 0;
    if (stickyDir) continue;
    if ((st.mode & 0o002) !== 0) return `${at} is writable by others (mode ${octal(st.mode)})`;
    if (st.gid !== 0 && (st.mode & 0o020) !== 0) return `${at} is writable by group ${st.gid} (mode ${octal(st.mode)})`;
  }
  return undefined;
}

/** A script of the configuration, where it was written, and whether it runs as root. */
interface FoundScript {
  script: ScriptCommand;
  location: SourceLocation;
  asRoot: boolean;
  /** A vrrp_script: the trackers disable it at run time (keepalived's rule), so it is a warning here. */
  tracker: boolean;
}

const isScript = (v: unknown): v is ScriptCommand =>
  typeof v === 'object' && v !== null && typeof (v as ScriptCommand).command === 'string' && Array.isArray((v as ScriptCommand).argv);

/**
 * Every script in the model with the location of the block that holds it. Only a MISC_CHECK runs
 * as its own user; lvskit runs every other script (notify, vrrp_script) as itself, root.
 */
function scriptsOf(config: KeepalivedConfig): FoundScript[] {
  const out: FoundScript[] = [];
  const root = (u: string | undefined): boolean => u === undefined || u === 'root' || u === '0';
  const walk = (value: unknown, location: SourceLocation | undefined, tracker = false): void => {
    if (typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (const v of value) walk(v, location, tracker);
      return;
    }
    const object = value as Record<string, unknown>;
    const here = (object['location'] as SourceLocation | undefined) ?? location;
    const isMisc = object['type'] === 'MISC_CHECK';
    for (const [key, v] of Object.entries(object)) {
      if (key === 'location') continue;
      if (isScript(v)) {
        const who = isMisc ? scriptUser({ user: (object['user'] as string | undefined) ?? v.user, group: (object['group'] as string | undefined) ?? v.group }, config.globalDefs) : {};
        out.push({ script: v, location: here ?? fileLocation('(config)'), asRoot: !isMisc || root(who.user) || who.group === 'root' || who.group === '0', tracker });
      } else {
        walk(v, here, tracker || (value === config && key === 'vrrpScripts'));
      }
    }
  };
  walk(config, undefined);
  return out;
}

/** A set-user-id or set-group-id root program runs as root whoever starts it (keepalived protects those too). */
function setIdRoot(st: PathFacts | undefined): boolean {
  return st !== undefined && st.isFile && ((st.uid === 0 && (st.mode & 0o4100) === 0o4100) || (st.gid === 0 && (st.mode & 0o2010) === 0o2010));
}

/**
 * With `enable_script_security`: one error per script that runs as root (or is set-id root) and
 * could be changed by someone else, and per configuration file read (`files`) that could be.
 * keepalived disables such a script and runs on; lvskit refuses the configuration, so that nothing
 * starts half-checked — except a vrrp_script, which the trackers disable at run time with a located
 * event as keepalived does (the instances tracking it run on): a warning here. Without the keyword: nothing.
 */
export function scriptSecurityFindings(config: KeepalivedConfig, files: readonly string[], stat: StatPath): Diagnostic[] {
  if (config.globalDefs.enableScriptSecurity !== true) return [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const f of scriptsOf(config)) {
    const program = f.script.argv[0];
    if (program === undefined || !program.startsWith('/')) continue; // searched in PATH at run time: not a file we can name here
    if (!f.asRoot && !setIdRoot(stat(program))) continue;
    const why = whyInsecure(program, stat);
    if (why === undefined || seen.has(`${program}@${f.location.file}:${f.location.line}`)) continue;
    seen.add(`${program}@${f.location.file}:${f.location.line}`);
    out.push(f.tracker
      ? { severity: 'warning', code: 'script-security', location: f.location,
        message: `enable_script_security: vrrp_script ${program} would run as root, and ${why}; it will be disabled when lvskit runs (as keepalived does). Fix: chown root and chmod go-w along the path` }
      : { severity: 'error', code: 'script-security', location: f.location,
        message: `enable_script_security: script ${program} would run as root, and ${why}; refused. Fix: chown root and chmod go-w along the path` });
  }
  for (const file of files) {
    const why = whyInsecure(file, stat);
    if (why !== undefined) {
      out.push({ severity: 'error', code: 'script-security', location: { file, line: 1, column: 1 },
        message: `enable_script_security: configuration file ${file} could be changed by others: ${why}. Fix: chown root and chmod go-w along the path` });
    }
  }
  return out;
}
