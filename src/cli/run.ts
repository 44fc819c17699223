// layer: cli (composition only)
// job: `lvskit run -f keepalived.conf`: the daemon over Balancer — signals (HUP reload, TERM/INT stop), the control socket (status, recent events, reload, stop), the pid file, the metrics and status page listener, one log line per event.
import { InvalidArgumentError, type Command } from 'commander';
import fs from 'node:fs';
import { ConfigError, formatDiagnostic } from '../config/diagnostics.js';
import { Balancer } from '../daemon/balancer.js';
import type { DesiredState } from '../daemon/desired.js';
import { logEvent } from '../daemon/describe.js';
import { PreflightError } from '../daemon/preflight.js';
import { preflight } from '../daemon/preflight-live.js';
import { ControlError, ControlServer, controlRequest, defaultControlPath, type ControlRequest } from '../daemon/control.js';
import type { StopMode } from '../daemon/events.js';
import { refuseSymlink, writeFileAtomicSync } from '../safe-file.js';
import type { StatusHttpServer } from '../daemon/status-http.js';
import { parseListenAddress, type ListenAddress } from '../daemon/listen-address.js';
import { appliedV8HeapFlags } from '../daemon/heap-tuning.js';
import { MallocTrimmer } from '../daemon/malloc-tuning.js';
import { RecentEvents } from '../daemon/recent-events.js';
import { mallocTrim } from '../native/malloc.js';
import { enterNetns } from '../native/socket.js';
import { daemonLogger } from './log.js';
import { netnsOption } from './options.js';

interface RunOptions {
  file: string;
  configId?: string;
  netns?: string;
  control?: string;
  pidFile?: string;
  json?: boolean;
  logLevel?: string;
  releaseIpvs: boolean;
  vrrpThread: boolean;
  replace?: boolean;
  fixRpFilter?: boolean;
  metricsListen?: ListenAddress;
  driftCheck: number;
  mallocTuning: boolean;
  /** Applied by main.ts before the daemon's modules load (src/daemon/heap-tuning.ts); here so that commander's parse is typed. */
  heapTuning?: boolean;
}

type Logger = Awaited<ReturnType<typeof daemonLogger>>;

/** `/run/lvskit/lvskit.sock` → `/run/lvskit/lvskit.EXT`. */
function beside(control: string, ext: string): string {
  return control.replace(/\.sock$/, '') + ext;
}

/** Remove the pid file if it is still ours (a successor may have written its own by now). */
function removePidFile(file: string): void {
  try {
    if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file);
  } catch { /* gone */ }
}

/**
 * `--replace`: the daemon running on `control` hands over — it stops everything but VRRP, leaves
 * its restart note, stops VRRP without a priority 0 and answers; this one, already loaded and
 * validated, resumes its MASTERs at once. No daemon there: an ordinary start.
 */
async function handOver(control: string): Promise<void> {
  try {
    await controlRequest(control, { command: 'stop', mode: 'restart' });
  } catch (error) {
    if (error instanceof ControlError && /no lvskit daemon is running there/.test(error.message)) return;
    throw error;
  }
}

/** The pid file (0644), replaced atomically; a symbolic link there is refused, never followed (keepalived's CVE-2018-19044). */
function writePidFile(file: string): void {
  writeFileAtomicSync(file, `${process.pid}\n`, 0o644);
}

/**
 * The configuration against the live system, before anything is opened: each rp_filter fix
 * (--fix-rp-filter) and each warning logged; errors refuse the start (PreflightError, located).
 */
function preflightHook(opts: RunOptions, logger: Logger): (desired: DesiredState) => Promise<void> {
  return async (desired) => {
    if (!desired.config) return;
    const result = await preflight(desired.config, { fixRpFilter: opts.fixRpFilter === true });
    for (const f of result.fixed) {
      logger.warn({ source: 'daemon', type: 'sysctl-set', sysctl: f.name, from: f.from, to: f.to }, `set ${f.name} ${f.from} → ${f.to} (--fix-rp-filter)`);
    }
    if (result.diagnostics.some((d) => d.severity === 'error')) throw new PreflightError(result.diagnostics);
    for (const diagnostic of result.diagnostics) logEvent(logger, { source: 'daemon', type: 'config-warning', diagnostic });
  };
}

/** Open the balancer; a configuration with errors (or one this system cannot run) prints each at its file:line:col and exits 1, having touched nothing. */
/** This thread's network namespace held open (close-on-exec) → a path to it that stays valid after the thread moves. */
function keepNetns(): string | undefined {
  try {
    return `/proc/self/fd/${fs.openSync('/proc/thread-self/ns/net', 'r')}`;
  } catch {
    return undefined; // no /proc: the connector is tried in the daemon's namespace, and its failure reported there
  }
}

