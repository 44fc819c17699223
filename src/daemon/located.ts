// layer: daemon (composition)
// job: a library's field-named refusal found after reading (VRRP: "instances[0].interface: v0 does not exist") as a ConfigError at the file:line:col that wrote the field, in the configuration's words.
import { ConfigError } from '../config/diagnostics.js';
import type { DesiredState } from './desired.js';

/**
 * `error` as a located ConfigError (`keepalived.conf:24:3: error: VI_WEB: interface v0 does not
 * exist`) when it names a field the configuration file wrote; otherwise `error` itself.
 */
export function locatedConfigError(desired: Pick<DesiredState, 'locateVrrp' | 'explainVrrp'>, error: unknown): unknown {
  const explained = desired.explainVrrp?.(error);
  if (explained) return new ConfigError([{ severity: 'error', code: 'invalid-value', message: explained.message, location: explained.location }]);
  const field = (error as { field?: unknown } | undefined)?.field;
  if (typeof field !== 'string' || !desired.locateVrrp) return error;
  const location = desired.locateVrrp(field);
  if (!location) return error;
  return new ConfigError([{ severity: 'error', code: 'invalid-value', message: `VRRP refuses ${(error as Error).message}`, location }]);
}
