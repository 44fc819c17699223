// layer: config (pure)
// job: the typed model of `static_routes` / `virtual_routes` and `static_rules` / `virtual_rules` entries; re-exported by model.ts.
import type { Nexthop, RouteSpec } from '../rtnl/route.js';
import type { RuleSpec } from '../rtnl/rule.js';
import type { SourceLocation } from './model.js';

/**
 * A `static_routes` / `virtual_routes` entry, in rtnetlink's terms (src/rtnl/route.ts) with links
 * by name. `protocol` is keepalived's (18) unless `no_track` and another is given.
 */
export interface ConfigRoute extends Omit<RouteSpec, 'ifindex' | 'nexthops'> {
  table: number;
  /** `dev IF` / `oif IF`. */
  dev?: string;
  nexthops?: Array<Omit<Nexthop, 'ifindex'> & { dev?: string }>;
  /** `prepend` (keepalived's default), `add` or `append`. */
  addMode?: 'prepend' | 'add' | 'append';
  noTrack?: boolean;
  location: SourceLocation;
}

/** A `static_rules` / `virtual_rules` entry; `priority` is always set (keepalived numbers rules without one down from 16384). */
export interface ConfigRule extends RuleSpec {
  priority: number;
  noTrack?: boolean;
  location: SourceLocation;
}
