// layer: generic netlink
// job: the public surface of the generic netlink layer.
export * from './codec.js';
export * from './client.js';
