// layer: generic netlink
// job: the public surface of the generic netlink layer.
/**
 * Generic netlink: the controller codec and the family socket.
 *
 * @module lvskit/genl
 */
export * from './codec.js';
export * from './client.js';
