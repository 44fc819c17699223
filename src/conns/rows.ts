// layer: kernel client (IPVS connections)
// job: the rows of /proc/net/ip_vs_conn as typed objects, read and parsed natively in batches (an async iterator).
import { formatIPv4, formatIPv6, readU16Host, readU32Host } from '../bytes.js';
import { protocolName } from './constants.js';
import { explainOpenError, resolveSource, type ConnTableSource, type MalformedLines } from './procfs.js';
import { CONN_RECORD_BYTES, connBinding, type NativeConnBatch, type NativeConnReader } from './native.js';

/** One row of the connection table, as the kernel printed it. */
export interface ConnTableRow {
  /** 1-based line number in the file. */
  line: number;
  /** The kernel's protocol name (TCP, UDP, SCTP, IP, ...). */
  protocol: string;
  protocolNumber: number;
  /** Family of the client and virtual addresses. */
  family: 4 | 6;
  clientAddress: string;
  clientPort: number;
  virtualAddress: string;
  virtualPort: number;
  /** Family of the destination (may differ from `family`: heterogeneous pools). */
  destFamily: 4 | 6;
  destAddress: string;
  destPort: number;
  /** The kernel's state name (ESTABLISHED, TIME_WAIT, UDP, ASSURED, ...). */
  state: string;
  expiresSec: number;
  /** Persistence-engine name and data (e.g. `sip` and a Call-ID) when present. */
  peName?: string;
  peData?: string;
}

/** Options of `readConnections()`: which table and how many rows per batch. */
export interface ReadRowsOptions extends ConnTableSource {
  /** Rows parsed per worker-thread round trip; default 4096. */
  batchRows?: number;
}

/**
 * Reads the table in batches parsed on a worker thread; one batch at a time, so memory stays
 * bounded by the batch size whatever the table size. Iterate with `for await`; the malformed
 * lines seen so far are in `malformed`. Rejects with ConnTableUnavailableError when there is no
 * table.
 */
export class ConnRowReader implements AsyncIterable<ConnTableRow> {
  readonly file: string;
  readonly malformed: MalformedLines = { total: 0, byProblem: {}, examples: [] };
  headerLines = 0;
  bytesRead = 0;
  readonly #native: NativeConnReader;
  readonly #options: ReadRowsOptions;
  #done = false;

  constructor(options: ReadRowsOptions = {}) {
    const { path, netns, shown } = resolveSource(options);
    this.file = shown;
    this.#options = options;
    const native = options.binding ?? connBinding();
    this.#native = new native.ConnReader({
      path, ...(netns === undefined ? {} : { netns }), ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
      ...(options.batchRows === undefined ? {} : { batchRows: options.batchRows }),
    });
  }

  /** The next batch of rows; an empty array once the table is exhausted. */
  async nextBatch(): Promise<ConnTableRow[]> {
    if (this.#done) return [];
    const batch = await new Promise<NativeConnBatch>((resolve, reject) => {
      this.#native.read((error, result) => (error ? reject(explainOpenError(error, this.#options, this.file)) : resolve(result as NativeConnBatch)));
    }).catch((error: unknown) => {
      this.#done = true;
      throw error;
    });
    this.#done = batch.done;
    this.headerLines = batch.headerLines;
    this.bytesRead = batch.bytesRead;
    this.#tally(batch);
    return decodeBatch(batch);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConnTableRow> {
    try {
      while (!this.#done) {
        for (const row of await this.nextBatch()) yield row;
      }
    } finally {
      this.close();
    }
  }

  /** Stop reading and close the file (also done at the end of the table). */
  close(): void {
    this.#done = true;
    this.#native.close();
  }

  #tally(batch: NativeConnBatch): void {
    const m = this.malformed;
    m.total += batch.problems.total;
    for (const [problem, n] of Object.entries(batch.problems.byProblem)) m.byProblem[problem] = (m.byProblem[problem] ?? 0) + n;
    for (const e of batch.problems.examples) {
      if (m.examples.length < 16) m.examples.push({ line: e.line, problem: e.problem, text: e.text.toString('latin1') });
    }
  }
}

/** The rows of a connection table, one by one (see ConnRowReader). */
export function readConnections(options: ReadRowsOptions = {}): ConnRowReader {
  return new ConnRowReader(options);
}

function decodeBatch(batch: NativeConnBatch): ConnTableRow[] {
  const rows: ConnTableRow[] = [];
  const b = batch.rows;
  for (let i = 0; i < batch.count; i++) {
    const at = i * CONN_RECORD_BYTES;
    const family = b[at + 1] === 6 ? 6 : 4;
    const destFamily = b[at + 2] === 6 ? 6 : 4;
    const address = (f: 4 | 6, off: number): string => (f === 4 ? formatIPv4(b.subarray(off, off + 4)) : formatIPv6(b.subarray(off, off + 16)));
    const row: ConnTableRow = {
      line: readU32Host(b, at + 64),
      protocol: protocolName(b[at] as number),
      protocolNumber: b[at] as number,
      family,
      clientAddress: address(family, at + 16),
      clientPort: readU16Host(b, at + 4),
      virtualAddress: address(family, at + 32),
      virtualPort: readU16Host(b, at + 6),
      destFamily,
      destAddress: address(destFamily, at + 48),
      destPort: readU16Host(b, at + 8),
      state: batch.states[b[at + 3] as number] ?? '?',
      expiresSec: readU32Host(b, at + 12),
    };
    const peLength = readU32Host(b, at + 72);
    if (peLength > 0) {
      const pe = batch.text.toString('latin1', readU32Host(b, at + 68), readU32Host(b, at + 68) + peLength);
      const space = pe.indexOf(' ');
      row.peName = space < 0 ? pe : pe.slice(0, space);
      if (space >= 0) row.peData = pe.slice(space + 1);
    }
    rows.push(row);
  }
  return rows;
}
