#!/usr/bin/env bash
# peers.sh up|down|status: real SMTP and DNS servers on 127.0.0.1 for
# smtpdiag's integration tests (cmd/smtpdiag/peers_test.go).
#
#   up      install what is missing (apt-get, as root), make a test CA and
#           start Postfix (mx, submission, implicit TLS, relay by client
#           certificate), Dovecot (SASL for
#           Postfix) and rbldnsd; quick and harmless when they already run
#   down    stop them (the CA and the configuration stay, for the next up)
#   status  say what runs, and where; exit 0 when everything runs, else 3
#
# Everything listens on 127.0.0.1 only, on unprivileged ports, and Postfix
# delivers nothing anywhere: every transport is discard(8). The daemons use
# their own configuration under $SMTPDIAG_PEERS_DIR (default
# /run/smtpdiag-peers) and never touch /etc/postfix or /etc/dovecot. The
# addresses, the CA and the test mailbox are written to $SMTPDIAG_PEERS_DIR/env,
# which the tests read.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
templates=$here/peers

dir=${SMTPDIAG_PEERS_DIR:-/run/smtpdiag-peers}
maillog=${SMTPDIAG_PEERS_MAILLOG:-/var/log/smtpdiag-postfix.log}
listen=127.0.0.1
mx_port=${SMTPDIAG_PEERS_MX_PORT:-2525}
submission_port=${SMTPDIAG_PEERS_SUBMISSION_PORT:-5587}
smtps_port=${SMTPDIAG_PEERS_SMTPS_PORT:-4465}
relay_port=${SMTPDIAG_PEERS_RELAY_PORT:-2526}
# Not 5353: that is mDNS, which avahi holds on many desktops.
dns_port=${SMTPDIAG_PEERS_DNS_PORT:-5354}
# The test mailbox. It exists only in this Dovecot on loopback.
mailbox=scanner@contoso.test
password=peers-scan-2026

packages=(postfix dovecot-core rbldnsd swaks libxml2-utils openssl ca-certificates)

postfix_conf=$dir/postfix
dovecot_conf=$dir/dovecot/dovecot.conf
dovecot_pid=$dir/dovecot/run/master.pid
rbldnsd_dir=$dir/rbldnsd
rbldnsd_pid=$dir/rbldnsd.pid
# rbldnsd serves three zones from files in its chroot ($rbldnsd_dir).
rbldnsd_zones=(zen.peers.test:ip4set:zen.peers.test peers.test:generic:peers.test contoso.test:generic:contoso.test)

log() { printf 'peers: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] && return
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -- "$0" "$@"
  fi
  die "must run as root: sudo $0 $*"
}

# pid_alive PIDFILE NAME: the process in PIDFILE runs and is NAME. Postfix
# leaves its pid file behind when it stops, so a number alone proves
# nothing. Postfix's and Dovecot's pid files are for root only; up copies
# them to $dir/NAME.pid for status without root.
pid_alive() {
  local pid f=$1
  [ -r "$f" ] || f=$dir/$2.pid
  [ -r "$f" ] || return 1
  pid=$(tr -dc 0-9 <"$f")
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}

pid_of() { # PIDFILE NAME
  if [ -r "$1" ]; then tr -dc 0-9 <"$1"; else tr -dc 0-9 <"$dir/$2.pid" 2>/dev/null || true; fi
}

tcp_answers() { # port: something accepts a TCP connection on 127.0.0.1:port
  timeout 2 bash -c "exec 3<>/dev/tcp/$listen/$1" 2>/dev/null
}

postfix_running() { pid_alive "$dir/spool/pid/master.pid" master; }
dovecot_running() { pid_alive "$dovecot_pid" dovecot; }
rbldnsd_running() { pid_alive "$rbldnsd_pid" rbldnsd; }

