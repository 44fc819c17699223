// layer: benchmarks (soak, accelerated)
// job: the soak's reloads and failovers at many times their rate on the host kernel, VRRP only: pairs of `lvskit run` (one pair per variant, side by side, same loop) sampled for RSS by kind (smaps: malloc's [heap] and arenas, V8's spaces, stacks, files).
//
//   node dist/bench/rss-loop.js [--minutes 10] [--reload-ms 200] [--failover-ms 2000] [--sample-ms 10000]
//        [--variant NAME=CLI[,ENV=VALUE...][,--node-flag...][,run:--run-option...]]...   (default: one variant, this tree's CLI)
//
// Each variant gets two namespaces joined by a veth, lb1 (priority 150, a track_file with weight
// -100) and lb2 (100), both `lvskit run` on one VRRP instance with a VIP. Every --reload-ms both
// daemons of every variant get SIGHUP; every --failover-ms lb1's track file flips between 1 and 0
// (the VIP moves to lb2 and back). Every --sample-ms each daemon's /proc/PID/smaps is read and its
// resident memory split by kind, with what the daemon says of its V8 heaps and malloc (`memory` on its
// control socket; a variant run with --expose-gc is asked for a full GC first: live sizes); one JSON
// line per sample on stdout, a table per variant at the end.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cleanup, monoMs, sh, sleep, startProc, type Proc } from '../test/helpers/site-procs.js';
import { addNetns, numberOption } from './daemon-lab.js';
import { memoryFigures, readDaemonMemory } from './memory-report.js';
import { cpuMs } from './proc-stats.js';
import { smapsByKind, type SmapsKinds } from './smaps-kinds.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MINUTES = numberOption('minutes', 10);
const RELOAD_MS = numberOption('reload-ms', 200);
const FAILOVER_MS = numberOption('failover-ms', 2000);
const SAMPLE_MS = numberOption('sample-ms', 10_000);

interface Variant { name: string; cli: string; env: string[]; nodeArgs: string[]; runArgs: string[] }
interface Daemon { variant: string; lb: string; proc: Proc; pid: number; control: string; gc: boolean }

function variants(): Variant[] {
  const args = process.argv.slice(2);
  const out: Variant[] = [];
  args.forEach((a, i) => {
    if (a !== '--variant') return;
    const [head, ...rest] = args[i + 1]!.split(',');
    const [name, cli] = head!.split('=') as [string, string];
    out.push({ name, cli: path.resolve(cli), env: rest.filter((r) => !r.startsWith('--') && !r.startsWith('run:')), nodeArgs: rest.filter((r) => r.startsWith('--')), runArgs: rest.filter((r) => r.startsWith('run:')).map((r) => r.slice(4)) });
  });
  return out.length ? out : [{ name: 'this', cli: path.join(repo, 'dist', 'src', 'cli', 'main.js'), env: [], nodeArgs: [], runArgs: [] }];
}

function conf(priority: number, trackFile?: string): string {
  const track = trackFile ? `track_file drop {\n  file ${trackFile}\n}\n\n` : '';
  return `${track}vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass lvskit
  }
${trackFile ? '  track_file {\n    drop weight -100\n  }\n' : ''}  virtual_ipaddress {
    10.77.0.100/32 dev eth0 label eth0:1
  }
}
`;
}

/** One variant's pair: namespaces, configs, both daemons started. */
async function startPair(cleanup: Cleanup, v: Variant, index: number, dir: string): Promise<{ daemons: Daemon[]; trackFile: string }> {
  const ns = [`lvkt-rss${process.pid}-${index}a`, `lvkt-rss${process.pid}-${index}b`];
  for (const n of ns) await addNetns(cleanup, n);
  await sh(['ip', '-n', ns[0]!, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns[1]!]);
  const vdir = path.join(dir, v.name);
  fs.mkdirSync(vdir);
  const trackFile = path.join(vdir, 'drop');
  fs.writeFileSync(trackFile, '0\n');
  const daemons: Daemon[] = [];
  for (const [i, n] of ns.entries()) {
    await sh(['ip', '-n', n, 'addr', 'add', `10.77.0.${i + 1}/24`, 'dev', 'eth0']);
    await sh(['ip', '-n', n, 'link', 'set', 'eth0', 'up']);
    const lb = `lb${i + 1}`;
    const file = path.join(vdir, `${lb}.conf`);
    fs.writeFileSync(file, i === 0 ? conf(150, trackFile) : conf(100));
    const argv = ['ip', 'netns', 'exec', n, ...(v.env.length ? ['env', ...v.env] : []), process.execPath, ...v.nodeArgs, v.cli, 'run', '-f', file,
      '--control', path.join(vdir, `${lb}.sock`), '--json', ...v.runArgs];
    const proc = startProc(cleanup, `lvskit@${v.name}-${lb}`, argv, { group: true });
    await Promise.race([
      proc.waitFor((l) => l.text.includes('"type":"started"'), 60_000),
      proc.exited.then(() => { throw new Error(`${v.name} ${lb} exited:\n${proc.lines.slice(-10).map((l) => l.text).join('\n')}`); }),
    ]);
    daemons.push({ variant: v.name, lb, proc, pid: proc.child.pid!, control: path.join(vdir, `${lb}.sock`), gc: v.nodeArgs.includes('--expose-gc') });
  }
  return { daemons, trackFile };
}

