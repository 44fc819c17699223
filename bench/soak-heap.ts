// layer: benchmarks (soak)
// job: what a daemon's V8 heap retains, from two heap snapshots (`node --heapsnapshot-signal`): the live size in each, and the kinds of object that grew most between them.
import fs from 'node:fs';

interface HeapSnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size (bytes) and count per `type:name` (e.g. `object:Map`, `code:`), and the total. */
export interface HeapSummary {
  totalBytes: number;
  byKind: Map<string, { count: number; bytes: number }>;
}

/** Reads a .heapsnapshot file (every object a snapshot holds is live: it follows a full collection). */
export function summarizeHeapSnapshot(file: string): HeapSummary {
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as HeapSnapshotFile;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const [width, type, name, self] = [fields.length, fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const byKind = new Map<string, { count: number; bytes: number }>();
  let totalBytes = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const key = `${types[s.nodes[i + type]!]}:${String(s.strings[s.nodes[i + name]!]).slice(0, 40)}`;
    const entry = byKind.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += s.nodes[i + self]!;
    totalBytes += s.nodes[i + self]!;
    byKind.set(key, entry);
  }
  return { totalBytes, byKind };
}

/** The `top` kinds whose retained bytes grew most from `before` to `after`, one line each. */
export function heapGrowth(before: HeapSummary, after: HeapSummary, top = 8): string[] {
  const rows = [...after.byKind].map(([kind, a]) => {
    const b = before.byKind.get(kind) ?? { count: 0, bytes: 0 };
    return { kind, count: a.count - b.count, bytes: a.bytes - b.bytes };
  });
  return rows.sort((x, y) => y.bytes - x.bytes).slice(0, top).map((r) => `${r.kind} ${r.count >= 0 ? '+' : ''}${r.count} objects, ${r.bytes >= 0 ? '+' : ''}${(r.bytes / 1024).toFixed(1)} KiB`);
}
