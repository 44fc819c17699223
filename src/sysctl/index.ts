// layer: kernel client (procfs sysctl)
// job: the public surface of the sysctl files.
export * from './sysctl.js';
