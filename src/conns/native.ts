// layer: native boundary (IPVS connections)
// job: the typed shape of the addon's connection-table scanner (native/conn_scan.cc, native/conn_reader.cc).
import { binding, type NativeBinding } from '../native/binding.js';

/** Where the addon reads: a path, optionally opened inside a network namespace (path of its nsfs file). */
export interface NativeConnSource {
  path: string;
  netns?: string;
  /** read() size; default 1 MiB. procfs hands out about one page per read() whatever the size. */
  chunkBytes?: number;
}

export interface NativeScanOptions extends NativeConnSource {
  /** States counted per key (at most 8); the first ranks keys. */
  countStates?: string[];
  /** Key by client + protocol + virtual address + port instead of client. */
  perService?: boolean;
  /** Select every key. */
  all?: boolean;
  /** Select keys whose ranking count is above this. */
  threshold?: number;
  /** Select the `limit` highest-ranking keys. */
  limit?: number;
  /** 2 (default): a regular file of 16 MiB or more is read by two threads taking pieces of it in turn; 1: one pass. */
  threads?: number;
  /** Element 0 grows by the bytes read as the scan goes (updated every 1,024 lines, from the worker threads). */
  progress?: BigUint64Array;
}

/** Malformed lines: totals by problem and the first few, with their 1-based line numbers. */
export interface NativeProblems {
  total: number;
  byProblem: Record<string, number>;
  examples: { line: number; problem: string; text: Buffer }[];
}

export interface NativeScanResult {
  rows: number;
  headerLines: number;
  ipv6Rows: number;
  mixedFamilyRows: number;
  peRows: number;
  /** The file ended inside a line. */
  truncated: boolean;
  cancelled: boolean;
  bytesRead: number;
  reads: number;
  elapsedMs: number;
  memoryBytes: number;
  problems: NativeProblems;
  /** Interned state names; rowsByState is indexed like it. */
  states: string[];
  rowsByState: number[];
  /** Distinct keys counted. */
  keys: number;
  keyBytes: number;
  counters: number;
  /**
   * Selected keys, ranked, `keyBytes + 4 × counters` bytes each. Key: family u8 (4|6), protocol
   * u8, virtual port u16 (host order), client address [16], then (per service) virtual address
   * [16]. Counters (u32, host order): total rows, then one per counted state.
   */
  selected: Buffer;
  selectedCount: number;
}

export interface NativeConnBatch {
  /** 80-byte records; see native/conn_reader.cc for the layout. */
  rows: Buffer;
  count: number;
  /** Persistence-engine text the records point into. */
  text: Buffer;
  states: string[];
  problems: NativeProblems;
  headerLines: number;
  bytesRead: number;
  done: boolean;
}

export interface NativeConnReader {
  read(callback: (error: Error | null, batch?: NativeConnBatch) => void): void;
  close(): void;
}

export interface ConnScanBinding {
  /** Starts the scan; returns a function that cancels it (the callback then gets `cancelled: true`). */
  scanConnections(options: NativeScanOptions, callback: (error: Error | null, result?: NativeScanResult) => void): () => void;
  ConnReader: new (options: NativeConnSource & { batchRows?: number }) => NativeConnReader;
}

/** The addon with its scanner. */
export function connBinding(): ConnScanBinding {
  return binding() as NativeBinding & ConnScanBinding;
}

/** Bytes per record of a NativeConnBatch. */
export const CONN_RECORD_BYTES = 80;
