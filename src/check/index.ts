// layer: behaviour (check)
// job: the public surface of the health checks: checkers, scheduler, sharing, real/virtual server state, sink, validation, runner.
/**
 * Health checks: TCP, HTTP/SSL and MISC checkers, the scheduler, real and virtual server state, the IPVS sink, the HealthChecks runner.
 *
 * @module lvskit/check
 */
export * from './types.js';
export * from './clock.js';
export * from './signal.js';
export * from './retry.js';
export * from './scheduler.js';
export * from './share.js';
export * from './tcp.js';
export * from './http.js';
export * from './misc.js';
export * from './smtp.js';
export * from './udp.js';
export * from './dns.js';
export * from './ping.js';
export * from './process.js';
export * from './probe.js';
export * from './real-server.js';
export * from './virtual-server.js';
export * from './sink.js';
export * from './spec.js';
export * from './validate.js';
export * from './events.js';
export * from './runner.js';
export * from './ipvs-sink.js';
