// layer: kernel client (IPVS connections)
// job: scanConnections(): counts per client (and state) of /proc/net/ip_vs_conn in one streaming native pass, typed.
import { formatIPv4, formatIPv6, readU16Host, readU32Host } from '../bytes.js';
import { isErrnoError } from '../errors.js';
import { netnsPath } from '../native/netns-path.js';
import { protocolName } from './constants.js';
import { ConnScanAbortedError, ConnTableUnavailableError } from './errors.js';
import { connBinding, type ConnScanBinding, type NativeProblems, type NativeScanResult } from './native.js';

/** The connection table of the calling process's network namespace. */
export const PROC_IP_VS_CONN = '/proc/net/ip_vs_conn';
/** What the addon opens inside another namespace: the opening thread's own view of /proc/net. */
const THREAD_IP_VS_CONN = '/proc/thread-self/net/ip_vs_conn';

/** Where to read the table from. */
export interface ConnTableSource {
  /** A file in the /proc/net/ip_vs_conn format; default that file (of `netns` when given). */
  file?: string;
  /** Network namespace (name under /var/run/netns, or a path) whose table to read. */
  netns?: string;
  /** Bytes per read(); default 1 MiB. */
  chunkBytes?: number;
  /** The addon; tests may hand in another. */
  binding?: ConnScanBinding;
}

/** Options of `scanConnections()`: which table, the threshold, the states counted, how many top clients. */
export interface ScanOptions extends ConnTableSource {
  /** States counted per client, by the kernel's names; the first ranks clients. Default `['ESTABLISHED']`. */
  states?: string[];
  /** Count per client and virtual service (protocol, virtual address, port) instead of per client. */
  perService?: boolean;
  /** Report the clients whose count of the first state is above this (strictly more). */
  threshold?: number;
  /** Report the `limit` clients with the highest count of the first state. */
  limit?: number;
  /** Report every client. */
  all?: boolean;
  /**
   * 2 (the default): a regular file of 16 MiB or more is read by two threads taking pieces of it
   * in turn, the counts merged; 1: always one pass. /proc/net/ip_vs_conn is always one pass, in order.
   */
  threads?: 1 | 2;
  signal?: AbortSignal;
  /**
   * For a progress display: element 0 grows by the bytes read while the scan runs (every 1,024
   * lines; read it on a timer). The addon writes it from its worker threads.
   */
  progress?: BigUint64Array;
}

/** A virtual service: protocol, address and port. */
export interface ServiceKey {
  protocol: string;
  address: string;
  port: number;
}

/** Rows counted for one client (or client and service). */
export interface ClientCount {
  /** RFC 5952 text for IPv6. */
  address: string;
  family: 4 | 6;
  /** Rows in the first counted state (what clients are ranked by). */
  count: number;
  /** Rows per counted state. */
  states: Record<string, number>;
  /** All rows of the client, whatever their state. */
  total: number;
  /** With `perService`. */
  service?: ServiceKey;
}

/** Lines that are not rows: counts by problem and the first few. */
export interface MalformedLines {
  total: number;
  byProblem: Record<string, number>;
  examples: { line: number; problem: string; text: string }[];
}

/** What `scanConnections()` found: clients over the threshold, the top clients, counts by state, malformed lines. */
export interface ConnScanResult {
  file: string;
  netns?: string;
  /** Rows parsed. */
  rows: number;
  /** Distinct clients (or client+service keys). */
  clients: number;
  /** Rows per state name, all rows. */
  byState: Record<string, number>;
  /** The `limit` highest-ranking clients (empty without `limit`). */
  top: ClientCount[];
  /** Clients above `threshold`, ranked (empty without `threshold`). */
  overThreshold: ClientCount[];
  /** Every client, ranked (with `all`). */
  all?: ClientCount[];
  ipv6Rows: number;
  /** Rows whose destination family differs from the client's (IPv4 service, IPv6 real server or back). */
  mixedFamilyRows: number;
  /** Rows with persistence-engine columns. */
  peRows: number;
  headerLines: number;
  malformed: MalformedLines;
  /** The file ended inside a row (it shrank while read, or was cut). */
  truncated: boolean;
  bytesRead: number;
  /** read() calls made (procfs answers about one page per call). */
  reads: number;
  /** Time spent reading and counting on the worker thread. */
  elapsedMs: number;
  /** Bytes held by the per-client table at the end. */
  memoryBytes: number;
}

/** The file and namespace path the addon opens for `source`. */
export function resolveSource(source: ConnTableSource): { path: string; netns?: string; shown: string } {
  const netns = source.netns === undefined ? undefined : netnsPath(source.netns);
  const path = source.file ?? (netns === undefined ? PROC_IP_VS_CONN : THREAD_IP_VS_CONN);
  return { path, ...(netns === undefined ? {} : { netns }), shown: source.file ?? PROC_IP_VS_CONN };
}