/** What the daemon says of its heaps and malloc (KiB), where it answers `memory` (a variant with --expose-gc: after a full GC, live sizes). */
async function daemonMemory(d: Daemon): Promise<Record<string, number>> {
  const r = await readDaemonMemory(d.control, d.gc);
  return r ? memoryFigures(r) : {};
}

const mib = (kb: number): string => (kb / 1024).toFixed(1);

async function main(): Promise<void> {
  const cleanup = new Cleanup();
  const dir = fs.mkdtempSync('/var/tmp/lvskit-rss-loop-');
  cleanup.defer(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
  // SIGINT/SIGTERM end the loop early; the table is printed and everything is cleaned up as at the end.
  let stopped = false;
  const stop = (): void => { stopped = true; };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const vs = variants();
    const pairs = [];
    for (const [i, v] of vs.entries()) pairs.push(await startPair(cleanup, v, i, dir));
    const daemons = pairs.flatMap((p) => p.daemons);
    const series = new Map<Daemon, Array<{ atS: number; kinds: SmapsKinds }>>(daemons.map((d) => [d, []]));
    const t0 = monoMs();
    let [nextReload, nextFailover, nextSample, drop, reloads, failovers] = [t0, t0 + FAILOVER_MS, t0, 0, 0, 0];
    while (!stopped && monoMs() - t0 < MINUTES * 60_000) {
      const now = monoMs();
      if (now >= nextSample) {
        for (const d of daemons) {
          const kinds = smapsByKind(d.pid);
          series.get(d)!.push({ atS: Math.round((now - t0) / 1000), kinds });
          console.log(JSON.stringify({ atS: Math.round((now - t0) / 1000), variant: d.variant, lb: d.lb, ...kinds, cpuMs: cpuMs([d.pid]), ...await daemonMemory(d) }));
        }
        nextSample += SAMPLE_MS;
      }
      if (now >= nextReload) {
        for (const d of daemons) process.kill(d.pid, 'SIGHUP');
        reloads++;
        nextReload += RELOAD_MS;
      }
      if (now >= nextFailover) {
        drop ^= 1;
        for (const p of pairs) fs.writeFileSync(p.trackFile, `${drop}\n`);
        failovers++;
        nextFailover += FAILOVER_MS;
      }
      await sleep(Math.max(1, Math.min(nextReload, nextFailover, nextSample) - monoMs()));
    }
    console.log(`# ${MINUTES} min: ${reloads} SIGHUPs to each daemon (every ${RELOAD_MS} ms), ${failovers} track-file flips (every ${FAILOVER_MS} ms)`);
    console.log('| variant | daemon | reloaded | transitions | CPU s | RSS first → last (MiB) | anon | [heap] | arenas | V8-sized | stacks | file |');
    console.log('| --- | --- | ---: | ---: | ---: | --- | --- | --- | --- | --- | --- | --- |');
    for (const d of daemons) {
      const s = series.get(d)!;
      const [a, b] = [s[1] ?? s[0]!, s.at(-1)!];
      const diff = (k: keyof SmapsKinds): string => `${mib(a.kinds[k])} → ${mib(b.kinds[k])}`;
      const reloaded = d.proc.lines.filter((l) => l.text.includes('"type":"reloaded"')).length;
      const transitions = d.proc.lines.filter((l) => l.text.includes('"type":"transition"')).length;
      // A variant with --trace-gc: its major collections, each with V8's reason.
      for (const l of d.proc.lines.filter((x) => x.text.includes('Mark-Compact'))) console.error(`# ${d.variant} ${d.lb}: ${l.text.slice(0, 220)}`);
      console.log(`| ${d.variant} | ${d.lb} | ${reloaded} | ${transitions} | ${(cpuMs([d.pid]) / 1000).toFixed(1)} | ${diff('rss')} | ${diff('anon')} | ${diff('brk')} | ${diff('arenas')} | ${diff('v8')} | ${diff('stacks')} | ${diff('file')} |`);
    }
  } finally {
    await cleanup.run();
  }
}

await main();
