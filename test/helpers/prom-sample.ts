// layer: test helpers
// job: read samples out of a Prometheus text exposition (what a scrape of /metrics returns).

interface Sample { name: string; labels: Record<string, string>; value: number }

function samples(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) return [];
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    return [{ name: m[1]!, labels, value: Number(m[3]) }];
  });
}

const has = (s: Sample, labels: Record<string, string>): boolean => Object.entries(labels).every(([k, v]) => s.labels[k] === v);

/** The value of the sample `name{labels}` in a Prometheus text exposition (labels in any order, no others); undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(text).find((s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && has(s, labels))?.value;
}

/** The sum of every sample of `name` whose labels include `labels` (others may be present too); 0 when none. */
export function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text).filter((s) => s.name === name && has(s, labels)).reduce((sum, s) => sum + s.value, 0);
}