/** An open failure of the table: ConnTableUnavailableError for a missing file, the ErrnoError otherwise. */
export function explainOpenError(error: Error, source: ConnTableSource, shown: string): Error {
  if (isErrnoError(error) && error.code === 'ENOENT' && error.syscall === 'open') {
    return new ConnTableUnavailableError(error.errno, 'open', shown, source.netns, source.file !== undefined);
  }
  if (isErrnoError(error)) Object.assign(error, { path: shown });
  return error;
}

/**
 * Read the connection table once, streaming, on a worker thread, and count rows per client and
 * state without building a string per row. Malformed lines are counted (with examples) and
 * skipped. Rejects with ConnTableUnavailableError when there is no table (no IPVS).
 */
export function scanConnections(options: ScanOptions = {}): Promise<ConnScanResult> {
  const states = options.states ?? ['ESTABLISHED'];
  if (states.length === 0 || states.length > 8) throw new RangeError('states: 1 to 8 state names');
  const { path, netns, shown } = resolveSource(options);
  const native = options.binding ?? connBinding();
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new ConnScanAbortedError(shown, 0));
    const onAbort = (): void => cancel();
    const cancel = native.scanConnections({
      path, ...(netns === undefined ? {} : { netns }), countStates: states, perService: options.perService ?? false,
      all: options.all ?? false, ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.progress === undefined ? {} : { progress: options.progress }),
    }, (error, result) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (error) return reject(explainOpenError(error, options, shown));
      const raw = result as NativeScanResult;
      if (raw.cancelled) return reject(new ConnScanAbortedError(shown, raw.rows));
      resolve(toResult(raw, states, options, shown));
    });
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function toResult(raw: NativeScanResult, states: string[], options: ScanOptions, shown: string): ConnScanResult {
  const ranked = decodeSelected(raw, states);
  const byState: Record<string, number> = {};
  // Names are decoded as UTF-8: bytes that are not (garbage in the state column) may turn two names into one.
  raw.states.forEach((name, i) => { if (raw.rowsByState[i]) byState[name] = (byState[name] ?? 0) + (raw.rowsByState[i] as number); });
  const result: ConnScanResult = {
    file: shown,
    rows: raw.rows,
    clients: raw.keys,
    byState,
    top: options.limit ? ranked.slice(0, options.limit) : [],
    overThreshold: options.threshold === undefined ? [] : ranked.filter((c) => c.count > (options.threshold as number)),
    ipv6Rows: raw.ipv6Rows,
    mixedFamilyRows: raw.mixedFamilyRows,
    peRows: raw.peRows,
    headerLines: raw.headerLines,
    malformed: toMalformed(raw.problems),
    truncated: raw.truncated,
    bytesRead: raw.bytesRead,
    reads: raw.reads,
    elapsedMs: raw.elapsedMs,
    memoryBytes: raw.memoryBytes,
  };
  if (options.netns !== undefined) result.netns = options.netns;
  if (options.all) result.all = ranked;
  return result;
}

/** Decode the packed keys and counters (layout in NativeScanResult.selected). */
function decodeSelected(raw: NativeScanResult, states: string[]): ClientCount[] {
  const out: ClientCount[] = [];
  const stride = raw.keyBytes + 4 * raw.counters;
  const buf = raw.selected;
  for (let i = 0; i < raw.selectedCount; i++) {
    const at = i * stride;
    const family = buf[at] === 6 ? 6 : 4;
    const address = family === 4 ? formatIPv4(buf.subarray(at + 4, at + 8)) : formatIPv6(buf.subarray(at + 4, at + 20));
    const counters = at + raw.keyBytes;
    const counts: Record<string, number> = {};
    states.forEach((name, s) => { counts[name] = readU32Host(buf, counters + 4 * (s + 1)); });
    const client: ClientCount = { address, family, count: counts[states[0] as string] ?? 0, states: counts, total: readU32Host(buf, counters) };
    if (raw.keyBytes > 20) {
      const vaddr = buf.subarray(at + 20, at + (family === 4 ? 24 : 36));
      client.service = {
        protocol: protocolName(buf[at + 1] as number),
        address: family === 4 ? formatIPv4(vaddr) : formatIPv6(vaddr),
        port: readU16Host(buf, at + 2),
      };
    }
    out.push(client);
  }
  return out;
}

/** Malformed-line tally with the examples' text decoded. */
export function toMalformed(problems: NativeProblems): MalformedLines {
  return {
    total: problems.total,
    byProblem: { ...problems.byProblem },
    examples: problems.examples.map((e) => ({ line: e.line, problem: e.problem, text: e.text.toString('latin1') })),
  };
}
