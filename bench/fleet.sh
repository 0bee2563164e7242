#!/usr/bin/env bash
# bench/fleet.sh: an MSP's fleet, sharded. It writes SUITES (500) suite
# files with CHECKS (10,000) checks in all against the built-in simulator
# (bench/simserver, on 127.0.0.1), runs them as SHARDS (4) smtpdiag
# processes side by side (run --shard K/N --json, PARALLEL checks of a
# suite at once), merges their JSON into JUnit, JSON and an evidence report
# (smtpdiag merge), once more with the HTML evidence report too, and
# prints the wall time, the CPU time and the peak RSS (/usr/bin/time -v,
# "Maximum resident set size") of every process. Targets: each shard and
# the merge under 200 MB, the merge under 2 s. It fails unless the merged
# tally is what the generator promised. Other work on the machine shows
# in the wall times: the script prints the load average with them.
#
#   bench/fleet.sh
#   SUITES=100 CHECKS=2000 SHARDS=2 bench/fleet.sh
#
# SMTPDIAG and SIMSERVER name binaries to use instead of building them;
# KEEP=1 keeps the working directory and says where it is. A figure, not a
# test: run it on an otherwise idle machine.
set -euo pipefail
export LC_ALL=C

SUITES=${SUITES:-500}
CHECKS=${CHECKS:-10000}
SHARDS=${SHARDS:-4}
PARALLEL=${PARALLEL:-8}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/smtpdiag-fleet.XXXXXX")
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
  wait 2>/dev/null || true
  if [ "${KEEP:-}" = 1 ]; then
    printf 'kept %s\n' "$work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
die() { printf 'fleet: %s\n' "$*" >&2; exit 1; }

[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
(cd "$root" && go build -o "$work/fleetgen" ./bench/fleetgen) || die "build failed"
# shellcheck source=bench/simulator.sh
. "$root/bench/simulator.sh"
start_simulator

# The suites, and what an unsharded run of them finds.
cd "$work"
./fleetgen -dir suites -suites "$SUITES" -checks "$CHECKS" -submission "$submission" -mx "$mx" -ca "$ca" >expect.env
. ./expect.env
want="$PASSED passed, $FAILED failed"

# wall, cpu and rss NAME: the wall time (s), the CPU time (user + system,
# s) and the peak RSS (MB) that /usr/bin/time -v wrote to NAME.time.
wall() { awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$1.time"; }
cpu() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$1.time"; }
rss() { awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1.time"; }
size() { du -h "$1" | cut -f1; }

# The shards, side by side. Each exits 1 when one of its checks failed.
start=${EPOCHREALTIME/[.,]/}
pids=()
for ((k = 1; k <= SHARDS; k++)); do
  /usr/bin/time -v -o "shard-$k.time" "$smtpdiag" run --no-color --parallel "$PARALLEL" --shard "$k/$SHARDS" \
    --json "shard-$k.json" suites >"shard-$k.out" 2>"shard-$k.err" &
  pids+=($!)
done
for ((k = 1; k <= SHARDS; k++)); do
  status=0
  wait "${pids[$((k - 1))]}" || status=$?
  [ "$status" -le 1 ] || { cat "shard-$k.err" >&2; die "shard $k/$SHARDS exited $status"; }
done
end=${EPOCHREALTIME/[.,]/}
shards_wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')

# The merge into what CI reads (JUnit and JSON), then once more with the
# HTML evidence report too.
merge() {
  local name=$1 status=0
  shift
  /usr/bin/time -v -o "$name.time" "$smtpdiag" merge --no-color "$@" shard-*.json >"$name.out" 2>"$name.err" || status=$?
  [ "$status" -le 1 ] || { cat "$name.err" >&2; die "merge exited $status"; }
  tally=$(tail -1 "$name.out")
  [ "$tally" = "$want" ] || die "merged: $tally, want $want"
}
merge merge --junit merged.xml --json merged.json
tests=$(grep -o '<testsuites [^>]*tests="[0-9]*"' merged.xml | grep -o 'tests="[0-9]*"' | tr -dc 0-9)
[ "$tests" = "$CHECKS" ] || die "merged JUnit holds $tests tests, want $CHECKS"
merge merge-html --junit merged.xml --json merged.json --report merged.html

printf '%s suites, %s checks against the simulator, %s shards side by side (--parallel %s): %s\n' \
  "$SUITES" "$CHECKS" "$SHARDS" "$PARALLEL" "$tally"
printf '%-22s %7s %8s %8s %10s  %s\n' process checks wall CPU "peak RSS" output
for ((k = 1; k <= SHARDS; k++)); do
  n=$(tail -1 "shard-$k.out" | awk -F'[ ,]+' '{ print $1 + $3 + ($5 == "" ? 0 : $5) }')
  printf '%-22s %7s %7ss %7ss %7s MB  JSON %s\n' "shard $k/$SHARDS" "$n" "$(wall "shard-$k")" "$(cpu "shard-$k")" \
    "$(rss "shard-$k")" "$(size "shard-$k.json")"
done
printf '%-22s %7s %7ss %7ss %7s MB  JSON %s, JUnit %s\n' "merge: JUnit, JSON" "$CHECKS" "$(wall merge)" "$(cpu merge)" \
  "$(rss merge)" "$(size merged.json)" "$(size merged.xml)"
printf '%-22s %7s %7ss %7ss %7s MB  and evidence %s\n' "merge: and HTML report" "$CHECKS" "$(wall merge-html)" \
  "$(cpu merge-html)" "$(rss merge-html)" "$(size merged.html)"
printf 'all shards: %ss wall; load average when done: %s\n' "$shards_wall" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
largest=$(for ((k = 1; k <= SHARDS; k++)); do rss "shard-$k"; echo; done | sort -n | tail -1)
awk -v s="$largest" -v m="$(rss merge)" -v h="$(rss merge-html)" -v w="$(wall merge)" 'BEGIN {
  printf "targets: every shard < 200 MB (largest %.1f MB): %s; merge < 200 MB (%.1f MB, %.1f MB with the HTML report): %s; merge < 2 s (%.2f s): %s\n",
    s, (s < 200 ? "met" : "MISSED"), m, h, (m < 200 && h < 200 ? "met" : "MISSED"), w, (w < 2 ? "met" : "MISSED")
}'