async function open(opts: RunOptions, logger: Logger, control: string, startNetns: string | undefined): Promise<Balancer | undefined> {
  try {
    return await Balancer.open({
      file: opts.file, ...(opts.configId !== undefined ? { configId: opts.configId } : {}), logger, preflight: preflightHook(opts, logger),
      ...(startNetns !== undefined ? { processEventsNetns: startNetns } : {}), releaseIpvs: opts.releaseIpvs, driftCheckMs: opts.driftCheck * 1000, restartFile: beside(control, '.restart'), isolation: opts.vrrpThread ? 'worker' : 'inline',
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const d of error.diagnostics) console.error(formatDiagnostic(d));
    const errors = error.diagnostics.filter((d) => d.severity === 'error').length;
    console.error(`lvskit run: ${opts.file}: ${errors} error${errors === 1 ? '' : 's'}; not started, nothing changed`);
    process.exitCode = 1;
    return undefined;
  }
}

/** The metrics and status page listener (in the daemon's namespace), opened before anything else: a port in use refuses the start. */
async function listenHttp(address: ListenAddress, logger: Logger): Promise<StatusHttpServer> {
  const { StatusHttpServer } = await import('../daemon/status-http.js');
  let http: StatusHttpServer;
  try {
    http = await StatusHttpServer.open(address);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw Object.assign(new Error(`--metrics-listen ${address.host}:${address.port}: ${e.message}; not started, nothing changed`), { code: e.code, syscall: e.syscall });
  }
  const a = http.address;
  const url = `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}/`;
  logger.info({ source: 'daemon', type: 'http-listening', host: a.host, port: a.port }, `metrics at ${url}metrics, status page at ${url}`);
  return http;
}

/** `--drift-check`'s value: seconds, 0 (off) or more. */
function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${JSON.stringify(value)} is not a number of seconds (0 turns the check off)`);
  return n;
}

/** `--metrics-listen`'s value, checked as the command line is read. */
function listenAddress(value: string): ListenAddress {
  try {
    return parseListenAddress(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

async function run(opts: RunOptions): Promise<void> {
  // The whole process joins the namespace first, so the health checks' connections start there too.
  // The kernel's process events (vrrp_track_process) exist only in the initial namespace: the one we
  // start in is kept open, so the tracker's connector socket can be opened there (as keepalived's is).
  const startNetns = opts.netns !== undefined ? keepNetns() : undefined;
  if (opts.netns !== undefined) enterNetns(opts.netns);
  const logger = await daemonLogger({ json: opts.json === true, ...(opts.logLevel ? { level: opts.logLevel } : {}) });
  const control = opts.control ?? defaultControlPath(opts.netns);
  const pidFile = opts.pidFile ?? beside(control, '.pid');
  refuseSymlink(pidFile); // before anything starts: a pid file that cannot be written refuses the start, nothing changed
  const http = opts.metricsListen ? await listenHttp(opts.metricsListen, logger) : undefined;
  const balancer = await open(opts, logger, control, startNetns);
  if (!balancer) {
    await http?.close();
    return;
  }
  // Before start(): the start's own transitions are counted, and kept for `lvskit top`.
  const recent = new RecentEvents(balancer);
  // After each burst of reloads and transitions, glibc's free memory goes back to the kernel (src/daemon/malloc-tuning.ts).
  const trimmer = opts.mallocTuning ? new MallocTrimmer({ trim: () => mallocTrim(0) }) : undefined;
  if (trimmer) {
    balancer.on('event', (e) => {
      if ((e.source === 'daemon' && e.type === 'reloaded') || (e.source === 'vrrp' && e.type === 'transition')) trimmer.poke();
    });
  }
  if (http) {
    const { BalancerMetrics } = await import('../daemon/metrics.js'); // prom-client is loaded only when asked for
    http.attach(balancer, new BalancerMetrics(balancer));
  }
  let stopping: Promise<void> | undefined;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => { done = resolve; });
  const stop = (mode: StopMode): Promise<void> => {
    stopping ??= balancer.stop(mode).catch((error: Error) => logger.error({ err: error }, `stop failed: ${error.message}`)).finally(done);
    return stopping;
  };
  let server: ControlServer | undefined;
  const handle = async (request: ControlRequest): Promise<unknown> => {
    switch (request.command) {
      case 'status': return balancer.status();
      case 'memory': return {
        ...await balancer.memory(request.gc === true), ...(trimmer ? { mallocTrims: trimmer.stats() } : {}),
        ...(appliedV8HeapFlags().length ? { v8HeapFlags: appliedV8HeapFlags() } : {}),
      };
      case 'events': return recent.list(typeof request.last === 'number' ? request.last : undefined);
      case 'reload': return balancer.reload({ dryRun: request.dryRun === true });
      case 'stop':
        await stop(request.mode ?? 'graceful');
        // Answered once stopped; the socket is already free for a successor (`lvskit run --replace`).
        server?.close();
        return { stopped: request.mode ?? 'graceful' };
      default: throw new Error(`unknown command ${(request as { command?: unknown }).command}`);
    }
  };
  if (opts.replace) await handOver(control);
  server = await ControlServer.open(control, handle);
  balancer.on('event', (e) => {
    if (e.source === 'daemon' && e.type === 'error' && e.fatal) {
      process.exitCode = 1; // a supervisor (systemd's Restart=on-failure) starts it again
      void stop('graceful');
    }
  });
  process.on('SIGHUP', () => { balancer.reload().catch(() => undefined); });
  process.on('SIGTERM', () => { void stop('graceful'); });
  process.on('SIGINT', () => { void stop('graceful'); });
  try {
    await balancer.start();
  } catch (error) {
    server.close();
    await http?.close();
    throw error;
  }
  // Then (node's handlers are in place) each MASTER's priority 0 leaves from the signal handler itself.
  await balancer.releaseOnSignal(['SIGTERM', 'SIGINT']);
  writePidFile(pidFile);
  await finished;
  trimmer?.close();
  server.close();
  await server.drain(); // the answer to a `stop` request is on its way
  await http?.close();
  removePidFile(pidFile);
  logger.flush();
  // Open handles of the kernel clients are closed; anything left (a notify script) is not waited for.
  process.exit(process.exitCode ?? 0);
}

export function registerRunCommand(program: Command): void {
  program.command('run')
    .description('run a keepalived.conf: VRRP, the IPVS table, health checks and the autoban, until SIGTERM (SIGHUP reloads)')
    .requiredOption('-f, --file <file>', 'keepalived.conf (includes, definitions and @ID lines as keepalived reads them)')
    .option('-i, --config-id <id>', 'config id for @ID conditional lines (default: the host name\'s first label)')
    .addOption(netnsOption())
    .option('--control <path>', 'control socket for `lvskit status|reload|stop` (default /run/lvskit/lvskit.sock, or lvskit-NETNS.sock)')
    .option('--pid-file <path>', 'pid file (default: beside the control socket, .pid)')
    .option('--json', 'log JSON lines (default: human-readable lines)')
    .option('--log-level <level>', 'debug, info, warn or error (default info)')
    .option('--dont-release-ipvs', 'on SIGTERM, leave the IPVS services in the kernel (keepalived\'s option of that name)')
    .option('--no-vrrp-thread', 'run VRRP on the main thread instead of its own worker thread')
    .option('--fix-rp-filter', 'where rp_filter is strict (1) on a VIP\'s or the sync daemon\'s interface, set it to 0 (each change logged) instead of refusing to start')
    .option('--metrics-listen <addr:port>', 'serve Prometheus metrics (/metrics), the status as JSON (/status.json) and a live status page (/) over HTTP here, e.g. 127.0.0.1:9650 (default: off)', listenAddress)
    .option('--drift-check <seconds>', 'every this many seconds, check that each declared IPVS service is still in the kernel with its settings and put back what was deleted or changed behind lvskit\'s back (0: only a reload does)', seconds, 5)
    .option('--no-malloc-tuning', 'leave glibc\'s malloc as it is (by default: at most 2 arenas unless MALLOC_ARENA_MAX is set, and what it frees goes back to the kernel once the daemon is quiet for 2 s after a reload or a VRRP transition)')
    .option('--no-heap-tuning', 'leave V8\'s heap as node sets it (by default the daemon sets --optimize-for-size and --heap-growing-percent=15, unless node\'s options already give either: the heap grows in small steps, so RSS stays near what it holds)')
    .option('--replace', 'take over from the daemon running on the control socket: once this one is ready, it stops keeping everything and this one resumes its MASTERs (an upgrade without a failover)')
    .action(async (opts: Omit<RunOptions, 'releaseIpvs'> & { dontReleaseIpvs?: boolean }) => {
      await run({ ...opts, releaseIpvs: opts.dontReleaseIpvs !== true });
    });
}
