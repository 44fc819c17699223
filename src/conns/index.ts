// layer: kernel client (IPVS connections)
// job: the public surface of the connection-table scanners and the sync-stream tracker.
/**
 * The IPVS connection table: the procfs scanner and row reader, and the sync-stream tracker that counts connections per client live.
 *
 * @module lvskit/conns
 */
export * from './constants.js';
export * from './errors.js';
export * from './procfs.js';
export * from './rows.js';
export * from './format.js';
export * from './sync-message.js';
export * from './sync-codec.js';
export * from './sync-filter.js';
export * from './sync-source.js';
export * from './sync-receiver.js';
export * from './sync-capture.js';
export * from './expiry-wheel.js';
export * from './tracker.js';
export * from './live.js';
