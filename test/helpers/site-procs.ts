// layer: test helpers (site scenario)
// job: the site lab's processes and cleanup stack, now shipped with `lvskit demo` (src/demo/procs.ts).
export * from '../../src/demo/procs.js';
