#!/usr/bin/env bash
# bench/rcptflood.sh: the peak memory of `smtpdiag run` holding one check
# of RCPTS recipients (default 2000) against a server that answers each
# RCPT with a reply of about 60 KB, with every report written, and the
# sizes of those reports. The record of one conversation has a budget
# (internal/smtpclient MaxRecordBytes); this shows what it buys.
#
# SMTPDIAG names a binary to use instead of building one.
set -euo pipefail

RCPTS=${RCPTS:-2000}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/smtpdiag-rcptflood.XXXXXX")
srv_pid=
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
die() { printf 'rcptflood: %s\n' "$*" >&2; exit 1; }

[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
smtpdiag=${SMTPDIAG:-}
(cd "$root" && go build -o "$work/rcptflood" ./bench/rcptflood) || die "build failed"
if [ -z "$smtpdiag" ]; then
  (cd "$root" && go build -o "$work/smtpdiag" ./cmd/smtpdiag) || die "build failed"
  smtpdiag=$work/smtpdiag
fi

"$work/rcptflood" >"$work/srv.env" &
srv_pid=$!
for _ in $(seq 50); do grep -q '^ADDR=' "$work/srv.env" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/^ADDR=//p' "$work/srv.env")
[ -n "$addr" ] || die "the server did not start"

rcpts=$(seq "$RCPTS" | sed 's/.*/"r&@contoso.example"/' | paste -sd, -)
cat >"$work/flood.hcl" <<HCL
endpoint "flood" {
  host    = "${addr%:*}"
  port    = ${addr##*:}
  tls     = "none"
  timeout = "30s"
}
smtp "${RCPTS} recipients, each refused with 60 KB" {
  endpoint  = endpoint.flood
  mail_from = "scanner@contoso.example"
  rcpt_to   = [$rcpts]
}
HCL

start=$EPOCHREALTIME
/usr/bin/time -v "$smtpdiag" run --no-color --check-timeout 10m --junit "$work/junit.xml" --json "$work/results.json" \
  --report "$work/report.html" "$work/flood.hcl" >"$work/out.txt" 2>"$work/time.txt" || true
end=$EPOCHREALTIME
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
printf 'rcpt flood: %d RCPTs of 60 KB replies, %.1f s, peak RSS %d MB\n' "$RCPTS" \
  "$(echo "$end - $start" | bc)" "$((rss / 1024))"
for f in out.txt junit.xml results.json report.html; do
  printf '  %-13s %8d KB\n' "$f" "$(( $(stat -c %s "$work/$f") / 1024 ))"
done
