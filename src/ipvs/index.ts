// layer: kernel client (IPVS)
// job: the public surface of the IPVS client: model, codecs, validation, client, planner, apply, text views.
export * from './constants.js';
export * from './model.js';
export * from './codec.js';
export * from './codec-dest.js';
export * from './codec-config.js';
export * from './errors.js';
export * from './validate.js';
export * from './client.js';
export * from './plan.js';
export * from './apply.js';
export * from './format.js';
