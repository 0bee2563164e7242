#!/usr/bin/env bash
# bench/bench.sh: how fast smtpdiag holds its conversations, next to swaks
# and to a minimal net/smtp client, on one machine in one run. See
# bench/README.md for what each figure means.
#
#   bench/bench.sh              against the peers' Postfix submission service
#                               (scripts/peers.sh up), else the simulator
#   TARGET=sim bench/bench.sh   always against the built-in simulator
#
# Settings (environment): RUNS (runs per single-check median, default 15),
# SUITE_RUNS (runs per suite median, 5),
# CHECKS (suite size, 200), PARALLEL (16), DELAY_MS (one-way delay in the
# network namespace, 25), LOAD_CHECKS (1000), LOAD_PARALLEL (64),
# SKIP_NETNS=1 (skip the namespace part, which needs root).
#
# Everything stays on 127.0.0.1, in the root network namespace or in a
# namespace this script creates and deletes.
set -euo pipefail
export LC_ALL=C    # sort -n and awk agree on the decimal point
unset QUICKACK     # set per call below, for the minimal client's variant

RUNS=${RUNS:-15}
SUITE_RUNS=${SUITE_RUNS:-5}
CHECKS=${CHECKS:-200}
PARALLEL=${PARALLEL:-16}
DELAY_MS=${DELAY_MS:-25}
TARGET=${TARGET:-auto}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/smtpdiag-bench.XXXXXX")
netns=smtpdiag-bench-$$
pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ip netns list 2>/dev/null | grep -qw "$netns"; then
    ip netns pids "$netns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$netns" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

[ "${BASH_VERSINFO[0]}" -ge 5 ] || die "needs bash 5 or later (EPOCHREALTIME)"

# timed CMD...: runs CMD with its output discarded, prints its wall time in
# seconds, and fails when CMD fails. The clock is bash's EPOCHREALTIME, read
# without starting a process: a timer that forks date(1) would add a process
# start (several milliseconds in a VM) to every figure and pull every ratio
# towards 1.
timed() {
  local start end
  start=${EPOCHREALTIME/[.,]/}
  "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; die "failed: $*"; }
  end=${EPOCHREALTIME/[.,]/}
  awk -v us=$((end - start)) 'BEGIN { printf "%.4f\n", us / 1e6 }'
}

