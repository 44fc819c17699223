// layer: test helpers (site scenario)
// job: THE PLACE FOR THE lvskit DRIVER of the site scenario. `lvskit run` does not exist on this branch yet, so this only says so; nothing here pretends to run it.
//
// What the driver will do (implement SiteBalancer from site-driver.ts, then return it from `create`):
// - writeConfig: the same files as keepalived's (siteConfigFiles from site-config.ts) with
//   lvskitAutobanConfig(site) appended to keepalived.conf; supportsAutoban = true.
// - start: `ip netns exec <lb.netns> node dist/src/cli/main.js run -f <configDir>/keepalived.conf
//   --control <runDir>/control.sock --json` in its own process group (startProc with group: true),
//   resolved at its `started` JSON line.
// - kill: SIGKILL to the group; stop: SIGTERM and wait; reload: the control socket's reload (or
//   SIGHUP), its answer as ReloadOutcome; restart(lb, 'upgrade'): the daemon's hand-over (start =
//   adopt: kernel state kept), 'plain': stop then start.
// The scenario, the lab and the oracles need no change: bench/site.ts and a test like
// test/ipvs/site-keepalived.test.ts then run both implementations and compare failures per phase.
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Implementation } from './site-driver.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

/** Why `lvskit run` cannot drive the site here, or undefined once it can. */
export async function lvskitRunUnavailable(): Promise<string | undefined> {
  // `lvskit help run` fails for a command that does not exist (`lvskit run --help` prints the main help and exits 0).
  const help = spawnSync(process.execPath, [cli, 'help', 'run'], { encoding: 'utf8' });
  if (help.status !== 0) return '`lvskit run` does not exist yet (the daemon is not on this branch)';
  return 'the lvskit driver of the site scenario is not written yet (test/helpers/site-lvskit.ts)';
}

export const lvskitImplementation: Implementation = {
  id: 'lvskit',
  unavailable: lvskitRunUnavailable,
  create: async () => {
    throw new Error(await lvskitRunUnavailable() ?? 'the lvskit driver is not written yet');
  },
};
