// layer: test helpers (site scenario)
// job: the operator's site as data, now shipped with `lvskit demo` (src/demo/site.ts).
export * from '../../src/demo/site.js';
