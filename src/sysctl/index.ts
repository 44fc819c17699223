// layer: kernel client (procfs sysctl)
// job: the public surface of the sysctl files.
/**
 * Reading and writing /proc/sys files, inside a network namespace when asked.
 *
 * @module lvskit/sysctl
 */
export * from './sysctl.js';
