// layer: kernel client (IPVS)
// job: the public surface of the IPVS client (`lvskit/ipvs`): model, validation, client, planner, apply, text views.
//      The kernel's constants and the attribute codecs (codec*.ts) stay internal.
/**
 * The IPVS client over generic netlink: the table's model, validation, the client, the planner (current → desired), apply and rollback, ipvsadm-style text.
 *
 * @module lvskit/ipvs
 */
export * from './model.js';
export type { DecodeOptions } from './codec.js';
export * from './errors.js';
export * from './validate.js';
export * from './client.js';
export * from './plan.js';
export * from './apply.js';
export * from './format.js';
