// layer: netlink (codec + request engine)
// job: the public surface of the netlink layer, re-exported from its files.
/**
 * The netlink layer: message and attribute codecs, policies, the request/ack/dump engine and its socket transport.
 *
 * @module lvskit/netlink
 */
export * from './constants.js';
export * from './errors.js';
export * from './attr.js';
export * from './message.js';
export * from './policy.js';
export * from './engine.js';
export * from './socket.js';
