// layer: cli (composition only)
// job: `lvskit conns top` itself, without commander: the scan with its progress bar and what it prints; and main.ts's reading of a plain `conns top` line, so that such a line runs without loading the command line parser at all.
import { SCTP_STATES, TCP_STATES, TEMPLATE_STATES, UDP_STATES } from '../conns/constants.js';
import type { ClientCount, ConnScanResult, ScanOptions } from '../conns/procfs.js';
import { table } from './format.js';
import { progressBar } from './progress.js';

/** Every state name the kernel prints in /proc/net/ip_vs_conn (TCP, UDP, SCTP, persistence templates). */
export const CONN_STATE_NAMES: readonly string[] = [...new Set<string>([...TCP_STATES, ...UDP_STATES, ...SCTP_STATES, ...TEMPLATE_STATES])];

/** `conns top`'s options, as commander parses them (or plainTopOptions reads them). */
export interface TopOptions { netns?: string; tableFile?: string; state: string; limit: number; threshold?: number; perService?: boolean; json?: boolean }

/** The scan `conns top` runs for these options. */
export function topScanOptions(opts: TopOptions): ScanOptions {
  return {
    states: [opts.state], limit: opts.limit, perService: opts.perService ?? false,
    ...(opts.threshold === undefined ? {} : { threshold: opts.threshold }),
    ...(opts.netns === undefined ? {} : { netns: opts.netns }), ...(opts.tableFile === undefined ? {} : { file: opts.tableFile }),
  };
}

const WHOLE = /^(0|[1-9]\d{0,8})$/;
/** The options a plain line may hold, and whether each takes a value. */
const PLAIN: Readonly<Record<string, boolean>> = { '--table-file': true, '--state': true, '--limit': true, '--threshold': true, '--per-service': false, '--json': false };

/**
 * `conns top` options read from the command line (`argv` without node and the script) when it is
 * plainly `conns top` with the options above, each at most once and well formed (a known state, whole
 * numbers); undefined for anything else, which commander then reads. Where this gives options they
 * are commander's own reading of the line (a unit test holds the two together), so main.ts can run
 * `conns top` on them without loading commander; if that run fails, commander reads the line and
 * the command reports the error as always.
 */
export function plainTopOptions(argv: readonly string[]): TopOptions | undefined {
  if (argv[0] !== 'conns' || argv[1] !== 'top') return undefined;
  const seen = new Map<string, string | true>();
  for (let i = 2; i < argv.length; i++) {
    const word = argv[i]!;
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const [flag, inline] = eq > 0 ? [word.slice(0, eq), word.slice(eq + 1)] : [word, undefined];
    const takesValue = PLAIN[flag];
    if (takesValue === undefined || seen.has(flag)) return undefined;
    if (!takesValue) {
      if (inline !== undefined) return undefined;
      seen.set(flag, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    seen.set(flag, value);
  }
  const text = (flag: string): string | undefined => { const v = seen.get(flag); return typeof v === 'string' ? v : undefined; };
  const [state, limit, threshold, tableFile] = [text('--state') ?? 'ESTABLISHED', text('--limit') ?? '20', text('--threshold'), text('--table-file')];
  if (!CONN_STATE_NAMES.includes(state) || !WHOLE.test(limit) || (threshold !== undefined && !WHOLE.test(threshold))) return undefined;
  return {
    state, limit: Number(limit), ...(threshold === undefined ? {} : { threshold: Number(threshold) }),
    ...(seen.has('--per-service') ? { perService: true } : {}), ...(seen.has('--json') ? { json: true } : {}),
    ...(tableFile === undefined ? {} : { tableFile }),
  };
}

/** `lvskit conns top`: one scan, then the clients (or JSON) and a summary line. */
export async function top(opts: TopOptions): Promise<void> {
  const { scanConnections } = await import('../conns/procfs.js');
  const options = topScanOptions(opts);
  const result = await withScanProgress(options, opts.json === true, scanConnections);
  if (opts.json) return console.log(JSON.stringify(result, null, 2));
  const shown = opts.threshold === undefined ? result.top : mergeRanked(result.top, result.overThreshold);
  if (shown.length > 0) console.log(formatClients(shown, opts.state));
  console.log(summary(result));
}

/**
 * A scan with a progress bar in MiB read, on a terminal, when the table is large (a file of
 * 64 MiB or more; the kernel's table, of unknown size, after a second).
 */
async function withScanProgress(options: ScanOptions, json: boolean, scan: (o: ScanOptions) => Promise<ConnScanResult>): Promise<ConnScanResult> {
  const { default: fs } = await import('node:fs');
  const size = options.file === undefined ? 0 : fs.statSync(options.file).size;
  const worth = options.file === undefined || size >= 64 << 20;
  const progress = new BigUint64Array(1);
  let bar: ReturnType<typeof progressBar>;
  const timer = worth && !json ? setInterval(() => {
    bar ??= progressBar({ total: Math.ceil(size / 2 ** 20), unit: 'MiB' });
    bar?.update(Math.floor(Number(progress[0]) / 2 ** 20));
  }, options.file === undefined ? 1000 : 200) : undefined;
  try {
    return await scan({ ...options, ...(timer ? { progress } : {}) });
  } finally {
    if (timer) clearInterval(timer);
    bar?.stop();
  }
}

/** Clients as a table: CLIENT, the counted state, TOTAL (and SERVICE). */
export function formatClients(clients: ClientCount[], state: string): string {
  const service = clients.some((c) => c.service);
  const rows = [['CLIENT', state, 'TOTAL', ...(service ? ['SERVICE'] : [])]];
  for (const c of clients) {
    const svc = c.service ? `${c.service.protocol} ${c.service.address.includes(':') ? `[${c.service.address}]` : c.service.address}:${c.service.port}` : '';
    rows.push([c.address, String(c.count), String(c.total), ...(service ? [svc] : [])]);
  }
  return table(rows);
}

function summary(r: ConnScanResult): string {
  const malformed = r.malformed.total > 0
    ? `; ${r.malformed.total} malformed line(s): ${Object.entries(r.malformed.byProblem).map(([p, n]) => `${p} ${n}`).join(', ')}` : '';
  return `# ${r.file}: ${r.rows} rows, ${r.clients} clients, ${Object.entries(r.byState).map(([s, n]) => `${s} ${n}`).join(', ') || 'no rows'}` +
    `${malformed}${r.truncated ? ' (ended inside a row)' : ''}; ${r.elapsedMs.toFixed(1)} ms, ${r.reads} reads`;
}

/** The top list and the over-threshold list together, each client once, ranked. */
function mergeRanked(a: ClientCount[], b: ClientCount[]): ClientCount[] {
  const seen = new Map<string, ClientCount>();
  for (const c of [...a, ...b]) seen.set(`${c.address}|${c.service?.protocol ?? ''}|${c.service?.address ?? ''}|${c.service?.port ?? ''}`, c);
  return [...seen.values()].sort((x, y) => y.count - x.count || y.total - x.total);
}
