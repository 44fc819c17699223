// layer: test infrastructure (IPVS tier)
// job: boot Debian's user-mode Linux kernel with the host's root over hostfs and run the IPVS tier in it.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The UML kernel binary, or undefined when the package `user-mode-linux` is not installed. */
export function findUmlKernel() {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin'])) {
    const candidate = path.join(dir, 'linux.uml');
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Versions of the modules shipped for the UML kernel (/usr/lib/uml/modules/<version>). */
export function umlModuleVersions() {
  try {
    return fs.readdirSync('/usr/lib/uml/modules');
  } catch {
    return [];
  }
}

/**
 * The shared object that lets UML 6.1 start on a host whose XSAVE area is larger than the 832
 * bytes it knows (AVX-512, AMX: it panics as it starts init, "ptrace set fp regs failed, errno =
 * 14"); see native/uml/xstate-shim.c. Compiled with `cc` into build/uml/ when missing or older than its
 * source; undefined (UML starts without it) when there is no compiler.
 */
export function xstateShim(repo) {
  const source = path.join(repo, 'native', 'uml', 'xstate-shim.c');
  const shared = path.join(repo, 'build', 'uml', 'xstate-shim.so');
  try {
    if (fs.statSync(shared).mtimeMs >= fs.statSync(source).mtimeMs) return shared;
  } catch { /* not built yet */ }
  fs.mkdirSync(path.dirname(shared), { recursive: true });
  const partial = `${shared}.${process.pid}`;
  try {
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', '-o', partial, source, '-ldl'], { stdio: 'pipe' });
  } catch (error) {
    console.error(`# cannot build ${source} (${String(error.stderr ?? error).trim()}); booting UML without it`);
    return undefined;
  }
  fs.renameSync(partial, shared); // atomic: a concurrent boot sees the old file or the new one
  return shared;
}

/**
 * Boot UML, run `test/run-tiers.mjs --inside-uml ARGS` as the guest's workload and
 * stream its output to `onOutput`. Resolves with the guest's exit status (undefined if the guest
 * never reported one: crash, timeout) and its full output.
 * With `script` (a path relative to `repo`, e.g. `dist/bench/ipvs-apply.js`) the guest runs
 * `node SCRIPT` instead of the tier; the script finds `args` as JSON in $LVSKIT_TIER_ARGS.
 */
export async function runInUml({ repo, args = [], script, memMb = 2048, timeoutMs = 20 * 60_000, onOutput = () => {} }) {
  const kernel = findUmlKernel();
  if (!kernel) throw new Error('linux.uml not found: install the Debian package user-mode-linux');
  // Not under /tmp: the guest mounts a tmpfs there, hiding the host's /tmp.
  const out = fs.mkdtempSync('/var/tmp/lvskit-uml-');
  const quote = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;
  fs.writeFileSync(path.join(out, 'env'),
    `REPO=${quote(repo)}\nNODE=${quote(process.execPath)}\nLVSKIT_TIER_ARGS=${quote(JSON.stringify(args))}\n` +
    `LVSKIT_GUEST_SCRIPT=${quote(script ?? '')}\n`);
  const init = path.join(repo, 'test', 'uml', 'guest-init.sh');
  const cmdline = [`mem=${memMb}M`, 'rootfstype=hostfs', 'rootflags=/', 'rw', `init=${init}`,
    'con=null', 'con0=null,fd:2', `LVSKIT_UML_OUT=${out}`, 'quiet'];
  const consoleLog = fs.openSync(path.join(out, 'console'), 'w');
  const shim = xstateShim(repo);
  const env = shim ? { ...process.env, LD_PRELOAD: shim } : process.env;
  const child = spawn(kernel, cmdline, { stdio: ['ignore', consoleLog, consoleLog], detached: true, env });
  fs.closeSync(consoleLog);

  const outputFile = path.join(out, 'output');
  let shown = 0;
  const pump = () => {
    let text = '';
    try {
      text = fs.readFileSync(outputFile, 'utf8');
    } catch {
      return;
    }
    if (text.length > shown) {
      onOutput(text.slice(shown));
      shown = text.length;
    }
  };
  const timer = setInterval(pump, 500);
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }, timeoutMs);
  await new Promise((resolve) => child.on('exit', resolve));
  clearTimeout(killer);
  clearInterval(timer);
  // UML's helper processes share its process group; make sure none outlive the guest.
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  pump();

  const statusText = readOr(path.join(out, 'status'), '').trim();
  const status = statusText === '' ? undefined : Number(statusText);
  const output = readOr(outputFile, '');
  const console = readOr(path.join(out, 'console'), '');
  fs.rmSync(out, { recursive: true, force: true });
  return { status, output, console, timedOut };
}

function readOr(file, fallback) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** True when this kernel already has IPVS (loaded, or loadable with modprobe). */
export function hostHasIpvs() {
  if (fs.existsSync('/proc/net/ip_vs')) return true;
  try {
    execFileSync('modprobe', ['-q', 'ip_vs'], { stdio: 'ignore' });
  } catch {
    return false;
  }
  return fs.existsSync('/proc/net/ip_vs');
}

// `node test/uml/boot.mjs SCRIPT [ARG ...]`: boot UML and run one node script (path relative to
// the checkout) as the guest's workload instead of the tier, e.g. a benchmark that needs IPVS.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [script, ...args] = process.argv.slice(2);
  if (!script) {
    console.error('usage: node test/uml/boot.mjs SCRIPT [ARG ...]');
    process.exit(2);
  }
  const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
  const guest = await runInUml({ repo, script, args, onOutput: (s) => process.stdout.write(s) });
  if (guest.status === undefined) console.error(`user-mode Linux ${guest.timedOut ? 'timed out' : 'crashed'}; its console:\n${guest.console.split('\n').slice(-40).join('\n')}`);
  process.exit(guest.status ?? 1);
}
