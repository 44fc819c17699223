// layer: behaviour (check)
// job: virtual and real servers as a user describes them to the health checks, and as validated (every default resolved).
import type { ForwardingMethod, SinkDestination } from './sink.js';
import type { CheckConfig, CheckSpec } from './types.js';
import type { PoolMember, VirtualServerPolicy } from './virtual-server.js';

/** Defaults a virtual server passes to its real servers and a real server to its checkers (keepalived's inheritance). */
export interface CheckDefaultsSpec {
  delayLoopMs?: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  connectTimeoutMs?: number;
  alpha?: boolean;
  /** HTTP_GET / SSL_GET Host header. */
  virtualhost?: string;
  inhibitOnFailure?: boolean;
}

/** A real server as `HealthChecks.add()` takes it: address, port, weight, checkers, notify scripts. */
export interface RealServerSpec extends CheckDefaultsSpec {
  address: string;
  /** Default: the virtual server's `port`. */
  port?: number;
  /** Default 1 (keepalived). */
  weight?: number;
  /** Default: the virtual server's, else `nat` (keepalived's default `lb_kind`). */
  forward?: ForwardingMethod;
  upperThreshold?: number;
  lowerThreshold?: number;
  tunnel?: SinkDestination['tunnel'];
  /** Every checker must pass for the server to be UP; none: always UP. */
  checkers?: CheckSpec[];
  /** `notify_up` / `notify_down` programs (argv, no shell). */
  notifyUp?: string[];
  notifyDown?: string[];
}

/** The server that takes traffic when no real server is up (keepalived's `sorry_server`). */
export interface SorryServerSpec {
  address: string;
  /** Default: the virtual server's `port`. */
  port?: number;
  /** Default 1 (what keepalived gives it). */
  weight?: number;
  forward?: ForwardingMethod;
}

/** A virtual server: `service` is the caller's identity for it (an IPVS service key), handed to the sink untouched. */
export interface VirtualServerSpec<S> extends CheckDefaultsSpec {
  /** Unique among the virtual servers of one HealthChecks. */
  id: string;
  service: S;
  /** The service's port: the default of its real servers' ports. */
  port?: number;
  forward?: ForwardingMethod;
  /** Default 1. */
  quorum?: number;
  /** Default 0. */
  hysteresis?: number;
  /** `quorum_up` / `quorum_down` programs (argv, no shell). */
  quorumUp?: string[];
  quorumDown?: string[];
  sorryServer?: SorryServerSpec;
  sorryServerInhibit?: boolean;
  /** On shutdown: take every real server down (events and notify_down, quorum_down) and remove its destinations. */
  omega?: boolean;
  realServers: RealServerSpec[];
}

/** A checker of a real server, resolved. */
export interface ResolvedChecker {
  config: CheckConfig;
  alpha: boolean;
}

/** A real server with its defaults applied and checkers resolved, as the runner holds it. */
export interface ResolvedRealServer extends PoolMember {
  checkers: ResolvedChecker[];
  notifyUp?: string[];
  notifyDown?: string[];
}

/** A virtual server with its defaults applied, as the runner holds it. */
export interface ResolvedVirtualServer<S> {
  id: string;
  service: S;
  policy: VirtualServerPolicy;
  omega: boolean;
  quorumUp?: string[];
  quorumDown?: string[];
  realServers: ResolvedRealServer[];
}
