// layer: daemon (composition)
// job: a library's field-named refusal found after reading (VRRP: "instances[0].interface: no link eth9") as a ConfigError at the file:line:col that wrote the field.
import { ConfigError } from '../config/diagnostics.js';
import type { DesiredState } from './desired.js';

/** `error` as a located ConfigError when it names a field the configuration file wrote; otherwise `error` itself. */
export function locatedConfigError(desired: Pick<DesiredState, 'locateVrrp'>, error: unknown): unknown {
  const field = (error as { field?: unknown } | undefined)?.field;
  if (typeof field !== 'string' || !desired.locateVrrp) return error;
  const location = desired.locateVrrp(field);
  if (!location) return error;
  return new ConfigError([{ severity: 'error', code: 'invalid-value', message: `VRRP refuses ${(error as Error).message}`, location }]);
}
