// layer: public API
// job: what `import ... from 'lvskit'` offers, re-exported from the layers.
export * from './errors.js';
export * as bytes from './bytes.js';
export { openSocket, Socket, netnsPath, type OpenSocketOptions, type MessageInfo, type SocketEvents, type SockAddr, type BpfInstruction } from './native/socket.js';
export * as netlink from './netlink/index.js';
export * as genl from './genl/index.js';
export * as rtnl from './rtnl/index.js';
export * as ipvs from './ipvs/index.js';
export * as ipset from './ipset/index.js';
export * as check from './check/index.js';
export * as vrrp from './vrrp/index.js';
export * as config from './config/index.js';
export * as conns from './conns/index.js';
export * as autoban from './autoban/index.js';
export { RtnlClient, type AddressTarget, type RtnlOptions } from './rtnl/client.js';
export { LinkWatcher, type LinkChange } from './rtnl/watch.js';
export type { Link } from './rtnl/link.js';
export type { Address, AddressSpec } from './rtnl/address.js';
export { GenlSocket } from './genl/client.js';
export type { GenlFamily } from './genl/codec.js';
export { NetlinkEngine } from './netlink/engine.js';
export { openNetlink } from './netlink/socket.js';
export { NetlinkError, NetlinkDecodeError } from './netlink/errors.js';
export { IpsetClient, IpsetError, IpsetBulkError } from './ipset/index.js';
export { IpvsClient } from './ipvs/client.js';
export { HealthChecks, ipvsSink, MemorySink, CheckConfigError } from './check/index.js';
export { VrrpRunner } from './vrrp/index.js';
