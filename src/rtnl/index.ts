// layer: kernel client (rtnetlink)
// job: the public surface of the rtnetlink client (`lvskit/rtnl`): links, addresses, the link watcher, and the flags their fields carry.
//      Message codecs and attribute numbers stay internal.
/**
 * The rtnetlink client: links, addresses, the link watcher, and the flags their fields carry.
 *
 * @module lvskit/rtnl
 */
export {
  IFA_F_SECONDARY, IFA_F_NODAD, IFA_F_DADFAILED, IFA_F_DEPRECATED, IFA_F_TENTATIVE, IFA_F_PERMANENT, IFA_F_NOPREFIXROUTE,
  IFF_UP, IFF_BROADCAST, IFF_LOOPBACK, IFF_POINTOPOINT, IFF_RUNNING, IFF_NOARP, IFF_PROMISC, IFF_MULTICAST, IFF_LOWER_UP,
  OPER_STATES, SCOPES, type OperState, type Scope, type Ipv4ConfName,
} from './constants.js';
export { parseMac, type NewLinkSpec, type MacvlanMode, type IpvlanFlags } from './link-create.js';
export { formatMac, type Link } from './link.js';
export { validateAddressSpec, type Address, type AddressSpec } from './address.js';
export * from './client.js';
export * from './watch.js';
export { validateRouteSpec, type RouteSpec, type Route, type Nexthop } from './route.js';
export { validateRuleSpec, type RuleSpec } from './rule.js';
