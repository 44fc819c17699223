// layer: kernel client (ipset)
// job: the public surface of the ipset client, re-exported from its files.
export * from './constants.js';
export * from './errors.js';
export * from './entry.js';
export * from './codec.js';
export * from './bulk.js';
export * from './replace.js';
export * from './client.js';
export * from './format.js';
export * from './blacklist-file.js';
export * from './blacklist-load.js';
export * from './firewall-check.js';
