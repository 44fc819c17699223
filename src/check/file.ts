// layer: behaviour (check)
// job: FILE_CHECK: one attempt reads the tracked file's number (as keepalived's track_file reads it) and turns it into the real server's weight, or a failure with the value.
import fs from 'node:fs/promises';
import { parseTrackFileValue } from '../track/state.js';
import type { CheckResult, FileCheckConfig } from './types.js';

/** keepalived's IPVS weight bound (IPVS_WEIGHT_LIMIT, INT32_MAX): an effective weight is kept in 0..this. */
const WEIGHT_LIMIT = 2 ** 31 - 1;

/**
 * keepalived's check_file rule: weight 0 — DOWN while the value is non-zero (reversed: zero);
 * otherwise UP with the configured weight plus value × weight (× −1 reversed), kept in 0..2³¹−1.
 */
export function fileCheckResult(config: Pick<FileCheckConfig, 'weight' | 'reverse' | 'realServerWeight' | 'path'>, value: number): CheckResult {
  if (config.weight === 0) {
    if ((value !== 0) !== config.reverse) return { ok: false, reason: 'file-value', message: `${config.path} holds ${value}${config.reverse ? ' (reversed: 0 is down)' : ''}`, value };
    return { ok: true, value };
  }
  const moved = config.realServerWeight + value * config.weight * (config.reverse ? -1 : 1);
  return { ok: true, value, weight: Math.min(Math.max(moved, 0), WEIGHT_LIMIT) };
}

/**
 * The probe of one FILE_CHECK. A missing or unreadable file is 0 (as keepalived); content out of
 * the 32-bit range keeps the last value read.
 */
export function fileProbe(config: FileCheckConfig): () => Promise<CheckResult> {
  let last = 0;
  return async () => {
    let text = '';
    try {
      const h = await fs.open(config.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      try {
        const { buffer, bytesRead } = await h.read(Buffer.alloc(127), 0, 127, 0);
        text = buffer.subarray(0, bytesRead).toString('utf8');
      } finally {
        await h.close();
      }
    } catch { /* missing or unreadable: 0 */ }
    const value = parseTrackFileValue(text) ?? last;
    last = value;
    return fileCheckResult(config, value);
  };
}
