// layer: kernel client (rtnetlink)
// job: the public surface of the rtnetlink client.
export * from './constants.js';
export * from './link.js';
export * from './address.js';
export * from './client.js';
export * from './watch.js';
export * from './route.js';
export * from './rule.js';
