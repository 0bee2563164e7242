#!/usr/bin/env bash
# bench/listen.sh: peak memory of `smtpdiag listen --once` under two
# hostile clients, and the size of the JSON and JUnit reports it writes:
#
#   (a) one client pipelining 12 MB of NOOP lines,
#   (b) one client sending 1,000 messages with 255 KB header sections.
#
# It builds smtpdiag from this tree and the flood client bench/listenflood,
# and prints "peak RSS" (/usr/bin/time -v, "Maximum resident set size").
# With BEFORE=REV it builds smtpdiag from that commit too (git archive,
# which leaves this checkout alone) and prints both. Everything listens and
# connects on 127.0.0.1 only. A figure, not a test: run it on an idle
# machine.
#
#   bench/listen.sh
#   BEFORE=16d509a bench/listen.sh
#
# NOOP_BYTES, MESSAGES, HEADER and LIMIT (seconds a run may take) change
# the defaults. SMTPDIAG names a binary to use instead of building one.
set -euo pipefail

NOOP_BYTES=${NOOP_BYTES:-$((12 << 20))}
MESSAGES=${MESSAGES:-1000}
HEADER=${HEADER:-$((255 << 10))}
LIMIT=${LIMIT:-900}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/smtpdiag-listen.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
die() { printf 'listen.sh: %s\n' "$*" >&2; exit 1; }

[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
(cd "$root" && go build -o "$work/listenflood" ./bench/listenflood) || die "build of listenflood failed"
after=${SMTPDIAG:-}
if [ -z "$after" ]; then
  (cd "$root" && go build -o "$work/smtpdiag-after" ./cmd/smtpdiag) || die "build failed"
  after=$work/smtpdiag-after
fi
before=
if [ -n "${BEFORE:-}" ]; then
  mkdir "$work/src-before"
  git -C "$root" archive "$BEFORE" | tar -x -C "$work/src-before" || die "git archive $BEFORE failed"
  (cd "$work/src-before" && go build -o "$work/smtpdiag-before" ./cmd/smtpdiag) || die "build of $BEFORE failed"
  before=$work/smtpdiag-before
fi

cat >"$work/flood.hcl" <<'HCL'
suite { name = "listen under a hostile client" }
device "d" {
  listen      = "127.0.0.1:0"
  require_tls = false
  accept_auth = false
}
HCL

# measure NAME BINARY MODE: one listen --once run under one flood.
measure() {
  local name=$1 bin=$2 mode=$3 dir=$work/$1-$3
  mkdir "$dir"
  /usr/bin/time -v -o "$dir/time.txt" timeout -s INT "$LIMIT" \
    "$bin" listen --once --no-color --timeout 20m --listen 127.0.0.1:0 \
    --json "$dir/out.json" --junit "$dir/out.xml" "$work/flood.hcl" >"$dir/stdout.txt" 2>"$dir/stderr.txt" &
  pid=$!
  local addr=
  for _ in $(seq 100); do
    addr=$(sed -n 's/^waiting on \([^ ]*\) until.*/\1/p' "$dir/stderr.txt")
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || die "$name: listen did not start: $(cat "$dir/stderr.txt")"
  local client
  if [ "$mode" = noop ]; then
    client=$("$work/listenflood" -addr "$addr" -mode noop -bytes "$NOOP_BYTES" 2>&1) || true
  else
    client=$("$work/listenflood" -addr "$addr" -mode headers -messages "$MESSAGES" -header "$HEADER" 2>&1) || true
  fi
  local status=0 start=$SECONDS
  wait "$pid" || status=$?
  pid=
  local rss_kb json xml
  rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$dir/time.txt")
  json=$(stat -c %s "$dir/out.json" 2>/dev/null || echo 0)
  xml=$(stat -c %s "$dir/out.xml" 2>/dev/null || echo 0)
  printf '%-7s %-8s peak RSS %8.1f MB   JSON %11s octets   JUnit %10s octets   exit %s, %ss after the client\n' \
    "$name" "$mode" "$(awk -v kb="${rss_kb:-0}" 'BEGIN { print kb / 1024 }')" "$json" "$xml" "$status" $((SECONDS - start))
  printf '        client: %s\n' "$client"
}

printf '(a) %s octets of pipelined NOOPs; (b) %s messages with %s-octet header sections; one client, listen --once\n' \
  "$NOOP_BYTES" "$MESSAGES" "$HEADER"
for mode in noop headers; do
  [ -n "$before" ] && measure before "$before" "$mode"
  measure after "$after" "$mode"
done
printf 'target: peak RSS < 150 MB for any single client; reports of such a session stay small\n'
