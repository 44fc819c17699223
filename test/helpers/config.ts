// layer: tests (helpers)
// job: config tests' shared tools: fixture paths, in-memory parsing, diagnostics as the text users see, models without locations.
import type { ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, type Diagnostic } from '../../src/config/diagnostics.js';
import { loadConfig, parseConfigText, type ParseOptions, type ParseResult } from '../../src/config/index.js';
import { memoryReader } from '../../src/config/reader.js';

/** test/fixtures/config in the source tree (tests run from dist/test). */
export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'config');

/** A fixture's path relative to the working directory (so messages show short names). */
export function fixture(...parts: string[]): string {
  return path.relative(process.cwd(), path.join(FIXTURES, ...parts));
}

/** Parses one in-memory file named `keepalived.conf` (plus other in-memory files it may include). */
export function parse(text: string, options: ParseOptions & { files?: Record<string, string | Uint8Array> } = {}): ParseResult {
  return parseConfigText(text, { file: 'keepalived.conf', ...options });
}

/** Parses files held in memory, starting at `entry`. */
export function parseFiles(files: Record<string, string | Uint8Array>, entry: string, options: ParseOptions = {}): ParseResult {
  return loadConfig(entry, { ...options, reader: memoryReader(files) });
}

/** Diagnostics as `lvskit check` prints them. */
export function messages(result: ParseResult | readonly Diagnostic[]): string[] {
  const list = Array.isArray(result) ? result : (result as ParseResult).diagnostics;
  return list.map((d: Diagnostic) => formatDiagnostic(d));
}

/** Only the errors, as printed. */
export function errors(result: ParseResult): string[] {
  return messages(result.diagnostics.filter((d) => d.severity === 'error'));
}

/** A deep copy without `location` keys (nor `…Location` ones): two models read from different text compare equal. */
export function withoutLocations<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => withoutLocations(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'location' && !k.endsWith('Location')).map(([k, v]) => [k, withoutLocations(v)])) as T;
  }
  return value;
}

/**
 * keepalived's own samples (Debian package `keepalived`): the directory, or undefined when it is
 * missing — then the test passes with a log line, and fails under CI=true.
 */
export function keepalivedSamples(t: ExecutionContext): string | undefined {
  const dir = '/usr/share/doc/keepalived/samples';
  if (fs.existsSync(dir)) return dir;
  if (process.env.CI === 'true') t.fail(`${dir} is missing: install the keepalived package`);
  else t.log(`${dir} is missing (package keepalived); samples not checked`);
  t.pass();
  return undefined;
}

/**
 * keepalived 2.2.7's verdict on its own samples, `keepalived.conf.NAME` with `-i ID` where given
 * (`keepalived -t -f FILE` in a namespace with eth0..eth3, 2026-12): these it reads without a
 * complaint; `lvskit check` accepts them (unit tier) and `lvskit run` runs them as keepalived does
 * (test/ipvs/keepalived-samples.test.ts). The others it complains about: SSL_GET (state MASTER
 * with AH), conditional_conf without -i (a vrrp_script with no script), fwmark (protocol on a fwmark
 * service), track_interface, vrrp.routes, vrrp.static_ipaddress (routes it cannot track; eth0.1),
 * vrrp.localcheck (script_security), vrrp.lvs_syncd (instance names as keywords), vrrp.rules
 * (`192.168.100./24`, "Invalid rule to address", the rule skipped).
 */
export const KEEPALIVED_ACCEPTS: ReadonlyArray<readonly [string, string?]> = [
  ['HTTP_GET.port'], ['IPv6'], ['PING_CHECK'], ['SMTP_CHECK'], ['UDP_CHECK'], ['inhibit'], ['misc_check'], ['misc_check_arg'], ['quorum'],
  ['sample'], ['status_code'], ['virtual_server_group'], ['virtualhost'], ['vrrp'], ['vrrp.scripts'], ['vrrp.sync'],
  ['conditional_conf', 'high'], ['conditional_conf', 'low'],
];
