// layer: kernel client (rtnetlink)
// job: one-line methods over the link, address, route and rule codecs: list/create/delete/set links; list/add/delete addresses, routes and rules.
import { NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from '../netlink/constants.js';
import type { NetlinkEngine } from '../netlink/engine.js';
import { openNetlink, type NetlinkSocketOptions } from '../netlink/socket.js';
import { decodeAddress, encodeAddressDump, encodeAddressRequest, validateAddressSpec, type Address, type AddressSpec } from './address.js';
import {
  NETLINK_ROUTE, RTM_DELADDR, RTM_DELLINK, RTM_DELROUTE, RTM_DELRULE, RTM_GETADDR, RTM_GETLINK, RTM_GETROUTE, RTM_GETRULE, RTM_NEWADDR,
  RTM_NEWLINK, RTM_NEWROUTE, RTM_NEWRULE, type Ipv4ConfName,
} from './constants.js';
import { decodeLink, encodeGetLink, encodeIfInfoMsg, type Link } from './link.js';
import { encodeAddrGenModeNone, encodeNewLink, encodeSetIpv4Conf, encodeSetLinkUp, type NewLinkSpec } from './link-create.js';
import { decodeRoute, encodeRouteDump, encodeRouteRequest, type Nexthop, type Route, type RouteSpec } from './route.js';
import { decodeRule, encodeRuleDump, encodeRuleRequest, type RuleSpec } from './rule.js';
import { LinkWatcher } from './watch.js';

/** Where to open rtnetlink sockets. */
export interface RtnlOptions {
  /** Network namespace: a name under /var/run/netns or a path such as /proc/PID/ns/net. */
  netns?: string;
}

/** An address to add or delete, on a link given by index or by name (`dev`). */
export type AddressTarget = Omit<AddressSpec, 'ifindex'> & ({ ifindex: number } | { dev: string });

/** A route to add or delete, whose links may be given by name (`dev`) instead of index. */
export type RouteTarget = Omit<RouteSpec, 'nexthops'> & { dev?: string; nexthops?: Array<Nexthop & { dev?: string }> };

/** How a new route meets an existing one of the same key: keepalived's default `prepend` (NLM_F_CREATE), `add` (fails with EEXIST), `append`, `replace`. */
export type RouteAddMode = 'prepend' | 'add' | 'append' | 'replace';

const ROUTE_ADD_FLAGS: Record<RouteAddMode, number> = {
  prepend: NLM_F_CREATE, add: NLM_F_CREATE | NLM_F_EXCL, append: NLM_F_CREATE | NLM_F_APPEND, replace: NLM_F_CREATE | NLM_F_REPLACE,
};

/**
 * rtnetlink client: links and addresses (IPv4 with labels, IPv6). Kernel refusals reject with
 * NetlinkError (errno, the kernel's extended-ack text, `syscall` = the RTM_* name).
 */
export class RtnlClient {
  private constructor(private readonly engine: NetlinkEngine, private readonly options: RtnlOptions) {}

  /** Open a client on its own rtnetlink socket. */
  static open(options: RtnlOptions = {}): RtnlClient {
    const socketOptions: NetlinkSocketOptions = { protocol: NETLINK_ROUTE };
    if (options.netns !== undefined) socketOptions.netns = options.netns;
    return new RtnlClient(openNetlink(socketOptions), options);
  }

  /** Every link in the namespace, in index order. */
  async listLinks(): Promise<Link[]> {
    const replies = await this.engine.request({ type: RTM_GETLINK, dump: true, payload: encodeIfInfoMsg(), op: 'RTM_GETLINK' });
    return replies.filter((m) => m.header.type === RTM_NEWLINK).map((m) => decodeLink(m.payload))
      .sort((a, b) => a.index - b.index);
  }

  /** One link by name or index; rejects with NetlinkError ENODEV when there is none. */
  async getLink(which: string | number): Promise<Link> {
    const payload = typeof which === 'number' ? encodeGetLink({ index: which }) : encodeGetLink({ name: which });
    const replies = await this.engine.request({ type: RTM_GETLINK, payload, op: 'RTM_GETLINK' });
    const reply = replies.find((m) => m.header.type === RTM_NEWLINK);
    if (!reply) throw new Error(`RTM_GETLINK ${which}: the kernel acknowledged without describing the link`);
    return decodeLink(reply.payload);
  }

  /** Create a macvlan or ipvlan on a parent link (`ip link add NAME link PARENT type macvlan mode private`); EEXIST when the name is taken. The new link is down. */
  async addLink(spec: NewLinkSpec): Promise<void> {
    await this.engine.request({ type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL, payload: encodeNewLink(spec), op: 'RTM_NEWLINK' });
  }

  /** Delete a link by index (`ip link del`); ENODEV when it is not there. */
  async deleteLink(index: number): Promise<void> {
    await this.engine.request({ type: RTM_DELLINK, payload: encodeIfInfoMsg({ index }), op: 'RTM_DELLINK' });
  }

  /** Set a link up or down (`ip link set IF up|down`). */
  async setLinkUp(index: number, up = true): Promise<void> {
    await this.engine.request({ type: RTM_NEWLINK, payload: encodeSetLinkUp(index, up), op: 'RTM_NEWLINK' });
  }

  /** Write IPv4 per-interface settings (`net.ipv4.conf.IF.arp_ignore` ...) over rtnetlink, in the client's namespace. */
  async setIpv4Conf(index: number, values: Partial<Record<Ipv4ConfName, number>>): Promise<void> {
    await this.engine.request({ type: RTM_NEWLINK, payload: encodeSetIpv4Conf(index, values), op: 'RTM_NEWLINK' });
  }

  /** IPv6 addrgenmode none on a link: no automatic link-local address. */
  async setAddrGenModeNone(index: number): Promise<void> {
    await this.engine.request({ type: RTM_NEWLINK, payload: encodeAddrGenModeNone(index), op: 'RTM_NEWLINK' });
  }

  /** Addresses, optionally of one family and/or one link. */
  async listAddresses(filter: { family?: 4 | 6; ifindex?: number } = {}): Promise<Address[]> {
    const replies = await this.engine.request({ type: RTM_GETADDR, dump: true, payload: encodeAddressDump(filter.family), op: 'RTM_GETADDR' });
    const out: Address[] = [];
    for (const m of replies) {
      if (m.header.type !== RTM_NEWADDR) continue;
      const a = decodeAddress(m.payload);
      if (!a) continue;
      if (filter.family !== undefined && a.family !== filter.family) continue;
      if (filter.ifindex !== undefined && a.ifindex !== filter.ifindex) continue;
      out.push(a);
    }
    return out;
  }

  /**
   * Add an address (`ip addr add ADDR/LEN dev DEV label LABEL`). Rejects with EEXIST when it is
   * already there; with `replace` it updates it instead (`ip addr replace`). A label must begin
   * with the link's name, as iproute2 requires.
   */
  async addAddress(target: AddressTarget, options: { replace?: boolean } = {}): Promise<void> {
    const spec = await this.resolve(target);
    await this.engine.request({
      type: RTM_NEWADDR, flags: NLM_F_CREATE | (options.replace ? NLM_F_REPLACE : NLM_F_EXCL),
      payload: encodeAddressRequest(spec), op: 'RTM_NEWADDR',
    });
  }

  /** Delete an address; rejects with EADDRNOTAVAIL when it is not there. */
  async deleteAddress(target: AddressTarget): Promise<void> {
    const spec = await this.resolve(target);
    await this.engine.request({ type: RTM_DELADDR, payload: encodeAddressRequest(spec), op: 'RTM_DELADDR' });
  }

  /** Routes of every table (or of one table and/or family). */
  async listRoutes(filter: { family?: 4 | 6; table?: number } = {}): Promise<Route[]> {
    const replies = await this.engine.request({ type: RTM_GETROUTE, dump: true, payload: encodeRouteDump(filter.family), op: 'RTM_GETROUTE' });
    const out: Route[] = [];
    for (const m of replies) {
      if (m.header.type !== RTM_NEWROUTE) continue;
      const r = decodeRoute(m.payload);
      if (r && (filter.table === undefined || r.table === filter.table)) out.push(r);
    }
    return out;
  }

  /** Add a route (`ip route prepend|add|append|replace ...`, default prepend as keepalived). */
  async addRoute(target: RouteTarget, mode: RouteAddMode = 'prepend'): Promise<void> {
    const spec = await this.resolveRoute(target);
    await this.engine.request({ type: RTM_NEWROUTE, flags: ROUTE_ADD_FLAGS[mode], payload: encodeRouteRequest(spec, 'add'), op: 'RTM_NEWROUTE' });
  }

  /** Delete a route; rejects with ESRCH when there is none that matches. */
  async deleteRoute(target: RouteTarget): Promise<void> {
    const spec = await this.resolveRoute(target);
    await this.engine.request({ type: RTM_DELROUTE, payload: encodeRouteRequest(spec, 'delete'), op: 'RTM_DELROUTE' });
  }

  /** Policy-routing rules of one family (or both). */
  async listRules(family?: 4 | 6): Promise<RuleSpec[]> {
    const replies = await this.engine.request({ type: RTM_GETRULE, dump: true, payload: encodeRuleDump(family), op: 'RTM_GETRULE' });
    const out: RuleSpec[] = [];
    for (const m of replies) {
      if (m.header.type !== RTM_NEWRULE) continue;
      const r = decodeRule(m.payload);
      if (r && (family === undefined || r.family === family)) out.push(r);
    }
    return out;
  }

  /** Add a rule (`ip rule add ...`); rejects with EEXIST when the same rule is there (NLM_F_EXCL). */
  async addRule(spec: RuleSpec): Promise<void> {
    await this.engine.request({ type: RTM_NEWRULE, flags: NLM_F_CREATE | NLM_F_EXCL, payload: encodeRuleRequest(spec), op: 'RTM_NEWRULE' });
  }

  /** Delete a rule; rejects with ENOENT when none matches. */
  async deleteRule(spec: RuleSpec): Promise<void> {
    await this.engine.request({ type: RTM_DELRULE, payload: encodeRuleRequest(spec), op: 'RTM_DELRULE' });
  }

  /**
   * Watch link changes (RTNLGRP_LINK) on a socket of its own. The watcher emits `change` for
   * every RTM_NEWLINK/DELLINK and `up`/`down` when a link's running state flips.
   */
  watchLinks(): Promise<LinkWatcher> {
    return LinkWatcher.open(this.options);
  }

  /** Close the socket; requests in flight reject with RequestCancelledError. Until then its socket keeps the process alive, also after a failed call. */
  close(): void {
    this.engine.close();
  }

  /** Fill in link indexes from names (`dev`, a nexthop's `dev`). */
  private async resolveRoute(target: RouteTarget): Promise<RouteSpec> {
    const { dev, nexthops, ...rest } = target;
    const spec: RouteSpec = { ...rest };
    if (dev !== undefined) spec.ifindex = (await this.getLink(dev)).index;
    if (nexthops) {
      spec.nexthops = await Promise.all(nexthops.map(async ({ dev: d, ...nh }) => (d !== undefined ? { ...nh, ifindex: (await this.getLink(d)).index } : nh)));
    }
    return spec;
  }
  /** `using rtnl = RtnlClient.open()`: closed when the scope ends. */
  [Symbol.dispose](): void { this.close(); }

  /** Fill in `ifindex` from `dev`, and check label rules against the link's name. */
  private async resolve(target: AddressTarget): Promise<AddressSpec> {
    const { dev, ifindex, ...rest } = target as Partial<AddressSpec> & { dev?: string; address: string };
    const link = dev !== undefined ? await this.getLink(dev) : undefined;
    const spec: AddressSpec = { ...rest, ifindex: link?.index ?? ifindex ?? 0 };
    validateAddressSpec(spec);
    if (spec.label !== undefined) {
      const name = link?.name ?? (await this.getLink(spec.ifindex)).name;
      if (!spec.label.startsWith(name)) {
        throw new TypeError(`label: ${JSON.stringify(spec.label)} must begin with the interface name ${JSON.stringify(name)}`);
      }
    }
    return spec;
  }
}
