// layer: config (pure)
// job: virtual_server (and groups) → the desired IPVS table for plan(): services, real servers at start, persistence, flags; sync daemon, timeouts, flush.
import type { Ownership, PlanOptions } from '../../ipvs/plan.js';
import {
  SCHEDULERS, type Destination, type Persistence, type Scheduler, type SchedulerFlag, type SyncDaemon, type Timeouts, type VirtualService,
} from '../../ipvs/model.js';
import { validateDaemon, validateServices, validateTimeouts } from '../../ipvs/validate.js';
import type { KeepalivedConfig, VirtualServer } from '../../config/model.js';
import { ConversionLog, fileLocation, memoized, type ConversionMemo, type ConversionResult } from './common.js';
import { memoKey } from './checks.js';
import { startDestinations } from './destinations.js';
import { declaredServices, type DeclaredService } from './services.js';
import { syncDaemonOf, syncDaemonSettings, type SyncDaemonSettings } from './sync-daemon.js';

/** keepalived's default scheduler (IPVS_DEF_SCHED). */
export const DEFAULT_SCHEDULER: Scheduler = 'wlc';
/** keepalived's persistence timeout for a bare `persistence_timeout` or a service without a port. */
export const DEFAULT_PERSISTENCE_SEC = 360;

/** The virtual servers of a configuration as the IPVS table for `plan()`, with diagnostics. */
export interface IpvsConversion extends ConversionResult {
  /**
   * The desired table for plan(): every service with the real servers it holds at start (see
   * startDestinations). When it passed validateServices (no error), it is the validated table, so
   * plan() does not check it again.
   */
  services: readonly VirtualService[];
  /** `lvs_flush`: services not in the table are removed too; otherwise they are left alone (see ipvsPlanOptions). */
  flush: boolean;
  /** `lvs_flush_on_stop`: on stop, remove everything (`all`) or only these services (`vs`); absent: leave the table. */
  flushOnStop?: 'all' | 'vs';
  /** The sync daemon's settings (global lvs_sync_daemon, else the legacy lvs_sync_daemon_interface). */
  syncDaemon?: SyncDaemonSettings;
  /** Daemons to start at once: master and backup when lvs_sync_daemon names no instance (with one, VRRP drives them). */
  daemons: SyncDaemon[];
  /** `lvs_timeouts` (IpvsClient.setTimeouts). */
  timeouts?: Partial<Timeouts>;
  /** Each service's result by its configuration text, for the next conversion. */
  memo: ConversionMemo<VirtualService>;
}

/** Options of `convertIpvs()`. */
export interface IpvsConvertOptions {
  /** Run src/ipvs's validators on the result and report their refusals at their config location (default true). */
  validate?: boolean;
  /** The previous conversion's memo (`memo.ipvs`): unchanged services are not converted again. */
  memo?: { ipvs?: ConversionMemo<VirtualService> };
}

/** The plan() options that go with a conversion: without lvs_flush, services lvskit does not declare are never deleted. */
export function ipvsPlanOptions(conversion: Pick<IpvsConversion, 'flush'>): PlanOptions {
  if (conversion.flush) return {};
  const owns: Ownership = { service: () => false };
  return { owns };
}

/** `persistence_granularity`: a dotted netmask (IPv4) or a prefix length. */
function granularity(log: ConversionLog, svc: DeclaredService, text: string): Pick<Persistence, 'netmask' | 'prefixLength'> | undefined {
  const family = 'fwmark' in svc.key ? svc.key.family ?? 4 : svc.key.address.includes(':') ? 6 : 4;
  if (text.includes('.')) {
    if (family === 4) return { netmask: text };
    log.error(svc.location, `${svc.name}: persistence_granularity ${text} is an IPv4 netmask; an IPv6 service takes a prefix length`, 'invalid-value');
    return undefined;
  }
  const len = Number(text);
  if (family === 4 && len > 32) {
    log.error(svc.location, `${svc.name}: persistence_granularity ${text} is longer than an IPv4 address`, 'out-of-range');
    return undefined;
  }
  return { prefixLength: len };
}

function persistenceOf(log: ConversionLog, svc: DeclaredService): Persistence | undefined {
  const vs = svc.vs;
  const portless = !('fwmark' in svc.key) && svc.key.port === 0;
  // keepalived makes a service without a port persistent (config validation warns); 0 means no persistence.
  const timeoutSec = vs.persistenceTimeoutSec ?? (portless ? DEFAULT_PERSISTENCE_SEC : undefined);
  if (timeoutSec === undefined || timeoutSec === 0) {
    if (vs.persistenceGranularity !== undefined || vs.persistenceEngine !== undefined) {
      log.warning(svc.location, `${svc.name}: persistence_granularity / persistence_engine without persistence_timeout have no effect; ignored`, 'missing-setting');
    }
    return undefined;
  }
  const p: Persistence = { timeoutSec };
  if (vs.persistenceGranularity !== undefined) Object.assign(p, granularity(log, svc, vs.persistenceGranularity));
  if (vs.persistenceEngine !== undefined) p.engine = vs.persistenceEngine;
  return p;
}

/** Kernel bit of each flag name (IP_VS_SVC_F_SCHED1..3): sh-/mh- names and flag-N share bits. */
const FLAG_BIT: Record<string, number> = { 'sh-fallback': 1, 'mh-fallback': 1, 'flag-1': 1, 'sh-port': 2, 'mh-port': 2, 'flag-2': 2, 'flag-3': 3 };

