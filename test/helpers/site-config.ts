// layer: test helpers (site scenario)
// job: the operator's configuration files as text, now shipped with `lvskit demo` (src/demo/config.ts).
export * from '../../src/demo/config.js';
