// layer: demo (user-mode Linux)
// job: run `lvskit demo` inside Debian's user-mode Linux kernel when this kernel has no IPVS, as the IPVS test tier does (test/uml/boot.mjs): the host's root over hostfs, ip_vs loaded, the guest's output streamed back.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** True when this kernel has IPVS (loaded, or loadable with modprobe). */
export function hostHasIpvs(): boolean {
  if (fs.existsSync('/proc/net/ip_vs')) return true;
  try {
    execFileSync('modprobe', ['-q', 'ip_vs'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  return fs.existsSync('/proc/net/ip_vs');
}

/** The UML kernel binary (package `user-mode-linux`), or undefined. */
export function findUmlKernel(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/bin'])) {
    const candidate = path.join(dir, 'linux.uml');
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Why the demo cannot boot user-mode Linux here, or undefined when it can. */
export function umlUnavailable(): string | undefined {
  if (!findUmlKernel()) return 'this kernel has no IPVS and user-mode Linux is not installed (apt-get install user-mode-linux), or load ip_vs';
  try {
    if (fs.readdirSync('/usr/lib/uml/modules').length === 0) throw new Error('empty');
  } catch {
    return 'user-mode Linux has no modules under /usr/lib/uml/modules';
  }
  return undefined;
}

/** The guest's PID 1: mounts, every ip_vs module loaded up front (see test/uml/guest-init.sh for why), the demo, its status, power off. */
function initScript(out: string, node: string, cli: string, args: readonly string[]): string {
  const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  return `#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
OUT=${quote(out)}
status=1
trap 'echo "$status" > "$OUT/status"; sync; poweroff -f' EXIT
{
  mount -t proc proc /proc && mount -t sysfs sysfs /sys && mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /tmp &&
  ver=$(uname -r) && mkdir -p /usr/lib/modules && mount -t tmpfs tmpfs /usr/lib/modules &&
  mkdir -p "/usr/lib/modules/$ver" && mount --bind "/usr/lib/uml/modules/$ver" "/usr/lib/modules/$ver" &&
  ip link set lo up && modprobe ip_vs &&
  for m in "/usr/lib/modules/$ver/kernel/net/netfilter/ipvs/"ip_vs_*.ko*; do
    m=$(basename "$m"); m=\${m%%.ko*}; [ "$m" = ip_vs_ftp ] || modprobe "$m" || exit
  done
} > "$OUT/output" 2>&1 || { echo "user-mode Linux: guest setup failed (see above)" >> "$OUT/output"; exit; }
${quote(node)} ${quote(cli)} demo --inside-uml --work-dir "$OUT" ${args.map(quote).join(' ')} >> "$OUT/output" 2>&1
status=$?
`;
}

/** The LD_PRELOAD shim UML 6.1 needs on hosts with a large XSAVE area (native/uml/xstate-shim.c), built once into build/uml/. */
function xstateShim(repo: string): string | undefined {
  const source = path.join(repo, 'native', 'uml', 'xstate-shim.c');
  const shared = path.join(repo, 'build', 'uml', 'xstate-shim.so');
  try {
    if (fs.statSync(shared).mtimeMs >= fs.statSync(source).mtimeMs) return shared;
  } catch { /* not built yet */ }
  if (!fs.existsSync(source)) return undefined;
  fs.mkdirSync(path.dirname(shared), { recursive: true });
  const partial = `${shared}.${process.pid}`;
  try {
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', '-o', partial, source, '-ldl'], { stdio: 'pipe' });
  } catch {
    return undefined; // no compiler: UML starts without it (and fails on such a host, saying so on its console)
  }
  fs.renameSync(partial, shared);
  return shared;
}

export interface UmlRun {
  /** The guest's exit status; undefined when it never reported one (crash, interrupted). */
  status: number | undefined;
  /** The kernel's console, for when the guest failed. */
  console: string;
}

export interface UmlOptions {
  /** The package's root (holds dist/, build/, native/). */
  repo: string;
  /** `lvskit demo` arguments for the guest (after `demo --inside-uml`). */
  args: readonly string[];
  onOutput(text: string): void;
  /** Aborting kills the guest (Ctrl-C): its namespaces, processes and IPVS state go with it. */
  signal?: AbortSignal;
  memMb?: number;
}

/** Boots UML running `node dist/src/cli/main.js demo --inside-uml --work-dir OUT ARGS` (OUT: removed afterwards, with whatever the guest left there), streaming the guest's output; resolves when the guest has halted. */
export async function runDemoInUml(options: UmlOptions): Promise<UmlRun> {
  const kernel = findUmlKernel();
  if (!kernel) throw new Error('linux.uml not found: install the Debian package user-mode-linux');
  // Not under /tmp: the guest mounts a tmpfs there.
  const out = fs.mkdtempSync('/var/tmp/lvskit-demo-uml-');
  try {
    const init = path.join(out, 'init');
    fs.writeFileSync(init, initScript(out, process.execPath, path.join(options.repo, 'dist', 'src', 'cli', 'main.js'), options.args), { mode: 0o755 });
    const cmdline = [`mem=${options.memMb ?? 2048}M`, 'rootfstype=hostfs', 'rootflags=/', 'rw', `init=${init}`, 'con=null', 'con0=null,fd:2', 'quiet'];
    const consoleFile = path.join(out, 'console');
    const consoleFd = fs.openSync(consoleFile, 'w');
    const shim = xstateShim(options.repo);
    const child = spawn(kernel, cmdline, { stdio: ['ignore', consoleFd, consoleFd], detached: true, env: shim ? { ...process.env, LD_PRELOAD: shim } : process.env });
    fs.closeSync(consoleFd);
    const killGuest = (): void => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
    options.signal?.addEventListener('abort', killGuest, { once: true });
    let shown = 0;
    const pump = (): void => {
      let text = '';
      try { text = fs.readFileSync(path.join(out, 'output'), 'utf8'); } catch { return; }
      if (text.length > shown) {
        options.onOutput(text.slice(shown));
        shown = text.length;
      }
    };
    const timer = setInterval(pump, 200);
    await new Promise((resolve) => child.on('exit', resolve));
    clearInterval(timer);
    options.signal?.removeEventListener('abort', killGuest);
    killGuest(); // UML's helper processes share its process group
    pump();
    const statusText = readOr(path.join(out, 'status')).trim();
    return { status: statusText === '' ? undefined : Number(statusText), console: readOr(consoleFile) };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

function readOr(file: string): string {
  try { return fs.readFileSync(file, 'utf8'); } catch { return ''; }
}
