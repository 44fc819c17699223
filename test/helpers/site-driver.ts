// layer: test helpers (site scenario)
// job: the one interface the site scenario drives a balancer daemon through (keepalived today, `lvskit run` next), and what a reload reports.
import type { LabBalancer } from './site-lab.js';
import type { SiteSpec } from './site-model.js';
import type { Cleanup } from './site-procs.js';

/** `plain`: stop, then start. `upgrade`: how the implementation replaces a running daemon by a new one (keepalived has no such mode: stop, then start). */
export type RestartMode = 'plain' | 'upgrade';

export interface ReloadOutcome {
  /** What the daemon printed from the reload request until it said it was done, stopped, or went quiet. */
  said: string[];
  /** The daemon said the reload was finished. */
  completed: boolean;
  /** The daemon was still running afterwards (keepalived exits on some broken files). */
  running: boolean;
}

/**
 * A balancer daemon as the scenario sees it: the same calls for every implementation. Each call
 * takes the balancer's namespace and directories from the lab; the daemon reads
 * `<configDir>/keepalived.conf` (which includes `services/*.conf`), as on the operator's
 * machines. The scenario judges only from outside (traffic, the observer, ipvsadm, ip, ipset).
 */
export interface SiteBalancer {
  /** Shown in results and tables, e.g. `keepalived 2.2.7`. */
  readonly name: string;
  /** Whether the daemon bans clients holding too many connections (otherwise phase `autoban` is n/a). */
  readonly supportsAutoban: boolean;
  /** Writes `lb`'s configuration for `site` into `lb.configDir`, replacing what was there. */
  writeConfig(lb: LabBalancer, site: SiteSpec): Promise<void>;
  /** Starts the daemon in `lb.netns`; resolves once it says it has started (not once it is master). */
  start(lb: LabBalancer): Promise<void>;
  /** SIGKILLs every process of the daemon (a crash: no goodbye, kernel state left as it was). */
  kill(lb: LabBalancer): Promise<void>;
  /** Stops the daemon the way its service manager would; resolves once it has exited. */
  stop(lb: LabBalancer): Promise<void>;
  /** Asks the running daemon to read its (changed) configuration again. */
  reload(lb: LabBalancer): Promise<ReloadOutcome>;
  /** Replaces the running daemon; resolves once the new one says it has started. */
  restart(lb: LabBalancer, mode: RestartMode): Promise<void>;
  /** Whether the daemon of `lb` is running. */
  running(lb: LabBalancer): boolean;
  /** Every line the daemon of `lb` printed so far, across restarts. */
  log(lb: LabBalancer): string[];
}

/** Makes a driver whose processes are killed by `cleanup` (teardown, even on failure). */
export type SiteBalancerFactory = (cleanup: Cleanup) => Promise<SiteBalancer>;

/** An implementation the scenario can run, or why it cannot run here. */
export interface Implementation {
  id: string;
  /** Undefined when it can run; otherwise the reason it cannot. */
  unavailable(): Promise<string | undefined>;
  create: SiteBalancerFactory;
}
