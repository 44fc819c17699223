#!/bin/sh
# layer: test infrastructure (IPVS tier)
# job: PID 1 inside user-mode Linux: mount what the tier needs, load ip_vs, run the tier, report, halt.
# The host passes LVSKIT_UML_OUT on the kernel command line (the kernel hands it to init as an
# environment variable); that directory holds `env` (REPO, NODE, LVSKIT_TIER_ARGS, LVSKIT_GUEST_SCRIPT) and receives `output`
# and `status`. It must not be under /tmp: the guest mounts a tmpfs there.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
OUT="${LVSKIT_UML_OUT:?LVSKIT_UML_OUT not set on the kernel command line}"
status=1
finish() {
  echo "$status" > "$OUT/status"
  sync
  poweroff -f
}
trap finish EXIT

. "$OUT/env"
{
  mount -t proc proc /proc &&
  mount -t sysfs sysfs /sys &&
  mount -t tmpfs tmpfs /run &&
  mount -t tmpfs tmpfs /tmp &&
  ver=$(uname -r) &&
  mkdir -p /usr/lib/modules &&
  mount -t tmpfs tmpfs /usr/lib/modules &&
  mkdir -p "/usr/lib/modules/$ver" &&
  mount --bind "/usr/lib/uml/modules/$ver" "/usr/lib/modules/$ver" &&
  ip link set lo up &&
  modprobe ip_vs
} > "$OUT/output" 2>&1 || { echo "guest setup failed (see above)" >> "$OUT/output"; exit; }

cd "$REPO" || exit
export LVSKIT_TIER_ARGS  # JSON list of run-tiers.mjs (or script) arguments chosen on the host
if [ -n "${LVSKIT_GUEST_SCRIPT:-}" ]; then
  "$NODE" "$LVSKIT_GUEST_SCRIPT" >> "$OUT/output" 2>&1  # a one-off workload (e.g. a benchmark)
else
  "$NODE" test/run-tiers.mjs --inside-uml >> "$OUT/output" 2>&1
fi
status=$?