install_packages() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get to install them"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # "No configuration": the package's own instance gets no main.cf and
  # does not start, so nothing listens on port 25.
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# postfix_cmd ARGS: runs postfix with our configuration. Postfix reports
# its errors to the mail log, not to the terminal, so show its last lines
# when it fails.
postfix_cmd() {
  if ! postfix -c "$postfix_conf" "$@" </dev/null >/dev/null 2>&1; then
    tail -n 5 "$maillog" >&2 || true
    die "postfix $1 failed; the log is $maillog"
  fi
}

changed=()

# render TEMPLATE DEST MODE: DEST is TEMPLATE with every @NAME@ replaced;
# written (and recorded in $changed) only when it differs.
render() {
  local tmp
  tmp=$(mktemp)
  sed -e "s|@DIR@|$dir|g" -e "s|@MAILLOG@|$maillog|g" -e "s|@LISTEN@|$listen|g" \
    -e "s|@MX_PORT@|$mx_port|g" -e "s|@SUBMISSION_PORT@|$submission_port|g" \
    -e "s|@SMTPS_PORT@|$smtps_port|g" -e "s|@RELAY_PORT@|$relay_port|g" -e "s|@USER@|$mailbox|g" -e "s|@PASSWORD@|$password|g" \
    "$1" >"$tmp"
  if cmp -s "$tmp" "$2"; then
    rm -f "$tmp"
    return
  fi
  install -m "$3" "$tmp" "$2"
  rm -f "$tmp"
  changed+=("$2")
}

# make_certificates: a test CA, a leaf for mx.peers.test, localhost and
# 127.0.0.1 (Postfix's), and a client certificate for relay.contoso.test
# (what the relay service trusts), made once and renewed when a leaf has
# less than 30 days left or no longer chains to the CA.
make_certificates() {
  local tls=$dir/tls
  install -d -m 0755 "$tls"
  if [ ! -s "$dir/ca.pem" ] || [ ! -s "$tls/ca.key" ]; then
    log "making the test CA"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$tls/ca.key" -out "$dir/ca.pem" -days 3650 \
      -subj "/O=smtpdiag/CN=smtpdiag peers test CA" \
      -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    chmod 0600 "$tls/ca.key"
    chmod 0644 "$dir/ca.pem"
  fi
  issue_leaf mx.peers.test "DNS:localhost,DNS:mx.peers.test,IP:127.0.0.1" serverAuth "$tls/mx" 0600
  # The client's key is readable by the tests: a credential for loopback
  # only.
  issue_leaf relay.contoso.test "DNS:relay.contoso.test" clientAuth "$dir/client" 0644
}

# issue_leaf CN SANS EKU BASE KEYMODE: BASE.pem and BASE.key, a P-256 leaf
# of the test CA, unless a valid one is there already.
issue_leaf() {
  local cn=$1 sans=$2 eku=$3 base=$4 mode=$5 tls=$dir/tls
  if [ -s "$base.pem" ] && [ -s "$base.key" ] &&
    openssl x509 -in "$base.pem" -noout -checkend 2592000 >/dev/null 2>&1 &&
    openssl verify -CAfile "$dir/ca.pem" "$base.pem" >/dev/null 2>&1; then
    return
  fi
  log "issuing the certificate for $cn"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$base.key" -out "$tls/$cn.csr" -subj "/O=smtpdiag/CN=$cn" 2>/dev/null
  printf '%s\n' "subjectAltName=$sans" \
    'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
    "extendedKeyUsage=$eku" >"$tls/$cn.ext"
  openssl x509 -req -in "$tls/$cn.csr" -CA "$dir/ca.pem" -CAkey "$tls/ca.key" \
    -set_serial "0x$(openssl rand -hex 8)" -days 825 -extfile "$tls/$cn.ext" \
    -out "$base.pem" 2>/dev/null
  chmod "$mode" "$base.key"
  chmod 0644 "$base.pem"
  changed+=("$base.pem")
}

