// layer: daemon (pure over an injectable file system)
// job: enable_script_security as keepalived applies it: a script run as root, or a configuration file, that anyone but root could change is refused, at its config line.
import type { Diagnostic, SourceLocation } from '../config/diagnostics.js';
import type { KeepalivedConfig, ScriptCommand } from '../config/model.js';
import { livePathFs, setIdRoot, statPath, unsafePathPart, type PathFs } from '../path-security.js';
import { scriptRefusal } from '../track/security.js';
import { fileLocation, scriptUser } from './convert/common.js';

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

/**
 * With `enable_script_security`: one error per script that runs as root (or is set-id root) and
 * could be changed by someone else, and per configuration file read (`files`) that could be.
 * keepalived disables such a script and runs on; lvskit refuses the configuration, so that nothing
 * starts half-checked — except a vrrp_script, which the trackers disable at run time with a located
 * event as keepalived does (the instances tracking it run on): a warning here. Without the keyword: nothing.
 */
export function scriptSecurityFindings(config: KeepalivedConfig, files: readonly string[], fsys: PathFs = livePathFs): Diagnostic[] {
  if (config.globalDefs.enableScriptSecurity !== true) return [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const f of scriptsOf(config)) {
    const program = f.script.argv[0];
    if (program === undefined || !program.startsWith('/')) continue; // searched in PATH at run time: not a file we can name here
    if (!f.asRoot && !setIdRoot(statPath(program, fsys))) continue;
    const why = unsafePathPart(program, fsys);
    if (why === undefined || seen.has(`${program}@${f.location.file}:${f.location.line}`)) continue;
    seen.add(`${program}@${f.location.file}:${f.location.line}`);
    out.push(f.tracker
      ? { severity: 'warning', code: 'script-security', location: f.location,
        message: `enable_script_security: vrrp_script ${program} would run as root, and ${why}; it will be disabled when lvskit runs (as keepalived does). Fix: chown root and chmod go-w along the path` }
      : { severity: 'error', code: 'script-security', location: f.location,
        message: `enable_script_security: script ${program} would run as root, and ${why}; refused. Fix: chown root and chmod go-w along the path` });
  }
  for (const file of files) {
    const why = unsafePathPart(file, fsys);
    if (why !== undefined) {
      out.push({ severity: 'error', code: 'script-security', location: { file, line: 1, column: 1 },
        message: `enable_script_security: configuration file ${file} could be changed by others: ${why}. Fix: chown root and chmod go-w along the path` });
    }
  }
  return out;
}

/**
 * Why a MISC_CHECK's program cannot run as uid:gid (root by default): not found on PATH or not
 * executable — keepalived 2.2.7 disables such a checker ("since not found/accessible"); undefined
 * when it can run. Insecure paths are scriptSecurityFindings' business, not this one's.
 */
export function miscRefusal(argv0: string, ids: { uid?: number; gid?: number }): string | undefined {
  const refused = scriptRefusal(argv0, { security: false, ...ids });
  return refused && refused.reason !== 'insecure' ? refused.message : undefined;
}
