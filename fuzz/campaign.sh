#!/usr/bin/env bash
# layer: fuzz (the long campaign; run by hand, never in CI)
# job: every TypeScript fuzz target with ≥ 1,000,000 inputs and every native harness with ≥ 10,000,000 executions,
#      one process at a time at nice 19; new native inputs merged into fuzz/corpus/<target> (kept minimal); one JSON
#      line per target in the report, and a summary table at the end.
#
#   fuzz/campaign.sh [--ts-runs N] [--native-runs N] [--native-max-s S] [--only ts|native] [--match TITLE]... [--report FILE] [TARGET-FILTER]
#
# TARGET-FILTER (a substring) picks TypeScript test files (fuzz-netlink …) and native harnesses (conn_line …);
# --match (ava's title pattern, e.g. '*garbage*') picks tests within the files.
# A finding stops nothing: it is written down (TypeScript: the failing seed and input; native: the artifact under
# fuzz/artifacts/) and the script exits 1 at the end. Once fixed, a native input goes to fuzz/regressions/<target>/
# (replayed by every run, never merged away); a TypeScript one becomes an `examples` entry of its target.
set -uo pipefail
cd "$(dirname "$0")/.."

ts_runs=1000000
native_runs=10000000
native_max_s=0
only=""
report="fuzz/campaign-report.jsonl"
filter=""
match=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ts-runs) ts_runs="$2"; shift 2 ;;
    --native-runs) native_runs="$2"; shift 2 ;;
    --native-max-s) native_max_s="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --report) report="$2"; shift 2 ;;
    --match) match+=(--match "$2"); shift 2 ;;
    -*) echo "campaign: unknown option $1" >&2; exit 2 ;;
    *) filter="$1"; shift ;;
  esac
done

findings=0
mkdir -p fuzz/artifacts
: >>"$report"

if [ "$only" != "native" ]; then
  npx tsc -p tsconfig.json || exit 1
  for file in dist/test/unit/fuzz-*.test.js; do
    case "$file" in *fuzz-native*) continue ;; esac
    [ -n "$filter" ] && [[ "$file" != *"$filter"* ]] && continue
    echo "campaign: $file at $ts_runs inputs per target"
    if ! LVSKIT_FUZZ_RUNS="$ts_runs" LVSKIT_FUZZ_CAMPAIGN=1 LVSKIT_FUZZ_REPORT="$report" \
      nice -n 19 node node_modules/ava/entrypoints/cli.mjs --serial --concurrency 1 --timeout 48h "${match[@]}" "$file"; then
      findings=$((findings + 1))
    fi
  done
fi

if [ "$only" != "ts" ]; then
  make -C fuzz -j2 all || exit 1
  for harness in fuzz/build/*; do
    target=$(basename "$harness")
    [ -n "$filter" ] && [[ "$target" != *"$filter"* ]] && continue
    work=$(mktemp -d)
    log=$(mktemp)
    echo "campaign: $target at $native_runs executions (time limit: ${native_max_s} s, 0 = none)"
    started=$(date +%s)
    regressions=()
    [ -d "fuzz/regressions/$target" ] && regressions=("fuzz/regressions/$target")
    nice -n 19 "$harness" "$work" "fuzz/corpus/$target" "${regressions[@]}" "-runs=$native_runs" "-max_total_time=$native_max_s" \
      -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 "-artifact_prefix=fuzz/artifacts/$target-" >"$log" 2>&1
    code=$?
    elapsed=$(( $(date +%s) - started ))
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
    [ "$code" -ne 0 ] && findings=$((findings + 1)) && tail -n 40 "$log"
    # Keep the corpus small: the minimal set of old and new inputs (cut to 1 KiB) that covers what they cover together.
    merged=$(mktemp -d)
    "$harness" -merge=1 -max_len=1024 "$merged" "fuzz/corpus/$target" "$work" >/dev/null 2>&1 \
      && rm -rf "fuzz/corpus/$target" && mv "$merged" "fuzz/corpus/$target" && chmod 755 "fuzz/corpus/$target"
    echo "{\"target\":\"native.$target\",\"runs\":${runs:-0},\"failed\":$([ "$code" -ne 0 ] && echo true || echo false),\"elapsedMs\":$((elapsed * 1000)),\"corpusFiles\":$(ls "fuzz/corpus/$target" | wc -l)}" >>"$report"
    rm -rf "$work" "$log"
  done
fi

echo "campaign: report $report"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const last = new Map(lines.map((l) => [l.target, l]));
for (const l of last.values()) console.log(`${l.target.padEnd(32)} ${String(l.runs).padStart(10)} inputs  ${String(Math.round(l.elapsedMs / 1000)).padStart(6)} s  ${l.failed ? "FINDING" : "ok"}`);
' "$report"
[ "$findings" -eq 0 ]
