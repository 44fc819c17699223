// layer: benchmarks
// job: what the benchmarks share: medians, wall time, timing of shell commands, the machine line, the docs/benchmarks.md section writer, an SVG line plot.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Wall time of `fn` in ms. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Run `script` with `sh -c` (inside `netns` when given) and return the ms it reports for its
 * timed part: the script prints nanoseconds from `date +%s%N` around the command, so the time
 * excludes starting `ip netns exec` and the shell.
 */
export function shellTimedMs(command: string, netns?: string): number {
  const script = `s=$(date +%s%N); ${command}; e=$(date +%s%N); echo $((e - s))`;
  const argv = netns === undefined ? ['sh', '-c', script] : ['ip', 'netns', 'exec', netns, 'sh', '-c', script];
  const out = execFileSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 });
  return Number(out.trim().split('\n').at(-1)) / 1e6;
}

/** Replace the text between `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->` in docs/`doc` (docs/benchmarks.md by default). */
export function updateDocs(name: string, text: string, docFile = 'benchmarks.md'): void {
  const file = path.join(repo, 'docs', docFile);
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const doc = fs.readFileSync(file, 'utf8');
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} lacks the ${begin} … ${end} markers`);
  fs.writeFileSync(file, `${doc.slice(0, from + begin.length)}\n${text}\n${doc.slice(to)}`);
}

/** `on linux x64, 2 CPUs (shared, load 1.2 0.9 0.8), Node v20…, kernel …`. */
export function machine(): string {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${process.platform} ${process.arch}, ${os.cpus().length} CPUs (shared with other work; load average ${load} at the end), Node ${process.version}, kernel ${os.release()}`;
}

export interface Series { name: string; color: string; points: { x: number; y: number }[] }

/** An SVG line plot: linear x, logarithmic y (decades), a legend; values in ms. */
export function svgPlot(title: string, xLabel: string, series: readonly Series[]): string {
  const W = 720;
  const H = 420;
  const m = { left: 70, right: 220, top: 40, bottom: 50 };
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => y > 0);
  const x0 = 0;
  const x1 = Math.max(...xs);
  const lo = Math.floor(Math.log10(Math.min(...ys)));
  const hi = Math.ceil(Math.log10(Math.max(...ys)));
  const px = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * (W - m.left - m.right);
  const py = (y: number): number => H - m.bottom - ((Math.log10(y) - lo) / (hi - lo)) * (H - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.left}" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let d = lo; d <= hi; d++) {
    const y = py(10 ** d);
    const label = 10 ** d >= 1000 ? `${10 ** (d - 3)} s` : `${10 ** d} ms`;
    parts.push(`<line x1="${m.left}" y1="${y}" x2="${W - m.right}" y2="${y}" stroke="#ddd"/>`, `<text x="${m.left - 8}" y="${y + 4}" text-anchor="end">${label}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<line x1="${px(x)}" y1="${H - m.bottom}" x2="${px(x)}" y2="${m.top}" stroke="#eee"/>`,
      `<text x="${px(x)}" y="${H - m.bottom + 18}" text-anchor="middle">${x.toLocaleString('en-US')}</text>`);
  }
  parts.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  parts.push(`<line x1="${m.left}" y1="${H - m.bottom}" x2="${W - m.right}" y2="${H - m.bottom}" stroke="black"/>`, `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${H - m.bottom}" stroke="black"/>`);
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.y > 0).map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    for (const p of pts) parts.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${s.color}"/>`);
    const ly = m.top + 10 + i * 20;
    parts.push(`<line x1="${W - m.right + 15}" y1="${ly}" x2="${W - m.right + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${W - m.right + 46}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
