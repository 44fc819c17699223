// layer: config (pure)
// job: vrrp_script / track_file / vrrp_track_process and the track_script / track_file / track_process entries of instances and sync groups → the trackers' TrackingConfig, with keepalived's defaults and weight rules.
import type { GlobalDefs, KeepalivedConfig, TrackedScript, TrackProcess, VrrpScript } from '../../config/model.js';
import { SHELL_REFUSAL } from '../../track/security.js';
import { TRACKER_BLOCK } from '../../track/state.js';
import type { TrackerKind, TrackerUse, TrackFileSpec, TrackingConfig, TrackProcessSpec, TrackScriptSpec } from '../../track/types.js';
import type { UserLookup } from './checkers.js';
import { scriptUser, type ConversionLog } from './common.js';

/** keepalived's vrrp_script defaults: every second, one result to rise or fall. */
export const DEFAULT_SCRIPT_INTERVAL_MS = 1000;

function userIds(log: ConversionLog, s: VrrpScript, g: GlobalDefs, users: UserLookup | undefined): { uid?: number; gid?: number } | undefined {
  const { user, group } = s.user !== undefined ? { user: s.user, group: s.group } : scriptUser(s.script, g);
  if (user === undefined || user === 'root' || user === '0') return {};
  const ids = /^\d+$/.test(user) ? { uid: Number(user), gid: group !== undefined && /^\d+$/.test(group) ? Number(group) : Number(user) } : users?.(user, group);
  if (!ids) {
    log.error(s.location, `vrrp_script ${s.name}: no user ${user}${group !== undefined ? ` or group ${group}` : ''} to run the script as`, 'invalid-value');
    return undefined;
  }
  return ids;
}

