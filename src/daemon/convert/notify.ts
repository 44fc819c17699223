// layer: config (pure)
// job: notify_fifo / vrrp_notify_fifo (with their scripts) and startup_script / shutdown_script → what the daemon runs.
import type { Diagnostic } from '../../config/diagnostics.js';
import type { KeepalivedConfig, NotifyFifoConfig, ScriptCommand } from '../../config/model.js';

/** keepalived's startup_script_timeout / shutdown_script_timeout default. */
export const DEFAULT_START_STOP_SCRIPT_TIMEOUT_MS = 10_000;

/** The notify FIFOs and start-up/shut-down scripts of a configuration, ready to run. */
export interface NotifySettings {
  /** FIFOs and what each carries: VRRP state lines, the checker's RS/VS lines, or both (one entry per distinct path). */
  fifos: Array<{ path: string; carries: Array<'vrrp' | 'lvs'>; script?: string[] }>;
  startup?: { argv: string[]; timeoutMs: number };
  shutdown?: { argv: string[]; timeoutMs: number };
}

/** The result of `convertNotify`: the settings (if any) and located diagnostics. */
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

/** global_defs' notify_fifo, vrrp_notify_fifo, lvs_notify_fifo, startup_script and shutdown_script → NotifySettings. */
export function convertNotify(config: KeepalivedConfig): NotifyConversion {
  const g = config.globalDefs;
  const diagnostics: Diagnostic[] = [];
  const fifos: NotifySettings['fifos'] = [];
  const kinds = { notify_fifo: ['vrrp', 'lvs'], vrrp_notify_fifo: ['vrrp'], lvs_notify_fifo: ['lvs'] } as const;
  for (const [name, f] of [['notify_fifo', g.notifyFifo], ['vrrp_notify_fifo', g.vrrpNotifyFifo], ['lvs_notify_fifo', g.lvsNotifyFifo]] as const) {
    if (!f) continue;
    if (f.path === '') {
      diagnostics.push({ severity: 'error', code: 'missing-setting', location: f.location, message: `${name}_script without ${name}: there is no FIFO for it to read` });
      continue;
    }
    userIgnored(f.script, `${name}_script`, f.location, diagnostics);
    const same = fifos.find((x) => x.path === f.path);
    if (same) { // one FIFO named twice gets each line once
      for (const k of kinds[name]) if (!same.carries.includes(k)) same.carries.push(k);
      continue;
    }
    fifos.push({ path: f.path, carries: [...kinds[name]], ...(f.script ? { script: [...f.script.argv] } : {}) });
  }
  const settings: NotifySettings = { fifos };
  if (g.startupScript) settings.startup = { argv: [...g.startupScript.argv], timeoutMs: g.startupScriptTimeoutMs ?? DEFAULT_START_STOP_SCRIPT_TIMEOUT_MS };
  if (g.shutdownScript) settings.shutdown = { argv: [...g.shutdownScript.argv], timeoutMs: g.shutdownScriptTimeoutMs ?? DEFAULT_START_STOP_SCRIPT_TIMEOUT_MS };
  const any = fifos.length > 0 || settings.startup || settings.shutdown;
  return { ...(any ? { settings } : {}), diagnostics, ok: diagnostics.every((d) => d.severity !== 'error') };
}
