#!/usr/bin/env bash
# bench/load.sh: peak memory of one smtpdiag process running a suite of
# CHECKS checks (default 1000) against the built-in simulator, PARALLEL
# (default 64) at a time. It prints the wall time and "peak RSS", and fails
# unless every check passed.
#
# SMTPDIAG and SIMSERVER name binaries to use instead of building them.
set -euo pipefail

CHECKS=${CHECKS:-1000}
PARALLEL=${PARALLEL:-64}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/smtpdiag-load.XXXXXX")
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
die() { printf 'load: %s\n' "$*" >&2; exit 1; }

[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
# shellcheck source=bench/simulator.sh
. "$root/bench/simulator.sh"
start_simulator

# Three kinds of check, in turn: submission with STARTTLS and AUTH LOGIN,
# an MX recipient refused as a banned IP next to an accepted one, and an
# MX relay denial.
{
  cat <<EOF
suite { name = "load" }
variable "password" {
  sensitive = true
  default   = "demo-password"
}
endpoint "submission" {
  host        = "${submission%:*}"
  port        = ${submission##*:}
  ca_file     = "$ca"
  server_name = "localhost"
  timeout     = "30s"
}
endpoint "mx" {
  host        = "${mx%:*}"
  port        = ${mx##*:}
  ca_file     = "$ca"
  server_name = "localhost"
  timeout     = "30s"
}
EOF
  for ((i = 0; i < CHECKS; i++)); do
    case $((i % 3)) in
    0) cat <<EOF
smtp "check $i" {
  endpoint = endpoint.submission
  auth {
    username  = "scanner@contoso.com"
    password  = var.password
    mechanism = "LOGIN"
  }
  mail_from = "scanner@contoso.com"
  rcpt_to   = ["u$i@contoso.com"]
  expect {
    starttls = true
    auth     = 235
    rcpt     = "250"
  }
}
EOF
      ;;
    1) cat <<EOF
smtp "check $i" {
  endpoint  = endpoint.mx
  mail_from = "sender@example.net"
  rcpt_to   = ["blocked$i@contoso.com", "u$i@contoso.com"]
  expect { rcpt = ["550 5.7.606", "250"] }
}
EOF
      ;;
    2) cat <<EOF
smtp "check $i" {
  endpoint  = endpoint.mx
  mail_from = "sender@example.net"
  rcpt_to   = ["u$i@fabrikam.com"]
  expect { rcpt = "550 5.7.64" }
}
EOF
      ;;
    esac
  done
} >"$work/load.hcl"

status=0
/usr/bin/time -v -o "$work/time.txt" "$smtpdiag" run --no-color --parallel "$PARALLEL" "$work/load.hcl" >"$work/out.txt" || status=$?
tally=$(tail -1 "$work/out.txt")
[ "$status" = 0 ] && [ "$tally" = "$CHECKS passed, 0 failed" ] || die "exit $status, $tally (want $CHECKS passed)"
rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/time.txt")
wall=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt")
printf '%s checks, --parallel %s: %s, wall %s\n' "$CHECKS" "$PARALLEL" "$tally" "$wall"
awk -v kb="$rss_kb" 'BEGIN { printf "peak RSS: %.1f MB (target < 100 MB)\n", kb / 1024 }'