# median_of FILE: the median of the numbers in FILE, one per line.
median_of() {
  sort -n "$1" |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# median N CMD...: the median wall time of N runs of CMD.
median() {
  local n=$1 i
  shift
  for ((i = 0; i < n; i++)); do timed "$@"; done >"$work/median.txt"
  median_of "$work/median.txt"
}

# runs FILE: every figure in FILE, in milliseconds, in the order measured.
runs() { awk '{ printf "%s%.0f", (NR > 1 ? " " : ""), $1 * 1000 }' "$1"; }

# spread FILE: the smallest and the largest figure in FILE.
spread() { sort -n "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "min %.1f, max %.1f ms", lo * 1000, hi * 1000 }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }

say "smtpdiag benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(uname -sr))"
say "building..."
# Both Go programs are built static (CGO_ENABLED=0), the way README.md
# recommends installing smtpdiag on Linux: no dynamic loader and no libc
# start-up in either.
(cd "$root" && export CGO_ENABLED=0 && go build -o "$work/smtpdiag" ./cmd/smtpdiag &&
  go build -o "$work/minimal" ./bench/minimal &&
  go build -o "$work/simserver" ./bench/simserver &&
  go build -o "$work/delayproxy" ./bench/delayproxy) || die "build failed"
command -v swaks >/dev/null || die "swaks is not installed (apt-get install swaks)"
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"

# start_simulator [NETNS]: runs the simulator (in NETNS when given) and
# loads its addresses (SUBMISSION_ADDR, CA_FILE...) into sim_*.
start_simulator() {
  local env=$work/sim$$-${1:-root}.env
  if [ -n "${1:-}" ]; then
    ip netns exec "$1" "$work/simserver" -ca-dir "$work" >"$env" 2>"$work/simserver.err" &
  else
    "$work/simserver" -ca-dir "$work" >"$env" 2>"$work/simserver.err" &
  fi
  pids+=($!)
  for _ in $(seq 50); do grep -q '^CA_FILE=' "$env" 2>/dev/null && break; sleep 0.1; done
  grep -q '^CA_FILE=' "$env" || die "the simulator did not start: $(cat "$work/simserver.err")"
  sim_submission=$(sed -n 's/^SUBMISSION_ADDR=//p' "$env")
  sim_ca=$(sed -n 's/^CA_FILE=//p' "$env")
}

# The target: the peers' Postfix submission service when it answers, else
# the simulator's submission endpoint.
peers_env=${SMTPDIAG_PEERS_ENV:-/run/smtpdiag-peers/env}
if [ "$TARGET" != sim ] && [ -r "$peers_env" ]; then
  # shellcheck disable=SC1090
  . "$peers_env"
  addr=${SMTPDIAG_PEERS_SUBMISSION:-127.0.0.1:5587}
  if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
    target="Postfix submission (scripts/peers.sh) on $addr"
    host=${addr%:*} port=${addr##*:}
    ca=$SMTPDIAG_PEERS_CA server_name=${SERVER_NAME:-mx.peers.test}
    user=$SMTPDIAG_PEERS_USER password=$SMTPDIAG_PEERS_PASSWORD
    rcpt=helpdesk@${SMTPDIAG_PEERS_DOMAIN:-contoso.test} mech=PLAIN
  fi
fi
if [ -z "${target:-}" ]; then
  [ "$TARGET" = peers ] && die "the peers do not run: scripts/peers.sh up"
  start_simulator
  target="smtpdiag simulator submission endpoint on $sim_submission"
  host=${sim_submission%:*} port=${sim_submission##*:}
  ca=$sim_ca server_name=localhost
  user=scanner@contoso.com password=demo-password rcpt=helpdesk@contoso.com
  # The simulator, like Exchange Online, offers AUTH LOGIN only.
  mech=LOGIN
fi
say "target: $target, AUTH $mech, STARTTLS with certificate verification, no DATA"
say

# suite N HOST PORT CA FILE: writes a suite of N identical checks.
suite() {
  local n=$1 h=$2 p=$3 c=$4 file=$5 i
  {
    cat <<EOF
suite { name = "bench" }
variable "password" {
  sensitive = true
  default   = "$password"
}
endpoint "submission" {
  host        = "$h"
  port        = $p
  ca_file     = "$c"
  server_name = "$server_name"
  timeout     = "30s"
}
EOF
    for ((i = 1; i <= n; i++)); do
      cat <<EOF
smtp "check $i" {
  endpoint = endpoint.submission
  auth {
    username  = "$user"
    password  = var.password
    mechanism = "$mech"
  }
  mail_from = "$user"
  rcpt_to   = ["$rcpt"]
  expect {
    starttls = true
    auth     = 235
    rcpt     = "250"
  }
}
EOF
    done
  } >"$file"
}

smtpdiag_run() { "$work/smtpdiag" run --no-color "$@"; }
minimal_run() {
  "$work/minimal" ${QUICKACK:+-quickack} -addr "$1:$2" -ca "$3" -server-name "$server_name" -user "$user" -pass "$password" \
    -mech "$mech" -from "$user" -to "$rcpt" -n "$4" -parallel "$5"
}
swaks_run() {
  swaks -s "$1" -p "$2" -tls --tls-verify --tls-ca-path "$3" --tls-sni "$server_name" \
    -a "$mech" -au "$user" -ap "$password" -f "$user" -t "$rcpt" --quit-after RCPT --hide-all
}
swaks_sequential() {
  local i
  for ((i = 0; i < $4; i++)); do swaks_run "$1" "$2" "$3"; done
}

suite 1 "$host" "$port" "$ca" "$work/one.hcl"
suite "$CHECKS" "$host" "$port" "$ca" "$work/many.hcl"
# Warm up the page cache and the server.
smtpdiag_run "$work/one.hcl" >/dev/null || die "smtpdiag: the single check failed: $(smtpdiag_run "$work/one.hcl")"
minimal_run "$host" "$port" "$ca" 1 1 || die "the minimal client failed"
swaks_run "$host" "$port" "$ca" || die "swaks failed"

say "== single check, whole process (median of $RUNS runs)"
# Interleaved, one run of each program per round, so that a slower stretch
# of the machine or the server weighs on all of them alike.
: >"$work/t-smtpdiag" >"$work/t-minimal" >"$work/t-quick" >"$work/t-swaks"
for ((i = 0; i < RUNS; i++)); do
  timed smtpdiag_run "$work/one.hcl" >>"$work/t-smtpdiag"
  timed minimal_run "$host" "$port" "$ca" 1 1 >>"$work/t-minimal"
  QUICKACK=1 timed minimal_run "$host" "$port" "$ca" 1 1 >>"$work/t-quick"
  timed swaks_run "$host" "$port" "$ca" >>"$work/t-swaks"
done
t_smtpdiag=$(median_of "$work/t-smtpdiag")
t_minimal=$(median_of "$work/t-minimal")
t_quick=$(median_of "$work/t-quick")
t_swaks=$(median_of "$work/t-swaks")
printf '  %-36s %10s   (%s)\n' \
  "smtpdiag" "$(ms "$t_smtpdiag")" "$(spread "$work/t-smtpdiag")" \
  "minimal net/smtp client" "$(ms "$t_minimal")" "$(spread "$work/t-minimal")" \
  "minimal client with TCP_QUICKACK" "$(ms "$t_quick")" "$(spread "$work/t-quick")" \
  "swaks" "$(ms "$t_swaks")" "$(spread "$work/t-swaks")"
say "  smtpdiag / minimal                = $(ratio "$t_smtpdiag" "$t_minimal")   (target <= 1.2)"
say "  smtpdiag / minimal with QUICKACK  = $(ratio "$t_smtpdiag" "$t_quick")   (the same yardstick without delayed-ACK stalls)"
say "  smtpdiag / swaks                  = $(ratio "$t_smtpdiag" "$t_swaks")   (target <= 0.3)"
say "  runs of the minimal client over 40 ms (a delayed-ACK stall): $(awk '$1 > 0.040' "$work/t-minimal" | wc -l) of $RUNS;" \
  "with TCP_QUICKACK: $(awk '$1 > 0.040' "$work/t-quick" | wc -l) of $RUNS"
say

# Where smtpdiag's time goes next to the minimal client: the package
# initialisation Go runs before main (GODEBUG=inittrace, summed), and the
# decoding of the one-check suite (validate minus version, whole process).
init_ms() { GODEBUG=inittrace=1 "$@" 2>&1 >/dev/null | awk '/^init / { s += $5 } END { printf "%.4f\n", s / 1000 }'; }
: >"$work/i-smtpdiag" >"$work/i-minimal" >"$work/t-version" >"$work/t-validate"
for ((i = 0; i < 9; i++)); do
  init_ms "$work/smtpdiag" version >>"$work/i-smtpdiag"
  init_ms "$work/minimal" -h >>"$work/i-minimal"
  timed "$work/smtpdiag" version >>"$work/t-version"
  timed "$work/smtpdiag" validate "$work/one.hcl" >>"$work/t-validate"
done
# Minor page faults of one check: every page a process touches for the
# first time costs one (or maps 16 neighbours of a file page), and in some
# VMs each costs tens of microseconds.
: >"$work/f-smtpdiag" >"$work/f-minimal"
for ((i = 0; i < 5; i++)); do
  /usr/bin/time -f '%R' -o "$work/f.txt" "$work/smtpdiag" run --no-color "$work/one.hcl" >/dev/null 2>&1 ||
    die "smtpdiag failed while counting page faults"
  tail -n 1 "$work/f.txt" >>"$work/f-smtpdiag"
  /usr/bin/time -f '%R' -o "$work/f.txt" "$work/minimal" -quickack -addr "$host:$port" -ca "$ca" -server-name "$server_name" \
    -user "$user" -pass "$password" -mech "$mech" -from "$user" -to "$rcpt" >/dev/null 2>&1 ||
    die "the minimal client failed while counting page faults"
  tail -n 1 "$work/f.txt" >>"$work/f-minimal"
done
say "  where smtpdiag's time goes (medians):"
say "    package initialisation before main: smtpdiag $(ms "$(median_of "$work/i-smtpdiag")"), minimal client $(ms "$(median_of "$work/i-minimal")")"
say "    smtpdiag version (start and exit, no work) $(ms "$(median_of "$work/t-version")"); validate of the one-check suite $(ms "$(median_of "$work/t-validate")")"
say "    minor page faults of one check: smtpdiag $(median_of "$work/f-smtpdiag"), minimal client with TCP_QUICKACK $(median_of "$work/f-minimal")"
say

say "== $CHECKS checks (median of $SUITE_RUNS interleaved runs; swaks once)"
: >"$work/t-many" >"$work/t-many-minimal" >"$work/t-many-quick"
for ((i = 0; i < SUITE_RUNS; i++)); do
  timed smtpdiag_run --parallel "$PARALLEL" "$work/many.hcl" >>"$work/t-many"
  timed minimal_run "$host" "$port" "$ca" "$CHECKS" "$PARALLEL" >>"$work/t-many-minimal"
  QUICKACK=1 timed minimal_run "$host" "$port" "$ca" "$CHECKS" "$PARALLEL" >>"$work/t-many-quick"
done
t_many=$(median_of "$work/t-many")
t_many_minimal=$(median_of "$work/t-many-minimal")
t_many_quick=$(median_of "$work/t-many-quick")
t_many_swaks=$(timed swaks_sequential "$host" "$port" "$ca" "$CHECKS")
printf '  %-44s %10s   (runs: %s)\n' \
  "smtpdiag --parallel $PARALLEL" "$(ms "$t_many")" "$(runs "$work/t-many")" \
  "minimal client, $PARALLEL at a time" "$(ms "$t_many_minimal")" "$(runs "$work/t-many-minimal")" \
  "minimal with TCP_QUICKACK, $PARALLEL at a time" "$(ms "$t_many_quick")" "$(runs "$work/t-many-quick")"
printf '  %-44s %10s\n' "swaks, $CHECKS sequential runs" "$(ms "$t_many_swaks")"
say "  smtpdiag / minimal                = $(ratio "$t_many" "$t_many_minimal")   (target <= 1.2)"
say "  smtpdiag / minimal with QUICKACK  = $(ratio "$t_many" "$t_many_quick")"
say "  smtpdiag / swaks                  = $(ratio "$t_many" "$t_many_swaks")"
say

if [ "${SKIP_NETNS:-}" = 1 ]; then
  say "== network namespace with ${DELAY_MS} ms: skipped (SKIP_NETNS=1)"
elif [ "$(id -u)" != 0 ]; then
  say "== network namespace with ${DELAY_MS} ms: skipped (needs root for ip netns)"
else
  say "== $CHECKS checks with ${DELAY_MS} ms each way on the namespace's loopback"
  ip netns add "$netns"
  ip netns exec "$netns" ip link set lo up
  emulation="tc netem delay ${DELAY_MS}ms on lo"
  if ! ip netns exec "$netns" tc qdisc add dev lo root netem delay "${DELAY_MS}ms" 2>"$work/tc.err"; then
    # Kernels without sch_netem (many VMs and containers): a user-space
    # proxy in the namespace delays every byte instead. Then the TCP
    # handshake is not delayed: one round trip less per check, and the
    # banner costs half of one.
    emulation="user-space delay proxy, ${DELAY_MS} ms each way (no netem: $(tr -d '\n' <"$work/tc.err"))"
    rtts_proxy=1
  fi
  start_simulator "$netns"
  ns_host=${sim_submission%:*} ns_port=${sim_submission##*:}
  if [ -n "${rtts_proxy:-}" ]; then
    ip netns exec "$netns" "$work/delayproxy" -target "$sim_submission" -delay "${DELAY_MS}ms" >"$work/proxy.addr" &
    pids+=($!)
    for _ in $(seq 50); do [ -s "$work/proxy.addr" ] && break; sleep 0.1; done
    proxied=$(cat "$work/proxy.addr")
    ns_host=${proxied%:*} ns_port=${proxied##*:}
  fi
  # The simulator offers AUTH LOGIN only.
  saved_mech=$mech saved_user=$user saved_password=$password saved_rcpt=$rcpt saved_server_name=$server_name
  mech=LOGIN user=scanner@contoso.com password=demo-password rcpt=helpdesk@contoso.com server_name=localhost
  suite 1 "$ns_host" "$ns_port" "$sim_ca" "$work/ns-one.hcl"
  suite "$CHECKS" "$ns_host" "$ns_port" "$sim_ca" "$work/ns-many.hcl"
  rtt_ms=$((2 * DELAY_MS))
  # Round trips one check needs: TCP connect 1, banner 1 (the server greets
  # once the handshake has completed on its side), EHLO 1, STARTTLS 1, TLS
  # 1.3 handshake 1, EHLO 1, AUTH LOGIN 3, MAIL+RCPT+RSET pipelined 1
  # (RFC 2920), QUIT 1.
  ns_rtts=$((2 + 1 + 1 + 1 + 1 + 3 + 1 + 1))
  # Without netem: no delayed TCP handshake, and the banner arrives half a
  # round trip after the connection.
  [ -n "${rtts_proxy:-}" ] && ns_rtts=$(awk -v n=$ns_rtts 'BEGIN { print n - 1.5 }')
  say "  delay: $emulation; round trip ${rtt_ms} ms; target: the simulator in the namespace (AUTH LOGIN)"
  say "  round trips one check needs: $ns_rtts"
  ip netns exec "$netns" "$work/smtpdiag" run --no-color "$work/ns-one.hcl" >/dev/null ||
    die "smtpdiag failed in the namespace: $(ip netns exec "$netns" "$work/smtpdiag" run --no-color -v "$work/ns-one.hcl")"
  t_ns_one=$(median 5 ip netns exec "$netns" "$work/smtpdiag" run --no-color "$work/ns-one.hcl")
  t_ns_min=$(median 5 ip netns exec "$netns" "$work/minimal" -addr "$ns_host:$ns_port" -ca "$sim_ca" \
    -server-name localhost -user scanner@contoso.com -pass demo-password -mech LOGIN \
    -from scanner@contoso.com -to helpdesk@contoso.com -n 1 -parallel 1)
  t_ns_many=$(timed ip netns exec "$netns" "$work/smtpdiag" run --no-color --parallel "$PARALLEL" "$work/ns-many.hcl")
  t_ns_many_min=$(timed ip netns exec "$netns" "$work/minimal" -addr "$ns_host:$ns_port" -ca "$sim_ca" \
    -server-name localhost -user scanner@contoso.com -pass demo-password -mech LOGIN \
    -from scanner@contoso.com -to helpdesk@contoso.com -n "$CHECKS" -parallel "$PARALLEL")
  waves=$(((CHECKS + PARALLEL - 1) / PARALLEL))
  floor_one=$(awk -v n="$ns_rtts" -v r=$rtt_ms 'BEGIN { print n * r / 1000 }')
  floor_many=$(awk -v w=$waves -v f="$floor_one" 'BEGIN { print w * f }')
  printf '  %-44s %10s   floor %s   wall/floor %s\n' \
    "single check, smtpdiag" "$(ms "$t_ns_one")" "$(ms "$floor_one")" "$(ratio "$t_ns_one" "$floor_one")" \
    "single check, minimal client (no pipelining)" "$(ms "$t_ns_min")" "$(ms "$floor_one")" "$(ratio "$t_ns_min" "$floor_one")" \
    "$CHECKS checks, smtpdiag --parallel $PARALLEL" "$(ms "$t_ns_many")" "$(ms "$floor_many")" "$(ratio "$t_ns_many" "$floor_many")" \
    "$CHECKS checks, minimal, $PARALLEL at a time" "$(ms "$t_ns_many_min")" "$(ms "$floor_many")" "$(ratio "$t_ns_many_min" "$floor_many")"
  say "  (floor = round trips x RTT, times $waves waves of $PARALLEL for the suite; the minimal client"
  say "   needs 2 round trips more: MAIL, RCPT and RSET one at a time)"
  mech=$saved_mech user=$saved_user password=$saved_password rcpt=$saved_rcpt server_name=$saved_server_name
fi
say

say "== peak RSS, ${LOAD_CHECKS:-1000} checks"
CHECKS=${LOAD_CHECKS:-1000} PARALLEL=${LOAD_PARALLEL:-64} SMTPDIAG="$work/smtpdiag" SIMSERVER="$work/simserver" \
  "$root/bench/load.sh" | sed 's/^/  /'
