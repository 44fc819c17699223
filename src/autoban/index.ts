// layer: behaviour (autoban)
// job: the public surface of the autoban: policy, sources, sink, runner.
/**
 * The autoban: the pure policy (threshold, whitelist, rate limit, expiry), its count sources, the ipset sink and the runner.
 *
 * @module lvskit/autoban
 */
export * from './cidr.js';
export * from './policy.js';
export * from './blacklist.js';
export * from './sources.js';
export * from './sink.js';
export * from './runner.js';
