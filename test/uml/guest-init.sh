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

# Every scheduler and persistence engine module, loaded now rather than on demand. The kernel
# loads them from IPVS_CMD_NEW_SERVICE while holding __ip_vs_mutex; if a namespace is being
# dismantled at that moment (cleanup_net holds pernet_ops_rwsem and waits for __ip_vs_mutex in
# ip_vs_dst_event), the module's init waits for pernet_ops_rwsem and the three never wake: a
# 6.1 kernel deadlock the tier hit whenever a test added an `lblcr` service while another test's
# namespace was going away. ip_vs_ftp is left out: it changes how port 21 is handled.
load_on_demand_modules() {
  for m in "/usr/lib/modules/$ver/kernel/net/netfilter/ipvs/"ip_vs_*.ko*; do
    m=$(basename "$m"); m=${m%%.ko*}
    [ "$m" = ip_vs_ftp ] || modprobe "$m" || return
  done
}
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
  modprobe ip_vs &&
  load_on_demand_modules
} > "$OUT/output" 2>&1 || { echo "guest setup failed (see above)" >> "$OUT/output"; exit; }

cd "$REPO" || exit
export LVSKIT_TIER_ARGS  # JSON list of run-tiers.mjs (or script) arguments chosen on the host
if [ -n "${LVSKIT_GUEST_SCRIPT:-}" ]; then
  "$NODE" "$LVSKIT_GUEST_SCRIPT" >> "$OUT/output" 2>&1  # a one-off workload (e.g. a benchmark)
else
  "$NODE" test/run-tiers.mjs --inside-uml >> "$OUT/output" 2>&1
fi
status=$?
