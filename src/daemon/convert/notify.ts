// layer: config (pure)
// job: notify_fifo / vrrp_notify_fifo (with their scripts) and startup_script / shutdown_script → what the daemon runs.
import type { Diagnostic } from '../../config/diagnostics.js';
import type { KeepalivedConfig, NotifyFifoConfig, ScriptCommand } from '../../config/model.js';

/** keepalived's startup_script_timeout / shutdown_script_timeout default. */
export const DEFAULT_START_STOP_SCRIPT_TIMEOUT_MS = 10_000;

export interface NotifySettings {
  /** FIFOs the VRRP state lines are written to (one per distinct path). */
  fifos: Array<{ path: string; script?: string[] }>;
  startup?: { argv: string[]; timeoutMs: number };
  shutdown?: { argv: string[]; timeoutMs: number };
}

export interface NotifyConversion {
  /** Undefined when the configuration has none of these keywords. */
  settings?: NotifySettings;
  diagnostics: Diagnostic[];
  ok: boolean;
}

/** Scripts run as the daemon's user: a user or group written with them is reported and not applied. */
function userIgnored(s: ScriptCommand | undefined, what: string, at: NotifyFifoConfig['location'], out: Diagnostic[]): void {
  if (s?.user !== undefined && s.user !== 'root') {
    out.push({ severity: 'warning', code: 'unsupported-keyword', location: at, message: `${what}: runs as the daemon's user; user ${s.user} is not applied` });
  }
}

export function convertNotify(config: KeepalivedConfig): NotifyConversion {
  const g = config.globalDefs;
  const diagnostics: Diagnostic[] = [];
  const fifos: NotifySettings['fifos'] = [];
  for (const [name, f] of [['notify_fifo', g.notifyFifo], ['vrrp_notify_fifo', g.vrrpNotifyFifo]] as const) {
    if (!f) continue;
    if (f.path === '') {
      diagnostics.push({ severity: 'error', code: 'missing-setting', location: f.location, message: `${name}_script without ${name}: there is no FIFO for it to read` });
      continue;
    }
    userIgnored(f.script, `${name}_script`, f.location, diagnostics);
    if (fifos.some((x) => x.path === f.path)) continue; // keepalived writes each line once to a FIFO named twice
    fifos.push({ path: f.path, ...(f.script ? { script: [...f.script.argv] } : {}) });
  }
  const settings: NotifySettings = { fifos };
  if (g.startupScript) settings.startup = { argv: [...g.startupScript.argv], timeoutMs: g.startupScriptTimeoutMs ?? DEFAULT_START_STOP_SCRIPT_TIMEOUT_MS };
  if (g.shutdownScript) settings.shutdown = { argv: [...g.shutdownScript.argv], timeoutMs: g.shutdownScriptTimeoutMs ?? DEFAULT_START_STOP_SCRIPT_TIMEOUT_MS };
  const any = fifos.length > 0 || settings.startup || settings.shutdown;
  return { ...(any ? { settings } : {}), diagnostics, ok: diagnostics.every((d) => d.severity !== 'error') };
}
