// layer: benchmarks
// job: run a benchmark inside the IPVS test kernel (user-mode Linux) when this kernel has no IPVS: the script boots the guest with itself as the workload.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { repo } from './report.js';

/** The script's arguments: on the host its argv, in the guest what the host passed ($LVSKIT_TIER_ARGS). */
export function benchArgs(): string[] {
  return process.env['LVSKIT_TIER_ARGS'] ? JSON.parse(process.env['LVSKIT_TIER_ARGS']) as string[] : process.argv.slice(2);
}

/** `user-mode Linux 6.1.176` inside the guest, `Linux …` on a kernel with IPVS. */
export function kernelName(): string {
  const release = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  return process.env['LVSKIT_UML_OUT'] ? `user-mode Linux ${release}` : `Linux ${release}`;
}

/**
 * Without IPVS here, boot user-mode Linux with the script at `scriptUrl` as its workload, stream
 * its output, set the exit code, and return true (the caller stops); `extraArgs` follow the script's
 * own. With IPVS, return false.
 */
export async function ranInUml(scriptUrl: string, timeoutMs: number, extraArgs: readonly string[] = []): Promise<boolean> {
  if (fs.existsSync('/proc/net/ip_vs')) return false;
  const boot = await import(pathToFileURL(path.join(repo, 'test', 'uml', 'boot.mjs')).href) as {
    runInUml(o: { repo: string; script: string; args: string[]; timeoutMs?: number; onOutput: (s: string) => void }): Promise<{ status?: number; console: string; timedOut: boolean }>;
  };
  const guest = await boot.runInUml({ repo, script: path.relative(repo, fileURLToPath(scriptUrl)), args: [...benchArgs(), ...extraArgs], timeoutMs, onOutput: (s) => process.stdout.write(s) });
  if (guest.status !== 0) console.error(`${guest.timedOut ? 'timed out; ' : ''}${guest.console.split('\n').slice(-30).join('\n')}`);
  process.exitCode = guest.status ?? 1;
  return true;
}