function scriptSpec(log: ConversionLog, s: VrrpScript, g: GlobalDefs, users: UserLookup | undefined): TrackScriptSpec | undefined {
  if (!s.script) return undefined; // config validation reports it
  if (/^<\s*\//.test(s.script.argv[0] ?? '')) log.warning(s.location, `vrrp_script ${s.name}: ${SHELL_REFUSAL}; it is disabled`);
  const ids = userIds(log, s, g, users);
  if (!ids) return undefined;
  const intervalMs = Math.max(1, Math.round(s.intervalMs ?? DEFAULT_SCRIPT_INTERVAL_MS));
  return {
    name: s.name, argv: [...s.script.argv], intervalMs, timeoutMs: Math.max(1, Math.round(s.timeoutMs ?? intervalMs)),
    rise: s.rise ?? 1, fall: s.fall ?? 1, initFail: s.initFail === true, ...ids, location: s.location,
  };
}


/**
 * A vrrp_track_process as the tracker runs it, with keepalived's rules: parameters or param_match
 * mean the command line is matched (exactly, unless param_match says otherwise); quorum 1 and no
 * upper bound by default; quorum_max 0 alone means the quorum is that none runs.
 */
export function processSpec(p: TrackProcess): TrackProcessSpec | undefined {
  if (p.process === undefined) return undefined; // config validation reports it
  const paramMatch = p.paramMatch ?? (p.params !== undefined ? 'exact' : 'none');
  return {
    name: p.name, process: p.process, params: [...(p.params ?? [])], paramMatch,
    fullCommand: p.fullCommand === true || paramMatch !== 'none',
    quorum: p.quorum ?? (p.quorumMax === 0 ? 0 : 1), ...(p.quorumMax !== undefined ? { quorumMax: p.quorumMax } : {}),
    forkDelayMs: p.forkDelayMs ?? 0, terminateDelayMs: p.terminateDelayMs ?? 0, location: p.location,
  };
}

interface Owner {
  what: string;
  scripts: readonly TrackedScript[];
  files: readonly TrackedScript[];
  processes: readonly TrackedScript[];
  /** Weights count (an instance outside a sync group, or a group with sync_group_tracking_weight). */
  weighted: boolean;
}

/** One owner's entries as uses: the entry's weight and direction, else the tracker's own; unweighted in a sync group without sync_group_tracking_weight. */
function usesOf(log: ConversionLog, config: KeepalivedConfig, o: Owner): TrackerUse[] {
  const out: TrackerUse[] = [];
  const add = (kind: TrackerKind, t: TrackedScript, own: { weight?: number; weightReverse?: boolean } | undefined): void => {
    if (!own) {
      // As config validation words it (a model built in code reaches here unvalidated).
      log.error(t.location, `${o.what} tracks ${TRACKER_BLOCK[kind]} \`${t.name}\`, which is not defined`, 'undefined-reference');
      return;
    }
    let weight = t.weight ?? own.weight ?? (kind === 'file' ? 1 : 0);
    const reverse = t.reverse ?? own.weightReverse ?? false;
    if (weight !== 0 && !o.weighted) {
      log.warning(t.location, `${o.what}: track_${kind} ${t.name} weight ${weight} is ignored in a sync group without sync_group_tracking_weight (as keepalived): a failure is a FAULT`);
      weight = 0;
    }
    out.push({ kind, name: t.name, weight, reverse });
  };
  for (const t of o.scripts) add('script', t, config.vrrpScripts.find((s) => s.name === t.name));
  for (const t of o.files) add('file', t, config.trackFiles?.find((f) => f.name === t.name));
  for (const t of o.processes) add('process', t, config.trackProcesses?.find((p) => p.name === t.name));
  return out;
}

/** Instance uses and group uses together; a tracker both name counts once (the group's weight, unless the instance's is 0, as keepalived). */
function merged(own: TrackerUse[], group: TrackerUse[]): TrackerUse[] {
  const out = [...own];
  for (const u of group) {
    const i = out.findIndex((x) => x.kind === u.kind && x.name === u.name);
    if (i < 0) out.push(u);
    else if (out[i]!.weight !== 0) out[i] = u;
  }
  return out;
}

/**
 * The trackers a configuration runs: each vrrp_script and track_file some instance or sync group
 * tracks (an unused one is not run: a warning), and per instance the uses of its own entries and
 * its sync group's. vrrp_script defaults: interval 1 s, timeout the interval, rise 1, fall 1,
 * weight 0 (FAULT on failure); track_file's weight defaults to 1; vrrp_track_process's to 0 (keepalived's
 * code; its manual says 1).
 */
export function convertTracking(log: ConversionLog, config: KeepalivedConfig, users?: UserLookup): TrackingConfig {
  const groupOf = new Map(config.vrrpSyncGroups.flatMap((g) => g.group.map((m) => [m.name, g] as const)));
  const instances: Record<string, TrackerUse[]> = {};
  const groupUses = new Map(config.vrrpSyncGroups.map((g) => [g.name, usesOf(log, config, {
    what: `vrrp_sync_group ${g.name}`, scripts: g.trackScripts, files: g.trackFiles ?? [], processes: g.trackProcesses ?? [],
    weighted: g.syncGroupTrackingWeight === true || g.globalTracking === true,
  })]));
  for (const vi of config.vrrpInstances) {
    const group = groupOf.get(vi.name);
    const own = usesOf(log, config, {
      what: `vrrp_instance ${vi.name}`, scripts: vi.trackScripts, files: vi.trackFiles ?? [], processes: vi.trackProcesses ?? [],
      weighted: group === undefined || group.syncGroupTrackingWeight === true || group.globalTracking === true,
    });
    const uses = merged(own, group ? groupUses.get(group.name) ?? [] : []);
    if (uses.length > 0) instances[vi.name] = uses;
  }
  const used = new Set(Object.values(instances).flatMap((u) => u.map((x) => `${x.kind}:${x.name}`)));
  const scripts: TrackScriptSpec[] = [];
  for (const s of config.vrrpScripts) {
    if (!used.has(`script:${s.name}`)) {
      log.warning(s.location, `vrrp_script ${s.name} is tracked by no vrrp_instance or vrrp_sync_group; it is not run`);
      continue;
    }
    const spec = scriptSpec(log, s, config.globalDefs, users);
    if (spec) scripts.push(spec);
  }
  const checkedFiles = new Set(config.virtualServers.flatMap((vs) => vs.realServers.flatMap((rs) => rs.checkers.flatMap((c) => (c.type === 'FILE_CHECK' && c.trackFile !== undefined ? [c.trackFile] : [])))));
  const files: TrackFileSpec[] = [];
  for (const f of config.trackFiles ?? []) {
    if (f.file === undefined) continue; // config validation reports it
    if (!used.has(`file:${f.name}`)) {
      if (checkedFiles.has(f.name)) continue; // a FILE_CHECK reads it
      log.warning(f.location, `track_file ${f.name} is tracked by no vrrp_instance or vrrp_sync_group; it is not watched`);
      continue;
    }
    files.push({ name: f.name, path: f.file, ...(f.initFile ? { init: { ...f.initFile } } : {}), location: f.location });
  }
  const processes: TrackProcessSpec[] = [];
  for (const p of config.trackProcesses ?? []) {
    const spec = processSpec(p);
    if (!spec) continue;
    if (!used.has(`process:${p.name}`)) {
      log.warning(p.location, `vrrp_track_process ${p.name} is tracked by no vrrp_instance or vrrp_sync_group; it is not watched`);
      continue;
    }
    processes.push(spec);
  }
  return { scripts, files, processes, instances, scriptSecurity: config.globalDefs.enableScriptSecurity === true };
}