write_env() {
  local tmp
  tmp=$(mktemp)
  cat >"$tmp" <<EOF
# Written by scripts/peers.sh up: where smtpdiag's test peers listen.
SMTPDIAG_PEERS_MX=$listen:$mx_port
SMTPDIAG_PEERS_SUBMISSION=$listen:$submission_port
SMTPDIAG_PEERS_SMTPS=$listen:$smtps_port
SMTPDIAG_PEERS_RELAY=$listen:$relay_port
SMTPDIAG_PEERS_CLIENT_CERT=$dir/client.pem
SMTPDIAG_PEERS_CLIENT_KEY=$dir/client.key
SMTPDIAG_PEERS_DNS=$listen:$dns_port
SMTPDIAG_PEERS_CA=$dir/ca.pem
SMTPDIAG_PEERS_MAILLOG=$maillog
SMTPDIAG_PEERS_DOMAIN=contoso.test
SMTPDIAG_PEERS_USER=$mailbox
SMTPDIAG_PEERS_PASSWORD=$password
EOF
  install -m 0644 "$tmp" "$dir/env"
  rm -f "$tmp"
}

print_addresses() {
  cat <<EOF
mx          $listen:$mx_port   Postfix: STARTTLS, no AUTH, Exchange Online rejections for contoso.test
submission  $listen:$submission_port   Postfix: STARTTLS required, AUTH PLAIN/LOGIN after TLS ($mailbox)
smtps       $listen:$smtps_port   Postfix: implicit TLS, AUTH PLAIN/LOGIN
relay       $listen:$relay_port   Postfix: relays for a client certificate from the test CA ($dir/client.pem)
dns         $listen:$dns_port   rbldnsd (UDP): zen.peers.test (DNSBL), contoso.test, peers.test
CA          $dir/ca.pem
mail log    $maillog
env         $dir/env
EOF
}

