// layer: config (pure)
// job: the typed model of lvskit's own `autoban` block (and the networks its whitelist holds); re-exported by model.ts.
import type { AddressFamily, SourceLocation } from './model.js';

/** A network (address and prefix length) as text, e.g. `10.0.0.0/8` or `192.0.2.1` (a /32). */
export interface Cidr {
  address: string;
  family: AddressFamily;
  prefixLength: number;
  location: SourceLocation;
}

/**
 * lvskit's own block (keepalived has none): ban client addresses that hold more than `threshold`
 * ESTABLISHED connections in the IPVS connection table.
 */
export interface AutobanConfig {
  /** A client is banned when it holds more than this many ESTABLISHED connections. */
  threshold?: number;
  /** The ipset (hash:ip / hash:net) whose members the firewall drops. */
  ipset?: string;
  /** Addresses and networks that are never banned. */
  whitelist: Cidr[];
  /** A file of banned addresses (one per line) kept in step with the ipset, as the old script wrote it. */
  staticBlacklist?: string;
  /** Ban timeout per entry in ms (ipset entry timeout); absent = bans never expire. */
  banTimeoutMs?: number;
  /** How often the connection table is evaluated, in ms. */
  intervalMs?: number;
  /** Where the counts come from: the IPVS sync stream (default) or a scan of /proc/net/ip_vs_conn. */
  source?: 'sync' | 'procfs';
  /** Log what would be banned without banning. */
  dryRun?: boolean;
  location: SourceLocation;
}
