// layer: behaviour (realserver)
// job: the public surface of the real-server side of LVS-DR: the pure plan and the shell that reads and changes a host.
/**
 * The real-server side of LVS-DR: the pure plan (ARP sysctls, the VIP on lo) and the shell that reads and changes a host.
 *
 * @module lvskit/realserver
 */
export * from './plan.js';
export * from './host.js';
