// layer: behaviour (vrrp)
// job: the public surface of lvskit's VRRP: codec, receive checks, the pure machine, sync groups, frames, validation, the runner.
/**
 * VRRP (RFC 3768/5798) as keepalived runs it: the advert codec, receive checks, the pure state machine, sync groups, tracking, gratuitous ARP, the runner.
 *
 * @module lvskit/vrrp
 */
export * from './constants.js';
export * from './packet.js';
export * from './receive.js';
export * from './state.js';
export * from './sync-group.js';
export * from './tracking.js';
export * from './arp.js';
export * from './address.js';
export * from './instance.js';
export * from './validate.js';
export * from './events.js';
export * from './clock.js';
export { runScript, scriptsFor } from './notify.js';
export { VrrpChannel, channelKey, type ChannelOptions, type ChannelInput } from './channel.js';
export { Announcer } from './announce.js';
export { InstanceDriver, machineConfig, receivePolicy, type DriverDeps } from './driver.js';
export * from './reconfigure.js';
export { VrrpRunner, type VrrpRunnerOptions, type VrrpStartOptions, type VrrpStopOptions } from './runner.js';