up() {
  # Without root, peers that already run are good enough (for a CI step
  # that is not root after a root one); anything else needs root.
  if [ "$(id -u)" != 0 ] && postfix_running && dovecot_running && rbldnsd_running && [ -r "$dir/env" ]; then
    log "already running (configuration not rechecked: that needs root)"
    print_addresses
    return
  fi
  need_root up
  install_packages
  install -d -m 0755 "$dir" "$postfix_conf" "$dir/spool" "$dir/dovecot" "$rbldnsd_dir"
  install -d -m 0755 -o root -g root "$dir/dovecot/run"
  install -d -m 0750 -o root -g root "$dir/dovecot/state"
  make_certificates

  render "$templates/main.cf" "$postfix_conf/main.cf" 0644
  render "$templates/master.cf" "$postfix_conf/master.cf" 0644
  render "$templates/recipient_access" "$postfix_conf/recipient_access" 0644
  render "$templates/header_checks" "$postfix_conf/header_checks" 0644
  render "$templates/dovecot.conf" "$dovecot_conf" 0644
  render "$templates/users" "$dir/dovecot/users" 0640
  chgrp dovecot "$dir/dovecot/users"
  local zone
  for zone in zen.peers.test peers.test contoso.test; do
    render "$templates/$zone" "$rbldnsd_dir/$zone" 0644
  done

  # The log is world-readable so that tests need no root; postlogd appends
  # to the file it finds.
  [ -e "$maillog" ] || install -m 0644 /dev/null "$maillog"

  local any=${#changed[@]}

  # Postfix: "postfix check" creates the queue directories; Dovecot's auth
  # socket goes into its private/ directory, so Dovecot starts after it.
  if ! postfix_running; then
    postfix_cmd check
  fi
  # The daemons get none of this script's file descriptors, so that
  # "peers.sh up | tail" ends; start-up errors go to a file and are shown.
  if ! dovecot_running; then
    dovecot -c "$dovecot_conf" </dev/null >"$dir/dovecot/start.log" 2>&1 ||
      { cat "$dir/dovecot/start.log" >&2; die "dovecot did not start; its log is $dir/dovecot/dovecot.log"; }
  elif [ "$any" -gt 0 ]; then
    kill -HUP "$(pid_of "$dovecot_pid" dovecot)"
  fi
  if ! postfix_running; then
    postfix_cmd start
  elif [ "$any" -gt 0 ]; then
    postfix_cmd reload
  fi

  # rbldnsd rereads changed zone files on its own (-c 2s) and needs a
  # restart only for new arguments.
  local args=(-u rbldns -r "$rbldnsd_dir" -b "$listen/$dns_port" -p "$rbldnsd_pid" -a -c 2s "${rbldnsd_zones[@]}")
  if rbldnsd_running && [ "$(cat "$dir/rbldnsd.args" 2>/dev/null)" != "${args[*]}" ]; then
    kill "$(pid_of "$rbldnsd_pid" rbldnsd)"
    sleep 0.5
  fi
  if ! rbldnsd_running; then
    rbldnsd "${args[@]}" </dev/null >"$dir/rbldnsd.log" 2>&1 ||
      { cat "$dir/rbldnsd.log" >&2; die "rbldnsd did not start"; }
    printf '%s' "${args[*]}" >"$dir/rbldnsd.args"
  fi

  local port tries
  for port in "$mx_port" "$submission_port" "$smtps_port" "$relay_port"; do
    for tries in $(seq 50); do
      tcp_answers "$port" && break
      [ "$tries" = 50 ] && die "nothing answers on $listen:$port; see $maillog"
      sleep 0.2
    done
  done
  for tries in $(seq 25); do
    rbldnsd_running && break
    [ "$tries" = 25 ] && die "rbldnsd did not start"
    sleep 0.2
  done
  pid_of "$dir/spool/pid/master.pid" master >"$dir/master.pid"
  pid_of "$dovecot_pid" dovecot >"$dir/dovecot.pid"
  chmod 0644 "$dir/master.pid" "$dir/dovecot.pid"
  write_env
  print_addresses
}

down() {
  need_root down
  if postfix_running; then
    postfix_cmd stop
  fi
  local pidfile pid tries
  for pidfile in "$dovecot_pid:dovecot" "$rbldnsd_pid:rbldnsd"; do
    pid_alive "${pidfile%%:*}" "${pidfile##*:}" || continue
    pid=$(pid_of "${pidfile%%:*}" "${pidfile##*:}")
    kill "$pid"
    for tries in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  done
  for tries in $(seq 50); do
    postfix_running || break
    sleep 0.1
  done
  rm -f "$dir/env" "$dir/master.pid" "$dir/dovecot.pid"
  log "stopped"
}

status() {
  local all=0 port
  if postfix_running; then
    printf 'postfix  running (pid %s)\n' "$(pid_of "$dir/spool/pid/master.pid" master)"
  else
    printf 'postfix  stopped\n'
    all=3
  fi
  for port in "mx $mx_port" "submission $submission_port" "smtps $smtps_port" "relay $relay_port"; do
    set -- $port
    if tcp_answers "$2"; then
      printf '  %-11s %s:%s answers\n' "$1" "$listen" "$2"
    else
      printf '  %-11s %s:%s refused\n' "$1" "$listen" "$2"
      all=3
    fi
  done
  if dovecot_running; then
    printf 'dovecot  running (pid %s), SASL for Postfix\n' "$(pid_of "$dovecot_pid" dovecot)"
  else
    printf 'dovecot  stopped\n'
    all=3
  fi
  if rbldnsd_running; then
    printf 'rbldnsd  running (pid %s) on %s:%s/udp\n' "$(pid_of "$rbldnsd_pid" rbldnsd)" "$listen" "$dns_port"
  else
    printf 'rbldnsd  stopped\n'
    all=3
  fi
  return "$all"
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*)
  echo "usage: $0 up|down|status" >&2
  exit 2
  ;;
esac