/**
 * Scheduler flags, one name per kernel bit (keepalived sets a bit once however it is named; the
 * scheduler's own name wins); sh- and mh- flags under another scheduler have no effect (config
 * validation warns) and are left out.
 */
function flagsOf(vs: VirtualServer, scheduler: Scheduler): SchedulerFlag[] {
  const byBit = new Map<number, SchedulerFlag>();
  for (const f of vs.schedulerFlags) {
    const bit = FLAG_BIT[f];
    if (bit === undefined || ((f.startsWith('sh-') || f.startsWith('mh-')) && !f.startsWith(`${scheduler}-`))) continue;
    const had = byBit.get(bit);
    if (!had || (had.startsWith('flag-') && !f.startsWith('flag-'))) byBit.set(bit, f as SchedulerFlag);
  }
  return [...byBit.entries()].sort((a, b) => a[0] - b[0]).map(([, f]) => f);
}

function serviceOf(log: ConversionLog, svc: DeclaredService, f: string): VirtualService {
  const vs = svc.vs;
  log.at(f, svc.location, svc.name);
  const scheduler = (vs.scheduler ?? DEFAULT_SCHEDULER) as Scheduler;
  if (!SCHEDULERS.includes(scheduler)) log.error(svc.location, `${svc.name}: scheduler ${scheduler} is not an IPVS scheduler`, 'invalid-value');
  const out: VirtualService = { ...svc.key, scheduler };
  const flags = flagsOf(vs, scheduler);
  if (flags.length > 0) out.schedulerFlags = flags;
  const persistence = persistenceOf(log, svc);
  if (persistence) out.persistence = persistence;
  if (vs.onePacketScheduling) {
    if ('fwmark' in svc.key) log.warning(svc.location, `${svc.name}: ops (one-packet scheduling) needs a UDP service; a firewall-mark service cannot have it; ignored`);
    else if (svc.key.protocol === 'udp') out.onePacket = true;
  }
  const destinations: Destination[] = startDestinations(svc).map(({ destination, location }, j) => {
    log.at(`${f}.destinations[${j}]`, location, `real_server ${destination.address} ${destination.port}`);
    return destination;
  });
  out.destinations = destinations;
  return out;
}

function validateAll(log: ConversionLog, services: VirtualService[], daemons: SyncDaemon[], timeouts: Partial<Timeouts> | undefined,
  config: KeepalivedConfig): readonly VirtualService[] {
  const fallback = config.virtualServers[0]?.location ?? config.globalDefs.lvsSyncDaemon?.location ?? fileLocation('keepalived.conf');
  let table: readonly VirtualService[] = services;
  try {
    table = validateServices(services);
  } catch (error) {
    log.refused('IPVS', error, fallback);
  }
  const daemonAt = config.globalDefs.lvsSyncDaemon?.location ?? fallback;
  for (const [i, d] of daemons.entries()) {
    try {
      validateDaemon(d, `daemons[${i}]`);
    } catch (error) {
      log.refused('IPVS', error, daemonAt);
    }
  }
  if (timeouts) {
    try {
      validateTimeouts(timeouts);
    } catch (error) {
      log.refused('IPVS', error, fallback);
    }
  }
  return table;
}

/**
 * The IPVS reconciler's input of a configuration: `services` for plan() (with ipvsPlanOptions),
 * the daemons to start at once, lvs_timeouts. Protocol defaults to UDP for address services and the
 * scheduler to wlc (as keepalived); lb_kind (default NAT) of the real server, else of the virtual
 * server; a bare persistence_timeout or a service without port is 360 s.
 */
export function convertIpvs(config: KeepalivedConfig, options: IpvsConvertOptions = {}): IpvsConversion {
  const log = new ConversionLog();
  const next: ConversionMemo<VirtualService> = new Map();
  const memo = options.memo ? { previous: options.memo.ipvs, next } : undefined;
  const globals = memo ? JSON.stringify([config.globalDefs, config.ssl ?? null]) : '';
  const services = declaredServices(log, config).map((svc, i) => memoized(log, memo, memoKey(svc, globals), `services[${i}]`, (sub) => serviceOf(sub, svc, `services[${i}]`)));
  const g = config.globalDefs;
  const syncDaemon = syncDaemonSettings(config);
  const daemons = syncDaemon && syncDaemon.instance === undefined ? [syncDaemonOf(syncDaemon, 'master'), syncDaemonOf(syncDaemon, 'backup')] : [];
  let timeouts: Partial<Timeouts> | undefined;
  if (g.lvsTimeouts) {
    timeouts = {};
    if (g.lvsTimeouts.tcpSec !== undefined) timeouts.tcpSec = g.lvsTimeouts.tcpSec;
    if (g.lvsTimeouts.tcpFinSec !== undefined) timeouts.tcpFinSec = g.lvsTimeouts.tcpFinSec;
    if (g.lvsTimeouts.udpSec !== undefined) timeouts.udpSec = g.lvsTimeouts.udpSec;
  }
  const table = options.validate === false ? services : validateAll(log, services, daemons, timeouts, config);
  return {
    services: table, flush: g.lvsFlush === true, ...(g.lvsFlushOnStop ? { flushOnStop: g.lvsFlushOnStop } : {}),
    ...(syncDaemon ? { syncDaemon } : {}), daemons, ...(timeouts ? { timeouts } : {}), memo: next, ...log.result(),
  };
}
