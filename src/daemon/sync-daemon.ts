// layer: daemon (composition)
// job: the IPVS sync daemon as VRRP drives it (keepalived's way: MASTER runs the master daemon, any other state the backup one), idempotently.
import { IpvsClient } from '../ipvs/client.js';
import type { SyncDaemon } from '../ipvs/model.js';
import type { SyncDaemonRequest } from '../vrrp/events.js';
import { syncDaemonActions, type SyncDaemonSettings } from './convert.js';

/** Same settings, as the kernel reports them (unset optional fields compare as the kernel's defaults). */
function sameDaemon(a: SyncDaemon, b: SyncDaemon): boolean {
  return a.state === b.state && a.interface === b.interface && a.syncId === b.syncId
    && (b.maxLength === undefined || a.maxLength === b.maxLength) && (b.group === undefined || a.group === b.group)
    && (b.port === undefined || a.port === b.port) && (b.ttl === undefined || a.ttl === b.ttl);
}

/**
 * Starts and stops the sync daemons for VRRP's `syncDaemon` hook. A daemon already running with the
 * wanted settings is left alone (a restarted balancer adopts it: the kernel's sync thread and its
 * connections go on); one with other settings is restarted. The IPVS client opens at first use.
 */
export class SyncDaemonControl {
  #client?: IpvsClient;
  #settings: SyncDaemonSettings | undefined;
  /** The role VRRP last asked for (undefined: none yet). */
  #role: SyncDaemonRequest['role'] | undefined;

  constructor(settings: SyncDaemonSettings | undefined, private readonly netns?: string) {
    this.#settings = settings;
  }

  /** New settings (a reload); the next request uses them. */
  set settings(settings: SyncDaemonSettings | undefined) { this.#settings = settings; }
  get settings(): SyncDaemonSettings | undefined { return this.#settings; }

  /** Carry out a VRRP request: stop what the role excludes, start what it needs. */
  async apply(request: Pick<SyncDaemonRequest, 'role'>): Promise<void> {
    this.#role = request.role;
    const settings = this.#settings;
    if (!settings) return;
    const client = this.#ipvs();
    const { stop, start } = syncDaemonActions(settings, request);
    const running = await client.listDaemons();
    for (const state of stop) {
      if (running.some((d) => d.state === state)) await client.stopDaemon(state);
    }
    if (!start) return;
    const now = running.find((d) => d.state === start.state);
    if (now && sameDaemon(now, start)) return;
    if (now) await client.stopDaemon(start.state);
    await client.startDaemon(start);
  }

  #ipvs(): IpvsClient {
    return this.#client ??= IpvsClient.open(this.netns !== undefined ? { netns: this.netns } : {});
  }

  /**
   * The last request again (the sync daemon's interface came back): whether the daemon of that
   * role was started again — because the kernel no longer ran it, or, with `restart`, always (its
   * interface was created anew: the kernel's thread is bound to the old one). Undefined when VRRP
   * has asked for no daemon.
   */
  async reapply(options: { restart?: boolean } = {}): Promise<{ role: 'master' | 'backup'; restarted: boolean } | undefined> {
    const role = this.#role;
    if (!this.#settings || role === undefined || role === 'stop') return undefined;
    const client = this.#ipvs();
    const running = (await client.listDaemons()).some((d) => d.state === role);
    if (running && options.restart === true) await client.stopDaemon(role);
    await this.apply({ role });
    return { role, restarted: !running || options.restart === true };
  }

  close(): void {
    this.#client?.close();
    this.#client = undefined;
  }
}
