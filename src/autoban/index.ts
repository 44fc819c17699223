// layer: behaviour (autoban)
// job: the public surface of the autoban: policy, sources, sink, runner.
export * from './cidr.js';
export * from './policy.js';
export * from './blacklist.js';
export * from './sources.js';
export * from './sink.js';
export * from './runner.js';
