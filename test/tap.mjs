// layer: test infrastructure
// job: count the results of an ava --tap stream, for the plain `tests: N passed, M failed` summary.

/** Counts from TAP text. `planned` is the number ava announced with `1..N` (undefined if none). */
export function countTap(text) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let todo = 0;
  let planned;
  for (const line of text.split('\n')) {
    const plan = /^1\.\.(\d+)/.exec(line);
    if (plan) planned = Number(plan[1]);
    const m = /^(not ok|ok)\b.*?(#\s*(SKIP|TODO)\b.*)?$/i.exec(line);
    if (!m) continue;
    const directive = m[3]?.toUpperCase();
    if (directive === 'SKIP') skipped++;
    else if (directive === 'TODO') todo++;
    else if (m[1] === 'ok') passed++;
    else failed++;
  }
  return { passed, failed, skipped, todo, planned };
}
