// layer: kernel client (ipset)
// job: the public surface of the ipset client (`lvskit/ipset`), re-exported from its files; the message codecs stay internal.
/**
 * The ipset client over nfnetlink: sets and entries, bulk loads, atomic replace, the static blacklist file and its firewall check.
 *
 * @module lvskit/ipset
 */
export * from './constants.js';
export * from './errors.js';
export * from './entry.js';
export { checkSetName, type IpsetFamily, type IpsetType, type CreateSpec, type IpsetSetHeader, type IpsetSetInfo, type IpsetListing, type IpsetTypeInfo, type ProtocolRange } from './codec.js';
export * from './bulk.js';
export * from './replace.js';
export * from './client.js';
export * from './format.js';
export * from './blacklist-file.js';
export * from './blacklist-load.js';
export * from './firewall-check.js';
